"""A file a command will write, and a path it reads, checked before the command does any work.

A mistake in an output path should cost a second, not a training run: a folder where a file was
meant, a folder that does not exist, a place that cannot be written (tried with a small file, not
judged from permission bits), or a name whose ending does not say what will be written are each
refused in one line that names the path, before anything is loaded, trained or written
(docs/reliability.md). So is a file larger than its disk's free space, and a path to read that is
missing, of the wrong kind (a folder for a file, or the reverse) or unreadable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError, size_text


def check_output(path: str | os.PathLike, flag: str, endings: tuple[str, ...]) -> Path:
    """`path` if a file with one of `endings` (any ending, when none are given) can be written
    there; else ConfigError naming it."""
    p = Path(path).expanduser()
    said = " or ".join(endings)
    if p.is_dir():
        raise ConfigError(f"{flag} {p} is a folder; give a file name in it" + (f" ending in {said}" if said else ""))
    if endings and p.suffix.lower() not in endings:
        raise ConfigError(f"{flag} {p} should end in {said}, the kind of file it writes")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"{flag} {p}: the folder {folder} {what}; create it first or choose another")
    try_writing(folder, f"{flag} {p}")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(f"{flag} {p} exists and cannot be written (permission denied)")
    return p


# Why a folder refused a new file, in words; an errno not here is given as the system words it.
REFUSALS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.EROFS: "a read-only file system", errno.ENOSPC: "no space left on its disk",
            errno.EDQUOT: "the disk quota is used up", errno.ENOENT: "it takes no new files"}


def try_writing(folder: Path, what: str) -> None:
    """ConfigError naming `what` unless a new file can be made in `folder` and a byte written to it.

    Permission bits cannot say this: root passes `os.access` everywhere, yet /proc, a read-only
    mount or a full disk takes no new file. So a file of a unique name is made, written, closed and
    always removed, which is the one test that the folder cannot fool."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".ganlab-write-test-", dir=folder)
    except OSError as exc:
        raise ConfigError(f"{what}: the folder {folder} cannot be written ({_why(exc)})") from None
    try:
        with os.fdopen(fd, "wb") as f:        # a full disk gives the name, then refuses the byte
            f.write(b"\0")
    except OSError as exc:
        raise ConfigError(f"{what}: the folder {folder} cannot be written ({_why(exc)})") from None
    finally:
        with contextlib.suppress(OSError):   # a folder that takes files but keeps them is past helping
            os.unlink(probe)


def _why(exc: OSError) -> str:
    return REFUSALS.get(exc.errno) or (exc.strerror or str(exc)).lower()


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
