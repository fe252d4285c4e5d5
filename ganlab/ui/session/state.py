"""The tab's state: one `LabState` under one session-state key, its one accessor `get()`, and the
settings widgets' keys. The only module that writes `st.session_state`; the rest of `ui.session`
changes the `LabState` that `get()` returns. The tab's run trains in the background (`ganlab.run`):
the state holds the `Run`, and pages draw what its snapshots show."""

from __future__ import annotations

from concurrent.futures import TimeoutError
from dataclasses import dataclass, field

import streamlit as st

from ...config import FIELDS, Config
from ...data import PointCloud
from ...links import read_link
from ...run import Run, Snapshot
from ...trainer import Trainer

KEY = "ganlab"
RECIPE = "recipe"            # the recipe widget's key
LOSS_SHOWN = "loss_shown"    # the loss the widgets showed before the last change: whose settings to undo


def widget_key(name: str) -> str:
    """The session-state key of config field `name`'s widget."""
    return "cfg." + name


@dataclass(frozen=True)
class Pin:
    """A run pinned for comparison: a frozen copy of it at the moment it was pinned, and its view then."""
    trainer: Trainer
    view: object               # plots.run_view's figure or image


@dataclass
class LabState:
    run: Run
    recipe: str                                  # the recipe the live run's settings started from
    error: str | None = None                     # a command the page sent that failed, until the next one
    points: PointCloud | None = None             # an uploaded point set
    points_name: tuple | None = None             # (name, size) of that upload, or ("drawing", n)
    csv_read: tuple | None = None                # (name, size) of the last CSV read
    notes: list[str] = field(default_factory=list)
    explorer: tuple | None = None                # (source key, Trainer) shown by the latent explorer
    explorer_view: tuple | None = None           # ((generation, step, encoder steps), frozen copy) of the live run
    message: tuple[str, str] | None = None       # ("success" | "error", text) of the last save / load
    encodings: dict = field(default_factory=dict)  # z of real-image endpoints, by (generator, image, steps)
    drawing_note: tuple[str, str] | None = None  # ("success" | "error", text) of the last "Train on these points"
    images_note: tuple[str, str] | None = None   # ("success" | "error", text) of the last zip of images
    pinned: list[Pin] = field(default_factory=list)          # runs beside the live one (links.MAX_PINS)
    pending_pins: list = field(default_factory=list)        # (Config, iterations) from a link, not yet rebuilt
    pin_note: str | None = None                             # why the last pin was refused
    d_score: tuple | None = None                 # (the run's generation, its step, evaluate.semi_classifier's result)

    def snapshot(self) -> Snapshot:
        """The run's latest snapshot: a page draws everything that shows the run from one of these."""
        return self.run.snapshot()

    def settled_snapshot(self, wait_s: float = 30.0) -> Snapshot:
        """The latest snapshot, after waiting up to `wait_s` for a run freed while nobody watched to
        come back (its `view` is still None if it has not)."""
        snap = self.run.snapshot()
        if snap.view is None:
            try:
                snap = self.run.sync(wait_s)
            except TimeoutError:             # still loading: the page says so and looks again
                snap = self.run.snapshot()
        return snap

    @property
    def config(self) -> Config:
        """The live run's settings."""
        return self.run.config


def get() -> LabState:
    """This tab's state; made once per session from the URL (a fresh run, no I/O until it trains)."""
    if KEY not in st.session_state:
        link = read_link(st.query_params.to_dict())
        # The run's worker takes turns with the server's other runs on one core fewer than the
        # machine has, leaving one to the browser and the views (`ganlab.scheduler`).
        st.session_state[KEY] = LabState(Run(Trainer(link.config, device="auto")), link.recipe, notes=link.notes,
                                         pending_pins=link.pins)
        sync_widgets_from(link.config, link.recipe)
    return st.session_state[KEY]


# ------------------------------------------------------------------ the widgets' keys
def set_widgets(values: dict) -> None:
    """Put values into widget keys (before the widgets are drawn, or in a callback)."""
    for key, value in values.items():
        st.session_state[key] = value


def set_default(key: str, value) -> None:
    """A widget's first value (a widget given both `value` and a session key is an error)."""
    st.session_state.setdefault(key, value)


def sync_widgets_from(cfg: Config, recipe: str | None = None) -> None:
    """Put a config (and recipe) into the widget keys (before the widgets are drawn, or in a callback)."""
    values = {widget_key(name): getattr(cfg, name) for name in FIELDS}
    values[LOSS_SHOWN] = cfg.loss
    if recipe is not None:
        values[RECIPE] = recipe
    set_widgets(values)


# ------------------------------------------------------------------ lines shown once
def take_notes() -> list[str]:
    state = get()
    notes, state.notes = state.notes, []
    return notes


def set_message(kind: str, text: str) -> None:
    get().message = (kind, text)


def take_message() -> tuple[str, str] | None:
    state = get()
    message, state.message = state.message, None
    return message
