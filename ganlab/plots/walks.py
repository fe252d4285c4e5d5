"""Views of a walk in z: the walk's G(z) on the toy plane, |z| along each path against the typical
norm, and G's manifold around one z as an image grid."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch

from ..latent import prior_quantiles
from .images import image_grid
from .style import COLORS
from .toy import real_samples


def latent_slice(trainer, z: torch.Tensor, n: int = 8, label: int | None = None) -> np.ndarray:
    """G's manifold for any z: an n x n image grid of G at z with its first two coordinates moved over
    the prior's 2 %-98 % quantiles (rows the first, columns the second), the other coordinates as in z."""
    cfg = trainer.config
    q = prior_quantiles(cfg.prior, n)
    zz = z.reshape(1, 1, -1).repeat(n, n, 1)
    zz[..., 0], zz[..., 1 % cfg.latent_dim] = q[:, None], q[None, :]
    return image_grid(trainer.sample(z=zz.reshape(-1, cfg.latent_dim), labels=label), nrow=n)


def norms_figure(paths: dict[str, torch.Tensor], current: int | None = None) -> go.Figure:
    """|z| along each path (e.g. {"slerp": ..., "lerp": ...}); the typical norm sqrt(d) for reference."""
    fig = go.Figure()
    for name, path in paths.items():
        fig.add_scatter(x=np.arange(len(path)), y=path.norm(dim=1).numpy(), name=name, mode="lines+markers")
    d = next(iter(paths.values())).shape[1]
    fig.add_hline(y=math.sqrt(d), line_dash="dot", line_color="gray", annotation_text="√d")
    if current is not None:
        fig.add_vline(x=current, line_color="red", line_width=1)
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="position on the path",
                      yaxis_title="|z|", legend=dict(orientation="h"))
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
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"))
    return fig
