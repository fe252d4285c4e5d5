"""Training curves: a run's losses, D's mean outputs and the game's value against its optimum, and
several runs' curves overlaid."""

from __future__ import annotations

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..history import strided_indices
from ..lossdefs import LOSS
from .style import COLORS


def history_figure(history: dict[str, np.ndarray], start_step: int = 0, max_points: int = 1500,
                   loss: str = "nonsat") -> go.Figure:
    """Losses, mean D(x) / D(G(z)), and the game's value against its optimum (`lossdefs.LOSS`: V(D, G)
    and -log 4, Theorem 1, for the paper's losses), as D's outputs mean under `loss`.

    Long histories are strided to `max_points` so a redraw stays cheap at 100k iterations; a
    `Trainer.history(max_rows=max_points)` comes already thinned, on the device, and stays as it is.
    """
    idx = strided_indices(len(history["d_loss"]), max_points)
    # Trainer.history() says which iteration each row ends at; a bare array is one row per iteration.
    steps = history["step"][idx] if "step" in history else start_step + idx + 1
    critic = LOSS[loss].meaning == "critic"
    name, optimum, optimum_text = LOSS[loss].value_name, LOSS[loss].optimum, LOSS[loss].optimum_text
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


def compare_figure(runs: list[tuple[str, dict, str]], max_points: int = 600) -> go.Figure:
    """Runs' curves overlaid, one colour per run: G's and D's losses, and each run's game value less
    its own optimum (`lossdefs.LOSS`), the one scale on which different losses can be read together:
    0 where the run's game would end at pg = pdata. `runs` holds (label, history, loss)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("G loss", "D loss", "game value − its optimum"))
    palette = plotly.colors.qualitative.D3
    for i, (label, history, loss) in enumerate(runs):
        idx = strided_indices(len(history["d_loss"]), max_points)
        steps, colour = history["step"][idx], palette[i % len(palette)]
        for row, values in ((1, history["g_loss"][idx]), (2, history["d_loss"][idx]),
                            (3, history["value"][idx] - LOSS[loss].optimum)):
            fig.add_scatter(x=steps, y=values, name=label, legendgroup=label, showlegend=row == 1,
                            line=dict(color=colour, width=1.2), row=row, col=1)
    fig.add_hline(y=0.0, line_dash="dash", line_color="gray", row=3, col=1)
    fig.update_xaxes(title_text="iteration", row=3, col=1)
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.12))
    return fig
