"""Figures and images shared by the app and the notebooks. Returns Plotly figures, numpy images and
GIF bytes; never imports Streamlit. The torch work behind a figure (D on a grid, a KDE of pg) is
done here, under inference mode, so pages stay free of tensor math.
"""

from __future__ import annotations

import io
import math

import numpy as np
# Plotly imports pandas on first use, lazily. In the app a rerun and the live fragment can draw at
# once, and two threads importing pandas for the first time see it half-initialised ("partially
# initialized module 'pandas'"): imported here, it is whole before any figure is drawn.
import pandas  # noqa: F401
import plotly.colors
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torchvision.utils import make_grid

from .config import D_MEANING
from .history import strided_indices
from .latent import prior_quantiles
from .losses import OPTIMUM
from .metrics import kde_log_density, optimal_discriminator

COLORS = {"real": "#222222", "fake": "#2ca02c", "d": "#1f77b4", "dstar": "#9467bd", "g": "#ff7f0e"}


def history_figure(history: dict[str, np.ndarray], start_step: int = 0, max_points: int = 1500,
                   loss: str = "nonsat") -> go.Figure:
    """Losses, mean D(x) / D(G(z)), and the game's value against its optimum (`losses.OPTIMUM`: V(D, G)
    and -log 4, Theorem 1, for the paper's losses), as D's outputs mean under `loss`.

    Long histories are strided to `max_points` so a redraw stays cheap at 100k iterations; a
    `Trainer.history(max_rows=max_points)` comes already thinned, on the device, and stays as it is.
    """
    idx = strided_indices(len(history["d_loss"]), max_points)
    # Trainer.history() says which iteration each row ends at; a bare array is one row per iteration.
    steps = history["step"][idx] if "step" in history else start_step + idx + 1
    critic = D_MEANING[loss] == "critic"
    name, optimum, optimum_text = OPTIMUM[loss]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("losses", "mean critic score of x and G(z)" if critic else
                                        "mean D(x) and D(G(z))", f"{name}"))
    fig.add_scatter(x=steps, y=history["d_loss"][idx], name="D loss", line_color=COLORS["d"], row=1, col=1)
    fig.add_scatter(x=steps, y=history["g_loss"][idx], name="G loss", line_color=COLORS["g"], row=1, col=1)
    fig.add_scatter(x=steps, y=history["d_real"][idx], name="D(x)", line_color=COLORS["real"], row=2, col=1)
    fig.add_scatter(x=steps, y=history["d_fake"][idx], name="D(G(z))", line_color=COLORS["fake"], row=2, col=1)
    if not critic:          # D* = 1/2 at pg = pdata, for the log losses and least squares alike
        fig.add_hline(y=0.5, line_dash="dot", line_color="gray", row=2, col=1)
    fig.add_scatter(x=steps, y=history["value"][idx], name=name, line_color=COLORS["dstar"], row=3, col=1)
    fig.add_hline(y=optimum, line_dash="dash", line_color="gray", row=3, col=1,
                  annotation_text=optimum_text, annotation_position="bottom right")
    fig.update_xaxes(title_text="iteration", row=3, col=1)
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.12))
    return fig


def d_colour_range(values: torch.Tensor, loss: str) -> tuple[float, float, str]:
    """(zmin, zmax, title) of D's heatmap: [0, 1] for a probability; for a least-squares score,
    symmetric about its optimum 1/2; for a critic, about 0. Wide enough for 99 % of the values, so
    one outlier does not wash the surface out."""
    meaning = D_MEANING[loss]
    if meaning == "probability":
        return 0.0, 1.0, "D"
    mid = 0.5 if meaning == "score" else 0.0
    half = max(float(torch.quantile((values - mid).abs(), 0.99)), 0.5 if meaning == "score" else 1e-3)
    return mid - half, mid + half, "D's score" if meaning == "score" else "critic"


def plane_bounds(trainer, pad: float = 0.25) -> tuple[float, float, float, float]:
    """A square window around the real data (x0, x1, y0, y1), padded by `pad` of its size."""
    real = _real_samples(trainer, 2000)
    lo, hi = real.min(0).values, real.max(0).values
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + pad) + 0.1
    return (float(centre[0]) - half, float(centre[0]) + half, float(centre[1]) - half, float(centre[1]) + half)


def _real_samples(trainer, n: int) -> torch.Tensor:
    gen = torch.Generator(trainer.device).manual_seed(0)    # a fixed view, apart from training's stream
    return trainer.data.sample(n, gen).float().cpu()


def has_dstar(trainer) -> bool:
    """Whether the view can draw D* = pdata / (pdata + pg): pdata must be known, and D's loss one whose
    optimum is that ratio (the log losses, and least squares with targets 0 and 1: Mao et al., Prop. 1).
    A critic's optimum has no closed form."""
    return hasattr(trainer.data, "log_prob") and D_MEANING[trainer.config.loss] != "critic"


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
    real, (fake, asked) = _real_samples(trainer, n), trainer.sample_labeled(n, seed=0, labels=label)
    panels = [("D(x)" if asked is None else "D(x, c)", trainer.d_output(grid, label))]
    zmin, zmax, title = d_colour_range(panels[0][1], trainer.config.loss)
    if show_dstar and has_dstar(trainer) and label is None:     # D* of the whole mixture, not of one class
        dstar = optimal_discriminator(trainer.data.log_prob(grid).cpu(), kde_log_density(trainer.sample(1000, seed=1), grid))
        panels.append(("D*(x) = pdata / (pdata + pg)", dstar))
    push = trainer.g_push(fake[:ARROWS], None if asked is None else asked[:ARROWS]) if arrows else None
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels], shared_yaxes=True)
    for col, (_, values) in enumerate(panels, start=1):
        fig.add_heatmap(x=xs, y=ys, z=values.reshape(resolution, resolution).numpy(), zmin=zmin, zmax=zmax,
                        colorscale="RdBu", opacity=0.75, showscale=col == 1,
                        colorbar=dict(title=title, len=0.8), row=1, col=col)
        for name, pts in (("real", real), ("generated" if asked is None else "generated, by asked class", fake)):
            colour = COLORS["real"] if name == "real" else COLORS["fake"] if asked is None else _class_colours(asked)
            fig.add_scatter(x=pts[:, 0].numpy(), y=pts[:, 1].numpy(), mode="markers", name=name,
                            showlegend=col == 1, marker=dict(size=4, color=colour), row=1, col=col)
        if manifold:
            fig.add_trace(manifold_mesh(trainer, label).update(showlegend=col == 1), row=1, col=col)
        if arrows:
            for trace in g_arrows(fake[:ARROWS], push, x1 - x0):
                fig.add_trace(trace.update(showlegend=col == 1 and trace.showlegend is not False), row=1, col=col)
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1], scaleanchor="x")
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.08))
    return fig


MESH = 21               # z grid lines per axis of the manifold view


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


def latent_slice(trainer, z: torch.Tensor, n: int = 8, label: int | None = None) -> np.ndarray:
    """G's manifold for any z: an n x n image grid of G at z with its first two coordinates moved over
    the prior's 2 %-98 % quantiles (rows the first, columns the second), the other coordinates as in z."""
    cfg = trainer.config
    q = prior_quantiles(cfg.prior, n)
    zz = z.reshape(1, 1, -1).repeat(n, n, 1)
    zz[..., 0], zz[..., 1 % cfg.latent_dim] = q[:, None], q[None, :]
    return image_grid(trainer.sample(z=zz.reshape(-1, cfg.latent_dim), labels=label), nrow=n)


ARROWS = 150            # generated samples that get an arrow: enough to read the field, few enough to draw fast
ARROW_UNIT = 0.05       # a push of norm 1 is drawn this fraction of the plane wide; the longest are cut at
ARROW_MAX = 0.15        # this fraction, so a vanishing push (minimax against a confident D) looks short


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


def _class_colours(labels: torch.Tensor) -> list[str]:
    palette = plotly.colors.qualitative.Alphabet         # 26 colours: grid's 25 classes apart
    return [palette[int(c) % len(palette)] for c in labels]


def figure1(trainer, n: int = 2000, n_lines: int = 25, resolution: int = 300) -> go.Figure:
    """The paper's Figure 1 for the 1-D setting: pdata (black), pg (green), D (blue dashes), D*
    (purple), and below, the mapping x = G(z) drawn as lines from the z line up to the x line."""
    real = _real_samples(trainer, n)
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
    d, critic = trainer.d_output(xs), D_MEANING[trainer.config.loss] == "critic"
    if critic:              # an unbounded critic, drawn on the densities' axis: only its shape counts
        d = (d - d.min()) / (d.max() - d.min()).clamp_min(1e-12)
    fig.add_scatter(x=x, y=d.numpy(), name="critic, scaled to [0, 1]" if critic else "D(x)",
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
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.1))
    return fig


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """(n, C, H, W) in [0, 1] -> one (H', W', 3) uint8 image, tiles separated by white lines."""
    grid = make_grid(images.float().cpu(), nrow=nrow, padding=padding, pad_value=1.0)
    return (grid.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


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
    real, fake = _real_samples(trainer, n), trainer.sample(n, seed=0, labels=label)
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


def gif_bytes(frames: list[np.ndarray], duration_ms: int = 80, scale: int = 1) -> bytes:
    """Frames (H, W) or (H, W, 3) uint8 -> an animated, looping GIF (Pillow's writer)."""
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    if scale > 1:
        images = [im.resize((im.width * scale, im.height * scale), Image.NEAREST) for im in images]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def points_frames(points: torch.Tensor, background: torch.Tensor, size: int = 320) -> list[np.ndarray]:
    """One RGB frame per point of a 2-D walk: background samples grey, the path blue, the current
    point red. Pillow drawing, for the GIF export of toy walks."""
    from PIL import Image, ImageDraw

    allp = torch.cat([points, background]).numpy()
    lo, hi = allp.min(0), allp.max(0)
    span = float((hi - lo).max()) * 1.1 + 1e-6
    centre = (lo + hi) / 2

    def px(p):
        return (float((p[0] - centre[0]) / span + 0.5) * size, float(0.5 - (p[1] - centre[1]) / span) * size)

    base = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(base)
    for p in background.numpy():
        x, y = px(p)
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=(180, 180, 180))
    draw.line([px(p) for p in points.numpy()], fill=(31, 119, 180), width=2)
    frames = []
    for p in points.numpy():
        frame = base.copy()
        x, y = px(p)
        ImageDraw.Draw(frame).ellipse([x - 5, y - 5, x + 5, y + 5], fill=(220, 30, 30))
        frames.append(np.asarray(frame))
    return frames


# ------------------------------------------------------------------ slow motion
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
        both = torch.cat([_real_samples(trainer, 1000), fake]).squeeze(1)
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
        return _step_change_1d(kind, before, after)
    zmin, zmax, title = d_colour_range(torch.cat([before["d"], after["d"]]), trainer.config.loss)
    res = int(round(math.sqrt(len(before["grid"]))))
    xs, ys = before["grid"][:res, 0].numpy(), before["grid"][::res, 1].numpy()
    if kind == "d":
        change = (after["d"] - before["d"]).reshape(res, res).numpy()
        span = max(float(np.abs(change).max()), 1e-6)
        fig = make_subplots(rows=1, cols=3, shared_yaxes=True,
                            subplot_titles=("D before the step", "D after", "the change"))
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
        fig.update_xaxes(range=[float(xs[0]), float(xs[-1])])
        fig.update_yaxes(range=[float(ys[0]), float(ys[-1])])
    fig.update_yaxes(scaleanchor="x")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.1))
    return fig


def _step_change_1d(kind: str, before: dict, after: dict) -> go.Figure:
    """The 1-D slow-motion view: D's curve before and after a D step; pg before and after a G step."""
    x = before["grid"].squeeze(1)
    fig = go.Figure()
    if kind == "d":
        fig.add_scatter(x=x.numpy(), y=before["d"].numpy(), name="D before the step",
                        line=dict(color=COLORS["d"], dash="dot"))
        fig.add_scatter(x=x.numpy(), y=after["d"].numpy(), name="D after", line_color=COLORS["d"])
    else:
        for name, snap, style in (("pg before the step", before, dict(color="#a6d8a6", dash="dot")),
                                  ("pg after", after, dict(color=COLORS["fake"]))):
            fig.add_scatter(x=x.numpy(), y=kde_log_density(snap["fake"], before["grid"]).exp().numpy(), name=name,
                            line=style)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


# ------------------------------------------------------------------ runs side by side
def compare_figure(runs: list[tuple[str, dict, str]], max_points: int = 600) -> go.Figure:
    """Runs' curves overlaid, one colour per run: G's and D's losses, and each run's game value less
    its own optimum (`losses.OPTIMUM`), the one scale on which different losses can be read together:
    0 where the run's game would end at pg = pdata. `runs` holds (label, history, loss)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("G loss", "D loss", "game value − its optimum"))
    palette = plotly.colors.qualitative.D3
    for i, (label, history, loss) in enumerate(runs):
        idx = strided_indices(len(history["d_loss"]), max_points)
        steps, colour = history["step"][idx], palette[i % len(palette)]
        for row, values in ((1, history["g_loss"][idx]), (2, history["d_loss"][idx]),
                            (3, history["value"][idx] - OPTIMUM[loss][1])):
            fig.add_scatter(x=steps, y=values, name=label, legendgroup=label, showlegend=row == 1,
                            line=dict(color=colour, width=1.2), row=row, col=1)
    fig.add_hline(y=0.0, line_dash="dash", line_color="gray", row=3, col=1)
    fig.update_xaxes(title_text="iteration", row=3, col=1)
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.12))
    return fig


def run_view(trainer, n: int = 400):
    """A run's samples for a side-by-side comparison: for images, G's fixed batch as one image; for
    points, real (grey) and generated (green) on a small plot."""
    if trainer.config.is_image:
        return image_grid(trainer.sample())
    real, fake = _real_samples(trainer, n), trainer.sample(n, seed=0)
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
        x0, x1, y0, y1 = plane_bounds(trainer)
        fig.update_xaxes(range=[x0, x1])
        fig.update_yaxes(range=[y0, y1], scaleanchor="x")
    fig.update_layout(height=280, margin=dict(l=5, r=5, t=5, b=5), showlegend=False)
    return fig
