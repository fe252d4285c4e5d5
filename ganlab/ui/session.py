"""Per-session state of the app: the live Trainer, the settings behind the sidebar widgets, and the
URL query string that mirrors them.

Rules (each browser tab is its own session, so two tabs are two independent runs):
- `st.session_state.trainer` is the one live run; nothing mutable is shared through caches.
- The sidebar widgets are keyed by Config field names. Every field outside STRUCTURAL (lr, k, loss,
  batch size, betas, momentum, the schedule, ema, r1) applies to the live run in place; a change that
  needs new networks waits for the user to confirm.
- The settings live in the query string (`?data=grid&k=3`), so a link reproduces a setup.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields

import streamlit as st
import torch

from ..config import FIELD_TYPES, IMAGE_DATASETS, STRUCTURAL, Config, make_config
from ..errors import GanlabError
from ..trainer import Trainer

FIELDS = [f.name for f in fields(Config)]


# ------------------------------------------------------------------ query string
def settings_from_query(params: dict[str, str]) -> tuple[Config, list[str]]:
    """A config from URL parameters; unknown or invalid ones are dropped, with a note for each."""
    notes, overrides = [], {}
    for key, raw in params.items():
        if key not in FIELD_TYPES:
            continue                       # not ours (e.g. embed options)
        try:
            overrides[key] = FIELD_TYPES[key](raw)
        except ValueError:
            notes.append(f"ignored {key}={raw!r}: not a valid {FIELD_TYPES[key].__name__}")
    try:
        return make_config(**overrides), notes
    except GanlabError as exc:
        notes.append(f"ignored the link's settings ({exc})")
        return make_config(), notes


def query_from_settings(cfg: Config) -> dict[str, str]:
    """The fields that differ from the presets `make_config` would pick, plus the dataset."""
    base = make_config(data=cfg.data, model=cfg.model)
    out = {"data": cfg.data}
    if cfg.model != make_config(data=cfg.data).model:
        out["model"] = cfg.model
    for name in FIELDS:
        if name not in ("data", "model") and getattr(cfg, name) != getattr(base, name):
            out[name] = str(getattr(cfg, name))
    return out


# ------------------------------------------------------------------ session
def init() -> None:
    """Once per session: settings from the URL, a fresh run (no I/O until the first step)."""
    ss = st.session_state
    if "trainer" in ss:
        return
    _leave_a_core_for_the_browser()
    cfg, notes = settings_from_query(st.query_params.to_dict())
    if cfg.data == "points":                  # a link cannot carry an upload
        notes.append("a link cannot carry uploaded points: starting on 'ring'; upload the CSV again")
        cfg = make_config(**{k: v for k, v in asdict(cfg).items() if k not in ("data", "model")})
    ss.trainer = Trainer(cfg, device="auto")
    ss.notes = notes
    ss.status = None          # a one-line error that pauses training (divergence, missing data)
    ss.ips = None             # measured iterations/s, sizes the slice trained per refresh
    ss.timing = None
    ss.points = None          # an uploaded PointCloud


def _leave_a_core_for_the_browser() -> None:
    """The browser drawing the charts runs on the same machine as the trainer. With every core
    given to torch's OpenMP pool, its spinning threads fight the browser and a 2-core CPU trains
    ~8x slower (measured: 44 vs 330 it/s on `ring`); one core fewer avoids that."""
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def sync_widgets_from(cfg: Config) -> None:
    """Put a config into the widget keys (call before the widgets are drawn, or in a callback)."""
    for name in FIELDS:
        st.session_state[name] = getattr(cfg, name)


def ensure_widget_state() -> None:
    """Widget values are dropped when their page is not shown; refill them from the live run."""
    cfg = st.session_state.trainer.config
    for name in FIELDS:
        if name not in st.session_state:
            st.session_state[name] = getattr(cfg, name)


def wanted_config() -> Config:
    """The config the widgets ask for (raises ConfigError for a bad combination)."""
    return Config(**{name: FIELD_TYPES[name](st.session_state[name]) for name in FIELDS})


def structural_changes(current: Config, wanted: Config) -> list[str]:
    return [f"{n}: {getattr(current, n)} → {getattr(wanted, n)}" for n in STRUCTURAL
            if getattr(current, n) != getattr(wanted, n)]


def in_place_changes(current: Config, wanted: Config) -> dict:
    """The changed fields that `Trainer.update` applies to a live run: every one not in STRUCTURAL."""
    return {n: getattr(wanted, n) for n in FIELDS
            if n not in STRUCTURAL and getattr(current, n) != getattr(wanted, n)}


def new_trainer(cfg: Config) -> Trainer:
    dataset = st.session_state.points if cfg.data == "points" else None
    return Trainer(cfg, device="auto", dataset=dataset)


def start_run(cfg: Config) -> None:
    ss = st.session_state
    ss.trainer = new_trainer(cfg)
    ss.status, ss.ips, ss.timing = None, None, None


# ------------------------------------------------------------------ callbacks
def on_data_or_model_change(changed: str) -> None:
    """Apply the presets of the new dataset / model to the widgets (the seed is kept)."""
    ss = st.session_state
    data, model = ss["data"], ss["model"]
    previous = ss.trainer.config
    if changed == "data" and not (data in IMAGE_DATASETS and previous.data in IMAGE_DATASETS):
        model = None                      # toy <-> image: take the new data's default model
    try:
        cfg = make_config(data=data, seed=int(ss["seed"]), **({"model": model} if model else {}))
    except GanlabError:
        return
    sync_widgets_from(cfg)


def confirm_new_run() -> None:
    try:
        start_run(wanted_config())
    except GanlabError as exc:
        st.session_state.status = str(exc)


def keep_current_run() -> None:
    sync_widgets_from(st.session_state.trainer.config)


def reset_run() -> None:
    """A new run with the live run's settings and seed: the same initial weights and stream."""
    start_run(st.session_state.trainer.config)


def new_seed_run() -> None:
    cfg = st.session_state.trainer.config
    cfg = cfg.replace(seed=(cfg.seed + 1) % 2**31)
    sync_widgets_from(cfg)
    start_run(cfg)


def step_once() -> None:
    try:
        st.session_state.trainer.step(1)
    except GanlabError as exc:
        st.session_state.status = str(exc)


def adopt(trainer: Trainer) -> None:
    """Make a loaded checkpoint the live run (in a callback: the widgets follow its config)."""
    ss = st.session_state
    if trainer.config.data == "points":
        ss.points = trainer.data
    ss.trainer = trainer
    ss.status, ss.ips, ss.timing = None, None, None
    sync_widgets_from(trainer.config)
