"""The settings widgets and the live run's config, both ways: the config the widgets ask for, what a
new dataset, model, recipe or loss brings into them, the settings a live run takes in place, and
the link that follows them. The widgets are keyed `cfg.<field>` (`state.widget_key`)."""

from __future__ import annotations

import streamlit as st

from ...config import DATASET_SHAPES, DATASETS, FIELD_TYPES, FIELDS, FOLDER, Config, default_model, make_config
from ...errors import GanlabError
from ...links import write_link
from ...lossdefs import LOSS
from ...recipes import recipe_for
from .state import LOSS_SHOWN, RECIPE, get, set_default, set_widgets, sync_widgets_from, widget_key

MY_IMAGES = "my images"      # the data widget's choice for a zip of one's own images (a folder once unpacked)


def ensure_widget_state() -> None:
    """Widget values are dropped when their page is not shown; refill them from the live run."""
    state = get()
    for name in FIELDS:
        set_default(widget_key(name), getattr(state.config, name))
    set_default(RECIPE, state.recipe)


def wanted_config() -> Config:
    """The config the widgets ask for (raises ConfigError for a bad combination)."""
    return Config(**{name: FIELD_TYPES[name](st.session_state[widget_key(name)]) for name in FIELDS})


def data_choices() -> tuple[str, ...]:
    """The data widget's options: the named datasets, "my images" (a zip to upload), and the live
    run's image folder when it trains on one."""
    live = get().config
    return (*DATASETS, MY_IMAGES, *((live.data,) if live.is_folder else ()))


def on_preset_change(changed: str) -> None:
    """A new dataset, model or recipe: the widgets take make_config's settings for it (seed kept).
    A new model brings its default recipe; a new recipe keeps the model."""
    ss, state = st.session_state, get()
    data, model, recipe = ss[widget_key("data")], ss[widget_key("model")], ss[RECIPE]
    if data == MY_IMAGES or data.startswith(FOLDER):
        return                            # a folder's settings come with its upload (`own_data.on_images_upload`)
    if changed == "data" and default_model(DATASET_SHAPES[data]) != default_model(state.config.shape):
        model = None                      # toy <-> image, or another image size: the new data's default network
    if changed != "recipe":
        recipe = None
    try:
        cfg = make_config(recipe, data=data, seed=int(ss[widget_key("seed")]), **({"model": model} if model else {}))
    except GanlabError:
        return
    sync_widgets_from(cfg, recipe_for(cfg.model, recipe))


def on_loss_change() -> None:
    """A new loss: the settings its paper trained with (its entry's `settings`) come with it, and those
    the old loss had brought go back to what the recipe and dataset give; every other setting stays."""
    ss, state = st.session_state, get()
    old, new = ss.get(LOSS_SHOWN, state.config.loss), ss[widget_key("loss")]
    set_widgets({LOSS_SHOWN: new})
    try:
        base = make_config(ss[RECIPE], data=ss[widget_key("data")], model=ss[widget_key("model")], loss=new)
    except GanlabError:
        return
    set_widgets({widget_key(name): getattr(base, name) for name in {**LOSS[old].settings, **LOSS[new].settings}})


def apply_in_place(changes: dict) -> None:
    """Settings that a live run takes between steps (the widgets' recipe becomes the run's); the run
    clears a divergence when its settings change, since new rates may cure it."""
    from .training import send

    state = get()
    state.recipe = st.session_state[RECIPE]
    if changes:
        send(state.run.update(**changes))


def sync_link(cfg: Config) -> None:
    """The address bar follows the widgets."""
    state = get()
    pins = [(p.trainer.config, p.trainer.step_count) for p in state.pinned] + state.pending_pins
    query = write_link(cfg, st.session_state[RECIPE], pins)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
