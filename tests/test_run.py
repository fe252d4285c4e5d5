"""The run in the background (`ganlab.run`) and the scheduler its runs share (`ganlab.scheduler`):
the same weights as the trainer's own calls, snapshots that never change and never wait, errors
that become a status, idle runs paused and freed and brought back to the bit, a memory budget."""

import threading
import time
from pathlib import Path

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
    return same_weights(a, b) and all(same_tensors(sa[k], sb[k]) for k in ("opt_g", "opt_d", "history", "rng"))


def same_tensors(a, b) -> bool:
    xs, ys = list(_tensors(a)), list(_tensors(b))
    return len(xs) == len(ys) and all(torch.equal(x, y) for x, y in zip(xs, ys))


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
    long = run.step(2000)               # one long command, many times a slice
    time.sleep(0.05)
    t0 = time.perf_counter()
    for _ in range(100):
        run.snapshot()
    assert (time.perf_counter() - t0) / 100 < 0.005
    assert not long.done()              # the reads were answered while it trained
    run.close()


def test_a_divergence_becomes_the_status_and_new_settings_cure_it(scheduler):
    cfg = Config(data="ring", seed=0, optimizer="sgd", lr_g=1e30, lr_d=1e30)
    run = Run(Trainer(cfg, device="cpu"), scheduler)
    run.play()
    wait_until(lambda: run.snapshot().status)
    snap = run.snapshot()
    assert snap.diverged and not snap.playing and "NaN/inf" in snap.status
    assert run.working
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
    assert run.step(2).result()["step"] == 5 and run.working
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
    wait_until(lambda: run.peek().state == PAUSED and run.peek().step > 0)    # not read: nobody watches
    assert "nobody watched" in run.peek().note
    wait_until(lambda: run.peek().state == FREED)
    assert run.trainer is None and scheduler.runs() == 0 and run.peek().view is None
    step = run.peek().step
    run.snapshot()                                                     # a viewer again: it restores
    restored = run.call(lambda trainer: trainer).result()              # (it may be freed again after)
    snap = run.sync()
    assert snap.state in (PAUSED, FREED) and snap.step == step and restored.step_count == step
    alone = Trainer(cfg, device="cpu")
    alone.step(step)
    assert same_run(restored, alone)
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
    busy = [run.busy_s for run in runs]        # seconds each held the cores
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
    for env, says in [({"GANLAB_IDLE_FREE_S": "soon"}, "not a number"), ({"GANLAB_IDLE_PAUSE_S": "-1"}, "negative"),
                      ({"GANLAB_IDLE_PAUSE_S": "0"}, "pause every run at once"),
                      ({"GANLAB_IDLE_PAUSE_S": "60", "GANLAB_IDLE_FREE_S": "30"}, "shorter than GANLAB_IDLE_PAUSE_S")]:
        with pytest.raises(ConfigError, match=says) as refused:
            Settings.from_env(env)
        assert "\n" not in str(refused.value)


def test_closing_a_playing_run_answers_every_waiting_command_and_ends_its_thread(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)
    run.play()
    wait_until(lambda: run.peek().step > 0 or run.trainer.step_count > 0)
    waiting = [run.step(500) for _ in range(5)]
    run.close()
    assert all(f.done() for f in waiting) and not run.working and scheduler.runs() == 0
    assert run.snapshot().state == "closed" and run.play().result() is None


def test_a_painter_that_fails_draws_nothing_and_training_goes_on(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)

    def broken(view):
        raise ValueError("a bug in a figure")
    run.paint("k", broken)
    assert run.step(5).result()["step"] == 5
    snap = run.snapshot()
    assert snap.drawn is None and snap.status is None and snap.step == 5
    run.paint("k", lambda view: view.step_count)
    run.step(3).result()
    assert run.snapshot().drawn == ("k", 8)
    run.close()


def test_a_run_that_cannot_be_freed_stays_in_memory_and_says_why(monkeypatch):
    scheduler = Scheduler(Settings(idle_pause_s=0.2, idle_free_s=0.4))
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)

    tried = []

    def disk_full(self, path, **extra):
        tried.append(Path(path))
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Trainer, "save", disk_full)
    run.step(5).result()
    wait_until(lambda: "could not free" in (run.peek().note or ""))
    snap = run.peek()
    assert snap.state == PAUSED and snap.view is not None and run.trainer is not None and scheduler.runs() == 1
    assert "No space left" in snap.note and tried and not any(p.exists() for p in tried)
    monkeypatch.undo()
    assert run.step(2).result()["step"] == 7
    run.close()


def test_a_freed_run_comes_back_on_its_device_reading_its_data_from_the_same_place(tmp_path):
    scheduler = Scheduler(Settings(idle_pause_s=0.2, idle_free_s=0.4))
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu", data_root=tmp_path), scheduler)
    run.step(4).result()
    wait_until(lambda: run.peek().state == FREED)
    run.snapshot()
    snap = run.sync()
    assert snap.state == PAUSED and snap.step == 4
    assert run.trainer.data_root == tmp_path and run.trainer.device.type == "cpu"
    run.close()


def test_a_long_step_command_takes_turns_with_a_playing_run():
    scheduler = Scheduler(Settings(idle_pause_s=3600, idle_free_s=3600))
    long_run = Run(Trainer(Config(data="ring", seed=0, batch_size=512), device="cpu"), scheduler)
    player = Run(Trainer(Config(data="ring", seed=1), device="cpu"), scheduler)
    player.play()
    wait_until(lambda: player.trainer.step_count > 0)
    long = long_run.step(1500)
    before = player.trainer.step_count
    wait_until(lambda: player.trainer.step_count > before + 50 or long.done(), timeout=120)
    assert not long.done(), "the playing run waited for the whole command"
    assert long.result()["step"] == 1500
    for run in (long_run, player):
        run.close()


def test_a_closed_run_takes_no_commands_and_holds_no_thread(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0), device="cpu"), scheduler)
    run.close()
    assert not run.working and run.trainer is None and scheduler.runs() == 0
    assert run.step(3).result() is None and run.snapshot().state == "closed"


def test_divergence_error_reaches_a_caller_that_waits(scheduler):
    run = Run(Trainer(Config(data="ring", seed=0, optimizer="sgd", lr_g=1e30, lr_d=1e30), device="cpu"), scheduler)
    with pytest.raises(DivergenceError):
        run.step(50).result()
    assert run.snapshot().state == PAUSED and run.snapshot().step == 0
    assert PLAYING != run.snapshot().state
    run.close()
