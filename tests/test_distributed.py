"""Data-parallel training with torchrun, two gloo processes on the CPU: the ranks stay one run (same
weights, different batches, BatchNorm over all of them), it still learns, it resumes bit-exactly
with the same number of processes and in one process otherwise, and a killed rank costs at most the
steps since the last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganlab import Trainer
from ganlab.checkpoint import load_checkpoint
from ganlab.evaluate import evaluate

from conftest import same_weights_and_moments

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore::FutureWarning"}
pytestmark = pytest.mark.slow


def torchrun(*args: str, procs: int = 2, restarts: int = 0, wait: bool = True, cwd=HERE):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}",
           f"--max-restarts={restarts}", *args]
    if not wait:
        return subprocess.Popen(cmd, env=ENV, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = subprocess.run(cmd, env=ENV, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def train(out: Path, *flags: str, procs: int = 2) -> subprocess.CompletedProcess:
    return torchrun("-m", "ganlab", "train", *flags, "--out", str(out), "--quiet", procs=procs)


def same_run(a: dict, b: dict) -> bool:
    """Bit-identical weights, optimizer moments, history and every rank's stream."""
    if a["step"] != b["step"] or a["world_size"] != b["world_size"] or not torch.equal(a["history"], b["history"]):
        return False
    streams = zip(a.get("rng_ranks", [a["rng"]["state"]]), b.get("rng_ranks", [b["rng"]["state"]]))
    if not all(torch.equal(x, y) for x, y in streams):
        return False
    return same_weights_and_moments(a, b)


def test_ranks_keep_one_set_of_weights_and_batchnorm_spans_them():
    assert torchrun("ranks_check.py").stdout.strip().endswith("ok")


def test_two_processes_learn_the_ring(tmp_path):
    out = tmp_path / "ring.pt"
    done = train(out, "--data", "ring", "--steps", "3000", "--seed", "0")
    assert "x 2 processes" in done.stderr and "images/s in all" in done.stdout
    sd = load_checkpoint(out)
    assert sd["world_size"] == 2 and len(sd["rng_ranks"]) == 2
    modes = evaluate(Trainer.load(out, device="cpu"), metrics=["modes"])["modes"]
    print(modes)
    assert modes["modes_covered"] >= 6


def test_resume_is_bit_exact_with_the_same_processes_and_works_in_one(tmp_path):
    flags = ["--data", "grid", "--hidden", "32", "--batch-size", "64", "--seed", "5"]
    train(tmp_path / "whole.pt", *flags, "--steps", "40")
    train(tmp_path / "half.pt", *flags, "--steps", "20")
    train(tmp_path / "resumed.pt", "--resume", str(tmp_path / "half.pt"), "--steps", "20")
    assert same_run(load_checkpoint(tmp_path / "whole.pt"), load_checkpoint(tmp_path / "resumed.pt"))

    # In one process: the streams are re-derived, and it says so.
    one = subprocess.run([sys.executable, "-m", "ganlab", "train", "--resume", str(tmp_path / "half.pt"), "--steps",
                          "10", "--out", str(tmp_path / "one.pt"), "--quiet"], env=ENV, capture_output=True, text=True)
    assert one.returncode == 0 and "trained by 2 processes, resuming in 1" in one.stderr, one.stderr
    sd = load_checkpoint(tmp_path / "one.pt")
    assert sd["step"] == 30 and sd["world_size"] == 1 and "rng_ranks" not in sd


def test_a_killed_rank_leaves_a_checkpoint_and_torchrun_restarts_from_it(tmp_path):
    flags = ["--data", "ring", "--hidden", "32", "--batch-size", "64", "--seed", "2", "--steps", "600",
             "--checkpoint-every", "50", "--quiet"]
    out = tmp_path / "run.pt"
    job = torchrun("-m", "ganlab", "train", *flags, "--out", str(out), restarts=1, wait=False)
    deadline = time.monotonic() + 300
    while not out.exists() and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.1)
    time.sleep(0.5)
    workers = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
    assert workers, "no worker processes found"
    os.kill(int(workers[-1]), signal.SIGKILL)           # one rank dies mid-training
    killed_at = Trainer.load(out, device="cpu").step_count        # the file it left loads
    assert 0 < killed_at < 600
    _, err = job.communicate(timeout=600)
    assert job.returncode == 0, err[-3000:]
    assert f"resumed from {out}" in err
    # The restarted job ends where an uninterrupted one does, to the bit.
    train(tmp_path / "whole.pt", *flags)
    assert same_run(load_checkpoint(out), load_checkpoint(tmp_path / "whole.pt"))
