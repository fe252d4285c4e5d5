"""`directions`: meaningful directions in a checkpoint's z (SeFa, GANSpace, InterFaceGAN's attribute
boundaries; `ganlab/directions.py`), stored in the checkpoint; and what `sample --move` moves along.

    python -m ganlab directions checkpoints/mnist-dcgan.pt --method attributes
    python -m ganlab directions checkpoints/mnist-dcgan.pt --method sefa --n 10
    python -m ganlab directions checkpoints/mnist-dcgan.pt --judge --json directions.json
    python -m ganlab sample checkpoints/mnist-dcgan.pt --n 16 --move ink=1.5 --keep class --out bold.png
"""

from __future__ import annotations

import datetime
import json
import os
import time
from functools import partial

import torch

from .. import directions
from ..errors import ConfigError
from ..checkpoint import atomic_write
from ..devices import cpu_model
from ..latent import sample_z
from ..outputs import check_output
from ..trainer import Trainer
from .core import add_device


def add_directions(sub) -> None:
    di = sub.add_parser("directions", help="find meaningful directions in an image checkpoint's z and store "
                        "them in it (sefa, ganspace, attributes)")
    di.add_argument("checkpoint")
    di.add_argument("--method", choices=directions.METHODS, default="attributes",
                    help="sefa: closed form from G's first layer; ganspace: PCA of G's first activations; "
                    "attributes: boundaries for ink, slant, width, height and each class (default)")
    di.add_argument("--n", type=int, default=10, help="directions sefa and ganspace keep (default: 10)")
    di.add_argument("--samples", type=int, default=5000, help="G's samples ganspace and attributes fit on (default: 5000)")
    di.add_argument("--seed", type=int, default=0, help="seed of those samples (default: 0)")
    di.add_argument("--classifier", help="the classifier that names classes (default: checkpoints/classifier-DATA.pt)")
    di.add_argument("--judge", action="store_true", help="find all three methods' directions, then measure how "
                    "well ink, slant, width and the classes do what their names say (directionjudge.py)")
    di.add_argument("--paths", type=int, default=200, help="starting z the judge walks from (default: 200)")
    di.add_argument("--json", help="with --judge: write the measures and timings to this .json file")
    add_device(di)


def cmd_directions(args) -> int:
    if args.n < 1 or args.samples < 100 or args.paths < 1:
        raise ConfigError("--n and --paths need at least 1, --samples at least 100")
    if args.json and not args.judge:
        raise ConfigError("--json writes the judge's measures: add --judge")
    check_output(args.checkpoint, "checkpoint", (".pt",))      # the directions are written into it
    trainer = Trainer.load(args.checkpoint, device=args.device, training=False)
    if not trainer.config.is_image:
        raise ConfigError(f"{args.checkpoint} generates {trainer.config.data!r}, not images: the attributes that "
                          "name directions (ink, slant, width, height, class) are measured on images")
    classifier = directions.classifier_for(trainer.config.data, args.classifier)
    if args.judge and classifier is None:
        raise ConfigError("--judge measures classes with the project's classifier: mnist or fashion-mnist only")
    classify = None if classifier is None else partial(directions.class_of, classifier)
    record = {"command": f"python -m ganlab directions {args.checkpoint} --judge --n {args.n} --samples {args.samples} "
                         f"--seed {args.seed} --paths {args.paths}" + (f" --json {args.json}" if args.json else ""),
              "cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
              "date": datetime.date.today().isoformat(), "checkpoint": str(args.checkpoint),
              "seconds_to_find": {}}          # each method's, naming its directions included
    for method in (directions.METHODS if args.judge else (args.method,)):
        if method == "sefa":                  # the closed form alone, without the naming that follows it
            t0 = time.perf_counter()
            directions.sefa(trainer, args.n)
            record["seconds_sefa_closed_form"] = round(time.perf_counter() - t0, 4)
        t0 = time.perf_counter()
        found = directions.find(trainer, method, n=args.n, samples=args.samples, seed=args.seed, classify=classify)
        record["seconds_to_find"][method] = round(time.perf_counter() - t0, 2)
        kept = directions.store(args.checkpoint, found)
        print(f"{method}: {len(found)} directions in {record['seconds_to_find'][method]:.1f} s: "
              + ", ".join(d.name for d in found))
    print(f"{args.checkpoint} holds {len(kept)} directions")
    if args.judge:
        from ..directionjudge import judge

        record.update(judge(trainer, kept, classifier, paths=args.paths))
        print(json.dumps(record, indent=1))
        if args.json:
            atomic_write(args.json, lambda f: f.write(json.dumps(record, indent=1).encode()))
    return 0


def add_move_flags(sample) -> None:
    sample.add_argument("--move", help="NAME=AMOUNT[,NAME=AMOUNT]: move each z along the checkpoint's named "
                        "directions, AMOUNT in prior standard deviations (at most 5), e.g. ink=1.5,slant=-1")
    sample.add_argument("--keep", help="NAME[,NAME]: directions projected out of the move so their attributes stay "
                        "put; `class` keeps each sample's class (the project's classifier)")


def moved_z(args, trainer: Trainer, n: int, z: torch.Tensor | None) -> torch.Tensor | None:
    """`sample`'s z moved as --move and --keep say (z drawn from --seed as `sample` draws it where
    --z is not given), or z unchanged without --move."""
    if not args.move:
        if args.keep:
            raise ConfigError("--keep says what to hold still while --move moves; add --move NAME=AMOUNT")
        return z
    moves = directions.parse_moves(args.move)
    keep = [k.strip() for k in (args.keep or "").split(",") if k.strip()]
    found = directions.read(args.checkpoint)
    directions.check_names(found, list(moves) + keep, args.checkpoint)
    cfg = trainer.config
    if z is None:
        z = sample_z(n, cfg.latent_dim, cfg.prior, torch.Generator().manual_seed(args.seed))
    if "class" not in keep:
        return directions.move(z, found, moves, keep)
    if cfg.classes:
        raise ConfigError(f"{args.checkpoint} is conditional: its class is an input (--label), kept whatever z does; "
                          "drop `class` from --keep")
    return directions.move_keeping_class(trainer, directions.classifier_for(cfg.data), z, found, moves,
                                         [k for k in keep if k != "class"])
