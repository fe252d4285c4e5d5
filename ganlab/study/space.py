"""The settings a study searches: `--space "lr_g=1e-4..1e-2:log k=1..5 loss=nonsat|minimax|hinge"`.

Each entry names a field of `Config` and either a range `LO..HI` (`:log` to sample it on a log
scale) or choices `A|B|C`; a single value fixes the field for every trial. Every bound and choice
goes through the field's own rules (`config.check_field`), and the corners of the space through
`make_config`, so a space the config refuses is refused in one line before any trial starts.

>>> space = parse_space("lr_g=1e-4..1e-2:log k=1..5 loss=nonsat|hinge", data="ring")
>>> [p.name for p in space.params], space.text
(['lr_g', 'k', 'loss'], 'lr_g=0.0001..0.01:log k=1..5 loss=nonsat|hinge')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..config import FIELD_TYPES, FIELDS, check_field, make_config, rules
from ..errors import ConfigError

# Fields a study sets itself: the data is the study's own (--data), so a trial's checkpoint and its
# metric always mean the same thing.
NOT_SEARCHED = {"data": "the study's data is --data"}


@dataclass(frozen=True)
class Param:
    """One searched field: a range (lo, hi, log) or choices."""
    name: str
    lo: float | int | None = None
    hi: float | int | None = None
    log: bool = False
    choices: tuple = ()

    @property
    def is_range(self) -> bool:
        return not self.choices

    @property
    def text(self) -> str:
        if self.choices:
            return f"{self.name}=" + "|".join(f"{c:g}" if isinstance(c, float) else str(c) for c in self.choices)
        return f"{self.name}={self.lo:g}..{self.hi:g}" + (":log" if self.log else "")

    def suggest(self, trial):
        """This field's value for an Optuna trial."""
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if FIELD_TYPES[self.name] is int:
            return trial.suggest_int(self.name, self.lo, self.hi, log=self.log)
        return trial.suggest_float(self.name, self.lo, self.hi, log=self.log)

    def corners(self) -> tuple:
        """The values that bound what this field can take: both ends of a range, or every choice."""
        return self.choices or (self.lo, self.hi)


@dataclass(frozen=True)
class Space:
    params: tuple[Param, ...]

    @property
    def text(self) -> str:
        """The canonical spelling, stored with the study: two spellings of one space compare equal."""
        return " ".join(p.text for p in self.params)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def suggest(self, trial) -> dict:
        return {p.name: p.suggest(trial) for p in self.params}

    def grid(self) -> dict:
        """The search space of Optuna's GridSampler: every choice, every integer of a range."""
        out = {}
        for p in self.params:
            if p.is_range and FIELD_TYPES[p.name] is not int:
                raise ConfigError(f"--sampler grid needs choices (A|B) or integer ranges; {p.text} is a range of "
                                  f"real numbers: list the values to try, e.g. {p.name}={p.lo:g}|{p.hi:g}")
            out[p.name] = list(p.choices) if p.choices else list(range(p.lo, p.hi + 1))
        return out


def parse_space(spec: str, data: str) -> Space:
    """The space `spec` for studies on `data`, or a one-line ConfigError naming the entry at fault."""
    if not spec or not spec.strip():
        raise ConfigError('--space is empty; e.g. --space "lr_g=1e-4..1e-2:log k=1..5 loss=nonsat|minimax"')
    params, seen = [], set()
    for entry in spec.split():
        param = _parse_entry(entry)
        if param.name in seen:
            raise ConfigError(f"--space names {param.name} twice; give each field once")
        seen.add(param.name)
        params.append(param)
    space = Space(tuple(params))
    check_corners(space, data)
    return space


def _parse_entry(entry: str) -> Param:
    try:
        return _entry(entry)
    except ConfigError as exc:
        text = str(exc)
        raise ConfigError(text if text.startswith("--space") else f"--space entry {entry!r}: {text}") from None


def _entry(entry: str) -> Param:
    name, eq, values = entry.partition("=")
    if not eq or not values:
        raise ConfigError(f"--space entry {entry!r} is not FIELD=LO..HI[:log] or FIELD=A|B")
    if name not in FIELDS:
        raise ConfigError(f"--space names {name!r}, which is not a config field; fields: {', '.join(FIELDS)}")
    if name in NOT_SEARCHED:
        raise ConfigError(f"--space cannot search {name}: {NOT_SEARCHED[name]}")
    if ".." in values:
        return _range(name, values, entry)
    if values.endswith(":log"):
        raise ConfigError(f"--space entry {entry!r}: ':log' goes with a range LO..HI")
    choices = tuple(check_field(name, _value(name, v, entry)) for v in values.split("|"))
    if len(set(choices)) < len(choices):
        raise ConfigError(f"--space entry {entry!r} lists a value twice")
    return Param(name, choices=choices)


def _range(name: str, values: str, entry: str) -> Param:
    body, _, scale = values.partition(":")
    if scale not in ("", "log"):
        raise ConfigError(f"--space entry {entry!r}: after ':' only 'log' is allowed")
    if "choices" in rules(name):
        raise ConfigError(f"--space entry {entry!r}: {name} is a choice, not a number; list values as "
                          f"{name}=A|B")
    lo_text, _, hi_text = body.partition("..")
    lo, hi = (check_field(name, _value(name, v, entry)) for v in (lo_text, hi_text))
    if not lo < hi:
        raise ConfigError(f"--space entry {entry!r}: the low end must be below the high end")
    if scale == "log" and lo <= 0:
        raise ConfigError(f"--space entry {entry!r}: a log range needs a low end above 0")
    return Param(name, lo, hi, log=scale == "log")


def _value(name: str, text: str, entry: str):
    kind = FIELD_TYPES[name]
    try:
        return kind(float(text)) if kind is float else kind(text)
    except ValueError:
        raise ConfigError(f"--space entry {entry!r}: {text!r} is not {'an integer' if kind is int else 'a number'}"
                          f" (the values of {name})") from None


def check_corners(space: Space, data: str) -> None:
    """Refuse, in one line, a space whose corners make a config that cannot train (e.g. a batch
    larger than the dataset, or a model that does not fit the data): every choice and both ends of
    every range, the combinations taken up to 64 at a time."""
    corners = itertools.islice(itertools.product(*(p.corners() for p in space.params)), 64)
    for values in corners:
        settings = dict(zip(space.names, values))
        try:
            make_config(data=data, **settings)
        except ConfigError as exc:
            shown = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())
            raise ConfigError(f"--space reaches {shown} on {data}, which the config refuses: {exc}") from None
