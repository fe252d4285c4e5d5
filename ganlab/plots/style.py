"""What every figure shares, so each player and each kind of sample looks and reads the same in every
view: the colours (real data black, G's samples green, D blue, D* purple, G orange), D's name under
each loss, and where legends go."""

from __future__ import annotations

import plotly.colors
import torch

from ..lossdefs import LOSS

COLORS = {"real": "#222222", "fake": "#2ca02c", "d": "#1f77b4", "dstar": "#9467bd", "g": "#ff7f0e"}

# Legends sit in the figure's top margin, placed against the whole figure (`yref="container"`) rather
# than the plot area: a horizontal legend below the plot lands on the x axis' tick labels, one inside
# it covers data. Each figure leaves LEGEND_ROW of top margin per row of entries, and TITLE_ROW more
# for subplot titles, which sit just above the panels.
LEGEND_ABOVE = dict(orientation="h", yref="container", yanchor="top", y=1.0, xanchor="left", x=0.0)
LEGEND_ROW = 24         # px: one row of entries at plotly's default font
TITLE_ROW = 26          # px: a subplot title above its panel


def top_margin(legend_rows: int = 1, titles: bool = False) -> int:
    """The top margin (px) that holds `legend_rows` rows of LEGEND_ABOVE's entries and, with `titles`,
    the subplot titles below them."""
    return 6 + legend_rows * LEGEND_ROW + (TITLE_ROW if titles else 0)


def d_of(loss: str, arg: str = "x") -> str:
    """D's output at `arg` as every title, legend and colour bar names it under `loss`: critic(x) where
    `lossdefs.LOSS` says D is a critic (an unbounded score whose differences alone count), else D(x).

    >>> d_of("wgan-gp"), d_of("nonsat", "x, c")
    ('critic(x)', 'D(x, c)')
    """
    return f"{'critic' if LOSS[loss].meaning == 'critic' else 'D'}({arg})"


def class_colours(labels: torch.Tensor) -> list[str]:
    palette = plotly.colors.qualitative.Alphabet         # 26 colours: grid's 25 classes apart
    return [palette[int(c) % len(palette)] for c in labels]
