"""Studies: many training runs over a space of settings, on Optuna, so a question like "which
settings work on this data?" or "is hinge better, or luckier?" is answered by a landscape instead of
one run.

    python -m ganlab study run ring-losses --data ring --trials 40 --steps 1500 \
        --space "lr_g=1e-4..1e-2:log lr_d=1e-4..1e-2:log k=1..5 loss=nonsat|minimax|hinge"
    python -m ganlab study show ring-losses

One module per job: `space` (the searched settings, checked against the config's rules), `objective`
(one trial: a ganlab training run, its checkpoint and its metric), `storage` (Optuna's RDB storage,
heartbeats and one-line refusals), `runner` (creating or joining a study, the local workers) and
`report` (what a study found, as rows and spreads).
"""

from .objective import DEFAULT_METRIC, METRICS, Judge, Objective, Plan, choose_metric
from .report import open_study, rows, spread_of, summary
from .runner import SAMPLERS, Study, counts, load, run, work
from .space import Param, Space, parse_space
from .storage import StudyError, default_url, open_storage, shown_url, studies_dir

__all__ = ["DEFAULT_METRIC", "METRICS", "Judge", "Objective", "Plan", "choose_metric", "open_study", "rows",
           "spread_of", "summary", "SAMPLERS", "Study", "counts", "load", "run", "work", "Param", "Space",
           "parse_space", "StudyError", "default_url", "open_storage", "shown_url", "studies_dir"]
