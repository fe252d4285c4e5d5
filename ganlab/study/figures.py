"""Plotly figures of a study's trials (the rows of `report.rows`): parallel coordinates of the settings
and the metric, a heatmap of the metric over two settings, and its spread per value of one setting.
They return figures and never draw them, so the app and a notebook show the same pictures."""

from __future__ import annotations

import math
import statistics

import plotly.graph_objects as go

# A real-valued setting is cut into this many bins (log-spaced when its values span a decade) on a heatmap.
HEAT_BINS = 5


def finished(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None]


def _is_number(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def parallel(rows: list[dict], settings: list[str], metric: str) -> go.Figure:
    """One line per finished trial across every setting and the metric, coloured by the metric."""
    done = finished(rows)
    dims = []
    for s in settings:
        values = [r.get(s) for r in done]
        if _is_number(values):
            log = min(values, default=1) > 0 and max(values, default=1) / max(min(values, default=1), 1e-300) > 50
            dims.append({"label": f"log10 {s}" if log else s, "values": [math.log10(v) if log else v for v in values]})
        else:
            names = sorted({str(v) for v in values})
            dims.append({"label": s, "values": [names.index(str(v)) for v in values],
                         "tickvals": list(range(len(names))), "ticktext": names})
    scores = [r["value"] for r in done]
    dims.append({"label": metric, "values": scores})
    fig = go.Figure(go.Parcoords(line={"color": scores, "colorscale": "Viridis", "showscale": True}, dimensions=dims))
    fig.update_layout(height=380, margin={"l": 60, "r": 40, "t": 50, "b": 20})
    return fig


def _bins(values: list) -> tuple[list, callable]:
    """Labels and a value -> label function for one heatmap axis."""
    distinct = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    if not _is_number(distinct) or len(distinct) <= HEAT_BINS:
        labels = [str(v) for v in distinct]
        return labels, str
    lo, hi = distinct[0], distinct[-1]
    log = lo > 0 and hi / lo > 10
    f = math.log10 if log else (lambda v: v)
    edges = [f(lo) + (f(hi) - f(lo)) * i / HEAT_BINS for i in range(HEAT_BINS + 1)]
    shown = [(10 ** e if log else e) for e in edges]
    labels = [f"{shown[i]:.2g}–{shown[i + 1]:.2g}" for i in range(HEAT_BINS)]

    def label(v):
        i = min(HEAT_BINS - 1, int((f(v) - edges[0]) / (edges[-1] - edges[0]) * HEAT_BINS))
        return labels[i]
    return labels, label


def heatmap(rows: list[dict], x: str, y: str, metric: str) -> go.Figure:
    """The median of the metric over the finished trials in each cell of settings x and y."""
    done = [r for r in finished(rows) if x in r and y in r]
    xs, fx = _bins([r[x] for r in done])
    ys, fy = _bins([r[y] for r in done])
    cells: dict = {}
    for r in done:
        cells.setdefault((fx(r[x]), fy(r[y])), []).append(r["value"])
    z = [[statistics.median(cells[(a, b)]) if (a, b) in cells else None for a in xs] for b in ys]
    counts = [[len(cells.get((a, b), [])) for a in xs] for b in ys]
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=z, customdata=counts, colorscale="Viridis",
                               colorbar={"title": metric},
                               hovertemplate=f"{x} %{{x}}<br>{y} %{{y}}<br>median {metric} %{{z:.3g}}"
                                             "<br>trials %{customdata}<extra></extra>"))
    fig.update_layout(height=380, xaxis_title=x, yaxis_title=y, margin={"t": 30})
    return fig


def spread(rows: list[dict], setting: str, metric: str) -> go.Figure:
    """Box plots of the metric over the finished trials for each value of `setting` (e.g. the loss)."""
    done = [r for r in finished(rows) if setting in r]
    fig = go.Figure()
    for value in sorted({str(r[setting]) for r in done}):
        fig.add_trace(go.Box(y=[r["value"] for r in done if str(r[setting]) == value], name=value,
                             boxpoints="all", jitter=0.4))
    fig.update_layout(height=360, xaxis_title=setting, yaxis_title=metric, showlegend=False, margin={"t": 30})
    return fig
