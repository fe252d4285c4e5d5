"""`fields`: every training setting as a Markdown table (flag, URL key, default, allowed values,
whether a live run takes it in place), from the fields' declared rules; README.md holds its output.

    python -m ganlab fields
"""

from __future__ import annotations

from ..config import FIELDS, Config, allowed, rules


def add_fields(sub) -> None:
    sub.add_parser("fields", help="every training setting: flag, URL key, default, allowed values (Markdown)")


def fields_table() -> str:
    """Every config field as a Markdown table, from its declared rules (README.md holds its output)."""
    lines = ["| flag | URL key | default | allowed | in a live run | what |", "|---|---|---|---|---|---|"]
    for name in FIELDS:
        rule, default = rules(name), Config.__dataclass_fields__[name].default
        live = "needs a new run" if rule["structural"] else \
            "in place to a loss with D's meaning, else a new run" if name == "loss" else "applies in place"
        lines.append(f"| `--{name.replace('_', '-')}` | `{name}` | {default} | {allowed(name)} | {live} | {rule['help']} |")
    return "\n".join(lines)


def cmd_fields(args) -> int:
    print(fields_table())
    return 0
