"""`study run` and `study show`: many trainings over a space of settings, on Optuna (ganlab.study).

    python -m ganlab study run ring-k --data ring --trials 24 --steps 1500 --space "k=1..5 lr_d=1e-4..1e-2:log"
    python -m ganlab study run ring-k ... --storage postgresql+psycopg://user:password@host/db --workers 2
    python -m ganlab study show ring-k --json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..checkpoint import NAME_RULE
from ..errors import ConfigError
from ..study import (METRICS, SAMPLERS, Plan, Study, choose_metric, default_url, load, parse_space, run, shown_url,
                     studies_dir, summary)
from ..study.report import text
from ..study.storage import HEARTBEAT
from .core import add_data_root, check_range


def add_study(sub) -> None:
    study = sub.add_parser("study", help="many trainings over a space of settings (Optuna): run, show")
    kinds = study.add_subparsers(dest="study_command", required=True)
    r = kinds.add_parser("run", help="create or join study NAME and run trials until it holds --trials finished")
    r.add_argument("name", metavar="NAME", help="the study's name (letters, digits, _ . -)")
    r.add_argument("--data", required=True, help="ring, grid, mnist or fashion-mnist (the ones with a metric)")
    r.add_argument("--trials", type=int, required=True, help="finished trials the study is to hold")
    r.add_argument("--steps", type=int, required=True, help="training iterations of each trial")
    r.add_argument("--space", required=True, help='settings to search: "lr_g=1e-4..1e-2:log k=1..5 '
                   'loss=nonsat|minimax|hinge latent_dim=2|8|32" (FIELD=LO..HI[:log] or FIELD=A|B|C)')
    r.add_argument("--metric", help="what the study optimises: " + "; ".join(
        f"{name} ({m.direction}, {'/'.join(m.data)}): {m.about}" for name, m in METRICS.items())
        + " (default: high_quality on ring/grid, frechet on images)")
    _add_storage(r)
    r.add_argument("--workers", type=int, default=1, help="local worker processes, each with its share of the "
                   "cores (default: 1); other machines join with the same command and --storage")
    r.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="how settings are proposed (default: tpe)")
    r.add_argument("--seed", type=int, default=0, help="the sampler's seed (local worker i uses seed + i; "
                   "give each machine its own) (default: 0)")
    r.add_argument("--prune", action="store_true", help="stop hopeless trials early (Optuna's median pruner on "
                   "the metric reported 5 times a trial)")
    r.add_argument("--heartbeat", type=int, default=HEARTBEAT, help="seconds between a running trial's "
                   "heartbeats; one silent for 3 of them is failed and retried (default: %(default)s)")
    add_data_root(r)
    s = kinds.add_parser("show", help="a study's trials, its best ones and the metric's spread per setting")
    s.add_argument("name", metavar="NAME")
    _add_storage(s)
    s.add_argument("--json", action="store_true", help="print the report as JSON")


def _add_storage(parser) -> None:
    parser.add_argument("--storage", metavar="URL", help="an SQLAlchemy URL, e.g. postgresql+psycopg://user:"
                        "password@host/db (default: sqlite:///studies/NAME.db; $GANLAB_STUDIES moves studies/)")


def cmd_study(args) -> int:
    if not NAME_RULE.fullmatch(args.name):
        raise ConfigError(f"study name {args.name!r}: use letters, digits, '_', '-' and '.' (at most 80)")
    url = args.storage or default_url(args.name)
    if args.study_command == "show":
        report = summary(args.name, url)
        print(json.dumps(report, indent=1, default=str) if args.json else text(report))
        return 0
    return _run(args, url)


def _run(args, url: str) -> int:
    check_range("--trials", args.trials, 1, 100_000)
    check_range("--steps", args.steps, 1, 10**9)
    check_range("--workers", args.workers, 1, 256)
    check_range("--heartbeat", args.heartbeat, 1, 3600)
    metric = choose_metric(args.data, args.metric)
    space = parse_space(args.space, args.data)
    folder = Path(studies_dir()) / args.name
    plan = Plan(args.data, args.steps, space, metric, folder, data_root=args.data_root)
    study = Study(args.name, url, args.trials, plan, sampler=args.sampler, seed=args.seed, prune=args.prune,
                  heartbeat=args.heartbeat)
    if args.sampler == "grid":
        space.grid()                      # refused in one line when a range is real-valued
    load(study)                           # the storage and the study's settings, before any training
    print(f"study {args.name}: {args.trials} trials of {args.steps} iterations on {args.data}, "
          f"{args.workers} worker(s), metric {metric}; checkpoints in {folder}/", file=sys.stderr)
    states = run(study, workers=args.workers)
    print(f"study {args.name} holds " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items()))
          + f"; see `python -m ganlab study show {args.name}"
          + (f" --storage {shown_url(url)}`" if args.storage else "`"))
    return 0
