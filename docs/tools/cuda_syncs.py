"""Where a training step on CUDA waits for the GPU, and what one iteration costs on the host.

    python docs/tools/cuda_syncs.py [model] [batch]

Prints each synchronising call torch reports inside `Trainer.step` (set_sync_debug_mode), then
the profiler's top host-side ops per iteration and the number of kernel launches per iteration.
Source locations are printed relative to the repository (ganlab/...) or to site-packages (torch/...),
so the output reads the same on any machine. Needs a CUDA device; docs/bench/cuda-syncs-h200.txt
is its output on an NVIDIA H200."""

import sys
import time
import warnings
from pathlib import Path

import torch

from ganlab import Trainer, make_config

ROOT = Path(__file__).resolve().parents[2]


def short(filename: str) -> str:
    """`filename` relative to the repository, or from site-packages on, else as given."""
    path = Path(filename).resolve()
    if path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    parts = path.parts
    return str(Path(*parts[parts.index("site-packages"):])) if "site-packages" in parts else filename


model, batch = (sys.argv[1] if len(sys.argv) > 1 else "pytorch-mlp"), int(sys.argv[2]) if len(sys.argv) > 2 else 64
t = Trainer(make_config(data="mnist", model=model, batch_size=batch), device="cuda")
t.step(50)
torch.cuda.synchronize()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    torch.cuda.set_sync_debug_mode("warn")
    t.step(50)
    torch.cuda.set_sync_debug_mode(0)
where = {}
for w in caught:
    key = f"{short(w.filename)}:{w.lineno}: {str(w.message)[:80]}"
    where[key] = where.get(key, 0) + 1
print(f"{model} b{batch}: {sum(where.values())} synchronising calls in step(50)")
for key, n in sorted(where.items(), key=lambda kv: -kv[1])[:10]:
    print(f"  {n:5d}  {key}")
for n in (50, 500):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    t.step(n)
    torch.cuda.synchronize()
    print(f"step({n}): {n / (time.perf_counter() - t0):.1f} it/s")
from torch.profiler import ProfilerActivity, profile

with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
    t.step(20)
    torch.cuda.synchronize()
launches = sum(e.count for e in prof.key_averages() if e.key in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"))
print(f"kernel launches per iteration: {launches / 20:.0f}")
print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=40))
