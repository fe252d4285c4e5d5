"""Where a study lives: Optuna's RDB storage, an SQLite file by default, any SQLAlchemy URL otherwise
(`postgresql+psycopg://user:password@host/db` shares one study between machines).

Trials write a heartbeat; a trial whose heartbeat stops (its worker was killed) is marked failed by
the next worker that looks, and put back in the queue with its settings
(`RetryHeartbeatStaleTrialCallback`). Every way the storage can be wrong (unreachable, wrong
password, a study made with other settings) is a one-line `StudyError` before any training.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

from ..errors import GanlabError, first_line

# How often a running trial writes its heartbeat (s); a trial silent for GRACE heartbeats is dead.
HEARTBEAT = 10
GRACE = 3
# Seconds a PostgreSQL connection may take before the server counts as unreachable.
CONNECT_TIMEOUT = 5


class StudyError(GanlabError):
    """A study that cannot be opened or joined as asked."""


def studies_dir() -> Path:
    """Where studies live by default: $GANLAB_STUDIES, else studies/ in the working folder."""
    return Path(os.environ.get("GANLAB_STUDIES", "studies"))


def default_url(name: str, folder: Path | None = None) -> str:
    return f"sqlite:///{(folder or studies_dir()) / name}.db"


def shown_url(url: str) -> str:
    """The URL with its password hidden, for messages and records."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:                    # not a URL at all: say it as given, it holds no parsed password
        return url


def open_storage(url: str, heartbeat: int = HEARTBEAT):
    """Optuna's RDBStorage at `url` with heartbeats and retries of dead trials, or a StudyError."""
    import optuna
    from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

    kwargs = _engine_kwargs(url)
    for attempt in range(3):
        try:
            with warnings.catch_warnings():   # heartbeats are marked experimental; they are what we rely on
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = optuna.storages.RDBStorage(
                    url, engine_kwargs=kwargs, heartbeat_interval=heartbeat, grace_period=GRACE * heartbeat,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3))
            if url.startswith("sqlite:"):
                _write_ahead(storage.engine)
            return storage
        except IntegrityError:
            # Two workers creating Optuna's tables at one moment: the loser finds them made on a retry.
            time.sleep(0.5 + attempt)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StudyError(f"--storage {shown_url(url)} is not a database URL SQLAlchemy knows "
                             f"({first_line(exc)}); e.g. sqlite:///studies/NAME.db or "
                             "postgresql+psycopg://user:password@host/db") from None
        except ImportError as exc:
            raise StudyError(f"--storage {shown_url(url)} needs a driver that is not installed ({first_line(exc)}); "
                             "for PostgreSQL: pip install 'psycopg[binary]'") from None
        except (DBAPIError, SQLAlchemyError) as exc:
            raise StudyError(_refusal(url, exc)) from None
    raise StudyError(f"--storage {shown_url(url)}: could not create the study tables (another worker kept "
                     "creating them); try again")


def _write_ahead(engine) -> None:
    """SQLite in write-ahead mode, synced at checkpoints rather than every commit: a trial writes its
    attributes, reports and heartbeats as a dozen small commits, each an fsync otherwise (the cost
    in docs/studies.md), and readers (`study show`, the page) no longer wait for a writer. A killed
    worker loses nothing committed; only a power cut can lose the last commits."""
    from sqlalchemy import event

    def pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()                    # connections opened before the listener reopen with it


def _engine_kwargs(url: str) -> dict:
    if url.startswith("sqlite:"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Workers write at once: wait for the file's lock rather than fail at once.
        return {"connect_args": {"timeout": 60}}
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}, "pool_pre_ping": True}
    return {}


def _refusal(url: str, exc: Exception) -> str:
    """The database's refusal in one line that says which of the usual causes it is."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    where = shown_url(url)
    if "password" in text or "authentication" in text:
        return f"--storage {where}: the server refused the user or password"
    if "does not exist" in text and "database" in text:
        return f"--storage {where}: no such database on the server; create it (createdb NAME) or name another"
    if any(s in text for s in ("refused", "could not connect", "timeout", "timed out", "no route",
                               "name or service", "could not translate", "unreachable")):
        return f"--storage {where}: cannot reach the database server ({first_line(exc.orig or exc)})"
    if "unable to open database file" in text:
        return f"--storage {where}: cannot open that SQLite file (is its folder writable?)"
    return f"--storage {where}: {first_line(getattr(exc, 'orig', None) or exc)}"
