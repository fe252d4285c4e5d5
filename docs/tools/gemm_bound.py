"""A floor under the time of one trainer iteration: the matrix products alone, each timed in isolation.

    python docs/tools/gemm_bound.py [BATCH] [MODEL]     # default: 64 pytorch-mlp

Lists every GEMM that one iteration of Algorithm 1 runs for the model (k = 1; the D step: G forward
without grad on m rows, D forward and backward on 2m; the G step: G and D forward on m, D's input
gradients, G's backward), times each with the layout autograd uses (forward x @ W^T, input grad
g @ W, weight grad g^T @ x) at the same thread count, and sums them. Whatever else an iteration does
(activations, BatchNorm, the optimizer, Python) only adds to this sum, so 1 / sum bounds the
iterations/s of the unchanged computation from above. `python -m ganlab bench` adds the optimizer's
memory traffic to the same sum (ganlab/roofline.py) and prints the trainer's share of it. Linear layers only: the MLP models (pytorch-mlp,
paper, mlp); a model with convolutions is refused rather than given a bound that leaves them out.
"""

import sys

import torch

from ganlab import make_config
from ganlab.models import build_models
from ganlab.roofline import iteration_gemms, linear_shapes, time_gemm


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
        s = time_gemm(rows, i, o, kind, seconds=0.2)
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
