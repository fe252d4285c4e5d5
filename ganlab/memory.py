"""What a training run will hold in memory, estimated before anything is allocated.

Each size setting is bounded on its own (config.py), but sizes multiply: a wide, deep MLP at a
large batch passes every bound and still asks for more memory than the machine has, and the
system kills the process without a word. So a trainer first adds up, from the config alone, the
networks with their gradients and optimizer state (and weight averages), one iteration's
activations and the training data, and refuses a run that cannot fit in one line that names the
size and a setting that would fit.

The networks are built on PyTorch's "meta" device, which records shapes and allocates nothing.
"""

from __future__ import annotations

import math
import os

import torch
from torch import nn

from .config import DATASET_SIZES, Config
from .errors import ConfigError, size_text  # noqa: F401  (size_text: its old home)

SHARE = 0.8        # the most of the available memory a run may plan to take; the rest is the process's own


def training_bytes(cfg: Config) -> dict[str, int]:
    """Bytes a run of `cfg` holds while it trains: "networks" (weights, gradients, optimizer moments,
    averages, and a second copy of all but the gradients that a call of `step` keeps to roll back to),
    "activations" (those of the larger of one iteration's two graphs, kept for its backward pass) and
    "data" (the training set as uint8 codes, where its size is known before loading)."""
    G, D = _meta_models(cfg)
    g, d = (sum(p.numel() for p in net.parameters()) for net in (G, D))
    m = cfg.batch_size
    g_out, d_out = _outputs_per_sample(G, cfg.latent_dim, cfg), _outputs_per_sample(D, math.prod(cfg.shape), cfg)
    # The D step keeps D's activations on 2m samples (G's fakes need none: no grad); the G step keeps
    # G's and D's on m. The two graphs are never alive together, and the backward pass frees each
    # layer's activations as it passes it, so the peak is the larger graph.
    activations = 4 * max(2 * m * d_out, m * (g_out + d_out))
    data = DATASET_SIZES.get(cfg.data, 0) * math.prod(cfg.shape) if cfg.is_image else 0
    return {"networks": 4 * (g + d) + 2 * _saved_state_bytes(cfg, g, d), "activations": activations, "data": data}


def checkpoint_bytes(cfg: Config) -> int:
    """The least a checkpoint of a run of `cfg` takes on disk: weights, optimizer moments and averages
    (the fixed noise, the history and the RNG states add at most a few MB)."""
    g, d = (sum(p.numel() for p in net.parameters()) for net in _meta_models(cfg))
    return _saved_state_bytes(cfg, g, d)


def sampling_bytes(cfg: Config, rows: int) -> int:
    """Bytes G takes to draw `rows` samples at once beside its weights: the noise, every layer's
    output (no graph is kept: sampling runs without gradients, so this overcounts) and two copies of
    the samples (G's output, then the float32 copy given out)."""
    G, _ = _meta_models(cfg)
    return 4 * rows * (cfg.latent_dim + _outputs_per_sample(G, cfg.latent_dim, cfg) + 2 * math.prod(cfg.shape))


def _meta_models(cfg: Config) -> tuple[nn.Module, nn.Module]:
    from .models import build_models

    with torch.device("meta"):
        return build_models(cfg)


def _saved_state_bytes(cfg: Config, g: int, d: int) -> int:
    """Weights, optimizer moments and averages of networks of g and d weights (float32): what
    a run keeps besides gradients, and what its checkpoint holds."""
    moments = 2 if cfg.optimizer == "adam" else 1
    averages = (g if cfg.ema else 0) + (d if cfg.ema and cfg.semi_labels else 0)
    return 4 * ((g + d) * (1 + moments) + averages)


def _outputs_per_sample(net: nn.Module, d_in: int, cfg: Config) -> int:
    """Numbers every layer of `net` outputs for one sample (a forward pass on the meta device)."""
    total = 0

    def count(module, inputs, out):
        nonlocal total
        if not list(module.children()) and isinstance(out, torch.Tensor):
            total += out.numel()

    hooks = [m.register_forward_hook(count) for m in net.modules()]
    try:
        with torch.no_grad():
            x = torch.zeros(1, d_in, device="meta")
            net.eval()
            net(x, torch.zeros(1, dtype=torch.long, device="meta")) if cfg.classes else net(x)
    finally:
        for h in hooks:
            h.remove()
    return total


def check_fits(cfg: Config, available: int, training: bool = True) -> None:
    """ConfigError when a run of `cfg` would need more than SHARE of `available` bytes, naming its size
    and the largest batch that fits (or, when the networks alone do not fit, that they are too large).
    Without `training` (a checkpoint loaded to sample from) the networks alone are counted: the batch's
    activations and the training data are then never allocated."""
    need = training_bytes(cfg)
    if not training:
        need = {**need, "activations": 0, "data": 0}
    total, budget = sum(need.values()), SHARE * available
    if total <= budget:
        return
    parts = ", ".join(f"{k} {size_text(v)}" for k, v in need.items() if v)
    fixed = need["networks"] + need["data"]
    fits = int((budget - fixed) / need["activations"] * cfg.batch_size) if budget > fixed and training else 0
    fix = (f"use batch_size {fits:,} or less" if fits >= 2 else
           "the networks alone do not fit: choose a smaller latent_dim, hidden or depth, or another model" if training
           else "this checkpoint's networks alone do not fit in this machine's memory")
    raise ConfigError(f"this run needs about {size_text(total)} ({parts}), more than {SHARE:.0%} of the "
                      f"{size_text(available)} of memory available; {fix}")


def check_sampling_fits(cfg: Config, n: int, rows: int, held: int, available: int) -> None:
    """ConfigError when drawing n samples of `cfg`, `rows` at a time, would need more than SHARE of
    `available` bytes; `held` is the bytes per sample kept for all n at once (labels; the samples of a
    .png grid, which is made whole), so a refusal can name a count that fits."""
    chunk = sampling_bytes(cfg, min(n, rows))
    need, budget = chunk + held * n, SHARE * available
    if need <= budget:
        return
    fits = int((budget - chunk) // held) if held and budget > chunk else 0
    fix = f"ask for {fits} samples or fewer (--n {fits})" if fits >= 1 else "one chunk of samples alone does not fit"
    raise ConfigError(f"{n:,} samples need about {size_text(need)} of memory, more than {SHARE:.0%} of the "
                      f"{size_text(available)} available; {fix}")


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux; total memory elsewhere)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def device_memory(device: torch.device) -> int:
    """Bytes free for a run on `device`: the GPU's free memory on CUDA, else the machine's."""
    return torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else available_memory()
