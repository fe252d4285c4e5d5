"""A floor under the time of one trainer iteration: its products alone, each timed in isolation.

    python docs/tools/gemm_bound.py [BATCH] [MODEL] [PRECISION]     # default: 64 pytorch-mlp fp32

Lists every product that one iteration of Algorithm 1 runs for the model (k = 1; the D step: G forward
without grad on m rows, D forward and backward on 2m; the G step: G and D forward on m, D's input
gradients, G's backward): each Linear's matrix product with the layout autograd uses (forward
x @ W^T, input grad g @ W, weight grad g^T @ x) and each convolution's forward and backward as
autograd calls them (one call for the backward halves a pass needs), in the precision given, at
the same thread count, under the allocator settings training uses, and sums them. Whatever else
an iteration does (activations, BatchNorm, the optimizer, R1's double backward, Python) only adds to
this sum, so 1 / sum bounds the iterations/s of the unchanged computation from above. `python -m
ganlab bench` adds the optimizer's memory traffic to the same sum (ganlab/roofline.py) and prints the
trainer's share of it.
"""

import datetime
import sys

import numpy as np
import torch

from ganlab import make_config
from ganlab.devices import cpu_model
from ganlab.models import build_models
from ganlab.roofline import autograd_calls, call_flop, iteration_plan, time_product, traced_layers


def describe(layer) -> str:
    m = layer.module
    if layer.dims is not None:
        return f"linear {layer.dims[0]}->{layer.dims[1]}"
    size = "x".join(map(str, layer.in_shape[1:]))
    return f"{'convT' if m.transposed else 'conv'} {m.in_channels}->{m.out_channels} k{m.kernel_size[0]} at {size}"


def main():
    m = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    model = sys.argv[2] if len(sys.argv) > 2 else "pytorch-mlp"
    precision = sys.argv[3] if len(sys.argv) > 3 else "fp32"
    cfg = make_config(data="mnist", model=model, batch_size=m, precision=precision)
    G, D = build_models(cfg)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    plan = iteration_plan(traced_layers(G, cfg.latent_dim), traced_layers(D, int(np.prod(cfg.shape))), m)
    total_s = total_flop = 0.0
    by_part = {}
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu_model()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {model}, batch {m}, {precision}")
    print(f"{'part':18s} {'rows':>5s} {'layer':34s} {'kind':>11s} {'us':>9s} {'GFLOP/s':>8s}")
    for name, rows, layer, kind in autograd_calls(plan):
        s = time_product(layer, rows, kind, dtype, seconds=0.2)
        flop = call_flop(rows, layer, kind)
        total_s, total_flop = total_s + s, total_flop + flop
        by_part[name] = by_part.get(name, 0.0) + s
        print(f"{name:18s} {rows:5d} {describe(layer):34s} {kind:>11s} {s * 1e6:9.1f} {flop / s / 1e9:8.1f}")
    print(f"sum of products: {total_s * 1e3:.2f} ms, {total_flop / 1e9:.3f} GFLOP at {total_flop / total_s / 1e9:.1f} GFLOP/s"
          f" -> at most {1 / total_s:.1f} it/s for this computation")
    for name, s in by_part.items():
        print(f"  {name:18s} {s * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
