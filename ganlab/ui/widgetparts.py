"""Pieces the notebook widgets (`lab.py`, `explore.py`) share: a Plotly `FigureWidget` refilled in
place from a new figure, and images as PNG bytes for `ipywidgets.Image`.

A chart in a notebook is one `FigureWidget` for its whole life: each refresh draws a new figure with
`ganlab.plots` (the same functions the app uses) and copies what changed into the widget in one
`batch_update`, so the front end restyles the traces it has instead of building a new chart (no
flicker, and the person's zoom is kept through `uirevision`).
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import plotly.graph_objects as go
import traitlets

KEEP_ZOOM = "ganlab"          # layout.uirevision: a refresh keeps the zoom and the hidden legend entries

_PLOTLY_ESM = str(go.FigureWidget._esm)      # Plotly's widget code: plotly.js and its anywidget, ~5 MB
_LOADER = """
const KEY = "ganlab.plotly-widget.%s";
function plotlyWidget(model) {
  const cache = (globalThis.__ganlab ??= {});
  cache[KEY] ??= (async () => {
    const url = URL.createObjectURL(new Blob([model.get("_bundle")], {type: "text/javascript"}));
    try { return await import(url); } finally { URL.revokeObjectURL(url); }
  })().catch((error) => { delete cache[KEY]; throw error; });
  return cache[KEY];
}
export default () => {
  let widget;
  return {
    async initialize(context) { widget = (await plotlyWidget(context.model)).default(); return widget.initialize(context); },
    render(context) { return widget.render(context); },
  };
};
""" % hashlib.sha1(_PLOTLY_ESM.encode()).hexdigest()[:12]


class Figure(go.FigureWidget):
    """Plotly's FigureWidget, its code compiled once per page however many charts the page shows.

    Each FigureWidget carries Plotly's ~5 MB module as its anywidget ESM, and the page compiles it
    once per chart, one after another (headless Chromium on 2 cores: 0.9 s for one, 3.0 s for four),
    while anywidget gives each chart 2 s to initialise before it shows "Failed to initialize model"
    instead: with a lab and an explorer on one page the later charts missed that on a busy machine.
    Here the ESM is a small loader that compiles the module (sent as `_bundle`) for the first chart
    and shares it, keyed by the module's hash, so two Plotly versions on one page stay apart."""

    _esm = _LOADER
    _bundle = traitlets.Unicode(_PLOTLY_ESM).tag(sync=True)


def figure_widget(fig: go.Figure | None = None) -> go.FigureWidget:
    """A FigureWidget holding `fig` (or nothing yet), its zoom kept through refreshes."""
    widget = Figure(fig)
    widget.layout.uirevision = KEEP_ZOOM
    return widget


def refill(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Make `widget` show `fig`, in place. Traces of the same kinds in the same order take the new
    values of the properties that differ; a figure of another shape (a new dataset, loss or view)
    replaces the traces and the layout, still in the same widget."""
    new = [trace.to_plotly_json() for trace in fig.data]
    layout = fig.layout.to_plotly_json()
    layout["uirevision"] = KEEP_ZOOM
    with widget.batch_update():
        if [t.type for t in widget.data] != [t["type"] for t in new]:
            widget.data = ()
            widget.add_traces(list(fig.data))
            widget.layout = layout
            return
        for trace, values in zip(widget.data, new):
            old = trace.to_plotly_json()
            changed = {key: value for key, value in values.items() if not _same(old.get(key), value)}
            if changed:
                trace.update(changed)
        old_layout = widget.layout.to_plotly_json()
        if any(not _same(old_layout.get(key), value) for key, value in layout.items()):
            widget.update_layout(layout, overwrite=True)


def points_in(widget: go.FigureWidget, trace: int = 0) -> int:
    """How many points trace `trace` of `widget` draws (0 when it has no such trace)."""
    return len(widget.data[trace].x) if len(widget.data) > trace and widget.data[trace].x is not None else 0


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """An (H, W) or (H, W, 3) uint8 image as PNG bytes, each pixel `scale` x `scale` (nearest)."""
    from PIL import Image

    picture = Image.fromarray(image)
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    return buf.getvalue()


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
        except TypeError:                       # arrays of objects (text labels): compare as they are
            return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return a is not None and b is not None and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b
