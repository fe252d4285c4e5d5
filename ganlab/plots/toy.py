"""The toy data's views over D(x): on the plane, real and generated points over D's surface, beside
D* (Proposition 1), with G's push and G's manifold if asked; on the line, the paper's Figure 1. And a
run's samples at a glance, for runs side by side. The torch work behind them (D on a grid, a KDE
of pg) is done here, so pages stay free of tensor math."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..lossdefs import LOSS
from ..latent import prior_quantiles
from ..metrics import kde_log_density, optimal_discriminator
from .images import image_grid
from .style import COLORS, LEGEND_ABOVE, LEGEND_ROW, class_colours, d_of, top_margin

MESH = 21               # z grid lines per axis of the manifold view
ARROWS = 150            # generated samples that get an arrow: enough to read the field, few enough to draw fast
ARROW_UNIT = 0.05       # a push of norm 1 is drawn this fraction of the plane wide; the longest are cut at
ARROW_MAX = 0.15        # this fraction, so a vanishing push (minimax against a confident D) looks short


def d_colour_range(values: torch.Tensor, loss: str) -> tuple[float, float, str]:
    """(zmin, zmax, title) of D's heatmap: [0, 1] for a probability; for a least-squares score,
    symmetric about its optimum 1/2; for a critic, about 0. Wide enough for 99 % of the values, so
    one outlier does not wash the surface out. The title is `d_of(loss)`, as the panels' titles are."""
    meaning = LOSS[loss].meaning
    if meaning == "probability":
        return 0.0, 1.0, d_of(loss)
    mid = 0.5 if meaning == "score" else 0.0
    half = max(float(torch.quantile((values - mid).abs(), 0.99)), 0.5 if meaning == "score" else 1e-3)
    return mid - half, mid + half, d_of(loss)


def fit_window(fig: go.Figure, bounds: tuple[float, float, float, float], cols: int = 1) -> None:
    """Every panel of a one-row figure shows exactly the window `bounds` (x0, x1, y0, y1) at equal
    aspect. Plotly keeps an aspect by widening the longer side's range past the data onto blank
    paper; `constrain="domain"` shrinks the panel instead. Every axis is tied to the first x axis'
    scale, so the panels stay the same size side by side."""
    x0, x1, y0, y1 = bounds
    fig.update_xaxes(range=[x0, x1], constrain="domain")
    fig.update_yaxes(range=[y0, y1], constrain="domain")
    for col in range(1, cols + 1):
        suffix = "" if col == 1 else str(col)
        fig.update_layout({f"yaxis{suffix}": dict(scaleanchor="x")})
        if col > 1:
            fig.update_layout({f"xaxis{suffix}": dict(scaleanchor="x"), f"yaxis{suffix}": dict(showticklabels=False)})


def plane_bounds(trainer, pad: float = 0.25) -> tuple[float, float, float, float]:
    """A square window around the real data (x0, x1, y0, y1), padded by `pad` of its size."""
    real = real_samples(trainer, 2000)
    lo, hi = real.min(0).values, real.max(0).values
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + pad) + 0.1
    return (float(centre[0]) - half, float(centre[0]) + half, float(centre[1]) - half, float(centre[1]) + half)


def real_samples(trainer, n: int) -> torch.Tensor:
    gen = torch.Generator(trainer.device).manual_seed(0)    # a fixed view, apart from training's stream
    return trainer.data.sample(n, gen).float().cpu()


def has_dstar(trainer) -> bool:
    """Whether the view can draw D* = pdata / (pdata + pg): pdata must be known, and D's loss one whose
    optimum is that ratio (the log losses, and least squares with targets 0 and 1: Mao et al., Prop. 1).
    A critic's optimum has no closed form."""
    return hasattr(trainer.data, "log_prob") and LOSS[trainer.config.loss].meaning != "critic"


def toy2d_figure(trainer, n: int = 500, resolution: int = 60, show_dstar: bool = False, label: int | None = None,
                 arrows: bool = False, manifold: bool = False) -> go.Figure:
    """Real vs generated points over D's decision surface; with `show_dstar`, beside D* =
    pdata / (pdata + pg) (Proposition 1), pdata exact and pg a KDE of G's samples. A conditional G's
    samples are coloured by the component they were asked for (all of `label`'s, if given), and D's
    surface is D(x, c) for that class, or with c the component nearest x (`Trainer.d_output`). With
    `arrows`, G's push on the first ARROWS generated samples (`g_arrows`); with `manifold`, the image
    under G of a regular grid in z (`manifold_mesh`)."""
    x0, x1, y0, y1 = plane_bounds(trainer)
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    grid = torch.as_tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
    real, (fake, asked) = real_samples(trainer, n), trainer.sample_labeled(n, seed=0, labels=label)
    loss = trainer.config.loss
    panels = [(d_of(loss, "x" if asked is None else "x, c"), trainer.d_output(grid, label))]
    zmin, zmax, _ = d_colour_range(panels[0][1], loss)
    if show_dstar and has_dstar(trainer) and label is None:     # D* of the whole mixture, not of one class
        dstar = optimal_discriminator(trainer.data.log_prob(grid).cpu(), kde_log_density(trainer.sample(1000, seed=1), grid))
        panels.append(("D*(x) = pdata / (pdata + pg)", dstar))
    push = trainer.g_push(fake[:ARROWS], None if asked is None else asked[:ARROWS]) if arrows else None
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.04)
    for col, (_, values) in enumerate(panels, start=1):
        fig.add_heatmap(x=xs, y=ys, z=values.reshape(resolution, resolution).numpy(), zmin=zmin, zmax=zmax,
                        colorscale="RdBu", opacity=0.75, showscale=col == 1,
                        colorbar=dict(title=panels[0][0], len=0.8), row=1, col=col)
        for name, pts in (("real", real), ("generated" if asked is None else "generated, by asked class", fake)):
            colour = COLORS["real"] if name == "real" else COLORS["fake"] if asked is None else class_colours(asked)
            fig.add_scatter(x=pts[:, 0].numpy(), y=pts[:, 1].numpy(), mode="markers", name=name,
                            showlegend=col == 1, marker=dict(size=4, color=colour), row=1, col=col)
        if manifold:
            fig.add_trace(manifold_mesh(trainer, label).update(showlegend=col == 1), row=1, col=col)
        if arrows:
            for trace in g_arrows(fake[:ARROWS], push, x1 - x0):
                fig.add_trace(trace.update(showlegend=col == 1 and trace.showlegend is not False), row=1, col=col)
    fit_window(fig, (x0, x1, y0, y1), len(panels))
    rows = 2 if arrows or manifold or asked is not None else 1      # their entries' words wrap a narrow column
    fig.update_layout(height=460 + LEGEND_ROW * rows, margin=dict(l=10, r=10, t=top_margin(rows, titles=True), b=10),
                      legend=LEGEND_ABOVE)
    return fig


def manifold_mesh(trainer, label: int | None = None) -> go.Scatter:
    """G's manifold: a regular MESH x MESH grid over the prior's 2 %-98 % quantiles of z's first two
    coordinates (the others 0), each grid line drawn through its image under G. Where lines crowd, G
    squeezes much of z into little of the plane; folds and collapsed stretches show as they are."""
    cfg = trainer.config
    q = prior_quantiles(cfg.prior, MESH)
    zz = torch.zeros(MESH, MESH, cfg.latent_dim)
    zz[..., 0], zz[..., 1 % cfg.latent_dim] = q[:, None], q[None, :]
    labels = None if not cfg.classes else (label if label is not None else 0)
    x = trainer.sample(z=zz.reshape(-1, cfg.latent_dim), labels=labels).reshape(MESH, MESH, -1)
    lines = [x[i] for i in range(MESH)] + [x[:, j] for j in range(MESH)]
    gap = torch.full((1, x.shape[-1]), float("nan"))
    path = torch.cat([torch.cat([line, gap]) for line in lines]).numpy()
    return go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name="G's manifold (a z grid under G)",
                      hoverinfo="skip", line=dict(color="#7f7f7f", width=0.8), connectgaps=False)


def g_arrows(points: torch.Tensor, push: torch.Tensor, width: float) -> list[go.Scatter]:
    """Arrows from each point along G's push, on one fixed scale (not rescaled per frame, so how
    strong the push is stays visible from refresh to refresh): shafts and heads as two traces."""
    length = push.norm(dim=1, keepdim=True)
    shown = push * ARROW_UNIT * width
    shown = torch.where(length * ARROW_UNIT > ARROW_MAX, push / length.clamp_min(1e-12) * ARROW_MAX * width, shown)
    tips = points + shown
    xs = torch.stack([points[:, 0], tips[:, 0], torch.full_like(tips[:, 0], float("nan"))], 1).reshape(-1).numpy()
    ys = torch.stack([points[:, 1], tips[:, 1], torch.full_like(tips[:, 1], float("nan"))], 1).reshape(-1).numpy()
    angle = np.degrees(np.arctan2(shown[:, 0].numpy(), shown[:, 1].numpy()))     # clockwise from up
    return [go.Scatter(x=xs, y=ys, mode="lines", name="G's push (−∇ₓ of G's loss)", hoverinfo="skip",
                       line=dict(color=COLORS["g"], width=1), connectgaps=False),
            go.Scatter(x=tips[:, 0].numpy(), y=tips[:, 1].numpy(), mode="markers", showlegend=False, hoverinfo="skip",
                       marker=dict(symbol="arrow", size=7, angle=angle, color=COLORS["g"]))]


def figure1(trainer, n: int = 2000, n_lines: int = 25, resolution: int = 300) -> go.Figure:
    """The paper's Figure 1 for the 1-D setting: pdata (black), pg (green), D (blue dashes), D*
    (purple), and below, the mapping x = G(z) drawn as lines from the z line up to the x line."""
    real = real_samples(trainer, n)
    fake = trainer.sample(n, seed=0)
    both = torch.cat([real, fake]).squeeze(1)
    lo, hi = float(torch.quantile(both, 0.005)), float(torch.quantile(both, 0.995))
    span = max(hi - lo, 1.0)
    xs = torch.linspace(lo - 0.15 * span, hi + 0.15 * span, resolution).unsqueeze(1)
    log_pdata = trainer.data.log_prob(xs).cpu()
    log_pg = kde_log_density(fake, xs)
    fig = make_subplots(rows=2, cols=1, row_heights=[0.72, 0.28], shared_xaxes=True, vertical_spacing=0.04)
    x = xs.squeeze(1).numpy()
    fig.add_scatter(x=x, y=log_pdata.exp().numpy(), name="pdata", line=dict(color=COLORS["real"], dash="dot"), row=1, col=1)
    fig.add_scatter(x=x, y=log_pg.exp().numpy(), name="pg", line_color=COLORS["fake"], row=1, col=1)
    d, critic = trainer.d_output(xs), LOSS[trainer.config.loss].meaning == "critic"
    if critic:              # an unbounded critic, drawn on the densities' axis: only its shape counts
        d = (d - d.min()) / (d.max() - d.min()).clamp_min(1e-12)
    fig.add_scatter(x=x, y=d.numpy(), name=f"{d_of(trainer.config.loss)}, scaled to [0, 1]" if critic else "D(x)",
                    line=dict(color=COLORS["d"], dash="dash"), row=1, col=1)
    if has_dstar(trainer):
        fig.add_scatter(x=x, y=optimal_discriminator(log_pdata, log_pg).numpy(), name="D*(x)",
                        line=dict(color=COLORS["dstar"], width=1), row=1, col=1)
    fig.add_hline(y=0.5, line_dash="dot", line_color="gray", row=1, col=1)
    # z -> x: quantiles of the prior (so line density shows pz), placed on the same axis range. With
    # latent_dim > 1 the quantiles run along the unit diagonal, a 1-D slice of the prior.
    z = prior_quantiles(trainer.config.prior, n_lines)
    d = trainer.config.latent_dim
    gx = trainer.sample(z=z.unsqueeze(1).expand(-1, d) / math.sqrt(d)).squeeze(1).numpy()
    zx = np.interp(z.numpy(), (float(z.min()), float(z.max())), (x[0], x[-1]))
    seg_x = np.stack([zx, gx, np.full_like(gx, np.nan)], 1).reshape(-1)
    seg_y = np.tile([0.0, 1.0, np.nan], n_lines)
    fig.add_scatter(x=seg_x, y=seg_y, mode="lines", name="x = G(z)", line=dict(color="gray", width=1), row=2, col=1)
    fig.update_yaxes(tickvals=[0, 1], ticktext=["z", "x"], range=[-0.1, 1.1], row=2, col=1)
    fig.update_layout(height=480 + LEGEND_ROW, margin=dict(l=10, r=10, t=top_margin(), b=10), legend=LEGEND_ABOVE)
    return fig


def run_view(trainer, n: int = 400):
    """A run's samples for a side-by-side comparison: for images, G's fixed batch as one image; for
    points, real (grey) and generated (green) on a small plot."""
    if trainer.config.is_image:
        return image_grid(trainer.sample())
    real, fake = real_samples(trainer, n), trainer.sample(n, seed=0)
    fig = go.Figure()
    if real.shape[1] == 1:
        fig.add_histogram(x=real[:, 0].numpy(), name="real", marker_color="#bbbbbb", opacity=0.6, nbinsx=60)
        fig.add_histogram(x=fake[:, 0].numpy(), name="generated", marker_color=COLORS["fake"], opacity=0.6, nbinsx=60)
        fig.update_layout(barmode="overlay")
    else:
        fig.add_scatter(x=real[:, 0].numpy(), y=real[:, 1].numpy(), mode="markers", name="real",
                        marker=dict(size=3, color="#bbbbbb"))
        fig.add_scatter(x=fake[:, 0].numpy(), y=fake[:, 1].numpy(), mode="markers", name="generated",
                        marker=dict(size=3, color=COLORS["fake"]))
        fit_window(fig, plane_bounds(trainer))
    fig.update_layout(height=280, margin=dict(l=5, r=5, t=5, b=5), showlegend=False)
    return fig
