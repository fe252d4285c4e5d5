"""Runs pinned beside the live one for comparison (`ui/compare.py` draws them): a copy of the live
run as it is now, or the runs a link pinned, trained again to their iterations."""

from __future__ import annotations

from copy import deepcopy

from ...errors import GanlabError
from ...links import MAX_PINS
from ...trainer import Trainer
from .state import Pin, get


def pin_current() -> None:
    """Pin a copy of the live run for comparison; the live run goes on as it was."""
    from ...plots import run_view

    state = get()
    if len(state.pinned) + len(state.pending_pins) >= MAX_PINS:
        state.pin_note = f"at most {MAX_PINS} pinned runs beside the live one: unpin one first"
        return
    live = state.trainer
    copy = Trainer(live.config, device=live.device, data_root=live.data_root,
                   dataset=live.data if live.data_loaded else None)
    copy.load_state_dict(deepcopy(live.state_dict()))     # its own tensors: the live run trains on
    state.pinned.append(Pin(copy, run_view(copy)))
    state.pin_note = None


def unpin(i: int) -> None:
    get().pinned.pop(i)


def rebuild_pins() -> None:
    """Train the runs a link pinned again, to their iterations: training is deterministic, so each
    is the run that was pinned, weight for weight (on the same device and library versions)."""
    from ...plots import run_view

    state = get()
    for cfg, steps in state.pending_pins:
        trainer = Trainer(cfg, device="auto")
        try:
            if steps:
                trainer.train(steps, progress=False)
        except GanlabError as exc:
            state.pin_note = f"could not rebuild a pinned run: {exc}"
            continue
        state.pinned.append(Pin(trainer, run_view(trainer)))
    state.pending_pins = []
