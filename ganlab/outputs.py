"""A file a command will write, checked before the command does any work.

A mistake in an output path should cost a second, not a training run: a folder where a file was
meant, a folder that does not exist, a place that cannot be written, or a name whose ending does not
say what will be written are each refused in one line that names the path, before anything is
loaded, trained or written (docs/reliability.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError


def check_output(path: str | os.PathLike, flag: str, endings: tuple[str, ...]) -> Path:
    """`path` if a file with one of `endings` can be written there; else ConfigError naming it."""
    p = Path(path).expanduser()
    said = " or ".join(endings)
    if p.is_dir():
        raise ConfigError(f"{flag} {p} is a folder; give a file name in it ending in {said}")
    if p.suffix.lower() not in endings:
        raise ConfigError(f"{flag} {p} should end in {said}, the kind of file it writes")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"{flag} {p}: the folder {folder} {what}; create it first or choose another")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {p}: the folder {folder} cannot be written (permission denied)")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(f"{flag} {p} exists and cannot be written (permission denied)")
    return p
