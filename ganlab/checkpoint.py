"""Checkpoint files: one `torch.save` dict of plain tensors and containers, written atomically and
read back with `weights_only=True`, so loading a file never runs code from it.

Layout (version 2). Always there: format, version, config (asdict), step, G, D (state dicts), rng
({"device": str, "state": uint8 tensor}), fixed_z, history ((rows, 5) float32 tensor: one row per
iteration, or per `history_stride` iterations past 65,536 of them; a file without `history_stride`
has stride 1). Where the run has them: G_ema when G's weights are averaged (and D_ema, a
semi-supervised D's average), points for a user's own data, encoder ({"weights": state dict,
"steps": int, "g_step": int}) once an inference net is trained (version 2; a version 1 file is the
same without it and loads as it was), and class_net, the same for a conditional G's class net.

Optional: opt_g and opt_d, the optimizers' state dicts. Every file training writes holds them, and
resuming from one is bit-identical to a run never stopped. The shipped files in checkpoints/ leave
them out (docs/tools/slim_checkpoints.py; they were most of each file, and sampling, evaluation and
the app never read them): such a file loads for everything, and training on from it starts the
optimizers' moments fresh, with a warning. A shipped file may also hold its weights (G, D, their
averages, the encoder, the class net) in bfloat16; `load_checkpoint` casts them back to float32.

The checks of what a file holds live here too, beside the format they check.
"""

from __future__ import annotations

import copy
import glob
import os
import pickle
import re
import tempfile
import warnings
from pathlib import Path

import torch

from . import distributed
from .errors import CheckpointError, first_line
from .outputs import check_input, source_size

FORMAT = "ganlab-checkpoint"
VERSION = 2
READABLE = (1, 2)       # versions this ganlab reads
# Refused before reading: far above any model ganlab builds, and a guard against a file that would
# fill memory when loaded.
MAX_BYTES = 2**30
REQUIRED = ("config", "step", "G", "D", "rng", "fixed_z", "history")
MOMENTS = ("opt_g", "opt_d")    # optional: a slimmed file has neither (see above)
# The parts that hold weights, which a slimmed file may store in bfloat16.
WEIGHTS = ("G", "D", "G_ema", "D_ema")


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call `write(file)` on a temporary file in `path`'s folder, flush it to disk, then rename it
    over `path`: a crash at any moment leaves the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)       # mkstemp makes 0600; the result should look like any saved file
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_orphans(path: Path) -> None:
    """Delete temporary files that a killed writer of `path` left behind (its pid is in the name and
    no longer runs); a live writer's file, or anything else, is left alone."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    if os.name != "posix":         # no harmless "is it alive" probe (signal 0 means Ctrl-C on Windows)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:        # someone else's process: running
        return True
    return True


def save_atomic(obj: dict, path: str | os.PathLike) -> None:
    """`torch.save` through `atomic_write`."""
    atomic_write(path, lambda f: torch.save(obj, f))


def checkpoint_dir() -> Path:
    """Where shipped and saved checkpoints live: $GANLAB_CHECKPOINTS, else the repository's
    checkpoints/ folder."""
    env = os.environ.get("GANLAB_CHECKPOINTS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "checkpoints"


NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


def checkpoint_path_in(folder: str | os.PathLike, name: str) -> Path:
    """`folder/name.pt` for a user-given name, refusing anything that could leave `folder`
    (separators, '..', hidden names): names are letters, digits, '_', '-', '.', at most 80."""
    stem = name.strip()
    stem = stem[:-3] if stem.endswith(".pt") else stem
    if not NAME_RULE.fullmatch(stem) or ".." in stem:
        raise CheckpointError(f"invalid checkpoint name {name!r}: use letters, digits, '_', '-' and '.', "
                              f"starting with a letter or digit (at most 80)")
    folder = Path(folder).resolve()
    path = (folder / f"{stem}.pt").resolve()
    if path.parent != folder:
        raise CheckpointError(f"invalid checkpoint name {name!r}: it must stay inside {folder}")
    return path


def in_folder(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether `path`, its links followed, lies in `folder`. The app offers and loads from its
    checkpoints folder only such files, so a link left there cannot make the server read a file
    elsewhere; the CLI follows any link, since whoever typed the path chose where it leads."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def load_checkpoint_file(path, map_location="cpu"):
    """`torch.load(weights_only=True)` of a path or a binary file-like object (an upload); every
    failure is a one-line `CheckpointError`. No format checks: see `load_checkpoint`."""
    source = path
    if hasattr(path, "read"):
        path = getattr(path, "name", None) or "uploaded file"
    else:
        source = path = check_input(path, "checkpoint", error=CheckpointError)
    size = source_size(source)
    if size > MAX_BYTES:
        raise CheckpointError(f"{path} is {size / 2**20:,.0f} MB; a ganlab checkpoint is at most "
                              f"{MAX_BYTES / 2**20:,.0f} MB, far above any model it builds, so it is not read")
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # weights_only refuses any global outside torch's allow-list: this is where a crafted
        # pickle that would run code ends up, before anything in it is called.
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unpickling refused"
        raise CheckpointError(f"{path} is not a ganlab checkpoint: it holds objects that are not plain "
                              f"tensors or containers, refused without running them ({reason[:200]})") from None
    except Exception as exc:  # zip reader errors (RuntimeError), EOFError, OSError ...
        raise CheckpointError(f"{path} is not a ganlab checkpoint, or it is truncated or corrupt "
                              f"({type(exc).__name__}: {first_line(exc)})") from None


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a ganlab training checkpoint and check its format, version and keys."""
    return widened(_checked(load_checkpoint_file(path, map_location), path))


def update_stored(path, change, out=None) -> dict:
    """Apply `change(state)` to the ganlab checkpoint file at `path` as stored (a slimmed file's
    bfloat16 weights stay bfloat16), write the result atomically to `out` (default: `path`) and
    return it."""
    state = _checked(load_checkpoint_file(path), path)
    change(state)
    state["version"] = VERSION          # an older file, with what this version adds, is one of this version
    save_atomic(state, path if out is None else out)
    return state


def _checked(obj, path) -> dict:
    """`obj`, read from `path`, if it is a ganlab checkpoint of a readable version with every key."""
    if hasattr(path, "read"):
        path = getattr(path, "name", None) or "uploaded file"
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganlab checkpoint (no format tag {FORMAT!r})")
    if obj.get("version") not in READABLE:
        raise CheckpointError(f"{path} has checkpoint version {obj.get('version')!r}; this ganlab reads "
                              f"versions {', '.join(map(str, READABLE))}")
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise CheckpointError(f"{path} is an incomplete ganlab checkpoint (missing: {', '.join(missing)})")
    return obj


def holds_moments(sd: dict) -> bool:
    """Whether a checkpoint carries both optimizers' state, so that resuming it is bit-identical
    (every file training writes does; a slimmed shipped file does not)."""
    return all(sd.get(k) is not None for k in MOMENTS)


def widened(sd: dict) -> dict:
    """`sd` with the bfloat16 tensors of its weights (a slimmed file's) cast to float32, the dtype
    every ganlab model keeps its parameters in, also when it trains under bf16 autocast."""
    out = {**sd, **{k: _widen(sd[k]) for k in WEIGHTS if k in sd}}
    for net in ("encoder", "class_net"):
        if isinstance(sd.get(net), dict):
            out[net] = {**sd[net], "weights": _widen(sd[net].get("weights"))}
    return out


def _widen(state):
    narrow = [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.dtype == torch.bfloat16] \
        if isinstance(state, dict) else []
    if not narrow:
        return state            # a file training wrote, as it was read (or a wrong kind, for the loader to refuse)
    state = copy.copy(state)    # keeps a state dict's `_metadata` (module versions) with it
    for k in narrow:
        state[k] = state[k].float()
    return state



def check_state(sd: dict, *, fixed_z_shape, rng_state_shape, device_type: str, n_keys: int) -> int:
    """Check the run state of a loaded checkpoint against the trainer it goes into, before anything
    is changed (so a refused file leaves that trainer as it was); return its step count."""
    step, rng, fixed_z, rows = sd["step"], sd["rng"], sd["fixed_z"], sd["history"]
    if isinstance(step, torch.Tensor) and step.numel() == 1 and not step.is_floating_point():
        step = int(step)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"checkpoint step must be an integer >= 0, got {step!r}")
    if not (isinstance(rng, dict) and isinstance(rng.get("state"), torch.Tensor) and rng["state"].dtype == torch.uint8
            and rng.get("device") in ("cpu", "cuda")
            and (rng["device"] != device_type or rng["state"].shape == rng_state_shape)):
        raise CheckpointError("checkpoint rng is not a generator state ({'device': 'cpu'|'cuda', 'state': uint8 tensor})")
    if not isinstance(fixed_z, torch.Tensor) or fixed_z.shape != fixed_z_shape:
        raise CheckpointError(f"checkpoint fixed_z must have shape {tuple(fixed_z_shape)}")
    if not isinstance(rows, torch.Tensor) or rows.ndim != 2 or rows.shape[1] != n_keys:
        raise CheckpointError(f"checkpoint history is not a (rows, {n_keys}) tensor")
    return step


# The parts of a checkpoint that hold numbers, as a message names them.
NUMERIC_PARTS = {"G": "G's weights", "D": "D's weights", "G_ema": "G's weight average", "D_ema": "D's weight average",
                 "opt_g": "G's optimizer state", "opt_d": "D's optimizer state", "fixed_z": "the fixed noise",
                 "encoder": "the encoder's weights", "class_net": "the class net's weights"}


def non_finite_part(sd: dict) -> str | None:
    """Where a loaded checkpoint holds NaN or inf ("G's weights (net.0.weight)"), or None. A file
    saved from a run gone bad would otherwise sample NaN without a word, or resume only to diverge
    again and blame the learning rate."""
    for key, name in NUMERIC_PARTS.items():
        for where, t in _tensors(sd.get(key)):
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                return f"{name} ({where})" if where else name
    return None


def _tensors(obj, where: str = ""):
    """(dotted key, tensor) for every tensor in nested dicts and lists."""
    if isinstance(obj, torch.Tensor):
        yield where, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _tensors(v, f"{where}.{k}" if where else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _tensors(v, f"{where}.{i}" if where else str(i))


def points_of(sd: dict, path) -> torch.Tensor:
    """The (N, 2) point set a 'points' run carries (a user's own data cannot be reloaded by name)."""
    points = sd.get("points")
    if not isinstance(points, torch.Tensor) or points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
        raise CheckpointError(f"{path} is a 'points' run without a valid (N, 2) points tensor")
    return points.float()


def world_size_of(sd: dict) -> int:
    """The processes that trained a loaded checkpoint (1 for a file from before torchrun training),
    checked with the streams it must then hold."""
    world = sd.get("world_size", 1)
    if isinstance(world, bool) or not isinstance(world, int) or world < 1:
        raise CheckpointError(f"checkpoint world_size must be an integer >= 1, got {world!r}")
    streams = sd.get("rng_ranks")
    if world > 1 and not (isinstance(streams, list) and len(streams) == world
                          and all(isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in streams)):
        raise CheckpointError(f"checkpoint of {world} processes without their {world} random streams (rng_ranks)")
    return world


def resumed_stream(sd: dict, device_type: str, rank: int, world: int, seed: int, step: int) -> torch.Tensor | int:
    """The random stream process `rank` of `world` continues from a checkpoint: the saved generator
    state where the file was written by as many processes on the same kind of device; else, with a
    warning, the seed to re-derive it from. CPU and CUDA generators have different states, so across
    devices the stream cannot continue; nor can N ranks' streams become M ranks' ones."""
    saved_world = world_size_of(sd)
    if saved_world != world:
        warnings.warn(f"checkpoint was trained by {saved_world} process{'es' * (saved_world > 1)}, resuming in "
                      f"{world}: each process's random stream is re-derived from (seed, rank, step), so this run "
                      f"is not bit-identical to one continued by {saved_world}")
        return distributed.stream_seed(seed, rank, step)
    if sd["rng"]["device"] != device_type:
        warnings.warn(f"checkpoint was trained on {sd['rng']['device']}, resuming on {device_type}: "
                      f"random stream reseeded, so this run is not bit-identical to an uninterrupted one")
        return seed + step if world == 1 else distributed.stream_seed(seed, rank, step)
    return (sd["rng_ranks"][rank] if world > 1 else sd["rng"]["state"]).cpu()
