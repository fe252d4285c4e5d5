"""A floor under the time of one trainer iteration on the machine it runs on, for `bench`.

The floor is what the iteration cannot avoid: its matrix products, each timed alone on this machine
with the layout autograd uses (forward x @ W^T, input gradient g @ W, weight gradient g^T @ x), in the
precision the trainer computes them in, plus the optimizer's memory traffic (each parameter, its
gradient and the optimizer's moments read and written once per step) at a copy bandwidth measured in the
same run. Everything else an iteration does (activations, BatchNorm, casts, Python) only adds to
this sum, so 1 / floor bounds the iterations/s of the same computation from above, and the trainer's
share of that bound says how close it runs to the machine's own limit.

Linear layers only: for a model with convolutions `iteration_bound` returns None rather than a bound
that leaves them out.
"""

from __future__ import annotations

import time

import torch
from torch import nn

# Bytes an optimizer step moves per fp32 parameter: the weight, its gradient and the optimizer's
# moments (Adam two, SGD with momentum one), each read once and written once.
BYTES_PER_PARAM = {"adam": 4 * 2 * 4, "sgd": 4 * 2 * 3}
ADAM_BYTES_PER_PARAM = BYTES_PER_PARAM["adam"]


def linear_shapes(net: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


def iteration_gemms(g_layers, d_layers, m: int, k: int = 1) -> list[tuple[str, int, int, int, str]]:
    """(part, rows, in, out, kind) for every product of one iteration of Algorithm 1, kind one of
    fwd / dgrad / wgrad: k D steps (G forward without grad on m rows; D forward and backward on the
    2m rows of [real; fake], no gradient for the data itself), then the G step (G and D forward on m,
    D's input gradients down to G's output, G's backward)."""
    out = []
    for _ in range(k):
        out += [("D step: G fwd", m, i, o, "fwd") for i, o in g_layers]
        for j, (i, o) in enumerate(d_layers):
            out += [("D step: D fwd", 2 * m, i, o, "fwd"), ("D step: D wgrad", 2 * m, i, o, "wgrad")]
            out += [("D step: D dgrad", 2 * m, i, o, "dgrad")] if j > 0 else []
    for j, (i, o) in enumerate(g_layers):
        out += [("G step: G fwd", m, i, o, "fwd"), ("G step: G wgrad", m, i, o, "wgrad")]
        out += [("G step: G dgrad", m, i, o, "dgrad")] if j > 0 else []
    for i, o in d_layers:                                   # D's weights frozen: input gradients only
        out += [("G step: D fwd", m, i, o, "fwd"), ("G step: D dgrad", m, i, o, "dgrad")]
    return out


def recorded_product(name: str, input_shapes) -> tuple[int, int, int]:
    """(rows, inner, cols) of an mm(a, b) or addmm(bias, a, b) as torch.profiler records its inputs'
    shapes, to match against `iteration_gemms`."""
    a, b = input_shapes[1:3] if name == "aten::addmm" else input_shapes[:2]
    return a[0], a[1], b[1]


def time_gemm(rows: int, i: int, o: int, kind: str, dtype=torch.float32, seconds: float = 0.1) -> float:
    """Seconds for one product of this shape and kind, operands already in `dtype`."""
    w, x, g = (torch.randn(*shape).to(dtype) for shape in ((o, i), (rows, i), (rows, o)))
    f = {"fwd": lambda: x @ w.t(), "dgrad": lambda: g @ w, "wgrad": lambda: g.t() @ x}[kind]
    for _ in range(3):
        f()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        f()
        reps += 1
    return (time.perf_counter() - t0) / reps


def copy_bandwidth(megabytes: int = 256, seconds: float = 0.5) -> float:
    """Bytes per second this machine moves in a large tensor copy (each byte read once, written once)."""
    src = torch.ones(megabytes * 2**20 // 4)
    dst = torch.empty_like(src)
    dst.copy_(src)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        dst.copy_(src)
        reps += 1
    return 2 * src.numel() * 4 * reps / (time.perf_counter() - t0)


def iteration_bound(G: nn.Module, D: nn.Module, batch: int, k: int = 1, precision: str = "fp32",
                    bandwidth: float | None = None, optimizer: str = "adam") -> dict | None:
    """The floor of one iteration for this pair: {"gemm_ms", "optimizer_ms", "bound_it_s", ...}; None
    for a pair with convolutions."""
    if any(isinstance(m, nn.modules.conv._ConvNd) for m in (*G.modules(), *D.modules())):
        return None
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    gemms = iteration_gemms(linear_shapes(G), linear_shapes(D), batch, k)
    gemm_s = sum(time_gemm(rows, i, o, kind, dtype) for _, rows, i, o, kind in gemms)
    flop = sum(2 * rows * i * o for _, rows, i, o, _ in gemms)
    bandwidth = bandwidth or copy_bandwidth()
    params = sum(p.numel() for p in G.parameters()) + k * sum(p.numel() for p in D.parameters())
    opt_s = params * BYTES_PER_PARAM[optimizer] / bandwidth
    return {"gemm_ms": gemm_s * 1e3, "gemm_gflop_s": flop / gemm_s / 1e9, "optimizer_ms": opt_s * 1e3,
            "bandwidth_gb_s": bandwidth / 1e9, "bound_it_s": 1 / (gemm_s + opt_s)}
