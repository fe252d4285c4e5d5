"""How good a run is: `eval` (a checkpoint's metrics), `semi` (Sec. 7.4: D's features as a
classifier's from a few labels) and `time-to-good` (training seconds until an MNIST generator
passes a fixed bar), each printing JSON or one summary line.

    python -m ganlab eval checkpoints/ring.pt
    python -m ganlab semi checkpoints/mnist-dcgan.pt --labels 100 --repeats 3
    python -m ganlab time-to-good --budget 300          # dcgan-deep, its recipe, bf16
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from .. import memory
from ..checkpoint import atomic_write
from ..config import make_config
from ..errors import ConfigError
from ..evaluate import METRICS, evaluate
from ..outputs import check_space
from ..recipes import recipe_for
from ..trainer import Trainer
from .core import add_config_flags, add_data_root, add_device, overrides


def add_eval(sub) -> None:
    ev = sub.add_parser("eval", help="print a checkpoint's metrics as JSON")
    ev.add_argument("checkpoint")
    ev.add_argument("--metric", action="append", choices=list(METRICS), help="metric to compute, repeatable "
                    "(default: all that apply to the checkpoint's dataset)")
    ev.add_argument("--n", type=int, default=None, help="samples drawn from G (default: 2500 for toy data, "
                    "10000 for the classifier metrics; Parzen always uses 10000)")
    ev.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    add_device(ev)
    add_data_root(ev)
    ev.add_argument("--classifier", help="classifier weights (default: checkpoints/classifier-DATA.pt)")


def add_semi(sub) -> None:
    se = sub.add_parser("semi", help="Sec. 7.4: test error of a linear classifier on D's features from a few "
                        "labels, against raw pixels and a random D of the same shape (JSON)")
    se.add_argument("checkpoint")
    se.add_argument("--labels", type=int, required=True, help="labelled training images, an equal number per class")
    se.add_argument("--repeats", type=int, default=3, help="label draws to average over (default: 3)")
    se.add_argument("--seed", type=int, default=0, help="seed of the first draw (default: 0)")
    add_device(se)
    add_data_root(se)


TIME_TO_GOOD_DEFAULTS = {"model": "dcgan-deep", "precision": "bf16"}


def add_time_to_good(sub) -> None:
    tg = sub.add_parser("time-to-good", help="training seconds until an MNIST generator covers 10/10 classes "
                        "with class KL <= 0.05 and Fréchet <= 3x the real-data floor (without --model: "
                        "dcgan-deep with its recipe, in bf16)")
    tg.add_argument("--budget", type=float, default=600, help="training seconds to give up after (default: 600)")
    tg.add_argument("--eval-every", type=int, default=500, help="iterations between judgements (default: 500)")
    tg.add_argument("--max-iterations", type=int, help="also give up after this many iterations (screens that "
                    "compare settings at equal iterations, whatever the machine's speed that day)")
    tg.add_argument("--out", help="also save the final checkpoint here")
    tg.add_argument("--json", help="write the trace as JSON to this file")
    add_device(tg)
    add_data_root(tg)
    add_config_flags(tg)


def cmd_eval(args) -> int:
    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    trainer = Trainer.load(args.checkpoint, device=args.device)
    options = {"seed": args.seed, "data_root": args.data_root, "classifier_path": args.classifier}
    if args.n is not None:
        options["n"] = args.n
    result = {"checkpoint": args.checkpoint, "step": trainer.step_count, "data": trainer.config.data,
              "model": trainer.config.model, **evaluate(trainer, args.metric, **options)}
    print(json.dumps(result, indent=2))
    return 0


def time_to_good_config(args):
    """The configuration `time-to-good` times: the flags given, on MNIST, and without --model the one the
    timing is for, dcgan-deep with its recipe in bf16 (docs/performance.md, "Time to a good generator")."""
    given = overrides(args)
    fastest = {} if "model" in given else TIME_TO_GOOD_DEFAULTS
    return make_config(args.recipe, **{"data": "mnist", **fastest, **given})


def cmd_time_to_good(args) -> int:
    from ..timetogood import time_to_good

    cfg = time_to_good_config(args)
    if cfg.data not in ("mnist", "fashion-mnist"):
        raise ConfigError(f"time-to-good judges mnist or fashion-mnist generators, not {cfg.data!r}")
    if args.budget <= 0 or args.eval_every < 1 or (args.max_iterations is not None and args.max_iterations < 1):
        raise ConfigError(f"--budget must be > 0, --eval-every >= 1 and --max-iterations >= 1; got {args.budget:g}, "
                          f"{args.eval_every} and {args.max_iterations}")
    if args.out:
        check_space({"--out": (args.out, memory.checkpoint_bytes(cfg))})
    result = time_to_good(cfg, args.budget, args.eval_every, device=args.device, data_root=args.data_root,
                          log=lambda line: print(line, file=sys.stderr), max_iterations=args.max_iterations)
    if args.out:
        result["trainer"].save(args.out)
    summary = {"model": cfg.model, "recipe": recipe_for(cfg.model, args.recipe), "data": cfg.data,
               "batch_size": cfg.batch_size, "lr_g": cfg.lr_g, "lr_d": cfg.lr_d, "k": cfg.k, "loss": cfg.loss,
               "seconds_to_good": result["seconds"], "iterations": result["iterations"],
               "frechet_floor": result["floor"], "config": asdict(cfg), "trace": result["trace"]}
    if args.json:
        atomic_write(args.json, lambda f: f.write(json.dumps(summary, indent=2).encode()))
    last = result["trace"][-1]
    limit = f" or {args.max_iterations} iterations" if args.max_iterations else ""
    print(f"{cfg.model} on {cfg.data}: " + (f"good after {result['seconds']:.0f} s ({result['iterations']} iterations)"
          if result["seconds"] is not None else
          f"not good within {args.budget:.0f} s{limit} ({result['iterations']} iterations; last: {last['classes_covered']} "
          f"classes, KL {last['class_kl_to_uniform']:.3f}, Fréchet {last['frechet_over_floor']:.1f}x floor)"))
    return 0


def cmd_semi(args) -> int:
    from ..semi import semi

    trainer = Trainer.load(args.checkpoint, device=args.device)
    result = semi(trainer, args.labels, repeats=args.repeats, seed=args.seed, data_root=args.data_root)
    print(json.dumps({"checkpoint": args.checkpoint, "step": trainer.step_count, **result}, indent=2))
    return 0
