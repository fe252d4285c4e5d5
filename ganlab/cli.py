"""Command line: `python -m ganlab train | sample | eval | semi | ...`.

    python -m ganlab train --data ring --steps 2000 --out checkpoints/ring.pt
    python -m ganlab train --resume checkpoints/ring.pt --steps 1000 --out checkpoints/ring.pt
    torchrun --standalone --nproc-per-node 2 -m ganlab train --data ring --steps 2000 --out ring.pt
    python -m ganlab sample checkpoints/ring.pt --n 2500 --seed 0 --out ring.npy
    python -m ganlab sample checkpoints/mnist-cond.pt --n 64 --label 7 --out sevens.png
    python -m ganlab eval checkpoints/ring.pt
    python -m ganlab semi checkpoints/mnist-dcgan.pt --labels 100 --repeats 3
    python -m ganlab encode checkpoints/mnist-dcgan.pt --images x.npy --refine 100 --out z.npy
    python -m ganlab complete checkpoints/mnist-dcgan.pt --images x.npy --mask bottom --n 4 --out c.png
    python -m ganlab classifier --data mnist --out checkpoints/classifier-mnist.pt
    python -m ganlab time-to-good --model dcgan-deep --precision bf16 --budget 300

Training flags are generated from the fields of `Config`, so the CLI, the app and the library
cannot drift apart. Every user error ends as one line on stderr and exit code 1, no traceback.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from . import distributed, memory, sampling
from .checkpoint import atomic_write, load_checkpoint
from .config import (DATASETS, FIELD_TYPES, FIELDS, STRUCTURAL, Config, allowed, check_field, make_config,
                     needs_new_run, rules)
from .data import check_data_root
from .errors import CheckpointError, ConfigError, DivergenceError, GanlabError
from .evaluate import METRICS, evaluate
from .outputs import check_input, check_output, check_space
from .recipes import DEFAULT_RECIPE, RECIPES, recipe_for
from .trainer import Trainer


def config_help(name: str) -> str:
    """A field's help for --help, from its declared rules: what it is, its choices, its default and
    the recipes that set it."""
    rule, default = rules(name), Config.__dataclass_fields__[name].default
    parts = [rule["help"], ("one of " if "choices" in rule else "") + allowed(name)]
    parts.append(f"default: {default}")
    recipes = [f"{r}: {recipe.settings[name]}" for r, recipe in RECIPES.items() if name in recipe.settings]
    if recipes:
        parts.append("recipe " + ", ".join(recipes))
    return "; ".join(parts)


def fields_table() -> str:
    """Every config field as a Markdown table, from its declared rules (README.md holds its output)."""
    lines = ["| flag | URL key | default | allowed | in a live run | what |", "|---|---|---|---|---|---|"]
    for name in FIELDS:
        rule, default = rules(name), Config.__dataclass_fields__[name].default
        live = "needs a new run" if rule["structural"] else \
            "in place to a loss with D's meaning, else a new run" if name == "loss" else "applies in place"
        lines.append(f"| `--{name.replace('_', '-')}` | `{name}` | {default} | {allowed(name)} | {live} | {rule['help']} |")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line too (like every other error here), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def _add_device(parser) -> None:
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")


def _add_data_root(parser) -> None:
    parser.add_argument("--data-root", help="folder for mnist / fashion-mnist (default: $GANLAB_DATA, "
                        "else ~/.cache/ganlab)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ganlab", description="ganlab: train, sample and "
                                     "evaluate Generative Adversarial Nets (Goodfellow et al., 2014).")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train N more iterations (k D steps + 1 G step each)")
    train.add_argument("--steps", type=int, required=True, help="iterations to train")
    train.add_argument("--out", required=True, help="checkpoint file to write")
    train.add_argument("--resume", help="checkpoint to continue from (its config, with lr/k/loss/... overrides)")
    train.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                       help="also write --out every N iterations (default: 0, only at the end)")
    _add_device(train)
    _add_data_root(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--compile", action="store_true", help="torch.compile the training passes (opt-in: "
                       "a compile of tens of seconds first; see docs/performance.md)")
    train.add_argument("--cuda-graph", action="store_true", help="on a GPU, replay each iteration as one captured "
                       "CUDA graph (no rate schedule or lazy R1; see docs/performance.md)")
    _add_config_flags(train)

    sample = sub.add_parser("sample", help="write samples from a checkpoint's G to a .npy file")
    sample.add_argument("checkpoint")
    sample.add_argument("--n", type=int, default=None, help="number of samples (default: 64, or one per row of --z)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    sample.add_argument("--label", type=int, help="a conditional checkpoint's class for every sample (default: "
                        "classes drawn with the training data's frequencies)")
    sample.add_argument("--out-labels", help=".npy file for the class of each sample (int64, conditional checkpoints)")
    sample.add_argument("--z", help=".npy file of noise vectors (N, latent_dim), e.g. from `encode`: one sample each")
    sample.add_argument("--out", required=True, help=".npy file: (N, d) for toy data, (N, C, H, W) in [0, 1] for images; "
                        "or a .png grid of image samples")
    _add_device(sample)

    ev = sub.add_parser("eval", help="print a checkpoint's metrics as JSON")
    ev.add_argument("checkpoint")
    ev.add_argument("--metric", action="append", choices=list(METRICS), help="metric to compute, repeatable "
                    "(default: all that apply to the checkpoint's dataset)")
    ev.add_argument("--n", type=int, default=None, help="samples drawn from G (default: 2500 for toy data, "
                    "10000 for the classifier metrics; Parzen always uses 10000)")
    ev.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    _add_device(ev)
    _add_data_root(ev)
    ev.add_argument("--classifier", help="classifier weights (default: checkpoints/classifier-DATA.pt)")

    cl = sub.add_parser("classifier", help="train the small CNN that the classifier metrics use")
    cl.add_argument("--data", required=True, help="mnist or fashion-mnist")
    cl.add_argument("--epochs", type=int, default=3, help="default: 3")
    cl.add_argument("--seed", type=int, default=0, help="default: 0")
    cl.add_argument("--out", required=True, help="where to write the weights")
    _add_data_root(cl)
    cl.add_argument("--quiet", action="store_true", help="no progress bar")
    be = sub.add_parser("bench", help="iterations/s of the trainer against the seed's loop, side by side")
    be.add_argument("--iters", type=int, default=300, help="timed iterations per case (default: 300)")
    be.add_argument("--warmup", type=int, default=50, help="untimed iterations first (default: 50)")
    _add_device(be)
    _add_data_root(be)
    be.add_argument("--json", action="store_true", help="print JSON instead of a table")
    be.add_argument("--compile", action="store_true", help="also time the pytorch-mlp pair under torch.compile")
    be.add_argument("--cuda-graph", action="store_true", help="also time the pytorch-mlp pair with each iteration "
                    "replayed as a CUDA graph")
    be.add_argument("--sweep", action="store_true", help="instead, the pytorch-mlp pair (and the seed loop) at "
                    "batch sizes 16 to 1024, fp32 and bf16")
    be.add_argument("--cond", action="store_true", help="instead, each MNIST model unconditional and conditional "
                    "(input, projection), twice over")
    se = sub.add_parser("semi", help="Sec. 7.4: test error of a linear classifier on D's features from a few "
                        "labels, against raw pixels and a random D of the same shape (JSON)")
    se.add_argument("checkpoint")
    se.add_argument("--labels", type=int, required=True, help="labelled training images, an equal number per class")
    se.add_argument("--repeats", type=int, default=3, help="label draws to average over (default: 3)")
    se.add_argument("--seed", type=int, default=0, help="seed of the first draw (default: 0)")
    _add_device(se)
    _add_data_root(se)
    en = sub.add_parser("encoder", help="Sec. 7.2: train an inference net E: x -> z on the fixed G's own samples, "
                        "saved into the checkpoint")
    en.add_argument("checkpoint")
    en.add_argument("--steps", type=int, default=None, help="training steps of 256 pairs (default: 3000)")
    en.add_argument("--seed", type=int, default=0, help="seed of the pairs drawn (default: 0)")
    en.add_argument("--out", help="checkpoint to write (default: the checkpoint itself, rewritten atomically)")
    _add_device(en)
    en.add_argument("--quiet", action="store_true", help="no progress bar")
    ec = sub.add_parser("encode", help="z for each image of a .npy file: E(x), optionally refined by a search")
    ec.add_argument("checkpoint")
    ec.add_argument("--images", required=True, help=".npy of images (N, C, H, W) or (N, H, W) in [0, 1]")
    ec.add_argument("--out", required=True, help=".npy file for z (N, latent_dim), float32")
    ec.add_argument("--refine", type=int, default=0, metavar="STEPS", help="gradient steps on z from E(x), on the "
                    "pixel and D-feature error of G(z) (default: 0)")
    ec.add_argument("--label", type=int, help="a conditional checkpoint's class for every image (refinement)")
    _add_device(ec)
    co = sub.add_parser("complete", help="Sec. 7.3: fill the masked pixels of each image from G, K ways")
    co.add_argument("checkpoint")
    co.add_argument("--images", required=True, help=".npy of images (N, C, H, W) or (N, H, W) in [0, 1]")
    co.add_argument("--mask", required=True, help="the hidden part: top, bottom, left, right, or a .npy of the "
                    "image's shape whose nonzero pixels are hidden")
    co.add_argument("--n", type=int, default=4, help="completions per image (default: 4)")
    co.add_argument("--refine", type=int, default=200, metavar="STEPS", help="search steps per completion (default: 200)")
    co.add_argument("--label", type=int, help="a conditional checkpoint's class (default: drawn per completion)")
    co.add_argument("--seed", type=int, default=0, help="seed of the starts (default: 0)")
    co.add_argument("--out", required=True, help=".npy (N, K, C, H, W) in [0, 1], or a .png grid: each image "
                    "as given (hidden pixels grey), then its completions")
    _add_device(co)
    sub.add_parser("fields", help="every training setting: flag, URL key, default, allowed values (Markdown)")
    tg = sub.add_parser("time-to-good", help="training seconds until an MNIST generator covers 10/10 classes "
                        "with class KL <= 0.05 and Fréchet <= 3x the real-data floor")
    tg.add_argument("--budget", type=float, default=600, help="training seconds to give up after (default: 600)")
    tg.add_argument("--eval-every", type=int, default=500, help="iterations between judgements (default: 500)")
    tg.add_argument("--out", help="also save the final checkpoint here")
    tg.add_argument("--json", help="write the trace as JSON to this file")
    _add_device(tg)
    _add_data_root(tg)
    _add_config_flags(tg)
    return parser


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config (defaults are the toy setup; a recipe sets training settings, and "
                                      "any flag given wins)")
    group.add_argument("--recipe", choices=list(RECIPES), help="named training settings: " + "; ".join(
        f"{name}: {recipe.summary}" for name, recipe in RECIPES.items()) + " (default: the model's own: " +
        ", ".join(f"{m} → {r}" for m, r in DEFAULT_RECIPE.items()) + ")")
    for name in FIELDS:
        const = rules(name).get("flag_const")          # a flag that may stand alone: --cond
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=FIELD_TYPES[name], default=None,
                           metavar=name.upper(), help=config_help(name),
                           **({"nargs": "?", "const": const} if const else {}))


def _overrides(args) -> dict:
    return {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}


def cmd_train(args) -> int:
    if args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}")
    if args.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    ranks = distributed.from_env()              # under torchrun: one process of a data-parallel job
    if ranks is None:
        return _train(args, args.device, None)
    try:
        return _train(args, distributed.start(ranks, args.device), ranks)
    finally:
        distributed.stop()


def _train(args, device, ranks: distributed.Ranks | None) -> int:
    overrides = _overrides(args)
    main_rank = ranks is None or ranks.is_main
    end = None
    if ranks is not None and distributed.restarted() and Path(args.out).is_file():
        # torchrun restarted the job after a failure: go on from the last checkpoint, to the step
        # the first start was asked to reach.
        args.resume, args.recipe = args.out, None
        end = load_checkpoint(args.out).get("target_step")
    if args.resume:
        if args.recipe:
            raise ConfigError("--recipe starts a new run; with --resume, change single settings (--lr-g, --k, ...)")
        trainer = Trainer.load(args.resume, device=device, data_root=args.data_root, compile=args.compile, ranks=ranks)
        wanted = {k: check_field(k, v) for k, v in overrides.items()}
        clash = [k for k in STRUCTURAL if k in wanted and wanted[k] != getattr(trainer.config, k)]
        if clash:
            raise CheckpointError(f"{args.resume} does not fit the requested config: " + "; ".join(
                f"--{k.replace('_', '-')} {wanted[k]} (checkpoint: {getattr(trainer.config, k)})" for k in clash)
                + f"; {needs_new_run(clash)}: drop those flags, or start a new run without --resume")
        trainer.update(**wanted)
        if args.cuda_graph:                 # after the changes: they may be what makes the run capturable
            trainer.use_cuda_graph()
        how = f"resumed from {args.resume}"
    else:
        if "data" not in overrides:
            raise ConfigError(f"--data is required for a new run; choose one of: {', '.join(DATASETS)}, or folder:PATH")
        trainer = Trainer(make_config(args.recipe, **overrides), device=device, data_root=args.data_root,
                          compile=args.compile, ranks=ranks, cuda_graph=args.cuda_graph)
        how = f"recipe {recipe_for(trainer.config.model, args.recipe)}"
    cfg, start = trainer.config, trainer.step_count
    end = start + args.steps if end is None else end
    if main_rank:               # rank 0 writes the checkpoints
        # A second save writes beside the first before it replaces it: twice the size when both are new.
        twice = bool(args.checkpoint_every) and args.checkpoint_every < end - start and not Path(args.out).exists()
        check_space({"--out": (args.out, (1 + twice) * memory.checkpoint_bytes(cfg))})
    if args.cuda_graph and trainer.device.type != "cuda" and main_rank:
        print("no CUDA device: --cuda-graph runs each iteration eagerly (the same path, nothing captured)",
              file=sys.stderr)
    trainer.load_data()         # load (and report missing data) before the progress bar starts
    save = functools.partial(trainer.save, args.out, target_step=end)

    def checkpoint(t: Trainer, stats: dict) -> None:
        if args.checkpoint_every and t.step_count % args.checkpoint_every == 0:
            save()

    world = "" if ranks is None else f" x {ranks.world_size} processes"
    if main_rank:
        print(f"training {cfg.model} on {cfg.data} ({trainer.device}{world}) from step {start} for {end - start} "
              f"iterations ({how}: {cfg.optimizer} lr {cfg.lr_g:g}/{cfg.lr_d:g}, k={cfg.k}, batch {cfg.batch_size}"
              f"{' per process' if ranks else ''}, loss {cfg.loss})", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        trainer.train(end - start, callback=checkpoint, every=args.checkpoint_every or None,
                      progress=not args.quiet and main_rank)
    except DivergenceError as exc:
        save()
        raise DivergenceError(f"{exc}; that state is saved to {args.out}") from None
    seconds = time.perf_counter() - t0
    save()
    done = trainer.step_count - start
    if main_rank:
        print(f"trained {done} iterations in {seconds:.1f} s: {done / seconds:.1f} it/s"
              f"{f' ({done * cfg.batch_size * ranks.world_size / seconds:,.0f} images/s in all)' if ranks else ''}; "
              f"step {trainer.step_count} saved to {args.out}")
    return 0


def cmd_sample(args) -> int:
    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    trainer = Trainer.load(args.checkpoint, device=args.device, training=False)
    cfg = trainer.config
    if args.out_labels and not cfg.classes:
        raise ConfigError(f"{args.checkpoint} is unconditional (trained without --cond): it has no labels for --out-labels")
    png = str(args.out).lower().endswith(".png")
    if png and not cfg.is_image:
        raise ConfigError(f"a .png grid needs image data; {cfg.data!r} samples go to a .npy file")
    z = None
    if args.z:
        z = torch.from_numpy(read_npy(args.z, "--z")).float()
        if z.ndim != 2 or z.shape[1] != cfg.latent_dim or not len(z):
            raise ConfigError(f"--z {args.z} has shape {tuple(z.shape)}; this generator takes (N, "
                              f"{cfg.latent_dim}) noise vectors")
        if not bool(torch.isfinite(z).all()):
            raise ConfigError(f"--z {args.z} holds NaN or inf values")
        if args.n is not None and args.n != len(z):
            raise ConfigError(f"--n {args.n} and --z with {len(z)} rows disagree; drop --n (one sample per row)")
    n = len(z) if z is not None else args.n or 64
    # What the files and the memory take, before anything is drawn.
    outputs = {"--out": (args.out, sampling.npy_bytes((n,), sampling.file_bytes_per_sample(cfg, png, labels=False)))}
    if args.out_labels:
        outputs["--out-labels"] = (args.out_labels, sampling.npy_bytes((n,), 8))
    per_sample = sampling.file_bytes_per_sample(cfg, png, labels=bool(args.out_labels))

    def fix(free: int) -> str:
        fits = (free - 256) // per_sample
        return f"use --n {fits} or less" if fits >= 1 else "free some space or write elsewhere"
    check_space(outputs, fix=fix)
    rows = sampling.chunk_rows(cfg)
    memory.check_sampling_fits(cfg, n, rows, sampling.held_bytes_per_sample(cfg, png), memory.available_memory())
    chunks = sampling.sample_chunks(trainer, n, args.seed, rows, z=z, label=args.label)
    labels = []

    def samples():
        for x, y in chunks:
            labels.append(y)
            yield x

    if png:
        x = torch.cat(list(samples()))
        write_grid(args.out, x, math.ceil(math.sqrt(n)))
    else:
        atomic_write(args.out, lambda f: sampling.write_npy_chunks(f, samples(), (n, *cfg.shape)))
    if args.out_labels:
        atomic_write(args.out_labels, lambda f: np.save(f, torch.cat(labels).numpy()))
    print(f"wrote a grid of {n} samples to {args.out}" if png else
          f"wrote float32 samples of shape {(n, *cfg.shape)} to {args.out}")
    return 0


MAX_NPY_BYTES = 2**30         # an input array larger than this is refused before it is read


def read_npy(path: str, flag: str) -> np.ndarray:
    """A numeric .npy array, or a one-line ConfigError (no pickles: a file never runs code; a huge one
    is refused from its header)."""
    try:
        header = np.load(path, mmap_mode="r", allow_pickle=False)
        if header.nbytes > MAX_NPY_BYTES:
            raise ConfigError(f"{flag} {path} holds {header.nbytes / 2**20:,.0f} MB; at most "
                              f"{MAX_NPY_BYTES // 2**20:,} MB are read (split it into parts)")
        array = np.array(header)
    except FileNotFoundError:
        raise ConfigError(f"{flag} {path}: no such file") from None
    except (ValueError, OSError, EOFError) as exc:
        raise ConfigError(f"{flag} {path} is not a .npy array ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ConfigError(f"{flag} {path} holds {getattr(array, 'dtype', type(array))} values, not numbers")
    return array


def write_npy(path: str, values: torch.Tensor) -> np.ndarray:
    """`values` as float32 in a .npy file, written atomically; the array written."""
    array = values.numpy().astype(np.float32)
    atomic_write(path, lambda f: np.save(f, array))
    return array


def write_grid(path: str, images, nrow: int) -> None:
    from PIL import Image

    from .plots import image_grid

    grid = Image.fromarray(image_grid(images, nrow=nrow))
    atomic_write(path, lambda f: grid.save(f, format="PNG"))


def _encoder_trainer(args) -> Trainer:
    trainer = Trainer.load(args.checkpoint, device=args.device)
    if not trainer.config.is_image:
        raise ConfigError(f"{args.checkpoint} is a {trainer.config.data} generator: inference and completion are "
                          f"for image generators")
    return trainer


MAX_STEPS = 1_000_000           # encoder training steps, search steps: far past any use, a guard on typos
MAX_COMPLETIONS = 64


def _check_range(flag: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{flag} must be from {lo:,} to {hi:,}, got {value:,}")


def cmd_encoder(args) -> int:
    from .inference import ENCODER_STEPS, train_encoder

    steps = ENCODER_STEPS if args.steps is None else args.steps
    _check_range("--steps", steps, 1, MAX_STEPS)
    trainer = _encoder_trainer(args)
    out = args.out or args.checkpoint
    # The checkpoint written holds all the file read holds, and the encoder besides.
    check_space({"--out": (out, Path(args.checkpoint).stat().st_size)})
    t0 = time.perf_counter()
    result = train_encoder(trainer, steps, seed=args.seed, progress=not args.quiet)
    trainer.save(out)
    print(f"trained the encoder {steps} steps in {time.perf_counter() - t0:.0f} s ({result['steps']} in all); "
          f"z error {result['z_mse']:.4f} per coordinate on G's samples; saved to {out}")
    return 0


def cmd_encode(args) -> int:
    from .inference import encode

    _check_range("--refine", args.refine, 0, MAX_STEPS)
    trainer = _encoder_trainer(args)
    images = torch.from_numpy(read_npy(args.images, "--images"))
    z = write_npy(args.out, encode(trainer, images, refine=args.refine, labels=args.label))
    print(f"wrote z of shape {z.shape} to {args.out}")
    return 0


def cmd_complete(args) -> int:
    from .inference import MASKS, check_images, complete, named_mask

    _check_range("--n", args.n, 1, MAX_COMPLETIONS)
    _check_range("--refine", args.refine, 0, MAX_STEPS)
    trainer = _encoder_trainer(args)
    images = check_images(trainer, torch.from_numpy(read_npy(args.images, "--images")))
    shape = trainer.config.shape
    named = args.mask in MASKS or not args.mask.lower().endswith(".npy")       # a name, or a file
    mask = named_mask(args.mask if named else torch.from_numpy(read_npy(args.mask, "--mask")), shape)
    out = complete(trainer, images, mask, n=args.n, steps=args.refine, labels=args.label, seed=args.seed)
    if str(args.out).lower().endswith(".png"):
        given = images * (1 - mask) + 0.5 * mask
        write_grid(args.out, torch.cat([given[:, None], out], 1).flatten(0, 1), args.n + 1)
        print(f"wrote a grid of {len(images)} images and {args.n} completions each to {args.out}")
        return 0
    array = write_npy(args.out, out)
    print(f"wrote completions of shape {array.shape} to {args.out}")
    return 0


# ------------------------------------------------------------------ eval
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


def cmd_classifier(args) -> int:
    from .classifier import fit, save_classifier

    if args.data not in ("mnist", "fashion-mnist"):
        raise ConfigError(f"the classifier is for mnist or fashion-mnist, not {args.data!r}")
    model, acc, seconds = fit(args.data, args.data_root, epochs=args.epochs, seed=args.seed, progress=not args.quiet)
    save_classifier(model, args.out, args.data, acc, seconds)
    print(f"test accuracy {acc:.4f} after {args.epochs} epochs ({seconds:.0f} s); saved to {args.out}")
    return 0


def cmd_bench(args) -> int:
    from .bench import format_table, run

    if args.iters < 1 or args.warmup < 0:
        raise ConfigError("--iters must be >= 1 and --warmup >= 0")
    if args.cond and (args.sweep or args.compile or args.cuda_graph):
        raise ConfigError("--cond runs its own cases; run it without --sweep, --compile and --cuda-graph")
    result = run(iters=args.iters, warmup=args.warmup, data_root=args.data_root, device=args.device,
                 compile=args.compile, sweep=args.sweep, cond=args.cond, cuda_graph=args.cuda_graph)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def cmd_time_to_good(args) -> int:
    from .timetogood import time_to_good

    cfg = make_config(args.recipe, **{"data": "mnist", **_overrides(args)})
    if cfg.data not in ("mnist", "fashion-mnist"):
        raise ConfigError(f"time-to-good judges mnist or fashion-mnist generators, not {cfg.data!r}")
    if args.budget <= 0 or args.eval_every < 1:
        raise ConfigError("--budget must be > 0 and --eval-every >= 1")
    if args.out:
        check_space({"--out": (args.out, memory.checkpoint_bytes(cfg))})
    result = time_to_good(cfg, args.budget, args.eval_every, device=args.device, data_root=args.data_root,
                          log=lambda line: print(line, file=sys.stderr))
    if args.out:
        result["trainer"].save(args.out)
    summary = {"model": cfg.model, "recipe": recipe_for(cfg.model, args.recipe), "data": cfg.data, "batch_size": cfg.batch_size, "lr_g": cfg.lr_g, "lr_d": cfg.lr_d,
               "k": cfg.k, "loss": cfg.loss, "seconds_to_good": result["seconds"], "iterations": result["iterations"],
               "frechet_floor": result["floor"], "config": asdict(cfg), "trace": result["trace"]}
    if args.json:
        atomic_write(args.json, lambda f: f.write(json.dumps(summary, indent=2).encode()))
    last = result["trace"][-1]
    print(f"{cfg.model} on {cfg.data}: " + (f"good after {result['seconds']:.0f} s ({result['iterations']} iterations)"
          if result["seconds"] is not None else
          f"not good within {args.budget:.0f} s ({result['iterations']} iterations; last: {last['classes_covered']} "
          f"classes, KL {last['class_kl_to_uniform']:.3f}, Fréchet {last['frechet_over_floor']:.1f}x floor)"))
    return 0


def cmd_semi(args) -> int:
    from .semi import semi

    trainer = Trainer.load(args.checkpoint, device=args.device)
    result = semi(trainer, args.labels, repeats=args.repeats, seed=args.seed, data_root=args.data_root)
    print(json.dumps({"checkpoint": args.checkpoint, "step": trainer.step_count, **result}, indent=2))
    return 0


def cmd_fields(args) -> int:
    print(fields_table())
    return 0


# Every file a command writes (its flag's dest) and the endings it writes, checked before any work.
OUTPUTS = {"train": {"out": (".pt",)}, "sample": {"out": (".npy", ".png"), "out_labels": (".npy",)},
           "classifier": {"out": (".pt",)}, "time-to-good": {"out": (".pt",), "json": (".json",)},
           "encoder": {"out": (".pt",)}, "encode": {"out": (".npy",)}, "complete": {"out": (".npy", ".png")}}


def check_outputs(args) -> None:
    """Each output of `args.command` that is given can be written, or a one-line ConfigError."""
    for dest, endings in OUTPUTS.get(args.command, {}).items():
        if getattr(args, dest, None):
            check_output(getattr(args, dest), "--" + dest.replace("_", "-"), endings)


# Every file a command reads (its flag's dest) and what it holds, checked as the outputs are; a data
# root is checked where it is given (it need not exist: MNIST and the like are downloaded into it).
INPUTS = {"train": {"resume": "checkpoint"}, "sample": {"checkpoint": "checkpoint", "z": "--z"},
          "eval": {"checkpoint": "checkpoint", "classifier": "classifier"}, "semi": {"checkpoint": "checkpoint"},
          "encoder": {"checkpoint": "checkpoint"}, "encode": {"checkpoint": "checkpoint", "images": "--images"},
          "complete": {"checkpoint": "checkpoint", "images": "--images"}}


def check_inputs(args) -> None:
    """Each file `args.command` reads, and its data root, can be read, or a one-line error."""
    for dest, what in INPUTS.get(args.command, {}).items():
        if getattr(args, dest, None):
            check_input(getattr(args, dest), what)
    if getattr(args, "data_root", None):
        check_data_root(args.data_root)


COMMANDS = {"fields": cmd_fields, "train": cmd_train, "time-to-good": cmd_time_to_good, "sample": cmd_sample, "eval": cmd_eval, "classifier": cmd_classifier,
            "bench": cmd_bench, "semi": cmd_semi, "encoder": cmd_encoder, "encode": cmd_encode,
            "complete": cmd_complete}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_outputs(args)
        check_inputs(args)
        return COMMANDS[args.command](args)
    except GanlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint written is intact", file=sys.stderr)
        return 130
