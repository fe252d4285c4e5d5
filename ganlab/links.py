"""Settings as a link: the app's address bar holds the config (`?data=grid&k=3&lr_g=0.0005`), so a
link reproduces a setup. URL keys are the `Config` field names plus `recipe`; each value is parsed
and checked by its field's own rules, and a bad one is dropped with a note while the rest apply.
Links from before recipes existed read the same: a model's default recipe is what it trained with.

>>> link = read_link({"data": "grid", "k": "3", "lr_g": "x"})
>>> link.config.k, link.notes
(3, ["ignored lr_g='x': not a valid float"])
>>> write_link(link.config, link.recipe)
{'data': 'grid', 'k': '3'}
"""

from __future__ import annotations

from typing import NamedTuple

from .config import FIELD_TYPES, FIELDS, IMAGE_DATASETS, Config, check_field, make_config, rules
from .errors import GanlabError
from .recipes import RECIPES, default_model, recipe_for


class Link(NamedTuple):
    config: Config
    recipe: str
    notes: list[str]


def read_link(params: dict[str, str]) -> Link:
    """The config a link asks for; unknown keys (e.g. Streamlit's embed options) are not ours."""
    notes, overrides = [], {}
    for key, raw in params.items():
        if key not in FIELD_TYPES:
            continue
        try:
            overrides[key] = check_field(key, FIELD_TYPES[key](raw))
        except ValueError:
            notes.append(f"ignored {key}={raw!r}: not a valid {FIELD_TYPES[key].__name__}")
        except GanlabError as exc:
            notes.append(f"ignored {key}={raw!r}: {exc}")
    recipe = params.get("recipe")
    if recipe is not None and recipe not in RECIPES:
        notes.append(f"ignored recipe={recipe!r}: choose one of {', '.join(RECIPES)}")
        recipe = None
    try:
        cfg = make_config(recipe, **overrides)
    except GanlabError as exc:
        notes.append(f"ignored the link's settings ({exc})")
        cfg, recipe = make_config(), None
    if cfg.data == "points":                  # a link cannot carry an upload
        # ring as a link to ring would start: its own settings, then what the link itself set.
        notes.append("a link cannot carry your own points: starting on 'ring' with its own settings; pick "
                     "'points' as the dataset to draw or upload them again")
        kept = {k: v for k, v in overrides.items() if not rules(k).get("brings_settings")}
        try:
            cfg = make_config(recipe, **kept)
        except GanlabError:
            cfg, recipe = make_config(), None
    return Link(cfg, recipe_for(cfg.model, recipe), notes)


def write_link(cfg: Config, recipe: str) -> dict[str, str]:
    """The dataset, then only what differs from what `read_link` would pick without it."""
    out = {"data": cfg.data}
    if cfg.model != default_model(cfg.data in IMAGE_DATASETS):
        out["model"] = cfg.model
    if recipe != recipe_for(cfg.model):
        out["recipe"] = recipe
    if cfg.loss != make_config(recipe, data=cfg.data, model=cfg.model).loss:
        out["loss"] = cfg.loss            # before the rest: a loss brings its own settings
    base = make_config(recipe, data=cfg.data, model=cfg.model, loss=cfg.loss)
    for name in FIELDS:
        if name not in out and getattr(cfg, name) != getattr(base, name):
            out[name] = str(getattr(cfg, name))
    return out
