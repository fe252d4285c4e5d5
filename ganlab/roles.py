"""Each network in the roles a training step uses it in.

A net is used in two ways: in its own step, the one that trains it, and in the other player's step,
which reads it but leaves its weights alone. Under torchrun only the own step goes through
DistributedDataParallel, which averages its gradients over the processes; with `--compile` both
roles go through `torch.compile` (the wrappers share the modules' parameters, so `state_dict()`,
sampling and checkpoints see the plain modules), except D in a step with R1 or WGAN-GP's penalty,
whose double backward torch.compile does not do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import distributed


@dataclass(frozen=True)
class Roles:
    g: nn.Module            # G as D's step uses it
    d: nn.Module            # D as G's step uses it
    g_own: nn.Module        # G in its own step
    d_own: nn.Module        # D in its own step
    d_penalty: nn.Module    # D in its own step when a gradient penalty needs a double backward


def assign(G: nn.Module, D: nn.Module, compile: bool, ranks: distributed.Ranks | None,
           device: torch.device) -> tuple[nn.Module, nn.Module, Roles]:
    """(G, D, their roles): under torchrun G and D come back with synchronised BatchNorm."""
    if ranks is not None:
        G, D = (distributed.sync_batchnorm(net, device) for net in (G, D))
        g_own, d_own = (distributed.wrap(net, device) for net in (G, D))
        return G, D, Roles(G, D, g_own, d_own, d_own)
    g, d = (torch.compile(G), torch.compile(D)) if compile else (G, D)
    return G, D, Roles(g, d, g, d, D)
