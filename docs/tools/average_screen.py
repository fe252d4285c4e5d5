"""What G's weight average gives the time-to-good judgement, screened on one training run.

    python docs/tools/average_screen.py --seed 0 --gammas 1 2 4 8 16 32 --max-iterations 2000 \
        --out docs/bench/average-screen-zen5.json

Trains the fast-mnist recipe exactly as `python -m ganlab time-to-good` does (dcgan-deep, bf16; the
averages kept here never touch training, and `step(1)` trains bit-identically to `step(250)`) and,
every `--eval-every` iterations from `--first` on, judges with the same classifier (10,000 samples):

- "average": the trainer's own average (`ganlab/ema.py`: decay min(0.995, (1 + t) / (10 + t)), a
  window of about t / 9 iterations until the cap binds near 1,800);
- "average_own_bn": that average with its BatchNorm running statistics recomputed from its own
  forward passes (8 batches of 1,024 z; BigGAN's "standing statistics"), since the averaged buffers
  are the live G's statistics, averaged, not the averaged weights' own;
- "live": the live G, no average;
- "power_g": a power-law average with decay (1 - 1/t)^(g + 1) (Karras et al., 2024), a window of
  about t / (g + 1) iterations that keeps growing with the run, for each g in `--gammas`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import time

import torch
from torch import nn
from torch.optim.swa_utils import update_bn

from ganlab.cli.evaluation import TIME_TO_GOOD_DEFAULTS
from ganlab.config import Config, make_config
from ganlab.devices import cpu_model
from ganlab.ema import WeightAverage
from ganlab.evaluate import ClassifierJudge
from ganlab.sampling import sample_z
from ganlab.trainer import Trainer


@torch.no_grad()
def own_bn_stats(net: nn.Module, cfg: Config, batches: int = 8, m: int = 1024) -> None:
    """Replace `net`'s BatchNorm running statistics by the cumulative mean over `batches` of its own
    training-mode passes on fresh z (z drawn on the CPU, as sampling draws it)."""
    gen = torch.Generator().manual_seed(1234)
    update_bn([sample_z(m, cfg.latent_dim, cfg.prior, gen) for _ in range(batches)], net,
              device=next(net.parameters()).device)


def judged(trainer: Trainer, judge: ClassifierJudge, average: WeightAverage | None) -> dict:
    """The judgement of `trainer` sampling from `average` (None: the live G)."""
    own, trainer.ema = trainer.ema, average
    try:
        m = judge(trainer)
    finally:
        trainer.ema = own
    return {k: m[k] for k in ("frechet_over_floor", "class_kl_to_uniform", "classes_covered")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gammas", type=float, nargs="*", default=[1, 2, 4, 8, 16, 32])
    ap.add_argument("--max-iterations", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--first", type=int, default=750, help="first judgement (default: 750)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    cfg = make_config(data="mnist", seed=args.seed, **TIME_TO_GOOD_DEFAULTS)
    judge = ClassifierJudge(cfg.data, None, None, n=10_000)
    trainer = Trainer(cfg)
    trainer.load_data()
    powers = {g: WeightAverage(trainer.G, 0.0) for g in args.gammas}
    rows, t0 = [], time.perf_counter()
    while trainer.step_count < args.max_iterations:
        trainer.step(1)
        t = trainer.step_count
        for g, avg in powers.items():
            avg.decay = (1 - 1 / t) ** (g + 1)
            avg.update(step=10**9)            # past the trainer's warm-up: the decay set here applies
        if t % args.eval_every or t < args.first:
            continue
        row = {"iterations": t, "average": judged(trainer, judge, trainer.ema),
               "live": judged(trainer, judge, None)}
        standing = WeightAverage(trainer.ema.net, 0.0)      # a copy of the average, its statistics replaced
        own_bn_stats(standing.net, cfg)
        row["average_own_bn"] = judged(trainer, judge, standing)
        row.update({f"power_{g:g}": judged(trainer, judge, avg) for g, avg in powers.items()})
        rows.append(row)
        print(t, {k: round(v["frechet_over_floor"], 2) for k, v in row.items() if isinstance(v, dict)},
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    record = {"what": "Frechet over the floor (and class KL, classes) of G's average under other windows, "
                      "and of the live G, judged on one training run of the fast-mnist recipe",
              "command": "python docs/tools/average_screen.py " + " ".join(
                  [f"--seed {args.seed}", "--gammas", *(f"{g:g}" for g in args.gammas),
                   f"--max-iterations {args.max_iterations}", f"--eval-every {args.eval_every}",
                   f"--first {args.first}", f"--out {args.out}"]),
              "machine": f"{cpu_model()}, {os.cpu_count()} cores", "date": datetime.date.today().isoformat(),
              "config": dataclasses.asdict(cfg), "rows": rows}
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
