"""Training the live run from the app: a slice of iterations, one iteration, or one D or G step
alone; and what is measured of it (the speed that sizes the next slice, D's test score). An error
pauses training with a `Status` instead of raising."""

from __future__ import annotations

from ...errors import DivergenceError, GanlabError
from .state import SlowStep, Status, Timing, get


def train(n: int) -> None:
    """n iterations of the live run; an error pauses training with a status instead of raising."""
    state = get()
    try:
        state.trainer.step(n)
    except GanlabError as exc:
        state.status = Status(str(exc), diverged=isinstance(exc, DivergenceError))


def load_data() -> None:
    """Load the live run's data; an error (data missing and offline) pauses with a status instead."""
    state = get()
    try:
        state.trainer.load_data()
    except GanlabError as exc:
        state.status = Status(str(exc))


def step_once() -> None:
    train(1)
    get().slow = None


def slow_step(kind: str) -> None:
    """One D step ("d") or one G step ("g") alone, with the views before and after it."""
    from ...plots import snapshot

    state = get()
    trainer = state.trainer
    try:
        before = snapshot(trainer)
        trainer.d_step() if kind == "d" else trainer.g_step()
    except GanlabError as exc:
        state.status = Status(str(exc), diverged=isinstance(exc, DivergenceError))
        return
    state.slow = SlowStep(kind, trainer.step_count, trainer.pending_d_steps, before, snapshot(trainer))


def record_speed(iterations: int, seconds: float) -> None:
    """Smooth the measured speed that sizes the next slice."""
    state = get()
    ips = iterations / max(seconds, 1e-6)
    state.ips = ips if state.ips is None else 0.5 * state.ips + 0.5 * ips


def record_timing(timing: Timing) -> None:
    get().timing = timing


def record_d_score(trainer, result: dict) -> None:
    """Keep a semi-supervised D's test score (`evaluate.semi_classifier`) of `trainer` at its step."""
    get().d_score = (id(trainer), trainer.step_count, result)


def d_score(trainer) -> tuple[int, dict] | None:
    """(step, result) of the last score of `trainer`; None if there is none, or it was of a run before."""
    run, step, result = get().d_score or (None, None, None)
    return (step, result) if result is not None and run == id(trainer) else None
