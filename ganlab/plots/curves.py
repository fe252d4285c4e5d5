"""Training curves: a run's losses, D's mean outputs and the game's value against its optimum, and
several runs' curves overlaid, each optionally smoothed as TensorBoard smooths its scalars."""

from __future__ import annotations

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..history import strided_indices
from ..lossdefs import LOSS
from .style import COLORS, LEGEND_ABOVE, LEGEND_ROW, d_of, top_margin

RAW_OPACITY = 0.25      # the raw values behind a smoothed curve: there to read the noise, not to follow


def ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """TensorBoard's smoothing of a scalar series: an exponential moving average with weight
    `smoothing` in [0, 1), debiased as Adam's moments are (the average starts at 0, and dividing by
    1 - smoothing**t takes that start out), so the first point is the first value and no curve bends
    up from zero. Values that are not finite pass through and stay out of the average. 0 returns
    the values as they are.

    >>> ema(np.array([1.0, 3.0]), 0.5)
    array([1.        , 2.33333333])
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must lie in [0, 1), got {smoothing}")
    if smoothing == 0.0:
        return values
    out = np.array(values, dtype=np.float64)
    last, seen = 0.0, 0
    for i, x in enumerate(out):
        if np.isfinite(x):
            last, seen = smoothing * last + (1 - smoothing) * x, seen + 1
            out[i] = last / (1 - smoothing**seen)
    return out


def _curve(fig: go.Figure, x, y, smoothing: float, row: int, **style) -> None:
    """One series: as it is, or smoothed over its raw values drawn faint in the same colour (one
    legend entry for both, so hiding the curve hides its noise too)."""
    if smoothing > 0:
        group = style.setdefault("legendgroup", style["name"])
        fig.add_scatter(x=x, y=y, legendgroup=group, showlegend=False, hoverinfo="skip", opacity=RAW_OPACITY,
                        name=f"{style['name']}, raw", line=style["line"], row=row, col=1)
    fig.add_scatter(x=x, y=ema(y, smoothing), row=row, col=1, **style)


def history_figure(history: dict[str, np.ndarray], start_step: int = 0, max_points: int = 1500,
                   loss: str = "nonsat", smoothing: float = 0.0) -> go.Figure:
    """Losses, mean D(x) / D(G(z)), and the game's value against its optimum (`lossdefs.LOSS`: V(D, G)
    and -log 4, Theorem 1, for the paper's losses), as D's outputs mean under `loss`. With
    `smoothing` in (0, 1), each curve is `ema`'s average over its raw values, drawn faint behind it.

    Long histories are strided to `max_points` so a redraw stays cheap at 100k iterations; a
    `Trainer.history(max_rows=max_points)` comes already thinned, on the device, and stays as it is.
    Smoothing runs over the points drawn, as TensorBoard's does.
    """
    idx = strided_indices(len(history["d_loss"]), max_points)
    # Trainer.history() says which iteration each row ends at; a bare array is one row per iteration.
    steps = history["step"][idx] if "step" in history else start_step + idx + 1
    critic = LOSS[loss].meaning == "critic"
    name, optimum, optimum_text = LOSS[loss].value_name, LOSS[loss].optimum, LOSS[loss].optimum_text
    real, fake = d_of(loss), d_of(loss, "G(z)")
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("losses", f"mean {real} and {fake}", f"{name}"))
    for row, key, label, colour in ((1, "d_loss", "D loss", COLORS["d"]), (1, "g_loss", "G loss", COLORS["g"]),
                                    (2, "d_real", real, COLORS["real"]), (2, "d_fake", fake, COLORS["fake"]),
                                    (3, "value", name, COLORS["dstar"])):
        _curve(fig, steps, history[key][idx], smoothing, row, name=label, line=dict(color=colour))
    if not critic:          # D* = 1/2 at pg = pdata, for the log losses and least squares alike
        fig.add_hline(y=0.5, line_dash="dot", line_color="gray", row=2, col=1)
    fig.add_hline(y=optimum, line_dash="dash", line_color="gray", row=3, col=1,
                  annotation_text=optimum_text, annotation_position="bottom right")
    fig.update_xaxes(title_text="iteration", row=3, col=1)
    fig.update_layout(height=560 + LEGEND_ROW, margin=dict(l=10, r=10, t=top_margin(titles=True), b=10),
                      legend=LEGEND_ABOVE)
    return fig


def compare_figure(runs: list[tuple[str, dict, str]], max_points: int = 600, smoothing: float = 0.0) -> go.Figure:
    """Runs' curves overlaid, one colour per run: G's and D's losses, and each run's game value less
    its own optimum (`lossdefs.LOSS`), the one scale on which different losses can be read together:
    0 where the run's game would end at pg = pdata. `runs` holds (label, history, loss); `smoothing`
    as in `history_figure`."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("G loss", "D loss", "game value − its optimum"))
    palette = plotly.colors.qualitative.D3
    for i, (label, history, loss) in enumerate(runs):
        idx = strided_indices(len(history["d_loss"]), max_points)
        steps, colour = history["step"][idx], palette[i % len(palette)]
        for row, values in ((1, history["g_loss"][idx]), (2, history["d_loss"][idx]),
                            (3, history["value"][idx] - LOSS[loss].optimum)):
            _curve(fig, steps, values, smoothing, row, name=label, legendgroup=label, showlegend=row == 1,
                   line=dict(color=colour, width=1.2))
    fig.add_hline(y=0.0, line_dash="dash", line_color="gray", row=3, col=1)
    fig.update_xaxes(title_text="iteration", row=3, col=1)
    fig.update_layout(height=520 + LEGEND_ROW, margin=dict(l=10, r=10, t=top_margin(titles=True), b=10),
                      legend=LEGEND_ABOVE)
    return fig
