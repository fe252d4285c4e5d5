"""`train`: a new run from a recipe and flags, or `--resume` of a checkpoint with single settings
changed; under torchrun, one process of a data-parallel job.

    python -m ganlab train --data ring --steps 2000 --out checkpoints/ring.pt
    python -m ganlab train --resume checkpoints/ring.pt --steps 1000 --out checkpoints/ring.pt
    torchrun --standalone --nproc-per-node 2 -m ganlab train --data ring --steps 2000 --out ring.pt
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

from .. import distributed, memory
from ..checkpoint import load_checkpoint
from ..config import DATASETS, check_field, make_config, needs_new_run
from ..errors import CheckpointError, ConfigError, DivergenceError
from ..outputs import check_space
from ..recipes import recipe_for
from ..runstate import fresh_moments_notice
from ..trainer import Trainer
from .core import add_config_flags, add_data_root, add_device, flag, overrides


def add_train(sub) -> None:
    train = sub.add_parser("train", help="train N more iterations (k D steps + 1 G step each)")
    train.add_argument("--steps", type=int, required=True, help="iterations to train")
    train.add_argument("--out", required=True, help="checkpoint file to write")
    train.add_argument("--resume", help="checkpoint to continue from (its config, with lr/k/loss/... overrides)")
    train.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                       help="also write --out every N iterations (default: 0, only at the end)")
    add_device(train)
    add_data_root(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--compile", action="store_true", help="torch.compile the training passes (opt-in: "
                       "a compile of tens of seconds first; see docs/performance.md)")
    train.add_argument("--cuda-graph", action="store_true", help="on a GPU, replay each iteration as one captured "
                       "CUDA graph (no rate schedule or lazy R1; see docs/performance.md)")
    add_config_flags(train)


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


def _resumed(args, device, ranks: distributed.Ranks | None) -> Trainer:
    """The checkpoint `args.resume` with the settings given as flags applied; refused in one line
    when one of them needs a new run (`Config.structural_diff`: the networks, the data, the random
    stream, or a loss that gives D's output another meaning)."""
    if args.recipe:
        raise ConfigError("--recipe starts a new run; with --resume, change single settings (--lr-g, --k, ...)")
    trainer = Trainer.load(args.resume, device=device, data_root=args.data_root, compile=args.compile, ranks=ranks)
    wanted = {k: check_field(k, v) for k, v in overrides(args).items()}
    old = trainer.config
    new = old.replace(**wanted)
    clash = old.structural_diff(new)
    if clash:
        raise CheckpointError(f"{args.resume} does not fit the requested config: " + "; ".join(
            f"{flag(k)} {getattr(new, k)} (checkpoint: {getattr(old, k)})" for k in clash)
            + f"; {needs_new_run(clash)}: drop those flags, or start a new run without --resume")
    trainer.update(**wanted)
    if args.cuda_graph:                 # after the changes: they may be what makes the run capturable
        trainer.use_cuda_graph()
    return trainer


def _train(args, device, ranks: distributed.Ranks | None) -> int:
    main_rank = ranks is None or ranks.is_main
    end = None
    if ranks is not None and distributed.restarted() and Path(args.out).is_file():
        # torchrun restarted the job after a failure: go on from the last checkpoint, to the step
        # the first start was asked to reach.
        args.resume, args.recipe = args.out, None
        end = load_checkpoint(args.out).get("target_step")
    if args.resume:
        trainer = _resumed(args, device, ranks)
        how = f"resumed from {args.resume}"
        fresh = fresh_moments_notice(trainer)   # said here, in place of the warning of the first step
        if fresh and main_rank:
            print(f"{args.resume}: {fresh.removeprefix('the checkpoint ')}", file=sys.stderr)
    else:
        given = overrides(args)
        if "data" not in given:
            raise ConfigError(f"--data is required for a new run; choose one of: {', '.join(DATASETS)}, or folder:PATH")
        trainer = Trainer(make_config(args.recipe, **given), device=device, data_root=args.data_root,
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
