"""Runs pinned beside the live one for comparison (`ui/compare.py` draws them): a copy of the live
run as it is now, or the runs a link pinned, trained again to their iterations."""

from __future__ import annotations

from ...errors import GanlabError
from ...links import MAX_PINS
from ...run import Run
from ...trainer import Trainer
from .state import Pin, get
from .training import send


def pin_current() -> None:
    """Pin a copy of the live run for comparison; the live run goes on as it was."""
    from ...plots import run_view

    state = get()
    if len(state.pinned) + len(state.pending_pins) >= MAX_PINS:
        state.pin_note = f"at most {MAX_PINS} pinned runs beside the live one: unpin one first"
        return
    copy = send(state.run.pin())            # a frozen copy, taken between slices: the live run trains on
    if copy is not None:
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
        # A run of its own, so that rebuilding takes turns with the server's other runs.
        try:
            run = Run(Trainer(cfg, device="auto"))
            try:
                if steps:
                    run.step(steps).result()
                trainer = run.pin().result()
            finally:
                run.close()
        except GanlabError as exc:
            state.pin_note = f"could not rebuild a pinned run: {exc}"
            continue
        state.pinned.append(Pin(trainer, run_view(trainer)))
    state.pending_pins = []
