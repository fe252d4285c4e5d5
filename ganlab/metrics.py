"""Metrics of a generator. For now: mode coverage on the toy mixtures (DESIGN section 4).

Protocol (VEEGAN / PacGAN): 2,500 samples; a sample is high-quality if it lies within 3 std of its
nearest mode; a mode is covered if it is the nearest mode of at least one high-quality sample.
"""

from __future__ import annotations

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
