"""What a generated digit looks like, in numbers: its ink, slant, width and height.

Each measure takes images (n, 1, H, W) in [0, 1] and gives one number per image. They weigh every
pixel by its ink, so a faint stroke counts less than a bold one:

- **ink**: the mean pixel value (how much of the square is written on);
- **width** and **height**: the spread of ink across columns and across rows, the square roots of the
  image's second central moments (in pixels);
- **slant**: the shear of the ink, −μ_rc / μ_rr, the columns the stroke moves per row it goes down,
  so a digit leaning right (its top to the right of its bottom) has a positive slant (the moment
  method of deskewing MNIST, LeCun et al., 1998).

The directions in z (`directions.py`), their tests and the judge of their records all measure with
this module, so a direction is judged by the same numbers it was fitted on.

>>> import torch
>>> bar = torch.zeros(1, 1, 9, 9); bar[0, 0, :, 4] = 1            # an upright stroke
>>> lean = torch.zeros(1, 1, 9, 9)
>>> for r in range(9): lean[0, 0, r, 8 - r] = 1                     # its top to the right
>>> abs(round(float(slant(bar)), 6)), round(float(slant(lean)), 6), round(float(width(bar)), 3)
(0.0, 1.0, 0.0)
"""

from __future__ import annotations

import torch

EPS = 1e-6          # ink of an empty image: its moments are 0, not a division by 0


def ink(images: torch.Tensor) -> torch.Tensor:
    return images.flatten(1).mean(1)


def _moments(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(μ_rr, μ_cc, μ_rc): the ink-weighted second central moments of rows and columns."""
    x = images[:, 0].double()
    h, w = x.shape[-2:]
    rows = torch.arange(h, dtype=x.dtype)[:, None].expand(h, w)
    cols = torch.arange(w, dtype=x.dtype)[None, :].expand(h, w)
    mass = x.sum((1, 2)) + EPS
    r0 = (x * rows).sum((1, 2)) / mass
    c0 = (x * cols).sum((1, 2)) / mass
    dr = rows[None] - r0[:, None, None]
    dc = cols[None] - c0[:, None, None]
    return ((x * dr * dr).sum((1, 2)) / mass, (x * dc * dc).sum((1, 2)) / mass, (x * dr * dc).sum((1, 2)) / mass)


def width(images: torch.Tensor) -> torch.Tensor:
    return _moments(images)[1].sqrt().float()


def height(images: torch.Tensor) -> torch.Tensor:
    return _moments(images)[0].sqrt().float()


def slant(images: torch.Tensor) -> torch.Tensor:
    mrr, _, mrc = _moments(images)
    return (-mrc / (mrr + EPS)).float()


MEASURES = {"ink": ink, "slant": slant, "width": width, "height": height}


def measure(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every measure of `images`, by name."""
    return {name: fn(images) for name, fn in MEASURES.items()}


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman's rank correlation of a and b along their last axis (ties ranked in order: the values
    measured here are continuous). Rows of constant values correlate 0.

    >>> float(spearman(torch.tensor([1., 2., 3.]), torch.tensor([10., 40., 90.])))
    1.0
    """
    ra = a.argsort(-1).argsort(-1).double()
    rb = b.argsort(-1).argsort(-1).double()
    ra, rb = ra - ra.mean(-1, keepdim=True), rb - rb.mean(-1, keepdim=True)
    den = (ra.pow(2).sum(-1) * rb.pow(2).sum(-1)).sqrt()
    constant = (a.std(-1) == 0) | (b.std(-1) == 0)
    return torch.where(constant, torch.zeros_like(den), (ra * rb).sum(-1) / den.clamp_min(1e-12)).float()
