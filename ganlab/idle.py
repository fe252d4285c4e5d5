"""A run nobody watches: paused after `idle_pause_s`, then shelved after `idle_free_s` (saved to a
temporary checkpoint, its memory given back) and taken off the shelf when a view reads it again.

A server that keeps every forgotten tab's networks and optimizer moments in memory runs out of it
in a class of thirty; a checkpoint holds everything a resume needs (`runstate.py`), so a run taken
off the shelf trains on to the bit as if it had never left.
"""

from __future__ import annotations

import os
import tempfile
import weakref

from .scheduler import Settings
from .trainer import Trainer

PAUSE, FREE = "pause", "free"


def due(playing: bool, unseen_s: float, settings: Settings) -> str | None:
    """What an unwatched run should do now: PAUSE, FREE or nothing."""
    if playing and unseen_s > settings.idle_pause_s:
        return PAUSE
    if not playing and unseen_s > settings.idle_free_s:
        return FREE
    return None


def can_shelve(trainer: Trainer) -> bool:
    """Not in the middle of an iteration: D steps taken alone keep their graph for G's step, and a
    checkpoint holds whole iterations only."""
    return trainer.pending_d_steps == 0


class Shelf:
    """A trainer kept as a temporary checkpoint while its run is freed; the file goes with the shelf."""

    def __init__(self):
        self.path: str | None = None
        self._options: dict = {}
        self._files: list[str] = []
        weakref.finalize(self, _remove_files, self._files)

    @property
    def holding(self) -> bool:
        return self.path is not None

    def put(self, trainer: Trainer) -> None:
        """Save `trainer`. A failure (a full disk) leaves no file behind and raises."""
        fd, path = tempfile.mkstemp(prefix="ganlab-run-", suffix=".pt")
        os.close(fd)
        self._files.append(path)
        try:
            trainer.save(path)
        except BaseException:
            self._forget(path)
            raise
        self.path = path
        # Built again as it was built: on its device, its data from the same place, compiled or captured.
        self._options = dict(device=trainer.device, data_root=trainer.data_root, compile=trainer.compiled,
                             cuda_graph=trainer.cuda_graph)

    def take(self) -> Trainer:
        """The shelved trainer, rebuilt; the file is removed once it has loaded."""
        trainer = Trainer.load(self.path, **self._options)
        self._forget(self.path)
        self.path = None
        return trainer

    def _forget(self, path: str) -> None:
        _remove_files([path])
        self._files.remove(path)


def _remove_files(paths: list[str]) -> None:
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass
