"""Training on the CPU must not fault in fresh pages every iteration (ganlab/allocator.py)."""

import json
import os
import subprocess
import sys

import pytest

# A fresh process per measurement: the allocator's thresholds are process-wide and move on their own
# once a large block is freed, so an earlier test in this process could hide the difference. The
# steady state is the least of three 10-iteration windows: the heap still grows once in the first
# windows with the settings and not afterwards, while without them every window faults
# (the bounds below are what docs/performance.md quotes).
SCRIPT = """
import json, resource, torch
from ganlab import Trainer, make_config
from ganlab.data import ImageData
data = ImageData(torch.rand(512, 784), torch.zeros(512, dtype=torch.long), (1, 28, 28))
t = Trainer(make_config(data="mnist", model="dcgan", batch_size=64), device="cpu", dataset=data)
t.step(3)
windows = []
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t.step(10)
    windows.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
print(json.dumps(min(windows)))
"""


def faults_per_iteration(**env) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT], env={**os.environ, "OMP_NUM_THREADS": "1", **env},
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the allocator settings are glibc's (Linux)")
def test_a_cpu_training_step_reuses_its_buffers_instead_of_faulting_in_new_pages():
    tuned, untuned = faults_per_iteration(), faults_per_iteration(GANLAB_MALLOPT="0")
    # The dcgan pair's activations are MiB-sized: without the settings each one is a fresh mmap.
    assert untuned > 2_000, f"expected the untuned allocator to fault ({untuned:.0f} faults/iteration)"
    assert tuned < untuned / 20, (tuned, untuned)
