"""The page's commands to the live run, each waited for (briefly) so that the rerun a click causes
draws the run after it: play, pause, one iteration, one D or G step alone. The run trains in its
own thread (`ganlab.run`); a command it refuses or that fails shows as a line on the page."""

from __future__ import annotations

from concurrent.futures import Future, TimeoutError

from .state import get, set_widgets

WAIT_S = 30.0    # the longest a click waits for its command; a load or a new MNIST run takes seconds


def send(future: Future):
    """Wait for a command to the run; its result, or None with the error kept for the page."""
    state = get()
    try:
        result = future.result(WAIT_S)
    except TimeoutError:
        state.error = None               # still running: the page shows the run's state meanwhile
        return None
    except Exception as exc:             # the run keeps its last good state; the page says why
        state.error = str(exc)
        return None
    state.error = None
    return result


def on_play_toggle() -> None:
    """The Play toggle: the run plays in the background until paused (or stopped by an error)."""
    import streamlit as st

    run = get().run
    send(run.play() if st.session_state.get("playing") else run.pause())


def follow_the_run(playing: bool) -> None:
    """The Play toggle shows what the run does: off when it stopped by itself (an error, no viewer)."""
    set_widgets({"playing": playing})


def step_once() -> None:
    send(get().run.step(1))


def slow_step(kind: str) -> None:
    """One D step ("d") or one G step ("g") alone; the run keeps the views before and after it."""
    run = get().run
    send(run.d_step() if kind == "d" else run.g_step())


def record_d_score(snap, result: dict) -> None:
    """Keep a semi-supervised D's test score (`evaluate.semi_classifier`) of the run at `snap`'s step."""
    get().d_score = (snap.generation, snap.step, result)


def d_score(snap) -> tuple[int, dict] | None:
    """(step, result) of the last score of this run; None if there is none, or it was of a run before."""
    generation, step, result = get().d_score or (None, None, None)
    return (step, result) if result is not None and generation == snap.generation else None
