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


def prior_quantiles(prior: str, n: int) -> torch.Tensor:
    """n quantiles (2 % to 98 %) of one coordinate of the prior, so lines drawn at them are as dense
    as the prior is (Figure 1's z axis).

    >>> prior_quantiles("uniform", 3)
    tensor([-1.6628,  0.0000,  1.6628])
    """
    p = torch.linspace(0.02, 0.98, n, dtype=torch.float64)
    if prior == "uniform":
        return ((p * 2 - 1) * SQRT3).float()
    if prior == "normal":
        return (math.sqrt(2) * torch.erfinv(2 * p - 1)).float()
    raise ValueError(f"unknown prior {prior!r}; choose 'normal' or 'uniform'")


def z_from_seed(seed: int, dim: int, prior: str) -> torch.Tensor:
    """One (dim,) noise vector, reproducible from its seed: how the latent explorer names endpoints."""
    return sample_z(1, dim, prior, torch.Generator().manual_seed(int(seed)))[0]


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight line a -> b at fractions t (T,): (T, d). The paper's Figure 3 uses this."""
    t = t.reshape(-1, 1).to(a)
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation a -> b at fractions t (T,): (T, d).

    The direction moves along the great circle between a/|a| and b/|b| while the norm goes linearly
    from |a| to |b|. In high dimensions z ~ N(0, I) concentrates near the sphere of radius sqrt(d);
    a straight line cuts through its low-probability interior (|z| dips mid-way), this path does
    not (White, 2016). Edge cases: identical or parallel vectors give the straight line; a zero
    endpoint gives the straight line; antipodal vectors have no unique great circle, so the path
    turns through a fixed direction orthogonal to a.
    """
    dtype = a.dtype
    a, b, t = a.double(), b.double(), t.reshape(-1, 1).double()   # float32 arccos is off by 5e-4 near pi
    na, nb = a.norm(), b.norm()
    if na < eps or nb < eps:
        return lerp(a, b, t).to(dtype)
    ua, ub = a / na, b / nb
    gap, opp = (ua - ub).norm(), (ua + ub).norm()
    omega = 2 * torch.atan2(gap, opp)                      # the angle, stable at both ends
    radius = (1 - t) * na + t * nb
    if gap < 1e-6:                                         # same direction: a great circle of length 0
        return lerp(a, b, t).to(dtype)
    if opp < 1e-6:                                         # antipodal: pick the turning direction
        w = torch.zeros_like(ua)
        w[torch.argmin(ua.abs())] = 1.0                     # the axis least aligned with a
        w = w - (w @ ua) * ua
        w = w / w.norm()
        return (radius * (torch.cos(torch.pi * t) * ua + torch.sin(torch.pi * t) * w)).to(dtype)
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / torch.sin(omega)
    return (radius * direction).to(dtype)


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """`steps` points from a to b inclusive, (steps, d).

    >>> interpolate(torch.ones(3), -torch.ones(3), 5, "slerp").norm(dim=1)
    tensor([1.7321, 1.7321, 1.7321, 1.7321, 1.7321])
    """
    if steps < 2:
        raise ValueError(f"a path needs steps >= 2, got {steps}")
    t = torch.linspace(0, 1, steps)
    if method == "slerp":
        return slerp(a, b, t)
    if method == "lerp":
        return lerp(a, b, t)
    raise ValueError(f"unknown interpolation {method!r}; choose 'slerp' or 'lerp'")
