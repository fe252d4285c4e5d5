"""Work survives what people do to it: a training process killed at any moment, two writers on one
file, foreign files, two app sessions at once, an app left running. docs/reliability.md has the counts."""

from __future__ import annotations

import io
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab import Trainer, make_config
from ganlab import checkpoint as ckpt_module
from ganlab.errors import CheckpointError
from ganlab.ui.checkpoints import load_trainer

from conftest import RunsCode, same_weights_and_moments

ROOT = Path(__file__).resolve().parents[1]
KILLS = int(os.environ.get("GANLAB_KILLS", 20))


def _same_state(a: dict, b: dict) -> bool:
    """Bit-identical weights, optimizer moments and random stream."""
    if a["step"] != b["step"] or not torch.equal(a["rng"]["state"], b["rng"]["state"]):
        return False
    return same_weights_and_moments(a, b)


@pytest.mark.slow
def test_training_killed_at_random_moments_always_leaves_a_checkpoint_that_resumes_bit_exactly(tmp_path):
    """A preemptible job: `train --checkpoint-every 5` is SIGKILLed at random moments (during start-up,
    training, or a checkpoint write) and restarted with --resume each time."""
    out = tmp_path / "run.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    new_run = ["--data", "ring", "--seed", "7", "--hidden", "64", "--batch-size", "64"]
    rng = random.Random(0)
    kills, steps, mid_write, seen = 0, [], 0, set()
    start_up = None                       # seconds from launch to the first checkpoint on this machine
    while kills < KILLS:
        args = ["--resume", str(out)] if out.exists() else new_run
        launched = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "ganlab", "train", *args, "--steps", "1000000",
                                 "--checkpoint-every", "5", "--out", str(out), "--quiet"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if start_up is None:
            # The kill moments are scaled to this machine's start-up (importing torch takes from under a
            # second to many on a cold disk), so that they fall before, during and after training starts.
            while not out.exists() and proc.poll() is None and time.monotonic() - launched < 300:
                time.sleep(0.05)
            start_up = time.monotonic() - launched
            time.sleep(rng.uniform(0.0, 2.0))
        else:
            time.sleep(rng.uniform(0.3 * start_up, start_up + 3.0))
        if proc.poll() is not None:
            pytest.fail(f"training ended by itself: {proc.stderr.read().decode()[-500:]}")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        orphans = set(tmp_path.glob(".run.pt.*.tmp"))      # a new one: killed while writing a checkpoint
        mid_write += bool(orphans - seen)
        seen |= orphans
        if out.exists():                      # before the first checkpoint there is nothing to keep
            steps.append(Trainer.load(out, device="cpu").step_count)   # always loads, never half-written
    print(f"start-up {start_up:.1f} s; {kills} kills ({mid_write} during a checkpoint write); "
          f"checkpoint steps after each: {steps}")
    assert len(steps) >= KILLS // 2 and steps == sorted(steps) and steps[-1] > 0, steps
    # Orphaned temporary files from writes that were killed are cleared by the next writer.
    assert len(list(tmp_path.glob(".run.pt.*.tmp"))) <= 1

    # The chain of killed and resumed runs ends exactly where one uninterrupted run ends...
    torch.set_num_threads(1)
    survivor = Trainer.load(out, device="cpu")
    reference = Trainer(make_config(data="ring", seed=7, hidden=64, batch_size=64), device="cpu")
    reference.step(survivor.step_count)
    assert _same_state(survivor.state_dict(), reference.state_dict())
    # ...and continues like it.
    survivor.step(50)
    reference.step(50)
    assert _same_state(survivor.state_dict(), reference.state_dict())


WRITER_KILLED_MID_WRITE = """
import sys, time
from ganlab import Trainer, make_config
from ganlab.checkpoint import atomic_write
t = Trainer(make_config(data="ring", seed=2), device="cpu")
t.step(2)

def half_then_hang(f):
    f.write(b"PK" + b"x" * 4096)     # part of a file, then stop before it is complete
    f.flush()
    print("writing", flush=True)
    time.sleep(60)

atomic_write(sys.argv[1], half_then_hang)
"""


def test_a_writer_killed_in_the_middle_of_a_write_leaves_the_previous_checkpoint_whole(tmp_path):
    """The random kills above land in a write only sometimes; here one always does."""
    path = tmp_path / "run.pt"
    before = Trainer(make_config(data="ring", seed=1), device="cpu")
    before.step(3)
    before.save(path)
    proc = subprocess.Popen([sys.executable, "-c", WRITER_KILLED_MID_WRITE, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"         # the temporary file is half written now
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(list(tmp_path.glob(".run.pt.*.tmp"))) == 1       # the half-written file is the orphan
    after = Trainer.load(path, device="cpu")
    assert after.step_count == 3 and after.config.seed == 1 and _same_state(after.state_dict(), before.state_dict())
    after.save(path)                                            # the next writer clears the orphan
    assert not list(tmp_path.glob(".run.pt.*.tmp"))


def test_a_killed_writers_temporary_file_is_removed_and_a_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f".run.pt.{dead.pid}.abc123.tmp"
    live = tmp_path / f".run.pt.{os.getpid()}.def456.tmp"
    other = tmp_path / ".other.pt.1.x.tmp"
    for f in (orphan, live, other):
        f.write_bytes(b"partial")
    Trainer(make_config(data="ring"), device="cpu").save(tmp_path / "run.pt")
    assert not orphan.exists() and live.exists() and other.exists()
    assert Trainer.load(tmp_path / "run.pt", device="cpu").step_count == 0


def test_two_writers_on_one_file_never_leave_a_reader_a_broken_file(tmp_path):
    path = tmp_path / "shared.pt"
    a = Trainer(make_config(data="ring", seed=1), device="cpu")
    b = Trainer(make_config(data="ring", seed=2), device="cpu")
    a.step(3)
    a.save(path)
    errors, loads = [], []

    def write(t):
        for _ in range(15):
            t.save(path)

    def read():
        for _ in range(30):
            try:
                loads.append(Trainer.load(path, device="cpu").config.seed)
            except Exception as exc:  # noqa: BLE001 -- any failure is the bug this test looks for
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in (a, b)] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(loads) == 30 and set(loads) <= {1, 2}


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("kind", ["torch zip", "plain pickle"])
def test_an_uploaded_file_that_would_run_code_is_refused_by_the_app_and_nothing_runs(tmp_path, kind):
    marker = tmp_path / "pwned"
    if kind == "torch zip":
        buf = io.BytesIO()
        torch.save({"format": "ganlab-checkpoint", "version": 1, "G": RunsCode(marker)}, buf)
        payload = buf.getvalue()
    else:
        payload = pickle.dumps(RunsCode(marker))

    class Upload(io.BytesIO):            # what st.file_uploader hands the app
        name, size = "evil.pt", len(payload)

    with pytest.raises(CheckpointError, match="evil.pt"):
        load_trainer(Upload(payload))
    assert not marker.exists()


def test_files_larger_than_any_checkpoint_are_not_read(tmp_path, monkeypatch):
    path = tmp_path / "big.pt"
    Trainer(make_config(data="ring"), device="cpu").save(path)
    monkeypatch.setattr(ckpt_module, "MAX_BYTES", 1000)
    with pytest.raises(CheckpointError, match="is not read"):
        Trainer.load(path, device="cpu")


def test_the_real_size_limits_refuse_before_reading(tmp_path):
    """1 GiB for a file (a sparse one here: no disk is written), 200 MB for an app upload."""
    huge = tmp_path / "huge.pt"
    with open(huge, "wb") as f:
        f.truncate(2**30 + 1)
    with pytest.raises(CheckpointError, match="1,024 MB; a ganlab checkpoint is at most 1,024 MB"):
        Trainer.load(huge, device="cpu")

    class Upload(io.BytesIO):            # what st.file_uploader hands the app; its bytes are never read
        name, size = "big.pt", 200 * 2**20 + 1

        def getvalue(self):
            raise AssertionError("an upload over the limit must not be read")

    with pytest.raises(CheckpointError, match="big.pt is 200 MB; the app accepts checkpoints up to 200 MB"):
        load_trainer(Upload())


def test_two_app_sessions_train_separate_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_CHECKPOINTS", str(tmp_path))
    one = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    two = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    two.query_params["data"] = "grid"
    one.run()
    two.run()
    for _ in range(3):
        one.button(key="step").click().run()
    two.button(key="step").click().run()
    runs = one.session_state["ganlab"].run, two.session_state["ganlab"].run
    assert runs[0] is not runs[1]
    t1, t2 = (run.sync() and run.trainer for run in runs)
    assert t1 is not t2 and t1.G is not t2.G
    assert (t1.config.data, t2.config.data) == ("ring", "grid")
    assert t2.step_count < t1.step_count and t2.step_count > 0


def test_the_long_session_script_runs(capsys):
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from long_session import run
    finally:
        sys.path.pop(0)
    rows = run(iterations=400, every=200, slice_=100, data="ring", hidden=16, batch_size=16)
    assert [r["step"] for r in rows] == [200, 400] and rows[-1]["history_rows"] == 400
