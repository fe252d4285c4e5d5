"""Class labels of a conditional run (Sec. 7.1, p(x | c)): drawing them as the data's classes fall,
checking a label a person asks for, and one label per item.

A conditional G is asked for classes by a user (`sample --label`, the app's class picker) and by
training, which draws the fakes' classes with the training data's frequencies.
"""

from __future__ import annotations

import torch

from .config import DATASET_CLASSES, Config
from .data import balanced_pick
from .errors import ConfigError


def draw(class_freq: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n classes drawn with the frequencies `class_freq` (the training data's), from `generator`, on
    `class_freq`'s device. The fakes' labels follow p(c), so D cannot tell real from fake by the label."""
    return torch.multinomial(class_freq.to(generator.device), n, replacement=True,
                             generator=generator).to(class_freq.device)


def check(config: Config, labels) -> torch.Tensor | None:
    """`labels` as a long tensor on the CPU, or ConfigError naming what is wrong: a class asked of an
    unconditional G, or one out of range.

    >>> check(Config(data="ring", cond="projection"), [0, 7]).tolist()
    [0, 7]
    """
    if labels is None:
        return None
    k = config.classes
    if not k:
        raise ConfigError(f"this {config.data} generator is unconditional (trained without --cond): "
                          f"it cannot be asked for a class")
    labels = torch.as_tensor(labels, dtype=torch.long).cpu()
    if labels.numel() and (labels.min() < 0 or labels.max() >= k):
        raise ConfigError(f"class {int(labels.max() if labels.max() >= k else labels.min())} is out of range: "
                          f"this generator has classes 0 to {k - 1}")
    return labels


def one_each(labels: torch.Tensor, n: int, item: str) -> torch.Tensor:
    """Checked `labels` as one per item: a single class for all n, or n of them."""
    if labels.numel() not in (1, n):
        raise ConfigError(f"{labels.numel()} labels for {n} {item}s: give one class, or one per {item}")
    return labels.reshape(-1).expand(n)


def adopt_data(trainer) -> None:
    """What a run takes from its data once loaded: the class frequencies a conditional G draws labels
    with, and a semi-supervised D's labelled images, the same for a seed on every load (drawn from
    their own generator, not the training stream, so a resumed run finds the same images)."""
    cfg, data = trainer.config, trainer._data
    if cfg.classes:
        freq = data.class_freq(cfg.classes)
        for net in (trainer.G, trainer.G_ema):
            if net is not None:
                net.class_freq.copy_(freq)
    if cfg.semi_labels:
        k = DATASET_CLASSES[cfg.data]
        trainer.labelled_index = balanced_pick(data.labels, cfg.semi_labels // k, k, torch.Generator().manual_seed(cfg.seed))
        trainer.labelled = data.subset(trainer.labelled_index)
