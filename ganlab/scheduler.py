"""One process, many runs: how the runs of a server (the app serving a class, a notebook with
several labs) share its cores and its memory.

- **Turns.** A playing run trains in short slices, and only one run trains at a time: each slice
  waits its turn in a first-come queue, so runs take turns round-robin. Torch's intra-op pool is
  process-wide; eight runs each spinning a pool on two cores spend their time fighting over them,
  while one run at a time on a pool one core smaller than the machine keeps the cores busy and
  leaves one to the browser and the views.
- **A memory budget.** Each run holds what `memory.training_bytes` estimates for its config; a run
  that would take the server's runs past the budget is refused in one line naming it, and the runs
  already there are untouched.
- **Refreshes that scale.** Every playing run that someone watches is drawn once per refresh; with
  more playing runs than cores, each is drawn less often (`refresh_s`), so drawing does not eat the
  time the runs share.
- **Idle runs.** A run no view has read for `idle_pause_s` pauses; after `idle_free_s` it is saved
  to a temporary checkpoint and its memory freed (`idle.py`; the run restores it on the next read).

The settings come from the environment, with these defaults:

==========================  ===================================================  ==============
GANLAB_IDLE_PAUSE_S         seconds without a viewer before a playing run pauses  300
GANLAB_IDLE_FREE_S          seconds without a viewer before a run is freed        1800
GANLAB_MEMORY_BUDGET_MB     memory all runs of the process may plan to hold       80 % of the memory available at start
GANLAB_TRAIN_THREADS        torch threads for training                             cores - 1 (at least 1)
==========================  ===================================================  ==============
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass

import torch

from . import memory
from .config import Config
from .errors import ConfigError, size_text


@dataclass(frozen=True)
class Settings:
    idle_pause_s: float = 300.0
    idle_free_s: float = 1800.0
    memory_budget: int = 0              # bytes; 0: SHARE of the memory available when the scheduler starts
    train_threads: int = 0              # 0: one fewer than the cores

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        def number(name, kind, default):
            text = env.get(name)
            if text in (None, ""):
                return default
            try:
                value = kind(text)
            except ValueError:
                raise ConfigError(f"{name}={text!r} is not a number; unset it or give one, e.g. {name}={default}") from None
            if value < 0:
                raise ConfigError(f"{name}={text} is negative; give 0 or more")
            return value
        pause = number("GANLAB_IDLE_PAUSE_S", float, cls.idle_pause_s)
        free = number("GANLAB_IDLE_FREE_S", float, cls.idle_free_s)
        if pause == 0:
            raise ConfigError("GANLAB_IDLE_PAUSE_S=0 would pause every run at once; give the seconds to wait, e.g. 300")
        if free < pause:
            raise ConfigError(f"GANLAB_IDLE_FREE_S={free:g} is shorter than GANLAB_IDLE_PAUSE_S={pause:g}: a run is "
                              "freed only once paused; give a free time at least as long")
        return cls(idle_pause_s=pause, idle_free_s=free,
                   memory_budget=int(number("GANLAB_MEMORY_BUDGET_MB", float, 0) * 2**20),
                   train_threads=number("GANLAB_TRAIN_THREADS", int, 0))


class Scheduler:
    """Turns on the cores and a ledger of memory for every run of the process (see the module's text)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.budget = self.settings.memory_budget or int(memory.SHARE * memory.available_memory())
        self._cond = threading.Condition()
        self._waiting: deque = deque()
        self._holder = None
        self._held: dict[int, int] = {}          # id(run) -> bytes it plans to hold
        self._busy: dict[int, float] = {}        # id(run) -> seconds it has held the cores
        self._last_turn: dict[int, float] = {}   # id(run) -> when it last took a turn
        self._threads_set = False

    # ------------------------------------------------------------ turns
    @contextlib.contextmanager
    def turn(self, run):
        """Hold the cores for one slice of `run`; runs waiting get them in the order they asked."""
        self._set_threads()
        with self._cond:
            self._waiting.append(run)
            while self._holder is not None or self._waiting[0] is not run:
                self._cond.wait()
            self._waiting.popleft()
            self._holder = run
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with self._cond:
                self._busy[id(run)] = self._busy.get(id(run), 0.0) + time.perf_counter() - t0
                self._last_turn[id(run)] = time.monotonic()
                self._holder = None
                self._cond.notify_all()

    def playing(self) -> int:
        """Runs that trained within the last five seconds (long enough that round-robin turns and a
        slow slice do not make the count, and so the pages' refresh period, flicker)."""
        now = time.monotonic()
        with self._cond:
            return sum(1 for t in self._last_turn.values() if now - t < 5.0)

    def refresh_s(self, base: float = 1.0) -> float:
        """How often a playing run's view is drawn: `base` seconds, longer once more runs play than the
        machine has cores (eight runs on two cores: every four seconds)."""
        return base * max(1, math.ceil(self.playing() / (os.cpu_count() or 1)))

    def busy_s(self, run) -> float:
        """Seconds `run` has held the cores: its share of the machine, for fairness."""
        with self._cond:
            return self._busy.get(id(run), 0.0)

    def _set_threads(self) -> None:
        # Once, and from the first slice rather than at import: a notebook or a script that set its
        # own thread count before its first run keeps it unless the environment says otherwise.
        if not self._threads_set:
            n = self.settings.train_threads or max(1, (os.cpu_count() or 2) - 1)
            torch.set_num_threads(n)
            self._threads_set = True

    # ------------------------------------------------------------ memory
    def admit(self, run, cfg: Config) -> None:
        """Count a run of `cfg` against the budget (replacing what `run` held), or raise ConfigError."""
        need = sum(memory.training_bytes(cfg).values())
        with self._cond:
            held = [b for key, b in self._held.items() if key != id(run)]
            others = sum(held)
            if others + need > self.budget:
                raise ConfigError(
                    f"the server's memory budget of {size_text(self.budget)} is taken: {len(held)} other run(s) hold "
                    f"{size_text(others)} and this one needs {size_text(need)}; close or free a run, or raise "
                    f"GANLAB_MEMORY_BUDGET_MB")
            self._held[id(run)] = need

    def release(self, run) -> None:
        with self._cond:
            self._held.pop(id(run), None)
            self._busy.pop(id(run), None)
            self._last_turn.pop(id(run), None)

    def held(self) -> int:
        """Bytes all admitted runs plan to hold."""
        with self._cond:
            return sum(self._held.values())

    def runs(self) -> int:
        with self._cond:
            return len(self._held)


_default: Scheduler | None = None
_default_lock = threading.Lock()


def default() -> Scheduler:
    """The process's scheduler, made on first use from the environment's settings."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Scheduler()
        return _default
