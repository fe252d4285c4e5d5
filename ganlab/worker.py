"""One thread that does an owner's work in order: what is submitted, each answered through a
`Future`, and the owner's own work (`tick`) in between.

The thread may end when the owner is idle (`tick` says so) and starts again on the next submission,
so a server with many forgotten runs holds no thread for them. Closing answers what is still queued
with None instead of leaving a caller waiting forever.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable


class Worker:
    """`execute(fn, args)` runs each submission and returns its result or raises; `tick(ran)` runs after
    each one and, while `busy()` is true, again and again without waiting (`ran`: a submission came
    before it), returning True when the thread may end; `on_error(exc)` takes what either raised
    outside a submission. `poll_s`: how often an idle thread calls `tick`."""

    def __init__(self, execute: Callable, tick: Callable[[bool], bool], busy: Callable[[], bool],
                 on_error: Callable[[BaseException], None], poll_s: float, name: str = "ganlab-worker"):
        self._execute, self._tick, self._busy, self._on_error = execute, tick, busy, on_error
        self._poll_s, self._name = poll_s, name
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()                 # guards starting, ending and closing the thread
        self._thread: threading.Thread | None = None
        self.closed = False

    def submit(self, fn, *args) -> Future:
        """Queue `fn(*args)`; a Future of what `execute` makes of it (None once closed)."""
        future: Future = Future()
        with self._lock:
            if not self.closed:
                self._queue.put((fn, args, future))
                self._start()
                return future
        future.set_result(None)
        return future

    def start(self) -> None:
        with self._lock:
            self._start()

    def close(self, timeout: float = 30) -> bool:
        """Stop the thread once what it is doing ends; False if it was closed before."""
        with self._lock:
            if self.closed:
                return False
            self.closed = True
            self._queue.put(None)
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return True

    @property
    def alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _start(self) -> None:                         # holding _lock
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            busy = self._busy()
            try:
                item = self._queue.get(block=not busy, timeout=None if busy else self._poll_s)
            except queue.Empty:
                item = ()
            if item is None:                          # close()
                self._drain()
                return
            try:
                if item:
                    self._answer(*item)
                if self._tick(bool(item)) and self._may_end():
                    return
            except Exception as exc:                  # never a dead thread
                self._on_error(exc)

    def _answer(self, fn, args, future: Future) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = self._execute(fn, args)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _may_end(self) -> bool:
        """End the thread unless a submission came in meanwhile (`submit` puts, then starts)."""
        with self._lock:
            if self._queue.empty():
                self._thread = None
                return True
            return False

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item and item[2].set_running_or_notify_cancel():
                item[2].set_result(None)
