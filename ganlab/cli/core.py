"""What every command shares: a parser whose mistakes are one line, the flags many commands take
(--device, --data-root), the training flags generated from the fields of `Config`, and the range
checks of plain numbers. The commands themselves live in one module per family."""

from __future__ import annotations

import argparse

from ..config import FIELD_TYPES, FIELDS, Config, allowed, rules
from ..errors import ConfigError
from ..recipes import DEFAULT_RECIPE, RECIPES


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line too (like every other error here), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def add_device(parser) -> None:
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")


def add_data_root(parser) -> None:
    parser.add_argument("--data-root", help="folder for mnist / fashion-mnist (default: $GANLAB_DATA, "
                        "else ~/.cache/ganlab)")


def config_help(name: str) -> str:
    """A field's help for --help, from its declared rules: what it is, its choices, its default and
    the recipes that set it."""
    rule, default = rules(name), Config.__dataclass_fields__[name].default
    parts = [rule["help"], ("one of " if "choices" in rule else "") + allowed(name)]
    parts.append(f"default: {default}")
    recipes = [f"{r}: {recipe.settings[name]}" for r, recipe in RECIPES.items() if name in recipe.settings]
    if recipes:
        parts.append("recipe " + ", ".join(recipes))
    return "; ".join(parts)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """--recipe and one flag per field of `Config` (kebab-case, its rules in the help)."""
    group = parser.add_argument_group("config (defaults are the toy setup; a recipe sets training settings, and "
                                      "any flag given wins)")
    group.add_argument("--recipe", choices=list(RECIPES), help="named training settings: " + "; ".join(
        f"{name}: {recipe.summary}" for name, recipe in RECIPES.items()) + " (default: the model's own: " +
        ", ".join(f"{m} → {r}" for m, r in DEFAULT_RECIPE.items()) + ")")
    for name in FIELDS:
        const = rules(name).get("flag_const")          # a flag that may stand alone: --cond
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=FIELD_TYPES[name], default=None,
                           metavar=name.upper(), help=config_help(name),
                           **({"nargs": "?", "const": const} if const else {}))


def overrides(args) -> dict:
    """{field: value} for each config flag given on the command line."""
    return {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}


def flag(name: str) -> str:
    """A config field's flag: `lr_g` -> `--lr-g`."""
    return "--" + name.replace("_", "-")


def check_range(flag: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{flag} must be from {lo:,} to {hi:,}, got {value:,}")
