"""An iteration's matrix products as they run inside the trainer, against the same products timed
alone (the bound `bench` prints), and what the iteration spends besides them.

    python docs/tools/gemm_in_situ.py [model=pytorch-mlp] [batch_size=64] [precision=fp32] [iters=200]

The trainer of profile_step.py (random MNIST-shaped images, no data needed). The in-iteration times come
from torch.profiler (which adds a little to every operator); the alone times from
`ganlab.roofline.time_product`, as the bound takes them.
"""

import math
import sys
import time
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from profile_step import random_mnist_trainer

from ganlab.config import FIELD_TYPES, make_config
from ganlab.roofline import iteration_plan, recorded_product, time_product, traced_layers


def main(argv):
    fields = dict(a.split("=", 1) for a in argv)
    iters = int(fields.pop("iters", 200))
    fields.setdefault("model", "pytorch-mlp")
    cfg = make_config(data="mnist", **{k: FIELD_TYPES[k](v) for k, v in fields.items()})
    trainer = random_mnist_trainer(cfg)
    t0 = time.perf_counter()
    trainer.step(iters)
    plain_ms = (time.perf_counter() - t0) / iters * 1e3
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        trainer.step(iters)
    in_iteration = defaultdict(float)                   # (rows, inner, cols) -> microseconds per iteration
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key in ("aten::mm", "aten::addmm"):
            in_iteration[recorded_product(e.key, e.input_shapes)] += e.self_cpu_time_total / iters
    total_ms = sum(e.self_cpu_time_total for e in prof.key_averages()) / iters / 1e3
    dtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float32
    parts = defaultdict(float)                          # part of the iteration -> microseconds alone
    plan = iteration_plan(traced_layers(trainer.G, cfg.latent_dim), traced_layers(trainer.D, math.prod(cfg.shape)), cfg.batch_size, cfg.k)
    for part, rows, layer, kind in plan:
        if layer.dims is not None:                      # the matrix products, as the profiler's mm/addmm
            parts[part] += time_product(layer, rows, kind, dtype) * 1e6
    print(f"{cfg.model}, batch {cfg.batch_size}, {cfg.precision}, {torch.get_num_threads()} threads, torch "
          f"{torch.__version__}: an iteration takes {plain_ms:.2f} ms ({total_ms:.2f} ms under the profiler)")
    print("products timed alone, ms:", ", ".join(f"{part} {us / 1e3:.2f}" for part, us in parts.items()))
    alone, inside = sum(parts.values()) / 1e3, sum(in_iteration.values()) / 1e3
    print(f"all products: {alone:.2f} ms alone, {inside:.2f} ms in the iteration ({inside / alone:.2f}x)")
    print(f"everything else in the iteration (profiled): {total_ms - inside:.2f} ms")
    print("per product shape (rows, inner, cols): in the iteration, us per iteration")
    for mnk, us in sorted(in_iteration.items(), key=lambda kv: -kv[1]):
        print(f"  {str(mnk):<20} {us:8.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
