"""Each loss of the family on the toy mixtures, over seeds, with the same budget and the CLI's defaults.

    python docs/tools/loss_family.py --data ring --steps 3000 --seeds 0 1 2 3 4 \
        --out docs/bench/loss-family-ring-zen5.json
    python docs/tools/loss_family.py --data grid --steps 8000 --seeds 0 1 2 3 4 \
        --out docs/bench/loss-family-grid-zen5.json

Each run is what `python -m ganlab train --data D --loss L --seed S --steps N` trains (the dataset's
and the loss's own settings, nothing else; `--set key=value` screens other settings: the record
names them), scored as `python -m ganlab eval CKPT --metric modes`
scores it: modes covered, the high-quality share and PacGAN's reverse KL of the mode histogram. The
record is rewritten after every run and a rerun skips the runs it holds, so a stopped sweep resumes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import time

import torch

from ganlab import evaluate
from ganlab.config import FIELD_TYPES, check_field, make_config
from ganlab.devices import cpu_model
from ganlab.trainer import Trainer

LOSSES = ("nonsat", "minimax", "ls", "hinge", "wgan-gp")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="ring", choices=("ring", "grid"))
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--losses", nargs="+", default=list(LOSSES))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting over the defaults, e.g. --set ema=0.999 (repeatable; applies to every loss)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    settings = dict(_setting(s) for s in args.set)
    record = json.load(open(args.out)) if os.path.exists(args.out) else {
        "what": f"each loss on {args.data}, {args.steps} iterations from the CLI's defaults, modes as `eval` scores them",
        "command": f"python docs/tools/loss_family.py --data {args.data} --steps {args.steps} --seeds "
                   f"{' '.join(map(str, args.seeds))}" + "".join(f" --set {s}" for s in args.set) + f" --out {args.out}",
        "settings": settings,
        "machine": cpu_model(), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "date": datetime.date.today().isoformat(), "runs": []}
    done = {(r["loss"], r["seed"]) for r in record["runs"]}
    for loss in args.losses:
        for seed in args.seeds:
            if (loss, seed) in done:
                continue
            cfg = make_config(data=args.data, loss=loss, seed=seed, **settings)
            t = Trainer(cfg, device="cpu")
            t0 = time.perf_counter()
            t.train(args.steps, progress=False)
            seconds = time.perf_counter() - t0
            m = evaluate.modes(t)
            run = {"loss": loss, "seed": seed, "modes": m["modes_covered"], "of": m["modes_total"],
                   "high_quality": m["high_quality_fraction"], "reverse_kl": m["reverse_kl"],
                   "train_seconds": round(seconds, 1), "k": cfg.k, "lr_g": cfg.lr_g, "betas": [cfg.beta1, cfg.beta2],
                   "r1": cfg.r1, "gp": cfg.gp if loss == "wgan-gp" else None, "ema": cfg.ema}
            record["runs"].append(run)
            print(json.dumps(run), flush=True)
            with open(args.out + ".tmp", "w") as f:
                json.dump(record, f, indent=1)
            os.replace(args.out + ".tmp", args.out)
    record["summary"] = {loss: _summary([r for r in record["runs"] if r["loss"] == loss]) for loss in args.losses}
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)
    return record


def _setting(text: str) -> tuple[str, object]:
    """`--set KEY=VALUE` as the config field holds it: its type, then its rules (`check_field`)."""
    key, _, raw = text.partition("=")
    if key not in FIELD_TYPES:
        raise SystemExit(f"--set {text!r}: {key!r} is not a config field; fields: {', '.join(FIELD_TYPES)}")
    return key, check_field(key, FIELD_TYPES[key](raw))


def _summary(runs: list[dict]) -> dict:
    kls = [r["reverse_kl"] for r in runs if r["reverse_kl"] is not None]
    return {"seeds": len(runs), "modes": [r["modes"] for r in runs],
            "mean_modes": statistics.mean(r["modes"] for r in runs),
            "mean_high_quality": statistics.mean(r["high_quality"] for r in runs),
            "least_high_quality": min(r["high_quality"] for r in runs),
            "mean_reverse_kl": statistics.mean(kls) if len(kls) == len(runs) else None,
            "seeds_without_a_covered_mode": len(runs) - len(kls)}


if __name__ == "__main__":
    main()
