"""Slow motion's views: what one D step or one G step changed. `snapshot` captures what a step can
change, before and after it; `step_change_figure` draws the two side by side on toy data (an image
run shows its two snapshots' image grids)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..metrics import kde_log_density
from .style import COLORS, LEGEND_ABOVE, LEGEND_ROW, d_of, top_margin
from .toy import d_colour_range, fit_window, g_arrows, plane_bounds, real_samples

SLOW_SAMPLES = 200      # samples followed through one step


def snapshot(trainer, resolution: int = 50) -> dict:
    """What one step can change, captured before and after it (`step_change_figure`): D on the
    plane (or on the 1-D axis), and G's samples from a fixed z with G's push on them; for images, G's
    fixed batch and D's mean output on a fixed real and a fixed generated batch."""
    if trainer.config.is_image:
        gen = torch.Generator(trainer.device).manual_seed(0)
        real, c_real = trainer.data.sample_labeled(64, gen)
        fake, c_fake = trainer.sample_labeled(64, seed=0)
        cond = trainer.config.classes > 0          # a conditional D judges each image as its class
        return {"images": trainer.sample(),
                "d_real": float(trainer.d_output(real, c_real.cpu() if cond else None).mean()),
                "d_fake": float(trainer.d_output(trainer.to_g_range(fake), c_fake if cond else None).mean())}
    fake, asked = trainer.sample_labeled(SLOW_SAMPLES, seed=0)
    if trainer.config.data == "gaussian1d":
        both = torch.cat([real_samples(trainer, 1000), fake]).squeeze(1)
        lo, hi = float(both.min()), float(both.max())
        grid = torch.linspace(lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo), 4 * resolution).unsqueeze(1)
    else:
        x0, x1, y0, y1 = plane_bounds(trainer)
        xs, ys = torch.linspace(x0, x1, resolution), torch.linspace(y0, y1, resolution)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    return {"grid": grid, "d": trainer.d_output(grid), "fake": fake, "push": trainer.g_push(fake, asked)}


def step_change_figure(trainer, kind: str, before: dict, after: dict) -> go.Figure:
    """What one D step ("d") or one G step ("g") changed, on toy data. A D step: D before, D after,
    and their difference; G's samples stay where they were. A G step: each sample's move (grey
    segment) from where it was (light) to where it is (dark), with the push G's loss gave it before
    the step (orange): D is unchanged, so the arrows are the whole reason for the move."""
    if trainer.config.data == "gaussian1d":
        return _step_change_1d(kind, before, after, d_of(trainer.config.loss))
    zmin, zmax, title = d_colour_range(torch.cat([before["d"], after["d"]]), trainer.config.loss)
    res = int(round(math.sqrt(len(before["grid"]))))
    xs, ys = before["grid"][:res, 0].numpy(), before["grid"][::res, 1].numpy()
    bounds = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))     # `plane_bounds`, as `snapshot` drew it
    if kind == "d":
        change = (after["d"] - before["d"]).reshape(res, res).numpy()
        span = max(float(np.abs(change).max()), 1e-6)
        fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.03,
                            subplot_titles=(f"{title} before the step", f"{title} after", "the change"))
        for col, values in ((1, before["d"]), (2, after["d"])):
            fig.add_heatmap(x=xs, y=ys, z=values.reshape(res, res).numpy(), zmin=zmin, zmax=zmax, colorscale="RdBu",
                            opacity=0.75, showscale=col == 1, colorbar=dict(title=title, len=0.8, x=-0.12),
                            row=1, col=col)
        fig.add_heatmap(x=xs, y=ys, z=change, zmin=-span, zmax=span, colorscale="PiYG", colorbar=dict(title="Δ"),
                        row=1, col=3)
        for col in (1, 2, 3):
            pts = before["fake"]
            fig.add_scatter(x=pts[:, 0].numpy(), y=pts[:, 1].numpy(), mode="markers", name="generated",
                            showlegend=col == 1, marker=dict(size=3, color=COLORS["fake"]), row=1, col=col)
    else:
        fig = go.Figure()
        fig.add_heatmap(x=xs, y=ys, z=after["d"].reshape(res, res).numpy(), zmin=zmin, zmax=zmax, colorscale="RdBu",
                        opacity=0.5, colorbar=dict(title=title, len=0.8))
        b, a = before["fake"], after["fake"]
        nan = torch.full_like(b[:, 0], float("nan"))
        fig.add_scatter(x=torch.stack([b[:, 0], a[:, 0], nan], 1).reshape(-1).numpy(),
                        y=torch.stack([b[:, 1], a[:, 1], nan], 1).reshape(-1).numpy(), mode="lines",
                        name="each sample's move", line=dict(color="#555555", width=1), hoverinfo="skip")
        fig.add_scatter(x=b[:, 0].numpy(), y=b[:, 1].numpy(), mode="markers", name="G(z) before",
                        marker=dict(size=4, color="#a6d8a6"))
        fig.add_scatter(x=a[:, 0].numpy(), y=a[:, 1].numpy(), mode="markers", name="G(z) after",
                        marker=dict(size=4, color=COLORS["fake"]))
        for trace in g_arrows(b, before["push"], float(xs[-1] - xs[0])):
            fig.add_trace(trace)
    fit_window(fig, bounds, 3 if kind == "d" else 1)
    rows = 1 if kind == "d" else 2                      # G's step: five entries, which wrap a column
    fig.update_layout(height=420 + LEGEND_ROW * rows, margin=dict(l=10, r=10, t=top_margin(rows, kind == "d"), b=10),
                      legend=LEGEND_ABOVE)
    return fig


def _step_change_1d(kind: str, before: dict, after: dict, name: str) -> go.Figure:
    """The 1-D slow-motion view: D's curve (`name`: `d_of` the loss) before and after a D step; pg
    before and after a G step."""
    x = before["grid"].squeeze(1)
    fig = go.Figure()
    if kind == "d":
        fig.add_scatter(x=x.numpy(), y=before["d"].numpy(), name=f"{name} before the step",
                        line=dict(color=COLORS["d"], dash="dot"))
        fig.add_scatter(x=x.numpy(), y=after["d"].numpy(), name=f"{name} after", line_color=COLORS["d"])
    else:
        for name, snap, style in (("pg before the step", before, dict(color="#a6d8a6", dash="dot")),
                                  ("pg after", after, dict(color=COLORS["fake"]))):
            fig.add_scatter(x=x.numpy(), y=kde_log_density(snap["fake"], before["grid"]).exp().numpy(), name=name,
                            line=style)
    fig.update_layout(height=320 + LEGEND_ROW, margin=dict(l=10, r=10, t=top_margin(), b=10), legend=LEGEND_ABOVE)
    return fig
