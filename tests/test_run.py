"""The run in the background (`ganlab.run`) and the scheduler its runs share (`ganlab.scheduler`):
the same weights as the trainer's own calls, snapshots that never change and never wait, errors
that become a status, idle runs paused and freed and brought back to the bit, a memory budget."""

import threading
import time

import pytest
import torch

from ganlab import Config, Trainer
from ganlab.errors import ConfigError, DivergenceError
from ganlab.run import FREED, PAUSED, PLAYING, Run
from ganlab.scheduler import Scheduler, Settings


def same_weights(a: Trainer, b: Trainer) -> bool:
    pairs = [(a.G, b.G), (a.D, b.D)]
    return all(torch.equal(x, y) for m, n in pairs for x, y in zip(m.state_dict().values(), n.state_dict().values()))


def same_run(a: Trainer, b: Trainer) -> bool:
    """Weights, both optimizers' moments, the stream and the history: everything a resume needs."""
    sa, sb = a.state_dict(), b.state_dict()
    moments = all(torch.equal(x, y) for k in ("opt_g", "opt_d") for x, y in
                  zip(_tensors(sa[k]), _tensors(sb[k])))
    history = all(torch.equal(x, y) for x, y in zip(_tensors(sa["history"]), _tensors(sb["history"])))
    return same_weights(a, b) and moments and history \
        and all(torch.equal(x, y) for x, y in zip(_tensors(sa["rng"]), _tensors(sb["rng"])))


def _tensors(tree):
    if torch.is_tensor(tree):
        yield tree
    elif isinstance(tree, dict):
        for v in tree.values():
            yield from _tensors(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            yield from _tensors(v)


def wait_until(done, timeout=30.0):
    t0 = time.monotonic()
    while not done():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.02)


@pytest.fixture
def scheduler():
    return Scheduler(Settings(idle_pause_s=3600, idle_free_s=3600))


def test_a_run_gives_the_weights_of_the_same_trainer_calls_to_the_bit(scheduler):
    cfg = Config(data="ring", seed=3)
    run = Run(Trainer(cfg, device="cpu"), scheduler)
    run.step(37)
    run.update(k=2, lr_d=1e-3)
    run.step(50)
    run.d_step(), run.d_step(), run.g_step()
    run.play()
    wait_until(lambda: run.snapshot().step > 150)     # play for a while, then pause wherever the worker is
    run.pause()
    snap = run.sync()
    assert snap.state == PAUSED and snap.step > 88

    alone = Trainer(cfg, device="cpu")
    alone.step(37)
    alone.update(k=2, lr_d=1e-3)
    alone.step(50)
    alone.d_step(), alone.d_step(), alone.g_step()
    alone.step(snap.step - alone.step_count)
    assert same_run(run.trainer, alone)
    run.close()


def test_a_snapshot_never_changes_and_agrees_with_itself(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)
    run.step(20).result()
    snap = run.snapshot()
    weights = [p.clone() for p in snap.view.G.parameters()]
    run.step(30).result()
    assert snap.step == snap.view.step_count == 20 == len(snap.view.history()["step"])
    assert all(torch.equal(a, b) for a, b in zip(weights, snap.view.G.parameters()))
    later = run.snapshot()
    assert later.step == 50 and later.version > snap.version
    assert not same_weights(snap.view, later.view)
    run.close()


def test_reading_a_snapshot_never_waits_for_a_training_slice(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0, batch_size=512), device="cpu"), scheduler)
    run.step(2000)                      # one long command, many times a slice
    time.sleep(0.05)
    t0 = time.perf_counter()
    for _ in range(100):
        run.snapshot()
    assert (time.perf_counter() - t0) / 100 < 0.005
    run.close()


def test_a_divergence_becomes_the_status_and_new_settings_cure_it(scheduler):
    cfg = Config(data="ring", seed=0, optimizer="sgd", lr_g=1e30, lr_d=1e30)
    run = Run(Trainer(cfg, device="cpu"), scheduler)
    run.play()
    wait_until(lambda: run.snapshot().status)
    snap = run.snapshot()
    assert snap.diverged and not snap.playing and "NaN/inf" in snap.status
    assert run._thread.is_alive()
    good = snap.step
    assert run.step(5).result() is None and run.sync().step == good      # ignored while the status stands
    run.update(lr_g=1e-3, lr_d=1e-3).result()
    assert run.snapshot().status is None
    assert run.step(5).result()["step"] == good + 5
    run.close()


def test_a_failing_command_leaves_the_run_as_it_was(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)
    run.step(3).result()

    def broken(trainer):
        raise RuntimeError("a bug in a feature")
    with pytest.raises(RuntimeError):
        run.call(broken).result()
    with pytest.raises(ConfigError):
        run.update(latent_dim=7).result()                                # structural: refused by name
    snap = run.snapshot()
    assert snap.status is None and "latent_dim" in snap.note and snap.step == 3
    assert run.step(2).result()["step"] == 5 and run._thread.is_alive()
    run.close()


def test_two_threads_commanding_one_run_are_served_in_turn(scheduler):
    cfg = Config(data="ring", seed=1)
    run = Run(Trainer(cfg, device="cpu"), scheduler)
    threads = [threading.Thread(target=lambda: [run.step(1) for _ in range(40)]) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.sync()
    alone = Trainer(cfg, device="cpu")
    alone.step(80)
    assert run.trainer.step_count == 80 and same_run(run.trainer, alone)
    run.close()


def test_an_unwatched_run_pauses_then_is_freed_and_comes_back_to_the_bit():
    scheduler = Scheduler(Settings(idle_pause_s=0.3, idle_free_s=1.0))
    cfg = Config(data="ring", seed=2)
    run = Run(Trainer(cfg, device="cpu"), scheduler)
    run.play()
    wait_until(lambda: run._snapshot.state == PAUSED and run._snapshot.step > 0)    # not read: nobody watches
    assert "nobody watched" in run._snapshot.note
    wait_until(lambda: run._snapshot.state == FREED)
    assert run.trainer is None and scheduler.runs() == 0 and run._snapshot.view is None
    step = run._snapshot.step
    run.snapshot()                                                     # a viewer again: it restores
    snap = run.sync()
    assert snap.state == PAUSED and snap.step == step and scheduler.runs() == 1
    alone = Trainer(cfg, device="cpu")
    alone.step(step)
    assert same_run(run.trainer, alone)
    run.close()


def test_a_run_past_the_memory_budget_is_refused_in_one_line_and_the_others_go_on():
    small = Config(data="ring", seed=0)
    budget = int(1.5 * sum(__import__("ganlab.memory").memory.training_bytes(small).values()))
    scheduler = Scheduler(Settings(memory_budget=budget))
    first = Run(Trainer(small, device="cpu"), scheduler)
    with pytest.raises(ConfigError, match="memory budget") as refused:
        Run(Trainer(small, device="cpu"), scheduler)
    assert "\n" not in str(refused.value) and "GANLAB_MEMORY_BUDGET_MB" in str(refused.value)
    assert first.step(5).result()["step"] == 5
    first.close()
    assert scheduler.runs() == 0
    Run(Trainer(small, device="cpu"), scheduler).close()          # its memory was given back


def test_playing_runs_share_the_cores_fairly():
    scheduler = Scheduler(Settings())
    runs = [Run(Trainer(Config(data=data, seed=i), device="cpu"), scheduler)
            for i, data in enumerate(["ring", "ring", "gaussian1d"])]
    for run in runs:
        run.play()
    time.sleep(3.0)
    busy = [scheduler.busy_s(run) for run in runs]        # seconds each held the cores
    for run in runs:
        run.pause()
    assert all(run.sync().step > 0 for run in runs)
    share = [b / sum(busy) for b in busy]
    assert min(share) > 0.6 / len(runs), share             # round-robin turns: about a third each
    for run in runs:
        run.close()


def test_settings_from_the_environment_are_checked():
    assert Settings.from_env({"GANLAB_IDLE_PAUSE_S": "5", "GANLAB_MEMORY_BUDGET_MB": "100"}) == \
        Settings(idle_pause_s=5.0, memory_budget=100 * 2**20)
    with pytest.raises(ConfigError, match="GANLAB_IDLE_FREE_S"):
        Settings.from_env({"GANLAB_IDLE_FREE_S": "soon"})


def test_a_closed_run_takes_no_commands_and_holds_no_thread(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)
    thread = run._thread
    run.close()
    assert not thread.is_alive() and run.trainer is None and scheduler.runs() == 0
    assert run.step(3).result() is None and run.snapshot().state == "closed"


def test_divergence_error_reaches_a_caller_that_waits(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0, optimizer="sgd", lr_g=1e30, lr_d=1e30), device="cpu"), scheduler)
    with pytest.raises(DivergenceError):
        run.step(50).result()
    assert run.snapshot().state == PAUSED and run.snapshot().step == 0
    assert PLAYING != run.snapshot().state
    run.close()
