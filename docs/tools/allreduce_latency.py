"""Time of one gloo all-reduce between the processes of a torchrun job, by tensor size.

    OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node 2 docs/tools/allreduce_latency.py

Each data-parallel step waits for one all-reduce of the gradients per player; on a CPU whose
loopback is slow, that wait, not the arithmetic, sets the pace of small models.
"""

import time

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
for n in (10, 35_000, 1_000_000):
    t = torch.randn(n)
    for _ in range(5):
        dist.all_reduce(t)
    t0 = time.perf_counter()
    for _ in range(200):
        dist.all_reduce(t)
    ms = (time.perf_counter() - t0) / 200 * 1e3
    if dist.get_rank() == 0:
        print(f"{n:>9,} floats: {ms:.3f} ms per all_reduce")
dist.destroy_process_group()
