"""A floor under the time of one trainer iteration on the machine it runs on, for `bench`.

The floor is what the iteration cannot avoid: its products (every Linear's matrix product and every
convolution's), each timed alone on this machine with the call autograd makes (a Linear's forward
x @ W^T, input gradient g @ W and weight gradient g^T @ x; a convolution's forward and the two halves
of its backward), in the precision the trainer computes them in, plus the optimizer's memory traffic
(each parameter, its gradient and the optimizer's moments read and written once per step) at a copy
bandwidth measured in the same run. Everything else an iteration does (activations, BatchNorm, casts,
Python, and R1's double backward on the D steps that have it) only adds to this sum, so 1 / floor
bounds the iterations/s of the same computation from above, and the trainer's share of that bound says
how close it runs to the machine's own limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from .allocator import keep_freed_blocks
from .models.layers import WNLinear

# Bytes an optimizer step moves per fp32 parameter: the weight, its gradient and the optimizer's
# moments (Adam two, SGD with momentum one), each read once and written once.
BYTES_PER_PARAM = {"adam": 4 * 2 * 4, "sgd": 4 * 2 * 3}
ADAM_BYTES_PER_PARAM = BYTES_PER_PARAM["adam"]


@dataclass(frozen=True, eq=False)
class Layer:
    """A Linear or (transposed) convolution as one sample passes through it."""
    module: nn.Module
    in_shape: tuple[int, ...]       # one sample's input
    flop: int                       # multiply-adds x 2 of its forward for one sample (each backward half: the same)
    dims: tuple[int, int] | None    # (in, out) of a matrix product layer; None for a convolution


@torch.no_grad()
def traced_layers(net: nn.Module, d_in: int) -> list[Layer]:
    """`net`'s Linear and convolution calls in the order one sample's forward pass makes them, found
    by hooks on a real pass (so a convolution's sizes come out right), with their FLOPs."""
    layers = []

    def record(m, inputs, out):
        dims = _linear_dims(m)
        if dims is not None:
            flop = 2 * dims[0] * dims[1]
        elif isinstance(m, nn.Conv2d):
            flop = 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.ConvTranspose2d):     # each input pixel spreads a kernel to every output channel
            flop = 2 * inputs[0].numel() * (m.out_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.modules.conv._ConvNd):
            raise TypeError(f"{type(m).__name__} is not counted: only Linear, Conv2d and ConvTranspose2d are")
        else:
            return
        layers.append(Layer(m, tuple(inputs[0].shape[1:]), flop, dims))

    hooks = [m.register_forward_hook(record) for m in net.modules()]
    was_training = net.training
    net.eval()                                          # BatchNorm takes a batch of one in eval mode
    try:
        device = next(net.parameters()).device
        x = torch.zeros(1, d_in, device=device)
        conditional = getattr(net, "classes", 0) or getattr(net, "cond", "none") != "none"
        net(x, torch.zeros(1, dtype=torch.long, device=device)) if conditional else net(x)
    finally:
        net.train(was_training)
        for h in hooks:
            h.remove()
    return layers


def _linear_dims(m: nn.Module) -> tuple[int, int] | None:
    """(in, out) of a layer whose product is one matrix product: nn.Linear, or the weight-normalised
    linear layer of "improved-gan" (its w is v scaled per unit)."""
    if isinstance(m, nn.Linear):
        return m.in_features, m.out_features
    if isinstance(m, WNLinear):
        return m.v.shape[1], m.v.shape[0]
    return None


def iteration_plan(g_layers: list, d_layers: list, m: int, k: int = 1) -> list[tuple[str, int, object, str]]:
    """(part, rows, layer, kind) for every product of one iteration of Algorithm 1, kind one of
    fwd / dgrad / wgrad: k D steps (G forward without grad on m rows; D forward and backward on the
    2m rows of [real; fake], no gradient for the data itself), then the G step (G and D forward on m,
    D's input gradients down to G's output, G's backward), for a G loss on D's outputs (feature
    matching's extra pass of D over real images is not in it)."""
    out = []
    for _ in range(k):
        out += [("D step: G fwd", m, layer, "fwd") for layer in g_layers]
        for j, layer in enumerate(d_layers):
            out += [("D step: D fwd", 2 * m, layer, "fwd"), ("D step: D wgrad", 2 * m, layer, "wgrad")]
            out += [("D step: D dgrad", 2 * m, layer, "dgrad")] if j > 0 else []
    for j, layer in enumerate(g_layers):
        out += [("G step: G fwd", m, layer, "fwd"), ("G step: G wgrad", m, layer, "wgrad")]
        out += [("G step: G dgrad", m, layer, "dgrad")] if j > 0 else []
    for layer in d_layers:                                  # D's weights frozen: input gradients only
        out += [("G step: D fwd", m, layer, "fwd"), ("G step: D dgrad", m, layer, "dgrad")]
    return out


def autograd_calls(plan: list[tuple[str, int, Layer, str]]) -> list[tuple[str, int, Layer, str]]:
    """The plan as the calls that run it: autograd computes a convolution's input and weight gradients
    in one pass with one aten.convolution_backward call (kind "dgrad+wgrad", part "... bwd"), and a
    matrix product layer's as separate products."""
    out, merged = [], {}
    for part, rows, layer, kind in plan:
        step, net = part.split(": ")[0], part.split(": ")[1].split()[0]
        key = (step, net, rows, id(layer))
        if kind == "fwd" or layer.dims is not None:
            out.append((part, rows, layer, kind))
        elif key in merged:
            i = merged[key]
            out[i] = (f"{step}: {net} bwd", rows, layer, "dgrad+wgrad")
        else:
            merged[key] = len(out)
            out.append((part, rows, layer, kind))
    return out


def call_flop(rows: int, layer: Layer, kind: str) -> int:
    """FLOPs of one call of `autograd_calls` (each backward half costs what the forward does)."""
    return rows * layer.flop * len(kind.split("+"))


def recorded_product(name: str, input_shapes) -> tuple[int, int, int]:
    """(rows, inner, cols) of an mm(a, b) or addmm(bias, a, b) as torch.profiler records its inputs'
    shapes, to match against a matrix product layer's calls in `iteration_plan`."""
    a, b = input_shapes[1:3] if name == "aten::addmm" else input_shapes[:2]
    return a[0], a[1], b[1]


def time_gemm(rows: int, i: int, o: int, kind: str, dtype=torch.float32, seconds: float = 0.1) -> float:
    """Seconds for one product of this shape and kind, operands already in `dtype`."""
    w, x, g = (torch.randn(*shape).to(dtype) for shape in ((o, i), (rows, i), (rows, o)))
    return _per_call({"fwd": lambda: x @ w.t(), "dgrad": lambda: g @ w, "wgrad": lambda: g.t() @ x}[kind], seconds)


def time_conv(conv: nn.Module, x_shape: tuple[int, ...], kind: str, dtype=torch.float32, seconds: float = 0.1) -> float:
    """Seconds for one (transposed) convolution on an input of `x_shape`: its forward, or the halves
    of its backward that `kind` names ("dgrad", "wgrad" or "dgrad+wgrad"), as autograd calls them
    (one aten.convolution_backward with an output mask; the weight half also gives the bias's
    gradient), operands already in `dtype`."""
    w = conv.weight.detach().to("cpu", dtype)
    b = None if conv.bias is None else conv.bias.detach().to("cpu", dtype)
    x = torch.randn(*x_shape).to(dtype)
    args = (conv.stride, conv.padding, conv.dilation, conv.transposed, conv.output_padding, conv.groups)
    g = torch.randn_like(torch.ops.aten.convolution(x, w, b, *args))
    if kind == "fwd":
        return _per_call(lambda: torch.ops.aten.convolution(x, w, b, *args), seconds)
    mask = ["dgrad" in kind, "wgrad" in kind, "wgrad" in kind and b is not None]
    bias_sizes = None if b is None else list(b.shape)
    return _per_call(lambda: torch.ops.aten.convolution_backward(g, x, w, bias_sizes, *args, mask), seconds)


def time_product(layer: Layer, rows: int, kind: str, dtype=torch.float32, seconds: float = 0.1) -> float:
    """Seconds for `layer`'s call of this kind (as `autograd_calls` gives them) on `rows` samples."""
    if layer.dims is not None:
        return time_gemm(rows, *layer.dims, kind, dtype, seconds)
    return time_conv(layer.module, (rows, *layer.in_shape), kind, dtype, seconds)


def _per_call(f, seconds: float) -> float:
    # Under the allocator settings CPU training runs with: without them a product whose output is a
    # large block gets fresh pages on every call, and times several times slower than in training.
    keep_freed_blocks()
    for _ in range(3):                  # first calls pick and cache the kernels
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
                    bandwidth: float | None = None, optimizer: str = "adam", *, g_in: int, d_in: int) -> dict:
    """The floor of one iteration for this pair, whose nets take `g_in` (z) and `d_in` (x) numbers
    a sample: {"gemm_ms" (all the products), "gemm_gflop_s", "optimizer_ms", "bound_it_s", ...}."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    calls = autograd_calls(iteration_plan(traced_layers(G, g_in), traced_layers(D, d_in), batch, k))
    gemm_s = sum(time_product(layer, rows, kind, dtype) for _, rows, layer, kind in calls)
    flop = sum(call_flop(rows, layer, kind) for _, rows, layer, kind in calls)
    bandwidth = bandwidth or copy_bandwidth()
    params = sum(p.numel() for p in G.parameters()) + k * sum(p.numel() for p in D.parameters())
    opt_s = params * BYTES_PER_PARAM[optimizer] / bandwidth
    return {"gemm_ms": gemm_s * 1e3, "gemm_gflop_s": flop / gemm_s / 1e9, "optimizer_ms": opt_s * 1e3,
            "bandwidth_gb_s": bandwidth / 1e9, "bound_it_s": 1 / (gemm_s + opt_s)}
