"""Command line: `python -m ganlab train | sample | eval`.

    python -m ganlab train --data ring --steps 2000 --out checkpoints/ring.pt
    python -m ganlab train --resume checkpoints/ring.pt --steps 1000 --out checkpoints/ring.pt
    python -m ganlab sample checkpoints/ring.pt --n 2500 --seed 0 --out ring.npy
    python -m ganlab eval checkpoints/ring.pt

Training flags are generated from the fields of `Config`, so the CLI, the app and the library
cannot drift apart. Every user error ends as one line on stderr and exit code 1, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields

import numpy as np

from .checkpoint import atomic_write
from .config import DATASETS, LOSSES, MODEL_PRESETS, MODELS, OPTIMIZERS, PRIORS, STRUCTURAL, Config, make_config
from .data import TOY, load_dataset
from .errors import CheckpointError, ConfigError, DivergenceError, GanlabError
from .metrics import mode_coverage
from .trainer import HISTORY_KEYS, Trainer

CHOICES = {"data": DATASETS, "model": MODELS, "loss": LOSSES, "optimizer": OPTIMIZERS, "prior": PRIORS}
TYPES = {"int": int, "float": float, "str": str}


def _config_help(name: str, default) -> str:
    parts = []
    if name in CHOICES:
        parts.append("one of " + ", ".join(CHOICES[name]))
    parts.append(f"default: {default}")
    presets = [f"{m}: {p[name]}" for m, p in MODEL_PRESETS.items() if name in p]
    if presets:
        parts.append("preset " + ", ".join(presets))
    if name == "model":
        parts.append("images default to seed")
    return "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganlab", description="ganlab: train, sample and "
                                     "evaluate Generative Adversarial Nets (Goodfellow et al., 2014).")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train N more iterations (k D steps + 1 G step each)")
    train.add_argument("--steps", type=int, required=True, help="iterations to train")
    train.add_argument("--out", required=True, help="checkpoint file to write")
    train.add_argument("--resume", help="checkpoint to continue from (its config, with lr/k/loss/... overrides)")
    train.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                       help="also write --out every N iterations (default: 0, only at the end)")
    train.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    train.add_argument("--data-root", help="folder for mnist / fashion-mnist (default: $GANLAB_DATA, "
                       "else ~/.cache/ganlab)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    group = train.add_argument_group("config (defaults are the toy setup; --model presets override them)")
    for f in fields(Config):
        group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=TYPES[f.type], default=None,
                           metavar=f.name.upper(), help=_config_help(f.name, f.default))

    sample = sub.add_parser("sample", help="write samples from a checkpoint's G to a .npy file")
    sample.add_argument("checkpoint")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    sample.add_argument("--out", required=True, help=".npy file: (N, d) for toy data, (N, C, H, W) in [0, 1] for images")
    sample.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")

    ev = sub.add_parser("eval", help="print a checkpoint's metrics as JSON")
    ev.add_argument("checkpoint")
    ev.add_argument("--metric", action="append", choices=METRICS, help="metric to compute, repeatable "
                    "(default: all that apply to the checkpoint's dataset)")
    ev.add_argument("--n", type=int, default=2500, help="samples drawn from G (default: 2500)")
    ev.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    ev.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    return parser


def cmd_train(args) -> int:
    overrides = {f.name: getattr(args, f.name) for f in fields(Config) if getattr(args, f.name) is not None}
    if args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}")
    if args.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    if args.resume:
        trainer = Trainer.load(args.resume, device=args.device, data_root=args.data_root)
        clash = [f"--{k.replace('_', '-')} {v} (checkpoint: {getattr(trainer.config, k)})"
                 for k, v in overrides.items() if k in STRUCTURAL + ("seed", "prior")
                 and v != getattr(trainer.config, k)]
        if clash:
            raise CheckpointError(f"{args.resume} does not fit the requested config: {'; '.join(clash)}; "
                                  f"drop those flags, or start a new run without --resume")
        trainer.update(**{k: v for k, v in overrides.items() if k not in STRUCTURAL})
    else:
        if "data" not in overrides:
            raise ConfigError(f"--data is required for a new run; choose one of: {', '.join(DATASETS)}")
        trainer = Trainer(make_config(**overrides), device=args.device, data_root=args.data_root)
    trainer.data  # load (and report missing data) before the progress bar starts

    def checkpoint(t: Trainer, stats: dict) -> None:
        if args.checkpoint_every and t.step_count % args.checkpoint_every == 0:
            t.save(args.out)

    cfg, start = trainer.config, trainer.step_count
    print(f"training {cfg.model} on {cfg.data} ({trainer.device}) from step {start} for {args.steps} iterations "
          f"(k={cfg.k}, batch {cfg.batch_size}, loss {cfg.loss})", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        trainer.train(args.steps, callback=checkpoint, every=args.checkpoint_every or None,
                      progress=not args.quiet)
    except DivergenceError as exc:
        trainer.save(args.out)
        raise DivergenceError(f"{exc}; that state is saved to {args.out}") from None
    seconds = time.perf_counter() - t0
    trainer.save(args.out)
    done = trainer.step_count - start
    print(f"trained {done} iterations in {seconds:.1f} s: {done / seconds:.1f} it/s; "
          f"step {trainer.step_count} saved to {args.out}")
    return 0


def cmd_sample(args) -> int:
    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    trainer = Trainer.load(args.checkpoint, device=args.device)
    x = trainer.sample(args.n, seed=args.seed).numpy().astype(np.float32)
    atomic_write(args.out, lambda f: np.save(f, x))
    print(f"wrote {x.dtype} samples of shape {x.shape} to {args.out}")
    return 0


# ------------------------------------------------------------------ eval
def _recent_losses(trainer: Trainer, n: int, seed: int) -> dict:
    """Means of the history over the last (up to) 100 iterations."""
    h = trainer.history(start=max(0, trainer.step_count - 100))
    return {k: float(v.mean()) for k, v in h.items()} if trainer.step_count else {}


def _modes(trainer: Trainer, n: int, seed: int) -> dict | None:
    if trainer.config.data not in ("ring", "grid"):
        return None
    dist = TOY[trainer.config.data]()
    return mode_coverage(trainer.sample(n, seed=seed), dist.centres, dist.std)


def _moments(trainer: Trainer, n: int, seed: int) -> dict | None:
    """Sample mean / std beside the data's: the first check on the 1-D Figure-1 setting."""
    if trainer.config.data != "gaussian1d":
        return None
    x = trainer.sample(n, seed=seed).squeeze(1)
    dist = load_dataset("gaussian1d")
    return {"sample_mean": float(x.mean()), "sample_std": float(x.std()),
            "data_mean": float(dist.centres[0, 0]), "data_std": dist.std}


METRICS = {"losses": _recent_losses, "modes": _modes, "moments": _moments}


def cmd_eval(args) -> int:
    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    trainer = Trainer.load(args.checkpoint, device=args.device)
    result = {"checkpoint": args.checkpoint, "step": trainer.step_count, "data": trainer.config.data,
              "model": trainer.config.model}
    for name in args.metric or METRICS:
        value = METRICS[name](trainer, args.n, args.seed)
        if value is not None:
            result[name] = value
    print(json.dumps(result, indent=2))
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GanlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint written is intact", file=sys.stderr)
        return 130
