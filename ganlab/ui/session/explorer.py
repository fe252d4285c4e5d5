"""The latent explorer's part of the tab's state: the generator it shows (loaded once per source),
the z it found for real images (a search costs seconds, and the page reruns on every widget change),
an inference net trained for that generator, and the last completion it drew."""

from __future__ import annotations

import weakref

import torch

from ...trainer import Trainer
from .state import get

MAX_ENCODINGS = 32           # z kept per tab before the cache starts over

# The last completion per generator, with the image it completed: held weakly by the generator, so
# it goes when the tab loads another one or closes, and a tab sees only its own (each tab loads its
# own generator).
_completions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The named directions in z of each generator the explorer shows (read from its file, or found on
# request), held the same way.
_directions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def explorer_generator(key: tuple, loader) -> Trainer:
    """The latent explorer's generator for source `key`, loaded once per source (errors raise)."""
    state = get()
    if state.explorer is None or state.explorer[0] != key:
        state.explorer = (key, loader())
    return state.explorer[1]


def cached_encoding(key: tuple, compute) -> torch.Tensor:
    """z of an image in the latent explorer, computed once per (generator, image, search steps): a
    search costs seconds, and the page reruns on every widget change."""
    state = get()
    if key not in state.encodings:
        if len(state.encodings) >= MAX_ENCODINGS:
            state.encodings.clear()
        state.encodings[key] = compute()
    return state.encodings[key]


def current_run_view() -> Trainer | None:
    """The live run as the explorer sees it: a frozen copy from its snapshot, the same object until the
    run moves (a step, a new run, an inference net trained), so what is kept per generator (the z
    found for an image, the last completion) stays across the page's reruns."""
    state = get()
    snap = state.settled_snapshot()              # freed while nobody watched: brought back first
    if snap.view is None:
        return None
    key = (snap.generation, snap.step, snap.view.encoder_steps)
    if state.explorer_view is None or state.explorer_view[0] != key:
        state.explorer_view = (key, snap.view)
    return state.explorer_view[1]


def train_explorer_encoder(trainer: Trainer, steps: int) -> None:
    """Give the explorer's generator an inference net (Sec. 7.2), trained on its own samples. The live
    run's is trained by its worker (`Run.call`), so the run keeps it and saves it with the rest."""
    from ...inference import train_encoder

    state = get()
    if state.explorer_view is not None and trainer is state.explorer_view[1]:
        state.run.call(train_encoder, steps, progress=False).result()
    else:
        train_encoder(trainer, steps, progress=False)
    state.encodings.clear()


def keep_completion(trainer: Trainer, image: str, result) -> None:
    """Keep `result`, the last completion of the image named by `image` (a digest of its pixels) under `trainer`'s generator."""
    _completions[trainer] = (image, trainer.step_count, result)


def kept_completion(trainer: Trainer, image: str):
    """The completion kept for this image under this generator as it is now, or None: a new image,
    another generator, or the same run trained further, each drops it; the completion's own settings
    (the mask, how many, how long a search) do not."""
    kept = _completions.get(trainer)
    if kept is None or kept[:2] != (image, trainer.step_count):
        return None
    return kept[2]


def keep_directions(trainer: Trainer, found: dict) -> None:
    """Remember the named directions in `trainer`'s z (`ganlab.directions`)."""
    _directions[trainer] = found


def directions_of(trainer: Trainer) -> dict:
    """The named directions kept for this generator, {} if none."""
    return _directions.get(trainer, {})
