"""The colours every figure shares, so each player and each kind of sample looks the same in every
view: real data black, G's samples green, D blue, D* purple, G orange."""

from __future__ import annotations

import plotly.colors
import torch

COLORS = {"real": "#222222", "fake": "#2ca02c", "d": "#1f77b4", "dstar": "#9467bd", "g": "#ff7f0e"}


def class_colours(labels: torch.Tensor) -> list[str]:
    palette = plotly.colors.qualitative.Alphabet         # 26 colours: grid's 25 classes apart
    return [palette[int(c) % len(palette)] for c in labels]
