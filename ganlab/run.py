"""A run in the background: a `Trainer`, one worker thread that alone changes it, and snapshots for
whoever watches.

Every front end (the app's pages, a notebook widget, a script) is a view of a `Run`: it sends
commands (play, pause, step, one D or G step, new settings, reset, load, save, pin) through a queue,
and reads the latest `Snapshot`, an immutable picture of the run at one step: the step, a frozen
copy of the networks and their history that figures are drawn from, the speed and the status. A
view drawn from one snapshot agrees with itself on the step, whatever the worker has done since,
and a reader never waits for a training slice.

The worker trains in short slices (`SLICE_S`) while playing, taking turns with the process's other
runs (`scheduler.py`); it publishes a snapshot after every command and, while someone watches, every
`PUBLISH_S`. An error becomes the run's status and stops play (a divergence is rolled back to the
last good state by the trainer), never a dead thread. Training through a `Run` gives the weights of
the same `Trainer` calls to the bit: slices are calls of `step(n)`, and `step(a)` then `step(b)` is
`step(a + b)`.

>>> from ganlab.config import Config
>>> run = Run(Trainer(Config(data="ring", seed=0), device="cpu"))
>>> run.step(25).result()["step"], run.snapshot().step
(25, 25)
>>> run.close()
"""

from __future__ import annotations

import atexit
import time
import traceback
import weakref
from concurrent.futures import Future

from . import idle
from . import scheduler as scheduling
from .config import Config
from .errors import DivergenceError, GanlabError
from .runsnapshot import CLOSED, FREED, LOADING, PAUSED, PLAYING, Snapshot, SlowStep, frozen_copy, picture
from .trainer import Trainer
from .worker import Worker

SLICE_S = 0.1          # training per slice: how long a command or another run waits for the cores
MAX_SLICE = 5000       # iterations per slice, whatever the measured speed
PUBLISH_S = 1.0        # snapshots while playing and watched, at most this often (`Scheduler.refresh_s` stretches it)
WATCHED_S = 5.0        # a run read within this long (plus a refresh period) has a viewer, and gets snapshots
POLL_S = 0.5           # how often an idle worker looks at the clock (idle pause and free)

__all__ = ["Run", "Snapshot", "SlowStep", "frozen_copy", "PLAYING", "PAUSED", "LOADING", "FREED", "CLOSED"]


class Run:
    """A trainer trained in the background; see the module's text. The methods here are the caller's
    side: each command is queued for the worker and answered through a Future."""

    def __init__(self, trainer: Trainer, scheduler: scheduling.Scheduler | None = None):
        self.scheduler = scheduler or scheduling.default()
        self._engine = _Engine(trainer, self.scheduler)
        self._worker = Worker(self._engine.execute, self._engine.tick, lambda: self._engine.playing,
                              self._engine.fail, POLL_S, "ganlab-run")
        _RUNS.add(self)
        self._worker.start()

    # ------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot:
        """The latest snapshot, at once. Reading counts as watching: a freed run starts restoring."""
        self._engine.seen = time.monotonic()
        snap = self._engine.snapshot
        if snap.state == FREED:
            self._worker.submit(self._engine.restore)
        return snap

    def peek(self) -> Snapshot:
        """The latest snapshot without counting as a viewer (a monitor's read: the run may still idle)."""
        return self._engine.snapshot

    @property
    def config(self) -> Config:
        return self._engine.snapshot.config

    @property
    def trainer(self) -> Trainer | None:
        """The live trainer, which only the worker changes: read it where nothing else drives the run
        (a test, or a script between its own commands, after `sync()`); views read `snapshot()`."""
        return self._engine.trainer

    @property
    def working(self) -> bool:
        """The worker thread is alive (it ends when the run is freed or closed)."""
        return self._worker.alive

    @property
    def busy_s(self) -> float:
        """Seconds this run has held the cores: its share of the machine."""
        return self.scheduler.busy_s(self._engine)

    def paint(self, key, painter) -> None:
        """Have the worker draw every snapshot it publishes with `painter(view)` (figures, images), kept
        in the snapshot as `drawn = (key, result)`: a view that finds its own key there shows the
        result without computing while its page waits. `key` names what the painter was asked (the
        view's options); the latest call wins. A painter that fails draws nothing; training goes on."""
        self._engine.painter = (key, painter)

    def sync(self, timeout: float | None = 60) -> Snapshot:
        """Wait until every command sent so far is done; return the snapshot then (TimeoutError after
        `timeout` seconds: a load or a slice longer than that is still under way)."""
        self._submit(lambda: None).result(timeout)
        return self._engine.snapshot

    # ------------------------------------------------------------ commands
    def play(self) -> Future:
        return self._submit(self._engine.play)

    def pause(self) -> Future:
        return self._submit(self._engine.pause)

    def step(self, n: int = 1) -> Future:
        """n iterations, a Future of their step count and each history key's mean (as `Trainer.step`).
        They train in slices that take turns with the process's other runs; a divergence rolls back
        the slice it happened in, as while playing. Clears slow motion's panel."""
        return self._submit(self._engine.step, n)

    def d_step(self) -> Future:
        return self._submit(self._engine.slow_step, "d")

    def g_step(self) -> Future:
        return self._submit(self._engine.slow_step, "g")

    def update(self, **changes) -> Future:
        """Settings the run takes in place (`Trainer.update`); new settings may cure a divergence."""
        return self._submit(self._engine.update, changes)

    def reset(self) -> Future:
        """A new trainer with the run's settings and seed: the same initial weights and stream."""
        return self._submit(lambda: self._engine.start(self._engine.trainer.config))

    def new_seed(self) -> Future:
        def next_seed():
            cfg = self._engine.trainer.config
            self._engine.start(cfg.replace(seed=(cfg.seed + 1) % 2**31))
        return self._submit(next_seed)

    def start(self, cfg: Config, dataset=None) -> Future:
        """A new trainer of `cfg` (a structural change); `dataset` as Trainer's (points of one's own)."""
        return self._submit(self._engine.start, cfg, dataset)

    def adopt(self, trainer: Trainer) -> Future:
        """Make `trainer` (loaded elsewhere) this run's; from now on only the worker touches it."""
        return self._submit(self._engine.adopt, trainer)

    def load(self, path, **options) -> Future:
        return self._submit(lambda: self._engine.adopt(Trainer.load(path, device=self._engine.trainer.device, **options)))

    def save(self, path, **extra) -> Future:
        return self._submit(lambda: self._engine.trainer.save(path, **extra))

    def pin(self) -> Future:
        """A Future of a frozen copy of the run as it is now (for comparing runs side by side)."""
        return self._submit(lambda: frozen_copy(self._engine.trainer))

    def call(self, fn, *args, **kwargs) -> Future:
        """Run `fn(trainer, *args, **kwargs)` in the worker, between slices and in the run's turn on the
        cores: the seam through which a feature that changes the trainer (training the inference net,
        say) goes."""
        def in_turn():
            with self.scheduler.turn(self._engine):
                return fn(self._engine.trainer, *args, **kwargs)
        return self._submit(in_turn)

    def close(self) -> None:
        """Stop the worker and give the run's memory back to the scheduler. Commands sent after, or
        still waiting when it closes, do nothing (their Futures hold None)."""
        self._engine.playing = False
        if self._worker.close():
            self._engine.close()

    def _submit(self, fn, *args) -> Future:
        self._engine.seen = time.monotonic()
        return self._worker.submit(fn, *args)


class _Engine:
    """The worker's side of a run: the trainer, what each command does to it, the slices while
    playing, idle pause and free, and the snapshots. Only the worker thread calls its methods
    (`close` after the thread has ended)."""

    def __init__(self, trainer: Trainer, scheduler: scheduling.Scheduler):
        self.scheduler = scheduler
        self.trainer: Trainer | None = trainer
        self.playing = False
        self.painter: tuple | None = None                    # (key, painter) from the view that watches
        self.seen = self._published = time.monotonic()       # when a view last read or commanded the run
        self._status: tuple[str, bool] | None = None         # (message, diverged)
        self._note: str | None = None
        self._slow: SlowStep | None = None
        self._ips = self._train_ips = None
        self._version = self._generation = 0
        self._shelf, self._shelf_failed = idle.Shelf(), float("-inf")
        self.scheduler.admit(self, trainer.config)
        try:
            self.snapshot = self._make_snapshot(PAUSED)
        except BaseException:
            self.scheduler.release(self)                     # a refusal or a failure leaves nothing behind
            raise

    def execute(self, fn, args):
        try:
            self.restore()                   # a command to a freed run brings it back first
            return fn(*args)
        except BaseException as exc:         # the run keeps going; the caller's Future holds the error
            if fn in (self.step, self.slow_step):
                self.fail(exc)               # training failed: the status stops play until it is cured
            else:                            # a load, a new run or a setting refused: the run is as it was
                self._note = str(exc) if isinstance(exc, GanlabError) else f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._publish()                  # so a caller that waits then reads sees what it asked for

    def tick(self, commanded: bool) -> bool:
        """Between commands: a slice while playing, a snapshot when one is due; True once freed (the
        thread ends; a read starts another to restore)."""
        if not commanded and self.playing:
            self._slice()
            now = time.monotonic()
            every = self.scheduler.refresh_s(PUBLISH_S)
            if now - self._published >= every and now - self.seen < WATCHED_S + every:
                self._publish()
        return self._idle()

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, GanlabError):
            self._status = (str(exc), isinstance(exc, DivergenceError))
        else:                                # a bug: say which, keep the traceback in the server's log
            traceback.print_exception(exc)
            self._status = (f"{type(exc).__name__}: {exc}", False)
        self.playing = False

    def close(self) -> None:
        self.trainer = None
        self.scheduler.release(self)
        self.snapshot = self._make_snapshot(CLOSED)

    # ------------------------------------------------------------ training
    def _train(self, n: int) -> dict:
        """n iterations in one turn on the cores; the measured speeds size the next slice."""
        t_wait = time.perf_counter()
        with self.scheduler.turn(self):
            t0 = time.perf_counter()
            result = self.trainer.step(n)
            t1 = time.perf_counter()
        self._train_ips = _smoothed(self._train_ips, n / max(t1 - t0, 1e-6))
        self._ips = _smoothed(self._ips, n / max(t1 - t_wait, 1e-6))
        return result

    def _slice_size(self) -> int:
        return 10 if self._train_ips is None else max(1, min(MAX_SLICE, int(self._train_ips * SLICE_S)))

    def _slice(self) -> None:
        try:
            self._train(self._slice_size())
        except Exception as exc:
            self.fail(exc)
            self._publish()
            return
        self._slow = None

    # ------------------------------------------------------------ what commands do
    def _ready(self) -> bool:
        """Commands that train are ignored while a status stands (the view shows it)."""
        return self._status is None and self.trainer is not None

    def play(self) -> None:
        self._note = None
        self.playing = self._ready()
        if self.playing and self.trainer.config.is_image and not self.trainer.data_loaded:
            self._publish(LOADING)           # the view says so while a dataset loads
            self.trainer.load_data()

    def pause(self) -> None:
        self.playing = False

    def step(self, n: int):
        if not self._ready():
            return None
        self._slow = None
        done, sums, result = 0, {}, {}
        while done < n:
            size = min(n - done, self._slice_size())
            result = self._train(size)
            for key, value in result.items():
                sums[key] = sums.get(key, 0.0) + value * size
            done += size
        return {**{key: total / n for key, total in sums.items()}, "step": result.get("step")}

    def slow_step(self, kind: str):
        from .plots import snapshot as views_of          # figures' inputs; plots imports nothing of ours back

        if not self._ready():
            return None
        trainer = self.trainer
        with self.scheduler.turn(self):
            before = views_of(trainer)
            result = trainer.d_step() if kind == "d" else trainer.g_step()
            self._slow = SlowStep(kind, trainer.step_count, trainer.pending_d_steps, before, views_of(trainer))
        return result

    def update(self, changes: dict) -> None:
        self.trainer.update(**changes)
        if self._status and self._status[1]:
            self._status = None

    def start(self, cfg: Config, dataset=None) -> None:
        old = self.trainer
        if dataset is None and cfg.data == "points" and old is not None and old.config.data == "points":
            dataset = old.data
        self.scheduler.admit(self, cfg)
        self.trainer = None                      # the old one's memory goes before the new one's comes
        try:
            self.adopt(Trainer(cfg, device=old.device if old else "auto", data_root=old.data_root if old else None,
                               dataset=dataset))
        except BaseException:
            self.trainer = old
            self.scheduler.admit(self, old.config)
            raise

    def adopt(self, trainer: Trainer) -> None:
        self.scheduler.admit(self, trainer.config)
        self.trainer, self._generation = trainer, self._generation + 1
        self.playing, self._status, self._note, self._slow = False, None, None, None
        self._ips = self._train_ips = None

    # ------------------------------------------------------------ idle runs (idle.py)
    def _idle(self) -> bool:
        """Pause a run nobody watches, and free one nobody has watched for longer; True once freed."""
        settings = self.scheduler.settings
        action = idle.due(self.playing, time.monotonic() - max(self.seen, self._shelf_failed), settings)
        if action == idle.PAUSE:
            self.playing = False
            self._note = f"paused: nobody watched it for {settings.idle_pause_s:g} s"
            self._publish()
        elif action == idle.FREE and self.trainer is not None and idle.can_shelve(self.trainer):
            return self._free()
        return False

    def _free(self) -> bool:
        """Shelve the trainer and give its memory back; a failure (a full disk) keeps it, says why,
        and waits as long again before the next try."""
        self._publish(LOADING)
        try:
            self._shelf.put(self.trainer)
        except Exception as exc:
            self._shelf_failed = time.monotonic()
            self._note = f"could not free the unwatched run, kept in memory: {type(exc).__name__}: {exc}"
            self._publish()
            return False
        self.playing = False
        config, self.trainer = self.trainer.config, None
        self.scheduler.release(self)
        self.snapshot = self._make_snapshot(FREED, config=config)
        self._note = None
        return True

    def restore(self) -> None:
        if self.trainer is not None or not self._shelf.holding:
            return
        self._publish(LOADING, config=self.snapshot.config)
        self.scheduler.admit(self, self.snapshot.config)
        self.trainer = self._shelf.take()
        self._note = "restored from where it was freed while nobody watched"

    # ------------------------------------------------------------ snapshots
    def _publish(self, state: str | None = None, config: Config | None = None) -> None:
        self.snapshot = self._make_snapshot(state, config)
        self._published = time.monotonic()

    def _make_snapshot(self, state: str | None = None, config: Config | None = None) -> Snapshot:
        self._version += 1
        if self.trainer is None:
            last = self.snapshot
            return Snapshot(self._version, state or FREED, last.step, config or last.config, None, None,
                            note=self._note, generation=self._generation)
        status, diverged = self._status or (None, False)
        return picture(self.trainer, self._version, state or (PLAYING if self.playing else PAUSED), self.painter,
                       ips=self._ips if self.playing else None, status=status, diverged=diverged, note=self._note,
                       generation=self._generation, slow=self._slow)


_RUNS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_workers() -> None:
    """Stop every worker before the interpreter goes: a thread killed inside a torch kernel at exit
    aborts the process."""
    for run in list(_RUNS):
        run._engine.playing = False
        run._worker.close(timeout=10)


def _smoothed(old: float | None, new: float) -> float:
    return new if old is None else 0.5 * old + 0.5 * new
