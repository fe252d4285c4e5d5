"""Metrics of a generator: mode coverage on the toy mixtures (DESIGN section 4), and the densities
behind D* (Proposition 1) where pdata is known and pg is estimated.

Protocol (VEEGAN / PacGAN): 2,500 samples; a sample is high-quality if it lies within 3 std of its
nearest mode; a mode is covered if it is the nearest mode of at least one high-quality sample.
"""

from __future__ import annotations

import math

import torch


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, n_std: float = 3.0) -> dict:
    """Modes covered, high-quality fraction, and KL(covered-mode histogram || uniform) in nats.

    >>> c = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> mode_coverage(torch.tensor([[0.01, 0.0], [5.0, 5.0]]), c, std=0.1)["modes_covered"]
    1
    """
    samples = samples.reshape(len(samples), -1).double()
    centres = centres.to(samples)
    dist = torch.cdist(samples, centres)                        # (n, K)
    nearest_dist, nearest = dist.min(dim=1)
    hq = nearest_dist <= n_std * std
    counts = torch.bincount(nearest[hq], minlength=len(centres)).double()
    k = len(centres)
    if counts.sum() > 0:
        p = counts / counts.sum()
        nz = p > 0
        kl = float((p[nz] * (p[nz] * k).log()).sum())
    else:
        kl = None  # no high-quality sample: the histogram is undefined
    return {
        "modes_covered": int((counts > 0).sum()),
        "modes_total": k,
        "high_quality_fraction": float(hq.double().mean()),
        "mode_kl_to_uniform": kl,
    }


def kde_log_density(samples: torch.Tensor, x: torch.Tensor, bandwidth: float | None = None) -> torch.Tensor:
    """Gaussian kernel density estimate of the samples' density, evaluated at x: log p(x), (m,).

    The bandwidth defaults to Scott's rule, n^(-1/(d+4)) times the samples' mean std. Used for pg,
    which a GAN never gives explicitly (Sec. 6 of the paper).
    """
    samples = samples.reshape(len(samples), -1).double()
    x = x.reshape(len(x), -1).double()
    n, d = samples.shape
    if bandwidth is None:
        bandwidth = float(samples.std(dim=0).mean().clamp_min(1e-3)) * n ** (-1.0 / (d + 4))
    sq = (x[:, None, :] - samples[None]).square().sum(-1)              # (m, n)
    log_k = -sq / (2 * bandwidth**2) - 0.5 * d * math.log(2 * math.pi * bandwidth**2)
    return torch.logsumexp(log_k, dim=1) - math.log(n)


def optimal_discriminator(log_pdata: torch.Tensor, log_pg: torch.Tensor) -> torch.Tensor:
    """Proposition 1: D*(x) = pdata / (pdata + pg) = sigmoid(log pdata - log pg), stable in logs."""
    return torch.sigmoid(log_pdata - log_pg)
