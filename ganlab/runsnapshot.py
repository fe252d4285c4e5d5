"""What a view of a `Run` reads: a `Snapshot`, the run at one step, immutable.

A snapshot holds a frozen copy of the trainer (its own networks, averages, encoder, class net, history and
stream; the data and the fixed noise shared read-only) that figures are drawn from and that is never
trained, so everything a view draws from one snapshot agrees on the step, whatever the run's worker
has done since. A painter (`Run.paint`) may draw the figures when the snapshot is made, off the
view's thread.
"""

from __future__ import annotations

import copy
import traceback
from dataclasses import dataclass

import torch

from .config import Config
from .trainer import Trainer

PLAYING, PAUSED, LOADING, FREED, CLOSED = "playing", "paused", "loading", "freed", "closed"


@dataclass(frozen=True)
class SlowStep:
    """One step taken alone ("d" or "g") and the views before and after it (`plots.snapshot`)."""
    kind: str
    step: int                  # the trainer's step count after it
    d_steps: int               # D steps taken alone in the current iteration
    before: dict
    after: dict


@dataclass(frozen=True)
class Snapshot:
    """The run at one moment. `view` is a frozen copy of the trainer for figures; it is never
    trained, and None while the run is freed or closed."""
    version: int
    state: str                     # PLAYING, PAUSED, LOADING, FREED or CLOSED
    step: int
    config: Config
    view: Trainer | None
    ips: float | None              # iterations per second of wall time while playing
    status: str | None = None      # why the run stopped: an error, or None
    diverged: bool = False         # the status is a divergence, which new settings may cure
    note: str | None = None        # a command it refused, or what it did by itself (paused with no viewer)
    generation: int = 0            # counts the trainers the run has had: a result of one is not of the next
    slow: SlowStep | None = None   # the last step taken alone, while it is the latest thing done
    pending_d_steps: int = 0
    drawn: tuple | None = None     # (the painter's key, what it drew of `view`): see `Run.paint`

    @property
    def playing(self) -> bool:
        return self.state == PLAYING


def picture(trainer: Trainer, version: int, state: str, painter: tuple | None = None, **fields) -> Snapshot:
    """A snapshot of `trainer` now; `painter` = (key, function of the view) draws it; `fields` are
    the rest of `Snapshot`'s (ips, status, note, ...)."""
    if not trainer.config.is_image:
        trainer.load_data()            # views of toy data draw real samples; loading them takes milliseconds
    view = frozen_copy(trainer)
    return Snapshot(version, state, trainer.step_count, trainer.config, view,
                    pending_d_steps=trainer.pending_d_steps, drawn=_paint(painter, view), **fields)


def frozen_copy(trainer: Trainer) -> Trainer:
    """A copy of `trainer` for views: its own networks, averages, encoder, class net, history and stream, no
    optimizers; the data and the fixed noise are shared (neither is ever written)."""
    view = copy.copy(trainer)
    memo = {id(trainer.rng): _clone_generator(trainer.rng)}     # dropout layers hold the stream
    view.rng = memo[id(trainer.rng)]
    for name in ("G", "D", "ema", "d_ema", "encoder", "class_net", "_history"):
        setattr(view, name, copy.deepcopy(getattr(trainer, name), memo))
    # An iteration under way keeps D's last phase, graph and all, for its G step: views need its count.
    view._pending = None if trainer._pending is None else (trainer._pending[0], None)
    view.opt_g = view.opt_d = view.roles = view._graph = view._snapshot = None
    return view


def _clone_generator(gen: torch.Generator) -> torch.Generator:
    clone = torch.Generator(gen.device)
    clone.set_state(gen.get_state())
    return clone


def _paint(painter: tuple | None, view: Trainer) -> tuple | None:
    if painter is None:
        return None
    key, draw = painter
    try:
        return key, draw(view)
    except Exception as exc:         # a view's bug must not stop the run; the view draws for itself
        traceback.print_exception(exc)
        return None
