"""The latent explorer's part of the tab's state: the generator it shows (loaded once per source),
the z it found for real images (a search costs seconds, and the page reruns on every widget change),
and an inference net trained for that generator."""

from __future__ import annotations

import torch

from ...trainer import Trainer
from .state import get

MAX_ENCODINGS = 32           # z kept per tab before the cache starts over


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


def train_explorer_encoder(trainer: Trainer, steps: int) -> None:
    """Give the explorer's generator an inference net (Sec. 7.2), trained on its own samples."""
    from ...inference import train_encoder

    train_encoder(trainer, steps, progress=False)
    get().encodings.clear()
