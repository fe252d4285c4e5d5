"""Noise priors p_z. Both have zero mean and unit variance per coordinate, so switching prior does
not change the scale G sees; the paper's code drew z uniformly from [-sqrt 3, sqrt 3]."""

from __future__ import annotations

import math

import torch

SQRT3 = math.sqrt(3.0)


def sample_z(n: int, dim: int, prior: str, generator: torch.Generator) -> torch.Tensor:
    """(n, dim) noise on the generator's device.

    >>> sample_z(2, 3, "uniform", torch.Generator().manual_seed(0)).abs().max() <= SQRT3
    tensor(True)
    """
    dev = generator.device
    if prior == "normal":
        return torch.randn(n, dim, generator=generator, device=dev)
    if prior == "uniform":
        return (torch.rand(n, dim, generator=generator, device=dev) * 2 - 1) * SQRT3
    raise ValueError(f"unknown prior {prior!r}; choose 'normal' or 'uniform'")
