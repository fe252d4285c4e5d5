"""A run's state as a checkpoint holds it, and back: what `Trainer.state_dict()` writes and
`Trainer.load_state_dict()` reads (the file format and its checks are `checkpoint.py`'s).

`run_state` is also what a rollback restores: weights, optimizer moments, the averages, the stream
and the step, as references to the live tensors (`snapshot.py` copies them).

A file without optimizer state (a slimmed shipped one; `checkpoint.py`) loads like any other; its
optimizers start with fresh moments, and the first step after the load says so in one warning.
"""

from __future__ import annotations

import copy
import warnings
import weakref
from dataclasses import asdict

import torch

from . import distributed, ema, optim
from .checkpoint import (FORMAT, VERSION, check_state, holds_moments, load_checkpoint, non_finite_part, points_of,
                         resumed_stream, save_atomic)
from .config import config_from_dict
from .data import PointCloud
from .devices import resolve_device
from .errors import CheckpointError, ConfigError
from .history import HISTORY_KEYS, History
from .models import build_class_net, build_encoder


def run_state(trainer) -> dict:
    """What a rollback restores: weights, optimizer moments, the average, the stream, the step."""
    return {"G": trainer.G.state_dict(), "D": trainer.D.state_dict(), "opt_g": trainer.opt_g.state_dict(),
            "opt_d": trainer.opt_d.state_dict(), "rng": trainer.rng.get_state(), "step": trainer.step_count,
            **({"G_ema": trainer.G_ema.state_dict()} if trainer.G_ema is not None else {}),
            **({"D_ema": trainer.d_ema.net.state_dict()} if trainer.d_ema is not None else {})}


def load_run_state(trainer, state: dict, ema_decay: float) -> None:
    """Load a `run_state` (a rollback's or a file's) into the live modules; an average with decay
    `ema_decay` starts at the loaded G when `state` has none (a file from before `ema` was on)."""
    trainer.G.load_state_dict(state["G"])
    trainer.D.load_state_dict(state["D"])
    for opt, key in ((trainer.opt_g, "opt_g"), (trainer.opt_d, "opt_d")):
        if state.get(key) is not None:
            opt.load_state_dict(state[key])
        else:                           # a slimmed file: moments start fresh (`load_state_dict` warns)
            opt.state.clear()
    optim.set_capturable(trainer._capture_on, trainer.opt_g, trainer.opt_d)     # the file's flag is not this run's
    trainer.ema = ema.kept(None, trainer.G, ema_decay)
    trainer.d_ema = ema.kept(None, trainer.D, ema_decay if trainer.config.semi_labels else 0.0)
    for avg, key in ((trainer.ema, "G_ema"), (trainer.d_ema, "D_ema")):
        if avg is not None and state.get(key) is not None:
            avg.net.load_state_dict(state[key])
    trainer.rng.set_state(state["rng"])
    trainer.step_count, trainer._pending = state["step"], None
    trainer._graph = None              # the optimizers' moments are new tensors: capture again


def roll_back(trainer, saved: dict) -> None:
    """Back to a `run_state` taken before a call that met NaN/inf. A copy, since the optimizers keep
    the tensors they load and would then update the snapshot's buffers in place; rare enough that its
    cost does not matter."""
    load_run_state(trainer, copy.deepcopy(saved), trainer.config.ema)


def state_dict(trainer) -> dict:
    """Everything a run needs to continue bit-identically, as plain tensors and containers."""
    return {
        "format": FORMAT, "version": VERSION, "config": asdict(trainer.config), **run_state(trainer),
        "rng": {"device": trainer.device.type, "state": trainer.rng.get_state()},
        # The processes that trained it, and under torchrun each one's stream (rank 0's is "rng").
        "world_size": 1 if trainer.ranks is None else trainer.ranks.world_size,
        **({"rng_ranks": distributed.gather_streams(trainer.rng)} if trainer.ranks is not None else {}),
        "fixed_z": trainer.fixed_z.cpu(),
        **trainer._history.state(),     # "history" rows and their "history_stride"
        # A user's own point set cannot be reloaded by name, so it travels with the run.
        **({"points": trainer.data.points.cpu()} if trainer.config.data == "points" else {}),
        **inference_nets(trainer),
    }


def inference_nets(trainer) -> dict:
    """The checkpoint entries of the nets trained after G that the trainer holds: the inference net E
    ("encoder") and a conditional G's class net ("class_net")."""
    return {**({"encoder": {"weights": trainer.encoder.state_dict(), "steps": trainer.encoder_steps,
                            "g_step": trainer.encoder_g_step}} if trainer.encoder is not None else {}),
            **({"class_net": trainer.class_net.entry()} if trainer.class_net is not None else {})}


def load_state_dict(trainer, sd: dict) -> None:
    """Continue from a `state_dict` (checked first: each fault a one-line CheckpointError)."""
    cfg = config_from_dict(sd["config"])
    diff = trainer.config.structural_diff(cfg)
    if diff:
        raise CheckpointError(f"checkpoint does not fit this trainer: {', '.join(diff)} differ")
    step = check_state(sd, fixed_z_shape=trainer.fixed_z.shape, rng_state_shape=trainer.rng.get_state().shape,
                       device_type=trainer.device.type, n_keys=len(HISTORY_KEYS))
    broken = non_finite_part(sd)
    if broken:
        raise CheckpointError(f"checkpoint holds NaN or inf in {broken}: the saved state itself is broken, so "
                              f"sampling would give NaN and resuming cannot help; use an earlier checkpoint, or "
                              f"start a new run")
    history = History.from_state(sd["history"], sd.get("history_stride", 1), step, trainer.device)
    rank, world = (0, 1) if trainer.ranks is None else (trainer.ranks.rank, trainer.ranks.world_size)
    stream = resumed_stream(sd, trainer.device.type, rank, world, cfg.seed, step)
    try:
        load_run_state(trainer, {**sd, "step": step, "rng": stream if isinstance(stream, torch.Tensor)
                                 else trainer.rng.get_state()}, cfg.ema)
    except (RuntimeError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise CheckpointError(f"checkpoint weights do not fit the model: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(stream, torch.Tensor):
        trainer.rng.manual_seed(stream)
    trainer.config, trainer.fixed_z, trainer._history = cfg, sd["fixed_z"].to(trainer.device), history
    fresh_moments_notice(trainer)       # what an earlier load of this trainer left to say holds no more
    if not holds_moments(sd):           # no saved param groups either: the rates the config sets at this step
        optim.set_betas(cfg, trainer.opt_g, trainer.opt_d)
        optim.apply(cfg, step, trainer.opt_g, trainer.opt_d)
        _warn_at_first_step(trainer)
    if sd.get("encoder") is not None:
        load_encoder(trainer, sd["encoder"])
    if sd.get("class_net") is not None:
        load_class_net(trainer, sd["class_net"])


FRESH_MOMENTS = ("the checkpoint holds no optimizer state (a slimmed, shipped file): both optimizers' moments start "
                 "fresh, so this run is not bit-identical to one that kept them")
_unsaid: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()    # trainer -> its first-step hooks


def _warn_at_first_step(trainer) -> None:
    """Warn once, at the first optimizer step, that the moments started fresh: a file loaded only to
    sample, evaluate or explore never steps, and stays silent."""
    def warn(*_):
        if fresh_moments_notice(trainer):
            warnings.warn(FRESH_MOMENTS)

    _unsaid[trainer] = [opt.register_step_pre_hook(warn) for opt in (trainer.opt_g, trainer.opt_d)]


def fresh_moments_notice(trainer) -> str | None:
    """The one-line notice that `trainer` was loaded from a file without optimizer state and has not
    stepped since, else None. Taking it withdraws the warning of the first step, for a caller that
    prints the notice itself (the CLI's resume line)."""
    hooks = _unsaid.pop(trainer, None)
    for hook in hooks or ():
        hook.remove()
    return FRESH_MOMENTS if hooks is not None else None


def load_encoder(trainer, saved: dict) -> None:
    encoder = build_encoder(trainer.config).to(trainer.device)
    try:
        encoder.load_state_dict(saved["weights"])
        steps, g_step = int(saved["steps"]), int(saved["g_step"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint encoder does not fit the model: {str(exc).splitlines()[0][:200]}") from None
    trainer.encoder, trainer.encoder_steps, trainer.encoder_g_step = encoder.eval(), steps, g_step


def load_class_net(trainer, saved: dict) -> None:
    net = build_class_net(trainer.config).to(trainer.device)
    try:
        net.load_state_dict(saved["weights"])
        net.steps, net.g_step = int(saved["steps"]), int(saved["g_step"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint class net does not fit the model ({str(exc).splitlines()[0][:200]}): "
                              f"train a new one with `python -m ganlab encoder CKPT --net class --fresh`") from None
    trainer.class_net = net.eval()



def load_file(cls, path, device="auto", **options):
    """A `cls` (Trainer) rebuilt from the checkpoint file at `path`, each fault a one-line CheckpointError."""
    dev = resolve_device(device)
    sd = load_checkpoint(path, map_location=dev)
    try:
        cfg = config_from_dict(sd["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path} holds an invalid config: {exc}") from None
    dataset = PointCloud(points_of(sd, path)) if cfg.data == "points" else None
    trainer = cls(cfg, device=dev, dataset=dataset, **options)
    try:
        trainer.load_state_dict(sd)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return trainer


def save(trainer, path, **extra) -> None:
    """Write a checkpoint atomically (temp file + rename), with `extra` top-level keys. Under torchrun
    every rank calls it (it gathers their streams) and rank 0 alone writes."""
    sd = {**state_dict(trainer), **extra}
    if trainer.ranks is None or trainer.ranks.is_main:
        save_atomic(sd, path)
