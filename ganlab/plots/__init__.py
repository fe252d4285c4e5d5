"""Figures and images shared by the app and the notebooks, one module per kind of view. Returns
Plotly figures, numpy images and GIF bytes; never imports Streamlit or ipywidgets. The torch work
behind a figure (D on a grid, a KDE of pg) is done here, so pages stay free of tensor math.

- curves.py: a run's losses, D's mean outputs and the game's value against its optimum; runs overlaid;
  TensorBoard's smoothing.
- toy.py: the toy data's views over D(x) (the plane, the paper's Figure 1), a run's samples at a glance.
- images.py: image grids, a 2-D walk's frames, animated GIFs.
- walks.py: views of a walk in z, and a 2-D slice of z around one point.
- step_change.py: slow motion, what one D step or one G step changed.
- style.py: the colours, D's name under each loss and the legends' place they share.
"""

from __future__ import annotations

# Plotly imports pandas on first use, lazily. In the app a rerun and the live fragment can draw at
# once, and two threads importing pandas for the first time see it half-initialised ("partially
# initialized module 'pandas'"): imported here, it is whole before any figure is drawn.
import pandas  # noqa: F401

from .curves import compare_figure, ema, history_figure
from .images import gif_bytes, image_grid, points_frames
from .step_change import SLOW_SAMPLES, snapshot, step_change_figure
from .style import COLORS, d_of
from .toy import (ARROW_MAX, ARROW_UNIT, ARROWS, MESH, d_colour_range, figure1, fit_window, g_arrows, has_dstar,
                  manifold_mesh, plane_bounds, run_view, toy2d_figure)
from .walks import SLICE_REACH, latent_path_figure, latent_slice, norms_figure, slice_z

__all__ = ["ARROWS", "ARROW_MAX", "ARROW_UNIT", "COLORS", "MESH", "SLICE_REACH", "SLOW_SAMPLES", "compare_figure",
           "d_colour_range", "d_of", "ema", "figure1", "fit_window", "g_arrows", "gif_bytes", "has_dstar",
           "history_figure", "image_grid", "latent_path_figure", "latent_slice", "manifold_mesh", "norms_figure",
           "plane_bounds", "points_frames", "run_view", "slice_z", "snapshot", "step_change_figure", "toy2d_figure"]
