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

from .config import FIELD_TYPES, FIELDS, Config, check_field, default_model, make_config, rules
from .errors import GanlabError
from .recipes import RECIPES, recipe_for


class Link(NamedTuple):
    config: Config
    recipe: str
    notes: list[str]
    pins: list[tuple[Config, int]] = []       # runs pinned for comparison: (settings, iterations trained)


MAX_PINS = 3            # pinned runs beside the live one: four side by side at most


def read_link(params: dict[str, str]) -> Link:
    """The config a link asks for; unknown keys (e.g. Streamlit's embed options) are not ours."""
    notes, overrides = [], {}
    for key, raw in params.items():
        if key not in FIELD_TYPES:
            continue
        try:
            overrides[key] = _parsed(key, raw)
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
    pins = read_pins(params.get("pins", ""), cfg, notes)
    return Link(cfg, recipe_for(cfg.model, recipe), notes, pins)


def _parsed(key: str, raw: str):
    """A link's text for field `key` as the field holds it, or GanlabError saying why not."""
    try:
        value = FIELD_TYPES[key](raw)
    except ValueError:
        raise GanlabError(f"not a valid {FIELD_TYPES[key].__name__}") from None
    return check_field(key, value)


def read_pins(raw: str, live: Config, notes: list[str]) -> list[tuple[Config, int]]:
    """Pinned runs from a link's `pins` value, `write_pins`'s format: each pin's settings that differ
    from the live run's, then its iterations (`k:5,loss:hinge@3000`), pins apart by `;`. A pin the
    rules refuse is dropped with a note.

    >>> notes = []
    >>> [(c.loss, c.k, n) for c, n in read_pins("loss:hinge,k:5@300;k:x@10", make_config(), notes)]
    [('hinge', 5, 300)]
    >>> notes
    ["ignored the pinned run 'k:x@10': k: not a valid int"]
    """
    pins, parts = [], [p for p in raw.split(";") if p]
    if len(parts) > MAX_PINS:
        notes.append(f"the link pins {len(parts)} runs; the first {MAX_PINS} are kept (at most {MAX_PINS} beside the live one)")
    for part in parts[:MAX_PINS]:
        try:
            settings, _, steps = part.rpartition("@")
            changes = {}
            for item in [i for i in settings.split(",") if i]:
                key, _, value = item.partition(":")
                if key not in FIELD_TYPES or key == "data" and value == "points":
                    raise GanlabError(f"{key}: not a setting a link can carry")
                try:
                    changes[key] = _parsed(key, value)
                except GanlabError as exc:
                    raise GanlabError(f"{key}: {exc}") from None
            n = int(steps)
            if not 0 <= n <= MAX_PIN_STEPS:
                raise GanlabError(f"its iterations must be 0 to {MAX_PIN_STEPS:,}")
            pins.append((live.replace(**changes), n))
        except (GanlabError, ValueError) as exc:
            notes.append(f"ignored the pinned run {part!r}: {exc}")
    return pins


MAX_PIN_STEPS = 100_000      # a pin is rebuilt by training it again; past this it would take too long


def write_pins(pins: list[tuple[Config, int]], live: Config) -> str:
    """The `pins` value of a link: each pinned run as its differences from the live run, `@` its
    iterations (pins on a user's own points cannot travel and are left out)."""
    parts = []
    for cfg, steps in pins:
        if cfg.data != "points":
            diff = [f"{f}:{getattr(cfg, f)}" for f in live.differing(cfg)]
            parts.append(f"{','.join(diff)}@{steps}")
    return ";".join(parts)


def write_link(cfg: Config, recipe: str, pins: list[tuple[Config, int]] = ()) -> dict[str, str]:
    """The dataset, then only what differs from what `read_link` would pick without it; then the
    pinned runs, if any (`write_pins`)."""
    out = {"data": cfg.data}
    if cfg.model != default_model(cfg.shape):
        out["model"] = cfg.model
    if recipe != recipe_for(cfg.model):
        out["recipe"] = recipe
    if cfg.loss != make_config(recipe, data=cfg.data, model=cfg.model).loss:
        out["loss"] = cfg.loss            # before the rest: a loss brings its own settings
    base = make_config(recipe, data=cfg.data, model=cfg.model, loss=cfg.loss)
    for name in FIELDS:
        if name not in out and getattr(cfg, name) != getattr(base, name):
            out[name] = str(getattr(cfg, name))
    pinned = write_pins(list(pins), cfg)
    if pinned:
        out["pins"] = pinned
    return out
