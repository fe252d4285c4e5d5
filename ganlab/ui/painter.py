"""The Train page's figures for one snapshot, drawn by the run's worker as it publishes the snapshot.

A page element is marked stale from the moment its refresh starts until the refresh sends it again,
and the browser greys stale elements; figures computed inside the refresh (D on a grid, samples, the
curves) would keep the page's elements stale, greyed, for as long as they take. Drawn with the
snapshot, the refresh only sends what is ready. No Streamlit here: this runs in the run's worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import plots
from ..sampling import FIXED_PER_CLASS

HISTORY_ROWS = 1500        # curve points: more than a chart's width in pixels shows nothing more


@dataclass(frozen=True)
class ViewOptions:
    """What the page's own widgets ask of the figures."""
    label: int | None = None           # the class asked of a conditional G (None: every class)
    show_dstar: bool = False
    arrows: bool = False
    manifold: bool = False
    smoothing: float = 0.0


def paint(view, options: ViewOptions) -> dict:
    """The figures of the frozen trainer `view`: "main" (the data view: an image grid, Figure 1 or
    the plane over D) and "history" (the curves; None before the first iteration)."""
    cfg = view.config
    if cfg.is_image:
        by_class = cfg.classes and options.label is None
        main = plots.image_grid(view.sample(labels=options.label), nrow=FIXED_PER_CLASS if by_class else 8)
    elif cfg.data == "gaussian1d":
        main = plots.figure1(view)
    else:
        main = plots.toy2d_figure(view, show_dstar=options.show_dstar and plots.has_dstar(view), label=options.label,
                                  arrows=options.arrows, manifold=options.manifold)
    history = (plots.history_figure(view.history(max_rows=HISTORY_ROWS), loss=cfg.loss, smoothing=options.smoothing)
               if view.step_count else None)
    return {"main": main, "history": history}
