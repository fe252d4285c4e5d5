"""What a study found, as plain data: its trials as rows, the best ones, and the metric's spread per
value of each setting (`study show`, its `--json`, and the app's Studies page all read this).

>>> spread_of([{"state": "COMPLETE", "loss": "hinge", "value": 0.9}, {"state": "COMPLETE", "loss": "hinge",
...            "value": 0.5}], "loss")
[{'value': 'hinge', 'trials': 2, 'median': 0.7, 'min': 0.5, 'max': 0.9}]
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

from .objective import METRICS
from .storage import StudyError, open_storage, shown_url

# A real-valued setting is split into this many bins of equal count for its spread.
BINS = 3
# Columns every row has besides the settings and the metrics.
FIXED = ("number", "state", "value", "seconds", "worker", "retry_of", "checkpoint")


def study_names(url: str) -> list[str]:
    """The studies held at `url`."""
    import optuna

    storage = open_storage(url)
    return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]


def open_study(name: str, url: str):
    """An existing study (read only), or a StudyError naming the ones there are."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise StudyError(f"no study file {url.removeprefix('sqlite:///')}; run `python -m ganlab study run {name} ...` "
                         "first, or give --storage")
    storage = open_storage(url)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
        there = f"; it holds: {', '.join(names)}" if names else "; it holds none"
        raise StudyError(f"no study {name!r} in {shown_url(url)}{there}") from None


def rows(made) -> list[dict]:
    """One dict per trial: FIXED columns, then each setting, then each metric the trial stored."""
    out = []
    for t in made.get_trials(deepcopy=False):
        attrs = dict(t.user_attrs)
        row = {"number": t.number, "state": t.state.name, "value": t.value,
               "seconds": attrs.pop("seconds", None), "worker": attrs.pop("worker", None),
               "retry_of": t.system_attrs.get("failed_trial"), "checkpoint": attrs.pop("checkpoint", None)}
        row.update(t.params)
        row.update(attrs)
        out.append(row)
    return out


def meta_of(made) -> dict:
    return dict(made.user_attrs.get("ganlab", {}))


def best(table: list[dict], direction: str, k: int = 5) -> list[dict]:
    done = [r for r in table if r["state"] == "COMPLETE" and r["value"] is not None]
    return sorted(done, key=lambda r: r["value"], reverse=direction == "maximize")[:k]


def spread_of(table: list[dict], name: str) -> list[dict]:
    """The metric's median, min and max over finished trials for each value of setting `name` (for a
    real-valued setting with many values, over BINS bins of equal count)."""
    done = [r for r in table if r["state"] == "COMPLETE" and r["value"] is not None and name in r]
    values = sorted({r[name] for r in done}, key=_order)
    if len(values) > 8 and all(isinstance(v, (int, float)) for v in values):
        edges = [values[min(len(values) - 1, i * len(values) // BINS)] for i in range(BINS)] + [math.inf]
        groups = {f"{edges[i]:.3g}..": [r["value"] for r in done if edges[i] <= r[name] < edges[i + 1]]
                  for i in range(BINS)}
    else:
        groups = {v: [r["value"] for r in done if r[name] == v] for v in values}
    return [{"value": v, "trials": len(g), "median": statistics.median(g), "min": min(g), "max": max(g)}
            for v, g in groups.items() if g]


def _order(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def summary(name: str, url: str) -> dict:
    """Everything `study show --json` prints."""
    made = open_study(name, url)
    meta = meta_of(made)
    table = rows(made)
    direction = meta.get("direction") or made.direction.name.lower()
    settings = sorted({k for t in made.get_trials(deepcopy=False) for k in t.params})
    states: dict = {}
    for r in table:
        states[r["state"]] = states.get(r["state"], 0) + 1
    return {"study": name, "storage": shown_url(url), **meta, "direction": direction, "states": states,
            "best": best(table, direction), "spread": {s: spread_of(table, s) for s in settings},
            "trials": table}


def text(report: dict) -> str:
    """The report as a person reads it in a terminal."""
    metric = report.get("metric", "value")
    about = METRICS[metric].about if metric in METRICS else ""
    lines = [f"study {report['study']} ({report['storage']}): {report.get('data', '?')}, "
             f"{report.get('steps', '?')} iterations a trial, space {report.get('space', '?')}",
             f"metric {metric} ({report['direction']}; {about})",
             "trials: " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(report["states"].items()))]
    settings = list(report["spread"])
    lines.append("")
    lines.append(_table(report["trials"], settings, metric))
    if report["best"]:
        lines += ["", "best:"] + [f"  trial {r['number']}: {metric} {r['value']:.4g}  " +
                                  " ".join(f"{s}={_fmt(r.get(s))}" for s in settings) +
                                  f"  {r['checkpoint']}" for r in report["best"]]
    for s, groups in report["spread"].items():
        lines += ["", f"{metric} by {s}:"] + [
            f"  {_fmt(g['value']):>10}  n={g['trials']:<3} median {g['median']:.4g}  [{g['min']:.4g}, {g['max']:.4g}]"
            for g in groups]
    return "\n".join(lines)


def _table(table: list[dict], settings: list[str], metric: str) -> str:
    cols = ["number", "state", *settings, "value", "seconds"]
    head = ["#", "state", *settings, metric, "s"]
    cells = [[_fmt(r.get(c)) for c in cols] for r in table]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in [head, *cells])


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
