"""Slow motion: one iteration of Algorithm 1 taken a step at a time, to see what one D step or one G
step changes. `d_step` takes the next of the iteration's k D steps, `g_step` ends the iteration with
G's step; k `d_step`s then a `g_step` are one `Trainer.step()` to the bit, since they call the same
two phases in the same order on the same stream.
"""

from __future__ import annotations

import math

import torch

from .errors import DivergenceError


def d_step(trainer) -> float:
    """One D step alone, the next of the current iteration's k; return D's loss before it. D steps
    beyond k are extra D steps. Rolled back, with DivergenceError, if its loss is not finite."""
    trainer._train_mode()
    if trainer._pending is None:
        trainer._apply_schedule()
    saved = trainer._snapshot.take(trainer._run_state())
    pending = trainer._pending
    done = 0 if pending is None else pending[0]
    d = trainer._d_step(trainer.step_count * trainer.config.k + done, trainer._autocast())
    loss = float(d.value_loss.detach())
    # The loss is measured before the update: the weights it wrote are checked too.
    if not (math.isfinite(loss) and all(bool(torch.isfinite(p).all()) for p in trainer.D.parameters())):
        trainer._roll_back(saved)
        trainer._pending = pending
        raise DivergenceError(f"D's step gave a loss of {loss} or non-finite weights; rolled back; lower "
                              f"lr_d (now {trainer.config.lr_d:g})")
    trainer._pending = (done + 1, d)
    return loss


def g_step(trainer) -> dict:
    """G's step alone, ending the iteration: `step()` as if this iteration's D steps were the `d_step`s
    since the last iteration. With none, D's side of the record is measured on a fresh batch without
    a step."""
    trainer._train_mode()
    if trainer._pending is None:
        trainer._apply_schedule()
        d = trainer._d_step(trainer.step_count * trainer.config.k, trainer._autocast(), train=False)
    else:
        d = trainer._pending[1]
    trainer._pending = None

    def g_only(rows):
        trainer._g_step(d, trainer._autocast(), rows[0])
        trainer._end_iteration()
    return trainer._record_rows(1, g_only)


def pending_d_steps(trainer) -> int:
    """D steps taken alone (`d_step`) in the iteration under way."""
    return 0 if trainer._pending is None else trainer._pending[0]
