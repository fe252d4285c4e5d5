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
