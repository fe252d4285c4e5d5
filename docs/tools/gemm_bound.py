"""A floor under the time of one trainer iteration: the matrix products alone, each timed in isolation.

    python docs/tools/gemm_bound.py [BATCH] [MODEL]     # default: 64 pytorch-mlp

Lists every GEMM that one iteration of Algorithm 1 runs for the model (k = 1; the D step: G forward
without grad on m rows, D forward and backward on 2m; the G step: G and D forward on m, D's input
gradients, G's backward), times each with the layout autograd uses (forward x @ W^T, input grad
g @ W, weight grad x^T @ g) at the same thread count, and sums them. Whatever else an iteration does
(activations, BatchNorm, the optimizer, Python) only adds to this sum, so 1 / sum bounds the
iterations/s of the unchanged computation from above. Linear layers only: the MLP models (pytorch-mlp,
paper, mlp); a model with convolutions is refused rather than given a bound that leaves them out.
"""

import sys
import time

import torch

from ganlab import make_config
from ganlab.models import build_models


def linear_shapes(net):
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, torch.nn.Linear)]


def iteration_gemms(g_layers, d_layers, m):
    """(name, rows, a, b, kind) for every product of one iteration; kind in fwd / dgrad / wgrad."""
    out = []
    for i, o in g_layers:                                   # D step: fakes, no grad
        out.append(("D step: G fwd", m, i, o, "fwd"))
    for j, (i, o) in enumerate(d_layers):                   # D on [real; fake], its backward
        out += [("D step: D fwd", 2 * m, i, o, "fwd"), ("D step: D wgrad", 2 * m, i, o, "wgrad")]
        if j > 0:                                           # no gradient wanted for the data itself
            out.append(("D step: D dgrad", 2 * m, i, o, "dgrad"))
    for j, (i, o) in enumerate(g_layers):                   # G step
        out += [("G step: G fwd", m, i, o, "fwd"), ("G step: G wgrad", m, i, o, "wgrad")]
        if j > 0:
            out.append(("G step: G dgrad", m, i, o, "dgrad"))
    for i, o in d_layers:                                   # through D to G's output; D's weights frozen
        out += [("G step: D fwd", m, i, o, "fwd"), ("G step: D dgrad", m, i, o, "dgrad")]
    return out


def time_gemm(rows, i, o, kind, seconds=0.2):
    w, x, g = torch.randn(o, i), torch.randn(rows, i), torch.randn(rows, o)
    # nn.Linear runs addmm(b, x, W^T); autograd's AddmmBackward then computes g @ W and x^T @ g.
    f = {"fwd": lambda: x @ w.t(), "dgrad": lambda: g @ w, "wgrad": lambda: x.t() @ g}[kind]
    for _ in range(5):
        f()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        f()
        reps += 1
    return (time.perf_counter() - t0) / reps


def main():
    m = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    model = sys.argv[2] if len(sys.argv) > 2 else "pytorch-mlp"
    G, D = build_models(make_config(data="mnist", model=model, batch_size=m))
    if any(isinstance(x, torch.nn.modules.conv._ConvNd) for x in (*G.modules(), *D.modules())):
        sys.exit(f"error: model {model!r} has convolutions, which this bound does not count; use pytorch-mlp, paper or mlp")
    gemms = iteration_gemms(linear_shapes(G), linear_shapes(D), m)
    total_s = total_flop = 0.0
    by_part = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {model}, batch {m}")
    print(f"{'part':18s} {'rows':>5s} {'in':>5s} {'out':>5s} {'kind':>6s} {'us':>8s} {'GFLOP/s':>8s}")
    for name, rows, i, o, kind in gemms:
        s = time_gemm(rows, i, o, kind)
        flop = 2 * rows * i * o
        total_s, total_flop = total_s + s, total_flop + flop
        by_part[name] = by_part.get(name, 0.0) + s
        print(f"{name:18s} {rows:5d} {i:5d} {o:5d} {kind:>6s} {s * 1e6:8.1f} {flop / s / 1e9:8.1f}")
    print(f"sum of GEMMs: {total_s * 1e3:.2f} ms, {total_flop / 1e9:.3f} GFLOP at {total_flop / total_s / 1e9:.1f} GFLOP/s"
          f" -> at most {1 / total_s:.1f} it/s for this computation")
    for name, s in by_part.items():
        print(f"  {name:18s} {s * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
