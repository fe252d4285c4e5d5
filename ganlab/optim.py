"""The players' optimizers and the paper's schedule of their learning rate and momentum.

The schedule (the paper's published MNIST code) is a pure function of the step count, so a resumed
run continues it exactly: both learning rates divided by `lr_decay` every step, SGD momentum moved
linearly from `momentum` to `momentum_end` over `momentum_steps` steps.
"""

from __future__ import annotations

import math

import torch

from .config import Config


def make_optimizer(net: torch.nn.Module, cfg: Config, lr: float) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        make = lambda **kw: torch.optim.Adam(net.parameters(), lr=lr, betas=(cfg.beta1, cfg.beta2), **kw)  # noqa: E731
    else:
        make = lambda **kw: torch.optim.SGD(net.parameters(), lr=lr, momentum=cfg.momentum, **kw)  # noqa: E731
    # One fused kernel per step instead of a Python loop over parameters (docs/performance.md).
    # Older torch builds lack it on CPU.
    try:
        return make(fused=True)
    except (RuntimeError, TypeError, ValueError):
        return make(foreach=True)


def rates(cfg: Config, step: int) -> dict[str, float]:
    """lr_g, lr_d and (SGD) momentum in force at iteration `step`.

    >>> from ganlab.config import make_config
    >>> rates(make_config(data="mnist", model="paper"), 0)
    {'lr_g': 0.1, 'lr_d': 0.1, 'momentum': 0.5}
    """
    # exp/log rather than decay ** -t: the same value, and it underflows to 0 instead of raising.
    scale = math.exp(-step * math.log(cfg.lr_decay))
    ramp = min(1.0, step / cfg.momentum_steps) if cfg.momentum_steps else 0.0
    return {"lr_g": cfg.lr_g * scale, "lr_d": cfg.lr_d * scale,
            "momentum": cfg.momentum + (cfg.momentum_end - cfg.momentum) * ramp}


def is_scheduled(cfg: Config) -> bool:
    """Whether the rates change from step to step (else they are set once, when the config changes)."""
    return cfg.lr_decay != 1 or bool(cfg.momentum_steps)


def apply(cfg: Config, step: int, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> None:
    """Write step `step`'s rates into both optimizers (every step while the schedule moves)."""
    now = rates(cfg, step)
    for opt, lr in ((opt_g, now["lr_g"]), (opt_d, now["lr_d"])):
        for group in opt.param_groups:
            group["lr"] = lr
            if "momentum" in group:
                group["momentum"] = now["momentum"]


def set_capturable(on: bool, *opts: torch.optim.Optimizer) -> None:
    """Adam's step counter on the device (`on`) or not. Loading an optimizer's state restores the
    saved groups' flag too, so a run resumed into or out of a CUDA graph sets it again."""
    for opt in opts:
        for group in opt.param_groups:
            if "capturable" in group:
                group["capturable"] = on


def set_betas(cfg: Config, *opts: torch.optim.Optimizer) -> None:
    """Write the config's Adam betas into the optimizers (when the config changes, not per step)."""
    for opt in opts:
        for group in opt.param_groups:
            if "betas" in group:
                group["betas"] = (cfg.beta1, cfg.beta2)
