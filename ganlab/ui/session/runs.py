"""Which run is live: a new one (from the widgets, the same seed again, the next seed), or a loaded
checkpoint adopted. Each starts with no status, speed or slow-motion step of the run before."""

from __future__ import annotations

import streamlit as st

from ...config import Config
from ...errors import GanlabError
from ...recipes import recipe_for
from ...trainer import Trainer
from .settings import wanted_config
from .state import RECIPE, Status, get, sync_widgets_from


def start_run(cfg: Config) -> None:
    state = get()
    dataset = state.points if cfg.data == "points" else None
    state.trainer = Trainer(cfg, device="auto", dataset=dataset)
    state.recipe = st.session_state.get(RECIPE, state.recipe)
    state.status, state.ips, state.timing, state.slow = None, None, None, None


def confirm_new_run() -> None:
    try:
        start_run(wanted_config())
    except GanlabError as exc:
        get().status = Status(str(exc))


def keep_current_run() -> None:
    state = get()
    sync_widgets_from(state.trainer.config, state.recipe)


def reset_run() -> None:
    """A new run with the live run's settings and seed: the same initial weights and stream."""
    start_run(get().trainer.config)


def new_seed_run() -> None:
    cfg = get().trainer.config
    cfg = cfg.replace(seed=(cfg.seed + 1) % 2**31)
    sync_widgets_from(cfg)
    start_run(cfg)


def adopt(trainer: Trainer) -> None:
    """Make a loaded checkpoint the live run (in a callback: the widgets follow its config)."""
    state = get()
    if trainer.config.data == "points":
        state.points = trainer.data
    state.trainer, state.recipe = trainer, recipe_for(trainer.config.model)
    state.status, state.ips, state.timing, state.slow = None, None, None, None
    sync_widgets_from(trainer.config, state.recipe)
