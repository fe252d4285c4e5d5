"""ganlab's errors. Each carries a one-line message that says what is wrong and how to fix it;
the CLI prints it without a traceback."""


class GanlabError(Exception):
    """Base class: anything a user can cause and fix."""


class ConfigError(GanlabError, ValueError):
    """A config value or combination that cannot be trained."""


class DataError(GanlabError):
    """Data that is missing, unreadable or not what was asked for."""


class CheckpointError(GanlabError):
    """A file that is not a ganlab checkpoint, is damaged, or does not fit the requested config."""


class DivergenceError(GanlabError):
    """Losses became NaN/inf; the trainer has been rolled back to its last good state."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, for wrapping foreign errors in one-line ones."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else "no message"


def size_text(n: float) -> str:
    """A byte count as people read it in a message: 1.5 GiB, 12.0 MiB, 3.2 KiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 2**10:.1f} KiB"
