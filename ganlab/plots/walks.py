"""Views of a walk in z: the walk's G(z) on the toy plane, |z| along each path against the typical
norm, and G's manifold around one z as an image grid."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch

from ..latent import SQRT3, prior_quantiles
from .images import image_grid
from .style import COLORS, LEGEND_ABOVE, LEGEND_ROW, top_margin
from .toy import real_samples

SLICE_REACH = 60.0      # degrees z turns from the slice's centre to each edge (`slice_z`)


def latent_slice(trainer, z: torch.Tensor, n: int = 8, label: int | None = None) -> np.ndarray:
    """G's manifold around any z: an n x n image grid of G over `slice_z(z, n, prior)`, a patch of the
    sphere |z| = const centred on z (rows and columns along two fixed random directions)."""
    cfg = trainer.config
    return image_grid(trainer.sample(z=slice_z(z, n, cfg.prior), labels=label), nrow=n)


def slice_z(z: torch.Tensor, n: int, prior: str, reach: float = SLICE_REACH, seed: int = 0) -> torch.Tensor:
    """(n * n, d) points of a 2-D slice of z through z, row by row: z turned by up to `reach` degrees
    along two random directions orthogonal to it and to each other (drawn from `seed`, so the slice
    holds still between redraws), its norm kept.

    Why turn rather than shift: in d dims z lies near the sphere of radius sqrt(d) (`latent.slerp`),
    and a shift of a few prior deviations along one axis turns z by a few degrees, which G draws as
    one sample in all n * n cells. Turned 60 degrees to each edge, about 85
    to each corner, the corners are nearly orthogonal to z, as unrelated to it as another draw from
    the prior. With d <= 2 there is no room to turn: the grid is z's first two coordinates over the
    prior's 2 %-98 % quantiles, the whole of z. A uniform prior's points are kept in its cube."""
    d = z.numel()
    if d <= 2:
        q = prior_quantiles(prior, n)
        zz = z.reshape(1, 1, -1).repeat(n, n, 1)
        zz[..., 0], zz[..., 1 % d] = q[:, None], q[None, :]
        return zz.reshape(-1, d)
    z = z.reshape(-1).float()
    radius = z.norm().clamp_min(1e-6)
    g = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.cat([z[:, None], torch.randn(d, 2, generator=g)], 1))
    u, v = basis[:, 1], basis[:, 2]                     # orthonormal, and orthogonal to z
    angle = torch.linspace(-1, 1, n) * math.radians(reach)
    turn = angle[:, None, None] * u + angle[None, :, None] * v          # (n, n, d) tangent at z
    r = turn.norm(dim=-1, keepdim=True)
    # along the great circle from z by angle r in the direction of `turn`: the sphere's exponential map
    zz = radius * (torch.cos(r) * z / radius + torch.sin(r) * turn / r.clamp_min(1e-12))
    if prior == "uniform":
        zz = zz.clamp(-SQRT3, SQRT3)
    return zz.reshape(-1, d)


def norms_figure(paths: dict[str, torch.Tensor], current: int | None = None) -> go.Figure:
    """|z| along each path (e.g. {"slerp": ..., "lerp": ...}); the typical norm sqrt(d) for reference."""
    fig = go.Figure()
    for name, path in paths.items():
        fig.add_scatter(x=np.arange(len(path)), y=path.norm(dim=1).numpy(), name=name, mode="lines+markers")
    d = next(iter(paths.values())).shape[1]
    fig.add_hline(y=math.sqrt(d), line_dash="dot", line_color="gray", annotation_text="√d")
    if current is not None:
        fig.add_vline(x=current, line_color="red", line_width=1)
    fig.update_layout(height=240 + LEGEND_ROW, margin=dict(l=10, r=10, t=top_margin(), b=10),
                      xaxis_title="position on the path", yaxis_title="|z|", legend=LEGEND_ABOVE)
    return fig


def latent_path_figure(trainer, points: torch.Tensor, current: int, n: int = 500, label: int | None = None) -> go.Figure:
    """A latent walk on 2-D data: the walk's G(z) path over real and generated samples (of class
    `label`, for a conditional G)."""
    real, fake = real_samples(trainer, n), trainer.sample(n, seed=0, labels=label)
    fig = go.Figure()
    fig.add_scatter(x=real[:, 0].numpy(), y=real[:, 1].numpy(), mode="markers", name="real",
                    marker=dict(size=3, color="#bbbbbb"))
    fig.add_scatter(x=fake[:, 0].numpy(), y=fake[:, 1].numpy(), mode="markers", name="generated",
                    marker=dict(size=3, color="#a6d8a6"))
    fig.add_scatter(x=points[:, 0].numpy(), y=points[:, 1].numpy(), mode="lines+markers", name="G(path)",
                    line_color=COLORS["d"], marker=dict(size=5))
    fig.add_scatter(x=[float(points[current, 0])], y=[float(points[current, 1])], mode="markers",
                    name="current", marker=dict(size=14, color="red"))
    fig.update_yaxes(scaleanchor="x")
    fig.update_layout(height=420 + LEGEND_ROW, margin=dict(l=10, r=10, t=top_margin(), b=10), legend=LEGEND_ABOVE)
    return fig
