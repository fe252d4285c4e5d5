"""Which run is live: a new one (from the widgets, the same seed again, the next seed), or a loaded
checkpoint adopted. Each is a command to the tab's `Run`, which starts it with no status, speed or
slow-motion step of the run before."""

from __future__ import annotations

import streamlit as st

from ...config import Config
from ...recipes import recipe_for
from ...trainer import Trainer
from .settings import wanted_config
from .state import RECIPE, get, sync_widgets_from
from .training import send


def start_run(cfg: Config) -> None:
    state = get()
    send(state.run.start(cfg, state.points if cfg.data == "points" else None))
    state.recipe = st.session_state.get(RECIPE, state.recipe)


def confirm_new_run() -> None:
    try:
        cfg = wanted_config()
    except Exception as exc:             # the widgets ask for a combination the config refuses
        get().error = str(exc)
        return
    start_run(cfg)


def keep_current_run() -> None:
    state = get()
    sync_widgets_from(state.config, state.recipe)


def reset_run() -> None:
    """A new run with the live run's settings and seed: the same initial weights and stream."""
    send(get().run.reset())


def new_seed_run() -> None:
    state = get()
    send(state.run.new_seed())
    sync_widgets_from(state.config)


def adopt(trainer: Trainer) -> None:
    """Make a loaded checkpoint the live run (in a callback: the widgets follow its config)."""
    state = get()
    if trainer.config.data == "points":
        state.points = trainer.data
    send(state.run.adopt(trainer))
    state.recipe = recipe_for(trainer.config.model)
    sync_widgets_from(trainer.config, state.recipe)
