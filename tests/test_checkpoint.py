import importlib.util
import pickle
import warnings
from pathlib import Path

import pytest
import torch

from ganlab import CheckpointError, Trainer, make_config
from ganlab.checkpoint import load_checkpoint
from ganlab.cli import main

from conftest import RunsCode

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ckpt(tmp_path):
    t = Trainer(make_config(data="ring", seed=0), device="cpu")
    t.step(3)
    path = tmp_path / "ring.pt"
    t.save(path)
    return path


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_crafted_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "ganlab-checkpoint", "payload": RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match="refused without running them"):
        load_checkpoint(path)
    assert not marker.exists()
    # a plain pickle file, not a torch zip
    path.write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(CheckpointError):
        Trainer.load(path, device="cpu")
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    (b"hello, I am a text file\n", "is not a ganlab checkpoint"),
    (b"", "is not a ganlab checkpoint"),
])
def test_files_that_are_not_checkpoints_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        Trainer.load(path, device="cpu")
    assert "\n" not in str(info.value)


def test_a_truncated_checkpoint_is_reported_as_such(ckpt):
    data = ckpt.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        ckpt.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            Trainer.load(ckpt, device="cpu")


def test_a_torch_file_without_the_format_tag_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="no format tag"):
        Trainer.load(path, device="cpu")
    torch.save({"format": "ganlab-checkpoint", "version": 99}, path)
    with pytest.raises(CheckpointError, match="version 99"):
        Trainer.load(path, device="cpu")


def test_weights_that_do_not_fit_the_config_are_refused(ckpt):
    sd = torch.load(ckpt, weights_only=True)
    sd["config"]["hidden"] = 64          # the stored weights are 128 wide
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="do not fit the model"):
        Trainer.load(ckpt, device="cpu")
    sd["config"]["lr_g"] = -1.0
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="invalid config: lr_g must be"):
        Trainer.load(ckpt, device="cpu")


@pytest.mark.parametrize("key, bad", [("G_ema", 5), ("G_ema", {"net.0.weight": torch.zeros(3, 3)}), ("G", 5), ("opt_d", [])])
def test_weights_of_the_wrong_kind_are_refused(ckpt, key, bad):
    sd = torch.load(ckpt, weights_only=True)
    sd["config"]["ema"] = 0.999
    sd[key] = bad
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="do not fit the model"):
        Trainer.load(ckpt, device="cpu")


def test_load_state_dict_refuses_a_checkpoint_of_another_setup(ckpt):
    other = Trainer(make_config(data="grid"), device="cpu")
    with pytest.raises(CheckpointError, match="data differ"):
        other.load_state_dict(torch.load(ckpt, weights_only=True))


def test_a_failed_save_leaves_the_old_file_intact(ckpt, monkeypatch):
    before = ckpt.read_bytes()
    t = Trainer.load(ckpt, device="cpu")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        t.save(ckpt)
    assert ckpt.read_bytes() == before
    assert [p.name for p in ckpt.parent.iterdir()] == [ckpt.name]


# A slimmed file (docs/tools/slim_checkpoints.py, how checkpoints/ is shipped): no optimizer state,
# weights perhaps in bfloat16. Everything reads it; training on from it starts fresh moments and says so.

def _slim_tool():
    spec = importlib.util.spec_from_file_location("slim_checkpoints", ROOT / "docs" / "tools" / "slim_checkpoints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def slim(ckpt, tmp_path):
    path = tmp_path / "slim.pt"
    assert _slim_tool().main([str(ckpt), "--out", str(path), "--bf16"]) == 0
    return path


def test_the_slimmer_drops_the_moments_and_narrows_only_the_weights(ckpt, slim):
    full, sd = torch.load(ckpt, weights_only=True), torch.load(slim, weights_only=True)
    assert "opt_g" not in sd and "opt_d" not in sd and set(full) - set(sd) == {"opt_g", "opt_d"}
    assert all(v.dtype == torch.bfloat16 for key in ("G", "D") for v in sd[key].values())
    net = {"weights": {"w": torch.ones(2)}, "steps": 3, "g_step": 1}                 # an encoder's or class net's
    narrow = _slim_tool().slim({**full, "encoder": net, "class_net": net}, bf16=True)
    assert all(narrow[k]["weights"]["w"].dtype == torch.bfloat16 and narrow[k]["steps"] == 3 for k in ("encoder", "class_net"))
    assert torch.equal(sd["fixed_z"], full["fixed_z"]) and torch.equal(sd["history"], full["history"])
    assert torch.equal(sd["rng"]["state"], full["rng"]["state"]) and sd["step"] == full["step"]
    assert _slim_tool().main([str(slim), "--out", str(slim)]) == 1       # slim already: nothing to slim from


def test_a_slim_file_loads_as_float32_and_samples_without_a_warning(ckpt, slim, recwarn):
    full, t = Trainer.load(ckpt, device="cpu"), Trainer.load(slim, device="cpu")
    for name, p in t.G.named_parameters():
        assert p.dtype == torch.float32
        assert torch.equal(p, dict(full.G.named_parameters())[name].bfloat16().float())
    assert t.step_count == full.step_count and t.sample(8).shape == (8, 2)
    assert not [w for w in recwarn if "optimizer" in str(w.message)]


def test_training_on_from_a_slim_file_starts_fresh_moments_and_warns_once(ckpt, slim):
    t = Trainer.load(slim, device="cpu")
    assert not t.opt_g.state and not t.opt_d.state
    with pytest.warns(UserWarning, match="no optimizer state .* moments start fresh, so this run is not bit-identical"):
        t.step(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t.step(1)                                           # said once
        Trainer.load(ckpt, device="cpu").step(1)            # a file training wrote: nothing to say
    assert t.step_count == 3 + 3 and t.opt_g.state


def test_a_slim_state_loaded_into_a_live_trainer_clears_its_moments_and_takes_the_files_rates(ckpt, slim):
    t = Trainer(make_config(data="ring", seed=0, lr_g=5e-4), device="cpu")
    t.step(2)
    t.load_state_dict(load_checkpoint(slim))
    assert not t.opt_g.state and not t.opt_d.state
    assert t.opt_g.param_groups[0]["lr"] == t.config.lr_g == make_config(data="ring").lr_g
    t.load_state_dict(load_checkpoint(ckpt))                # a full file after it: nothing left to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t.step(1)


def test_resume_from_a_slim_file_says_so_in_one_line(slim, tmp_path, capsys):
    out = tmp_path / "on.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the CLI's line in place of the warning
        assert main(["train", "--resume", str(slim), "--steps", "2", "--out", str(out), "--quiet"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "optimizer" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{slim}: holds no optimizer state"), lines
    assert "moments start fresh" in lines[0] and "not bit-identical" in lines[0]
    resumed = torch.load(out, weights_only=True)
    assert resumed["step"] == 5 and resumed["opt_g"]["state"] and resumed["G"]["net.0.weight"].dtype == torch.float32


def test_a_file_without_a_part_every_run_has_is_still_refused(ckpt):
    sd = torch.load(ckpt, weights_only=True)
    del sd["fixed_z"], sd["opt_g"]
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match=r"incomplete ganlab checkpoint \(missing: fixed_z\)"):
        Trainer.load(ckpt, device="cpu")
