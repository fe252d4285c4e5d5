"""A network's modes for the length of a block, whatever its family: eval mode (BatchNorm's running
statistics, no dropout or noise), and frozen weights (no gradients for them, gradients still flow)."""

from __future__ import annotations

import contextlib

from torch import nn


@contextlib.contextmanager
def eval_mode(net: nn.Module):
    """Eval mode (BatchNorm running statistics, no dropout) for a block, then the previous mode."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


class frozen:
    """No gradients for `net`'s own weights in a block (gradients still flow through it). A class,
    not a generator: it runs every iteration, where contextlib's machinery costs microseconds."""

    def __init__(self, net: nn.Module):
        self.net = net

    def __enter__(self) -> nn.Module:
        return self.net.requires_grad_(False)

    def __exit__(self, *exc) -> None:
        self.net.requires_grad_(True)
