"""A moving average of G's weights, which samples, views and metrics use (opt-in, `Config.ema`); the
same for a semi-supervised D, whose classifier uses its average.

Averaging G's iterates (Yazici et al., 2019, "The Unusual Effectiveness of Averaging in GAN
Training"): simultaneous gradient play circles around an equilibrium rather than settling on it, and
the average of the circling weights samples closer to it. Training itself never reads the average.

>>> from torch import nn
>>> G = nn.Linear(2, 2)
>>> avg = WeightAverage(G, decay=0.999)
>>> avg.update(step=0)           # after each G step
>>> avg.net is not G
True
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    def __init__(self, live: nn.Module, decay: float, start: nn.Module | None = None):
        """Average `live`'s weights with `decay`, starting from `start` (else from `live` as it is now)."""
        self.decay = decay
        self.net = (start if start is not None else copy.deepcopy(live)).requires_grad_(False)
        avg, now = self.net.state_dict(), live.state_dict()        # views of the same storage
        tensors = [k for k in avg if torch.is_tensor(avg[k])]      # not a layer's extra state
        floats = [k for k in tensors if avg[k].is_floating_point()]
        self._floats = ([avg[k] for k in floats], [now[k] for k in floats])
        self._others = [(avg[k], now[k]) for k in tensors if not avg[k].is_floating_point()]

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Fold in the live weights after G step `step` (0-based). The decay warms up as
        (1 + t) / (10 + t) so a young run's average is not held at its random init."""
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self._floats[0], self._floats[1], 1.0 - decay)
        for avg, now in self._others:                      # e.g. BatchNorm's batch counter
            avg.copy_(now)


def kept(avg: WeightAverage | None, live: nn.Module, decay: float) -> WeightAverage | None:
    """The average of `live` to keep at `decay`: `avg` itself, a new one starting from `live` as it is
    now if there was none, or None when `decay` is 0 (off)."""
    if not decay:
        return None
    if avg is None:
        return WeightAverage(live, decay)
    avg.decay = decay
    return avg
