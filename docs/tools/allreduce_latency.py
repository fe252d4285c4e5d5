import os, time, torch, torch.distributed as dist
dist.init_process_group("gloo")
r = dist.get_rank()
for n in (10, 35_000, 1_000_000):
    t = torch.randn(n)
    for _ in range(5): dist.all_reduce(t)
    t0 = time.perf_counter()
    for _ in range(200): dist.all_reduce(t)
    dt = (time.perf_counter() - t0) / 200
    if r == 0: print(f"{n}: {dt*1e3:.3f} ms per all_reduce")
dist.destroy_process_group()
