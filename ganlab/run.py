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

import copy
import os
import queue
import tempfile
import threading
import time
import traceback
import atexit
import weakref
from concurrent.futures import Future
from dataclasses import dataclass

import torch

from . import scheduler as scheduling
from .config import Config
from .errors import DivergenceError, GanlabError
from .trainer import Trainer

SLICE_S = 0.1          # training per slice: how long a command or another run waits for the cores
MAX_SLICE = 5000       # iterations per slice, whatever the measured speed
PUBLISH_S = 1.0        # snapshots while playing and watched, at most this often (`Scheduler.refresh_s` stretches it)
WATCHED_S = 5.0        # a run read within this long (plus a refresh period) has a viewer, and gets snapshots
POLL_S = 0.5           # how often an idle worker looks at the clock (idle pause and free)

PLAYING, PAUSED, LOADING, FREED, CLOSED = "playing", "paused", "loading", "freed", "closed"


@dataclass(frozen=True)
class SlowStep:
    """One step taken alone ("d" or "g") and the views before and after it (`plots.snapshot`)."""
    kind: str
    step: int                  # the trainer's step count after it
    d_steps: int               # D steps taken alone in the current iteration
    before: dict
    after: dict


@dataclass(frozen=True)
class Snapshot:
    """The run at one moment. `view` is a frozen copy of the trainer (networks, history, fixed z, data
    shared read-only) for figures; it is never trained, and None while the run is freed or closed."""
    version: int
    state: str                     # PLAYING, PAUSED, LOADING, FREED or CLOSED
    step: int
    config: Config
    view: Trainer | None
    ips: float | None              # iterations per second of wall time while playing
    status: str | None = None      # why the run stopped: an error, or None
    diverged: bool = False         # the status is a divergence, which new settings may cure
    note: str | None = None        # a command it refused, or what it did by itself (paused with no viewer)
    generation: int = 0            # counts the trainers the run has had: a result of one is not of the next
    slow: SlowStep | None = None   # the last step taken alone, while it is the latest thing done
    pending_d_steps: int = 0
    drawn: tuple | None = None     # (the painter's key, what it drew of `view`): see `Run.paint`

    @property
    def playing(self) -> bool:
        return self.state == PLAYING


def frozen_copy(trainer: Trainer) -> Trainer:
    """A copy of `trainer` for views: its own networks, averages, encoder, history and stream, no
    optimizers; the data and the fixed noise are shared (neither is ever written)."""
    view = copy.copy(trainer)
    memo = {id(trainer.rng): _clone_generator(trainer.rng)}     # dropout layers hold the stream
    view.rng = memo[id(trainer.rng)]
    for name in ("G", "D", "ema", "d_ema", "encoder", "_history"):
        setattr(view, name, copy.deepcopy(getattr(trainer, name), memo))
    # An iteration under way keeps D's last phase, graph and all, for its G step: views need its count.
    view._pending = None if trainer._pending is None else (trainer._pending[0], None)
    view.opt_g = view.opt_d = view.roles = view._graph = view._snapshot = None
    return view


def _clone_generator(gen: torch.Generator) -> torch.Generator:
    clone = torch.Generator(gen.device)
    clone.set_state(gen.get_state())
    return clone


class Run:
    """A trainer trained in the background; see the module's text."""

    def __init__(self, trainer: Trainer, scheduler: scheduling.Scheduler | None = None):
        self.scheduler = scheduler or scheduling.default()
        self.scheduler.admit(self, trainer.config)           # a refusal leaves nothing behind
        self._trainer: Trainer | None = trainer
        self._queue: queue.Queue = queue.Queue()
        self._playing = False
        self._status: tuple[str, bool] | None = None         # (message, diverged)
        self._note: str | None = None
        self._slow: SlowStep | None = None
        self._ips = self._train_ips = None
        self._version = self._generation = 0
        self._seen = self._published = time.monotonic()
        self._freed_path: str | None = None
        self._lock = threading.Lock()                        # guards starting the worker
        self._thread: threading.Thread | None = None
        self._painter: tuple | None = None                   # (key, painter) from the view that watches
        self._snapshot = self._make_snapshot(PAUSED)
        # A freed run's temporary checkpoint goes with the run, whenever the run goes.
        self._files: list[str] = []
        weakref.finalize(self, _remove_files, self._files)
        _RUNS.add(self)
        self._start_worker()

    # ------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot:
        """The latest snapshot, at once. Reading counts as watching: a freed run starts restoring."""
        self._seen = time.monotonic()
        if self._snapshot.state == FREED:
            self._submit(self._restore)
        return self._snapshot

    @property
    def config(self) -> Config:
        return self._snapshot.config

    @property
    def trainer(self) -> Trainer | None:
        """The live trainer, which only the worker changes: read it where nothing else drives the run
        (a test, or a script between its own commands, after `sync()`); views read `snapshot()`."""
        return self._trainer

    def paint(self, key, painter) -> None:
        """Have the worker draw every snapshot it publishes with `painter(view)` (figures, images), kept
        in the snapshot as `drawn = (key, result)`: a view that finds its own key there shows the
        result without computing while its page waits. `key` names what the painter was asked (the
        view's options); the latest call wins. A painter that fails draws nothing; training goes on."""
        self._painter = (key, painter)

    def sync(self, timeout: float | None = 60) -> Snapshot:
        """Wait until every command sent so far is done; return the snapshot then."""
        self._submit(lambda: None).result(timeout)
        return self._snapshot

    # ------------------------------------------------------------ commands
    def play(self) -> Future:
        return self._submit(self._do_play)

    def pause(self) -> Future:
        return self._submit(self._do_pause)

    def step(self, n: int = 1) -> Future:
        """n iterations (a Future of `Trainer.step`'s result); clears slow motion's panel."""
        return self._submit(self._do_step, n)

    def d_step(self) -> Future:
        return self._submit(self._do_slow, "d")

    def g_step(self) -> Future:
        return self._submit(self._do_slow, "g")

    def update(self, **changes) -> Future:
        """Settings the run takes in place (`Trainer.update`); new settings may cure a divergence."""
        return self._submit(self._do_update, changes)

    def reset(self) -> Future:
        """A new trainer with the run's settings and seed: the same initial weights and stream."""
        return self._submit(lambda: self._do_start(self._trainer.config))

    def new_seed(self) -> Future:
        return self._submit(lambda: self._do_start(self._trainer.config.replace(seed=(self._trainer.config.seed + 1) % 2**31)))

    def start(self, cfg: Config, dataset=None) -> Future:
        """A new trainer of `cfg` (a structural change); `dataset` as Trainer's (points of one's own)."""
        return self._submit(self._do_start, cfg, dataset)

    def adopt(self, trainer: Trainer) -> Future:
        """Make `trainer` (loaded elsewhere) this run's; from now on only the worker touches it."""
        return self._submit(self._do_adopt, trainer)

    def load(self, path, **options) -> Future:
        return self._submit(lambda: self._do_adopt(Trainer.load(path, device=self._trainer.device, **options)))

    def save(self, path, **extra) -> Future:
        return self._submit(lambda: self._trainer.save(path, **extra))

    def pin(self) -> Future:
        """A Future of a frozen copy of the run as it is now (for comparing runs side by side)."""
        return self._submit(lambda: frozen_copy(self._trainer))

    def call(self, fn, *args, **kwargs) -> Future:
        """Run `fn(trainer, *args, **kwargs)` in the worker, between slices: the seam through which a
        feature that changes the trainer (training the inference net, say) goes."""
        return self._submit(lambda: fn(self._trainer, *args, **kwargs))

    def close(self) -> None:
        """Stop the worker and give the run's memory back to the scheduler."""
        if self._snapshot.state != CLOSED:
            self._queue.put(None)
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=30)
            self._trainer = None
            self.scheduler.release(self)
            self._snapshot = self._make_snapshot(CLOSED)

    # ------------------------------------------------------------ the worker
    def _submit(self, fn, *args) -> Future:
        future: Future = Future()
        self._seen = time.monotonic()
        if self._snapshot.state == CLOSED:
            future.set_result(None)
            return future
        self._queue.put((fn, args, future))
        self._start_worker()
        return future

    def _start_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="ganlab-run", daemon=True)
                self._thread.start()

    def _may_end(self) -> bool:
        """End the freed run's thread unless a command came in meanwhile (`_submit` puts, then starts)."""
        with self._lock:
            if self._queue.empty():
                self._thread = None
                return True
            return False

    def _work(self) -> None:
        while True:
            try:
                item = self._queue.get(block=not self._playing, timeout=None if self._playing else POLL_S)
            except queue.Empty:
                item = ()
            if item is None:                 # close()
                return
            try:
                if item:
                    self._execute(*item)
                elif self._playing:
                    self._slice()
                    now = time.monotonic()
                    every = self.scheduler.refresh_s(PUBLISH_S)
                    if now - self._published >= every and now - self._seen < WATCHED_S + every:
                        self._publish()
                if self._idle() and self._may_end():
                    return                   # freed: the thread ends; a read starts another to restore
            except Exception as exc:         # never a dead thread: the error is the run's status
                self._fail(exc)

    def _execute(self, fn, args, future: Future) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            self._restore()                  # a command to a freed run brings it back first
            result = fn(*args)
        except BaseException as exc:         # the run keeps going; the caller's Future holds the error
            if fn in (self._do_step, self._do_slow):
                self._fail(exc)              # training failed: the status stops play until it is cured
            else:                            # a load, a new run or a setting refused: the run is as it was
                self._note = str(exc) if isinstance(exc, GanlabError) else f"{type(exc).__name__}: {exc}"
            self._publish()
            future.set_exception(exc)
        else:
            self._publish()                  # so a caller that waits then reads sees what it asked for
            future.set_result(result)

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, GanlabError):
            self._status = (str(exc), isinstance(exc, DivergenceError))
        else:                                # a bug: say which, keep the traceback in the server's log
            traceback.print_exception(exc)
            self._status = (f"{type(exc).__name__}: {exc}", False)
        self._playing = False

    def _slice(self) -> None:
        n = 10 if self._train_ips is None else max(1, min(MAX_SLICE, int(self._train_ips * SLICE_S)))
        t_wait = time.perf_counter()
        try:
            with self.scheduler.turn(self):
                t0 = time.perf_counter()
                self._trainer.step(n)
                t1 = time.perf_counter()
        except Exception as exc:
            self._fail(exc)
            self._publish()
            return
        self._slow = None
        self._train_ips = _smoothed(self._train_ips, n / max(t1 - t0, 1e-6))
        self._ips = _smoothed(self._ips, n / max(t1 - t_wait, 1e-6))

    def _idle(self) -> bool:
        """Pause a run nobody watches, and free one nobody has watched for longer; True once freed."""
        unseen, settings = time.monotonic() - self._seen, self.scheduler.settings
        if self._playing and unseen > settings.idle_pause_s:
            self._playing = False
            self._note = f"paused: nobody watched it for {settings.idle_pause_s:g} s"
            self._publish()
        if self._trainer is not None and unseen > settings.idle_free_s:
            self._free()
            return True
        return False

    # ------------------------------------------------------------ what commands do
    def _ready(self) -> bool:
        """Commands that train are ignored while a status stands (the view shows it)."""
        return self._status is None and self._trainer is not None

    def _do_play(self) -> None:
        self._note = None
        self._playing = self._ready()
        if self._playing and self._trainer.config.is_image and not self._trainer.data_loaded:
            self._publish(LOADING)           # the view says so while a dataset loads
            self._trainer.load_data()

    def _do_pause(self) -> None:
        self._playing = False

    def _do_step(self, n: int):
        if not self._ready():
            return None
        self._slow = None
        with self.scheduler.turn(self):
            return self._trainer.step(n)

    def _do_slow(self, kind: str):
        from .plots import snapshot as views_of          # figures' inputs; plots imports nothing of ours back

        if not self._ready():
            return None
        trainer = self._trainer
        with self.scheduler.turn(self):
            before = views_of(trainer)
            result = trainer.d_step() if kind == "d" else trainer.g_step()
            self._slow = SlowStep(kind, trainer.step_count, trainer.pending_d_steps, before, views_of(trainer))
        return result

    def _do_update(self, changes: dict) -> None:
        self._trainer.update(**changes)
        if self._status and self._status[1]:
            self._status = None

    def _do_start(self, cfg: Config, dataset=None) -> None:
        old = self._trainer
        if dataset is None and cfg.data == "points" and old is not None and old.config.data == "points":
            dataset = old.data
        self.scheduler.admit(self, cfg)
        self._trainer = None                     # the old one's memory goes before the new one's comes
        try:
            self._do_adopt(Trainer(cfg, device=old.device if old else "auto", data_root=old.data_root if old else None,
                                   dataset=dataset))
        except BaseException:
            self._trainer = old
            self.scheduler.admit(self, old.config)
            raise

    def _do_adopt(self, trainer: Trainer) -> None:
        self.scheduler.admit(self, trainer.config)
        self._trainer, self._generation = trainer, self._generation + 1
        self._playing, self._status, self._note, self._slow = False, None, None, None
        self._ips = self._train_ips = None

    def _free(self) -> None:
        fd, path = tempfile.mkstemp(prefix="ganlab-run-", suffix=".pt")
        os.close(fd)
        self._files.append(path)
        self._publish(LOADING)
        self._trainer.save(path)
        config, self._trainer, self._freed_path = self._trainer.config, None, path
        self.scheduler.release(self)
        self._snapshot = self._make_snapshot(FREED, config=config)
        self._note = None

    def _restore(self) -> None:
        if self._trainer is not None or self._freed_path is None:
            return
        self._publish(LOADING, config=self._snapshot.config)
        self.scheduler.admit(self, self._snapshot.config)
        self._trainer = Trainer.load(self._freed_path)
        os.remove(self._freed_path)
        self._files.remove(self._freed_path)
        self._freed_path, self._note = None, "restored from where it was freed while nobody watched"

    # ------------------------------------------------------------ snapshots
    def _publish(self, state: str | None = None, config: Config | None = None) -> None:
        self._snapshot = self._make_snapshot(state, config)
        self._published = time.monotonic()

    def _make_snapshot(self, state: str | None = None, config: Config | None = None) -> Snapshot:
        trainer = self._trainer
        self._version += 1
        if trainer is None:
            return Snapshot(self._version, state or FREED, self._snapshot.step, config or self._snapshot.config, None,
                            None, note=self._note, generation=self._generation)
        if not trainer.config.is_image:
            trainer.load_data()          # views of toy data draw real samples; loading them takes milliseconds
        status, diverged = self._status or (None, False)
        view = frozen_copy(trainer)
        return Snapshot(self._version, state or (PLAYING if self._playing else PAUSED), trainer.step_count,
                        trainer.config, view, self._ips if self._playing else None, status=status,
                        diverged=diverged, note=self._note, generation=self._generation, slow=self._slow,
                        pending_d_steps=trainer.pending_d_steps, drawn=self._paint(view))

    def _paint(self, view) -> tuple | None:
        if self._painter is None:
            return None
        key, painter = self._painter
        try:
            return key, painter(view)
        except Exception as exc:         # a view's bug must not stop the run; the view draws for itself
            traceback.print_exception(exc)
            return None


_RUNS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_workers() -> None:
    """Stop every worker before the interpreter goes: a thread killed inside a torch kernel at exit
    aborts the process."""
    for run in list(_RUNS):
        run._playing = False
        run._queue.put(None)
    for run in list(_RUNS):
        if run._thread is not None:
            run._thread.join(timeout=10)


def _smoothed(old: float | None, new: float) -> float:
    return new if old is None else 0.5 * old + 0.5 * new


def _remove_files(paths: list[str]) -> None:
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass
