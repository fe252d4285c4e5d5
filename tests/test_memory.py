"""Sizes multiply: a run whose networks, activations and data cannot fit in memory is refused in one
line, naming its size and a batch that fits, before anything is allocated, instead of being killed
by the system."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganlab import Trainer, memory
from ganlab.config import Config
from ganlab.errors import ConfigError

BUDGET = 2**30       # the memory the property test pretends the machine has


@pytest.mark.slow
def test_a_memory_exhausting_combination_is_refused_within_seconds(tmp_path):
    """Every size is inside its own bound; together they want far more than any machine here has."""
    out = tmp_path / "x.pt"
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ganlab", "train", "--data", "ring", "--hidden", "8192", "--depth",
                           "32", "--batch-size", "65536", "--steps", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - t0
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert re.search(r"this run needs about [\d.]+ GiB .* of memory available", done.stderr)
    assert seconds < 30 and not out.exists()          # python and torch start in a few; the check is instant


sizes = st.fixed_dictionaries({"latent_dim": st.integers(1, 4096), "hidden": st.integers(1, 8192),
                               "depth": st.integers(1, 32), "batch_size": st.integers(2, 65_536),
                               "k": st.integers(1, 5), "model": st.sampled_from(["mlp", "pytorch-mlp", "paper"]),
                               "data": st.sampled_from(["ring", "digits", "mnist"])})


@settings(max_examples=60, deadline=None)
@given(c=sizes)
def test_any_combination_of_sizes_is_built_or_refused_with_a_batch_that_fits(c):
    """Under a 1 GiB budget: a run is built only when its estimate fits, and a refusal is one line
    naming the size and, when a batch can fit, a batch_size that does."""
    if c["model"] != "mlp" and c["data"] == "ring":
        c["data"] = "digits"
    try:
        cfg = Config(**c)
    except ConfigError:
        return                                            # refused by a single rule (tested in test_fuzz)
    need = sum(memory.training_bytes(cfg).values())
    try:
        memory.check_fits(cfg, BUDGET)
    except ConfigError as exc:
        message = str(exc)
        assert need > memory.SHARE * BUDGET and "\n" not in message and "needs about" in message
        suggested = re.search(r"batch_size ([\d,]+) or less", message)
        if suggested:
            fits = cfg.__class__(**{**c, "batch_size": int(suggested.group(1).replace(",", ""))})
            memory.check_fits(fits, BUDGET)          # the setting it names does fit
        return
    assert need <= memory.SHARE * BUDGET


def test_the_trainer_refuses_before_allocating(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 64 * 2**20)
    with pytest.raises(ConfigError, match=r"needs about .* use batch_size [\d,]+ or less"):
        Trainer(Config(data="ring", hidden=512, depth=4, batch_size=65_536), device="cpu")
    with pytest.raises(ConfigError, match="the networks alone do not fit"):
        Trainer(Config(data="ring", hidden=8192, depth=4), device="cpu")
    Trainer(Config(data="ring"), device="cpu").step(1)              # an ordinary run is untouched


def test_a_checkpoint_too_big_to_train_here_can_still_be_sampled(tmp_path, monkeypatch):
    from ganlab.cli import main

    big_batch = Config(data="ring", hidden=512, depth=4, batch_size=65_536)
    Trainer(big_batch.replace(batch_size=64), device="cpu").save(tmp_path / "run.pt")
    sd = torch.load(tmp_path / "run.pt", weights_only=False)
    sd["config"]["batch_size"] = 65_536                 # as if trained on a larger machine
    torch.save(sd, tmp_path / "run.pt")
    monkeypatch.setattr(memory, "available_memory", lambda: 64 * 2**20)
    with pytest.raises(ConfigError, match="use batch_size"):
        Trainer.load(tmp_path / "run.pt", device="cpu")                 # to train on: refused
    assert main(["sample", str(tmp_path / "run.pt"), "--n", "100", "--out", str(tmp_path / "x.npy")]) == 0


@pytest.mark.slow
def test_the_estimate_is_within_a_factor_of_two_of_what_a_run_takes(tmp_path):
    """Measured in a fresh process: the growth of resident memory over building and training a few
    steps of a large MLP, against the estimate."""
    # VmHWM, the process's own high-water mark (getrusage's maxrss keeps the pre-exec process's peak).
    script = """
import torch
from ganlab import Trainer, memory
from ganlab.config import Config
def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
torch.set_num_threads(1)
cfg = Config(data="ring", hidden=2048, depth=4, batch_size=8192)
before = peak()
t = Trainer(cfg, device="cpu")
t.step(2)
print(peak() - before, sum(memory.training_bytes(cfg).values()))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    grown, estimate = map(int, done.stdout.split())
    assert 0.5 * grown <= estimate <= 2 * grown, (grown, estimate)
