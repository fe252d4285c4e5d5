"""The CUDA-graph path of the trainer (`cuda_graph=True`, graphs.py).

On the CPU nothing is captured: the same path (warmup, static record, the bookkeeping moved out of
the iteration, the graph dropped when its tensors change) runs eagerly, and must train exactly as
the plain trainer does. The capture itself runs only where a GPU is.
"""

import copy

import pytest
import torch
from conftest import same_weights_and_moments

from ganlab import ConfigError, DivergenceError, Trainer, make_config
from ganlab import graphs

CASES = [dict(data="ring"), dict(data="ring", k=2, ema=0.99), dict(data="ring", precision="bf16"),
         dict(data="ring", cond="projection"), dict(data="ring", loss="wgan-gp"), dict(data="digits", model="paper", lr_decay=1.0, momentum_steps=0)]


def _trained(cfg, chunks, device="cpu", **kw):
    t = Trainer(cfg, device=device, **kw)
    for n in chunks:
        t.step(n)
    return t


@pytest.mark.parametrize("fields", CASES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_graph_path_trains_exactly_as_the_plain_trainer(fields):
    cfg = make_config(seed=3, **fields)
    chunks = (1, 2, 5)                  # across the warmup's end, in chunks of several sizes
    plain, graphed = _trained(cfg, chunks), _trained(cfg, chunks, cuda_graph=True)
    assert graphed._graph.warm == graphs.WARMUP and graphed._graph.row is not None
    assert same_weights_and_moments(plain.state_dict(), graphed.state_dict())
    assert torch.equal(plain.rng.get_state(), graphed.rng.get_state())
    for key, values in plain.history().items():
        assert (values == graphed.history()[key]).all(), key
    if plain.ema is not None:
        assert all(torch.equal(a, b) for a, b in zip(plain.G_ema.state_dict().values(),
                                                     graphed.G_ema.state_dict().values()))


def test_graph_path_resumes_bit_exactly(tmp_path):
    cfg = make_config(data="ring", seed=1)
    whole = _trained(cfg, (12,), cuda_graph=True)
    first = _trained(cfg, (7,), cuda_graph=True)
    first.save(tmp_path / "run.pt")
    resumed = Trainer.load(tmp_path / "run.pt", device="cpu", cuda_graph=True)
    assert resumed._graph is None                   # built anew, with a new warmup, on the next step
    resumed.step(5)
    assert same_weights_and_moments(whole.state_dict(), resumed.state_dict())


def test_static_record_is_used_after_the_warmup():
    seen = []

    def work(row):
        seen.append(row)
        row.fill_(len(seen))
    graph = graphs.IterationGraph(work, torch.Generator(), capture=False)
    out = torch.zeros(graphs.WARMUP + 2, 3)
    for i in range(len(out)):
        graph(out[i])
    assert all(seen[i] is not graph.row for i in range(graphs.WARMUP))
    assert all(r is graph.row for r in seen[graphs.WARMUP:])
    assert out[:, 0].tolist() == [float(i + 1) for i in range(len(out))]


def test_settings_a_graph_would_freeze_are_refused_in_one_line():
    with pytest.raises(ConfigError, match="--lr-decay"):
        Trainer(make_config(data="ring", lr_decay=1.0001), device="cpu", cuda_graph=True)
    with pytest.raises(ConfigError, match="lazy R1"):
        Trainer(make_config(data="ring", r1=1.0, r1_every=4), device="cpu", cuda_graph=True)
    with pytest.raises(ConfigError, match="--compile"):
        Trainer(make_config(data="ring"), device="cpu", cuda_graph=True, compile=True)
    t = Trainer(make_config(data="ring"), device="cpu", cuda_graph=True)
    t.step(5)
    with pytest.raises(ConfigError, match="--momentum-steps"):
        t.update(momentum_steps=100)
    t.update(lr_d=1e-4)                 # a constant rate may change: the graph is captured again
    assert t._graph is None
    t.step(1)


def test_a_rollback_drops_the_graph():
    t = Trainer(make_config(data="ring"), device="cpu", cuda_graph=True)
    t.step(5)
    t.update(lr_d=1e30, lr_g=1e30)
    with pytest.raises(DivergenceError):
        t.step(20)
    assert t._graph is None and t.step_count == 5


def test_a_capture_refused_after_its_warmup_rolls_the_call_back(monkeypatch):
    live = graphs.IterationGraph.__call__

    def refused_at_capture(self, row):
        if self.warm == graphs.WARMUP:
            raise ConfigError("this iteration cannot be captured as a CUDA graph (test)")
        live(self, row)
    monkeypatch.setattr(graphs.IterationGraph, "__call__", refused_at_capture)
    t = Trainer(make_config(data="ring", seed=2), device="cpu", cuda_graph=True)
    t.step(2)
    before = copy.deepcopy(t.state_dict())
    with pytest.raises(ConfigError, match="cannot be captured"):
        t.step(5)                       # one more warm-up iteration runs, then the capture is refused
    assert t.step_count == 2 and len(t.history()["g_loss"]) == 2 and t._graph is None
    assert same_weights_and_moments(before, t.state_dict())


def test_the_optimizers_flag_is_this_runs_not_the_files(tmp_path):
    t = Trainer(make_config(data="ring"), device="cpu")
    t.step(2)
    sd = t.state_dict()
    for group in (*sd["opt_g"]["param_groups"], *sd["opt_d"]["param_groups"]):
        group["capturable"] = True      # as a graph run on a GPU saves it
    torch.save(sd, tmp_path / "gpu.pt")
    resumed = Trainer.load(tmp_path / "gpu.pt", device="cpu", cuda_graph=True)
    assert not any(g["capturable"] for opt in (resumed.opt_g, resumed.opt_d) for g in opt.param_groups)
    resumed.step(4)


def test_a_scheduled_run_resumes_into_a_graph_with_the_schedule_turned_off(tmp_path):
    from ganlab.cli import main

    main(["train", "--data", "ring", "--lr-decay", "1.0001", "--steps", "3", "--quiet", "--out", str(tmp_path / "a.pt")])
    assert main(["train", "--resume", str(tmp_path / "a.pt"), "--cuda-graph", "--steps", "5", "--quiet",
                 "--out", str(tmp_path / "a.pt")]) == 1          # the file's schedule is refused ...
    assert main(["train", "--resume", str(tmp_path / "a.pt"), "--cuda-graph", "--lr-decay", "1", "--steps", "5",
                 "--quiet", "--out", str(tmp_path / "b.pt")]) == 0      # ... and turning it off is the fix


CUDA_CASES = [dict(data="digits", model="pytorch-mlp"), dict(data="digits", model="pytorch-mlp", precision="bf16"),
              *CASES]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: capture exists only there")
@pytest.mark.parametrize("fields", CUDA_CASES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_captured_iteration_trains_exactly_as_the_plain_trainer_on_cuda(fields, tmp_path):
    cfg = make_config(seed=0, **fields)
    plain = _trained(cfg, (4, 20), device="cuda")
    graphed = _trained(cfg, (4, 20), device="cuda", cuda_graph=True)
    assert graphed._graph.graph is not None
    assert same_weights_and_moments(plain.state_dict(), graphed.state_dict())
    assert torch.equal(plain.rng.get_state(), graphed.rng.get_state())
    assert all((a == b).all() for a, b in zip(plain.history().values(), graphed.history().values()))
    plain.save(tmp_path / "plain.pt")                   # a plain run resumed into a graph, and on
    resumed = Trainer.load(tmp_path / "plain.pt", device="cuda", cuda_graph=True)
    plain.step(10)
    resumed.step(10)
    assert same_weights_and_moments(plain.state_dict(), resumed.state_dict())
