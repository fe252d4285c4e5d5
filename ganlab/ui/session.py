"""The app's state per browser tab, as one typed object, and every write to it.

Rules (each browser tab is its own session, so two tabs are two independent runs):
- `st.session_state["ganlab"]` holds one `LabState`: the live run, its status, measured speed,
  uploaded points, the latent explorer's generator. Nothing mutable is shared through caches.
- The settings widgets are keyed `cfg.<field>` (`widget_key`), so no config field can collide with
  the app's own keys (`playing`, `step`, ...). Every field that is not structural applies to the
  live run in place; a change that needs new networks waits for the user to confirm.
- The settings live in the query string (`ganlab.links`), so a link reproduces a setup.
- Pages read the state and call the functions here; only this module writes session state.
"""

from __future__ import annotations

import hashlib
import io
import os
from copy import deepcopy
from dataclasses import dataclass, field

import streamlit as st
import torch

from ..config import DATASET_SHAPES, DATASETS, FIELD_TYPES, FIELDS, FOLDER, Config, default_model, make_config
from ..data import PointCloud, default_data_root, load_points_csv, point_cloud, points_from_drawing
from ..imagefolder import unpack_zip
from ..errors import DataError, DivergenceError, GanlabError
from ..links import MAX_PINS, read_link, write_link
from ..recipes import LOSS_PRESETS, recipe_for
from ..trainer import Trainer

KEY = "ganlab"
RECIPE = "recipe"            # the recipe widget's key
LOSS_SHOWN = "loss_shown"    # the loss the widgets showed before the last change: whose settings to undo
MY_IMAGES = "my images"      # the data widget's choice for a zip of one's own images (a folder once unpacked)
IMAGES_ZIP = "images_zip"    # the zip uploader's key


def widget_key(name: str) -> str:
    """The session-state key of config field `name`'s widget."""
    return "cfg." + name


@dataclass(frozen=True)
class Status:
    """Why training is paused. A divergence may be cured by new rates, so changing a setting clears
    it; any other error (missing data) stays until a new run."""
    message: str
    diverged: bool = False


@dataclass(frozen=True)
class Timing:
    iterations: int
    train_s: float
    draw_s: float


@dataclass(frozen=True)
class SlowStep:
    """One step taken alone ("d" or "g") and the views before and after it (`plots.snapshot`)."""
    kind: str
    step: int                  # the trainer's step count after it
    d_steps: int               # D steps taken alone in the current iteration
    before: dict
    after: dict


@dataclass(frozen=True)
class Pin:
    """A run pinned for comparison: a copy of it at the moment it was pinned, and its view then."""
    trainer: Trainer
    view: object               # plots.run_view's figure or image


@dataclass
class LabState:
    trainer: Trainer
    recipe: str                                  # the recipe the live run's settings started from
    status: Status | None = None
    ips: float | None = None                     # measured iterations/s, sizes the slice per refresh
    timing: Timing | None = None                 # of the last refresh, for the status line
    points: PointCloud | None = None             # an uploaded point set
    points_name: tuple | None = None             # (name, size) of that upload, or ("drawing", n)
    csv_read: tuple | None = None                # (name, size) of the last CSV read
    notes: list[str] = field(default_factory=list)
    explorer: tuple | None = None                # (source key, Trainer) shown by the latent explorer
    message: tuple[str, str] | None = None       # ("success" | "error", text) of the last save / load
    encodings: dict = field(default_factory=dict)  # z of real-image endpoints, by (generator, image, steps)
    drawing_note: tuple[str, str] | None = None  # ("success" | "error", text) of the last "Train on these points"
    images_note: tuple[str, str] | None = None   # ("success" | "error", text) of the last zip of images
    pinned: list[Pin] = field(default_factory=list)          # runs beside the live one (links.MAX_PINS)
    pending_pins: list = field(default_factory=list)        # (Config, iterations) from a link, not yet rebuilt
    pin_note: str | None = None                             # why the last pin was refused
    slow: SlowStep | None = None                 # what the last D step or G step taken alone changed


def get() -> LabState:
    """This tab's state; made once per session from the URL (a fresh run, no I/O until it trains)."""
    if KEY not in st.session_state:
        _leave_a_core_for_the_browser()
        link = read_link(st.query_params.to_dict())
        st.session_state[KEY] = LabState(Trainer(link.config, device="auto"), link.recipe, notes=link.notes,
                                         pending_pins=link.pins)
        sync_widgets_from(link.config, link.recipe)
    return st.session_state[KEY]


def _leave_a_core_for_the_browser() -> None:
    """The browser drawing the charts runs on the same machine as the trainer. With every core
    given to torch's OpenMP pool, its spinning threads fight the browser and a 2-core CPU trains
    several times slower (README, "Responsiveness"); one core fewer avoids that."""
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


# ------------------------------------------------------------------ widgets <-> config
def sync_widgets_from(cfg: Config, recipe: str | None = None) -> None:
    """Put a config (and recipe) into the widget keys (before the widgets are drawn, or in a callback)."""
    for name in FIELDS:
        st.session_state[widget_key(name)] = getattr(cfg, name)
    st.session_state[LOSS_SHOWN] = cfg.loss
    if recipe is not None:
        st.session_state[RECIPE] = recipe


def ensure_widget_state() -> None:
    """Widget values are dropped when their page is not shown; refill them from the live run."""
    state = get()
    for name in FIELDS:
        st.session_state.setdefault(widget_key(name), getattr(state.trainer.config, name))
    st.session_state.setdefault(RECIPE, state.recipe)


def wanted_config() -> Config:
    """The config the widgets ask for (raises ConfigError for a bad combination)."""
    return Config(**{name: FIELD_TYPES[name](st.session_state[widget_key(name)]) for name in FIELDS})


def on_preset_change(changed: str) -> None:
    """A new dataset, model or recipe: the widgets take make_config's settings for it (seed kept).
    A new model brings its default recipe; a new recipe keeps the model."""
    ss, state = st.session_state, get()
    data, model, recipe = ss[widget_key("data")], ss[widget_key("model")], ss[RECIPE]
    if data == MY_IMAGES or data.startswith(FOLDER):
        return                            # a folder's settings come with its upload (`on_images_upload`)
    if changed == "data" and default_model(DATASET_SHAPES[data]) != default_model(state.trainer.config.shape):
        model = None                      # toy <-> image, or another image size: the new data's default network
    if changed != "recipe":
        recipe = None
    try:
        cfg = make_config(recipe, data=data, seed=int(ss[widget_key("seed")]), **({"model": model} if model else {}))
    except GanlabError:
        return
    sync_widgets_from(cfg, recipe_for(cfg.model, recipe))


def on_loss_change() -> None:
    """A new loss: the settings its paper trained with (`recipes.LOSS_PRESETS`) come with it, and those
    the old loss had brought go back to what the recipe and dataset give; every other setting stays."""
    ss, state = st.session_state, get()
    old, new = ss.get(LOSS_SHOWN, state.trainer.config.loss), ss[widget_key("loss")]
    ss[LOSS_SHOWN] = new
    try:
        base = make_config(ss[RECIPE], data=ss[widget_key("data")], model=ss[widget_key("model")], loss=new)
    except GanlabError:
        return
    for name in {**LOSS_PRESETS.get(old, {}), **LOSS_PRESETS.get(new, {})}:
        ss[widget_key(name)] = getattr(base, name)


def apply_in_place(changes: dict) -> None:
    """Settings that a live run takes between steps (the widgets' recipe becomes the run's); new
    settings may cure a divergence, so they clear it."""
    state = get()
    state.recipe = st.session_state[RECIPE]
    if changes:
        state.trainer.update(**changes)
        if state.status and state.status.diverged:
            state.status = None


def sync_link(cfg: Config) -> None:
    """The address bar follows the widgets."""
    state = get()
    pins = [(p.trainer.config, p.trainer.step_count) for p in state.pinned] + state.pending_pins
    query = write_link(cfg, st.session_state[RECIPE], pins)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# ------------------------------------------------------------------ runs
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
    from ..plots import snapshot

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


def take_notes() -> list[str]:
    state = get()
    notes, state.notes = state.notes, []
    return notes


def set_points(upload) -> str | None:
    """Read an uploaded CSV of points once per file; return the error, if any."""
    state = get()
    if state.csv_read == (upload.name, upload.size):      # read once: a drawing since then stays in force
        return None
    try:
        state.points = load_points_csv(upload)
    except GanlabError as exc:
        return str(exc)
    state.points_name = state.csv_read = (upload.name, upload.size)
    return None


def data_choices() -> tuple[str, ...]:
    """The data widget's options: the named datasets, "my images" (a zip to upload), and the live
    run's image folder when it trains on one."""
    live = get().trainer.config
    return (*DATASETS, MY_IMAGES, *((live.data,) if live.is_folder else ()))


def on_images_upload() -> None:
    """A zip of images was uploaded: unpack it once (by its content) and start a run on its folder,
    or say in one line why not; the live run is kept either way until a run on the images starts."""
    state, upload = get(), st.session_state.get(IMAGES_ZIP)
    if upload is None:
        return
    data = upload.getvalue()
    folder = default_data_root() / "uploads" / hashlib.sha256(data).hexdigest()[:16]
    try:
        if not folder.is_dir():
            unpack_zip(io.BytesIO(data), folder, upload.name)
        cfg = make_config(data=f"{FOLDER}{folder}", seed=int(st.session_state[widget_key("seed")]))
        start_run(cfg)
        state.trainer.load_data()
    except GanlabError as exc:
        state.images_note = ("error", str(exc))
        return
    sync_widgets_from(cfg, recipe_for(cfg.model))
    state.images_note = ("success", f"a new run on the {len(state.trainer.data):,} images of {upload.name} "
                                    f"({cfg.channels}x{cfg.image_size}x{cfg.image_size})")


def use_drawn_points(drawing: dict | None, width: int, height: int, span: float) -> None:
    """Train on the points drawn on the canvas: a new run on them, or one line saying why not (the
    current run untouched)."""
    state = get()
    points = points_from_drawing(drawing, width, height, span)
    try:
        if not points:
            raise DataError("nothing is drawn yet: click points onto the plane, or drag to spray them")
        cloud = point_cloud(points, "the drawing")
        cfg = wanted_config().replace(data="points")
    except GanlabError as exc:
        state.drawing_note = ("error", str(exc))
        return
    state.points, state.points_name = cloud, ("drawing", len(points))
    start_run(cfg)
    state.drawing_note = ("success", f"a new run on the {len(points):,} points drawn")


def pin_current() -> None:
    """Pin a copy of the live run for comparison; the live run goes on as it was."""
    from ..plots import run_view

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
    from ..plots import run_view

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


def set_default(key: str, value) -> None:
    """A widget's first value (a widget given both `value` and a session key is an error)."""
    st.session_state.setdefault(key, value)


def set_message(kind: str, text: str) -> None:
    get().message = (kind, text)


def take_message() -> tuple[str, str] | None:
    state = get()
    message, state.message = state.message, None
    return message


def explorer_generator(key: tuple, loader) -> Trainer:
    """The latent explorer's generator for source `key`, loaded once per source (errors raise)."""
    state = get()
    if state.explorer is None or state.explorer[0] != key:
        state.explorer = (key, loader())
    return state.explorer[1]


def cached_encoding(key: tuple, compute) -> torch.Tensor:
    """z of an image in the latent explorer, computed once per (generator, image, search steps): a
    search costs seconds, and the page reruns on every widget change."""
    state = get()
    if key not in state.encodings:
        if len(state.encodings) >= 32:
            state.encodings.clear()
        state.encodings[key] = compute()
    return state.encodings[key]


def train_explorer_encoder(trainer: Trainer, steps: int) -> None:
    """Give the explorer's generator an inference net (Sec. 7.2), trained on its own samples."""
    from ..inference import train_encoder

    train_encoder(trainer, steps, progress=False)
    get().encodings.clear()
