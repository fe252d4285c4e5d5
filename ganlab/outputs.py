"""A file a command will write, and a path it reads, checked before the command does any work.

A mistake in an output path should cost a second, not a training run: a folder where a file was
meant, a folder that does not exist, a place that cannot be written, or a name whose ending does not
say what will be written are each refused in one line that names the path, before anything is
loaded, trained or written (docs/reliability.md). So is a file larger than its disk's free space,
and a path to read that is missing, of the wrong kind (a folder for a file, or the reverse) or
unreadable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import ConfigError, size_text


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


def check_space(outputs: dict[str, tuple[str | os.PathLike, int]], fix=None) -> None:
    """ConfigError when the files `outputs` ({flag: (path, bytes)}) add up, on one disk, to more than
    its free space; `fix(free)` says what would fit (by default: free space or write elsewhere).
    A file being replaced counts in full: it is written beside the old one and renamed over it."""
    disks: dict[int, list] = {}
    for flag, (path, size) in outputs.items():
        folder = Path(path).expanduser().parent
        disks.setdefault(os.stat(folder).st_dev, []).append((f"{flag} {path}", size, folder))
    for files in disks.values():
        need, folder = sum(size for _, size, _ in files), files[0][2]
        free = shutil.disk_usage(folder).free
        if need > free:
            said = fix(free) if fix else "free some space or write elsewhere"
            raise ConfigError(f"{' and '.join(name for name, _, _ in files)} would take about {size_text(need)}, "
                              f"but {folder.resolve()} has {size_text(free)} free; {said}")


def check_input(path: str | os.PathLike, what: str, folder: bool = False, error=ConfigError) -> Path:
    """`path` if it is a readable file (a folder, with `folder`), else `error` in one line naming it
    as a `what` file or folder. A link is followed: whoever typed the path chose where it leads.

    >>> check_input("/", "checkpoint")
    Traceback (most recent call last):
    ...
    ganlab.errors.ConfigError: checkpoint file / is a folder, not a file; give the file itself
    """
    p, kind = Path(path).expanduser(), f"{what} {'folder' if folder else 'file'}"
    if not p.exists():
        if p.is_symlink():
            raise error(f"{kind} {p} is a link to {os.readlink(p)}, which does not exist")
        raise error(f"{p}: no such {kind}")
    if folder and not p.is_dir():
        raise error(f"{kind} {p} is a file, not a folder; give the folder that holds the files")
    if not folder and p.is_dir():
        raise error(f"{kind} {p} is a folder, not a file; give the file itself")
    if not folder and not p.is_file():
        raise error(f"{kind} {p} is not a regular file (a device, pipe or socket)")
    if not os.access(p, os.R_OK | (os.X_OK if folder else 0)):
        raise error(f"{kind} {p} cannot be read (permission denied)")
    return p


def source_size(source) -> int:
    """Bytes in a path or a seekable binary file (an upload), read from its end, not by reading it."""
    if not hasattr(source, "seek"):
        return Path(source).stat().st_size
    size = source.seek(0, os.SEEK_END)
    source.seek(0)
    return size
