"""The layers PyTorch lacks, shared by the families and recognised by D: maxout, a weight-normalised
linear layer, an unflatten, and the dropout and Gaussian noise that draw from the trainer's stream.

`REGULARISERS` are the layers that only add noise in training: D's features end before them, and
`set_noise_generator` points them all at one `torch.Generator`.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class Maxout(nn.Module):
    """max over `pieces` affine maps (Goodfellow et al., 2013), as in the paper's D."""

    def __init__(self, d_in: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(d_in, units * pieces)

    def forward(self, x):
        return self.linear(x).view(len(x), self.units, self.pieces).amax(dim=2)


class WNLinear(nn.Module):
    """A linear layer with weight normalisation (Salimans & Kingma, 2016): w = g v / ||v|| per unit.

    As in Salimans et al.'s published code: with `data_init`, the first forward pass in training sets
    g and b so that each unit's pre-activation has zero mean and unit variance over that batch;
    without `train_scale`, g then stays fixed (a buffer) and only v and b learn. Fixed scales are what
    keep the Gaussian noise of "improved-gan"'s D (std 0.5 on unit-variance units) a regulariser: a
    D free to scale its units up would drown the noise and memorise its 100 labelled images. Whether
    the initialisation happened is part of the state dict, so a resumed run does not do it again.
    """

    def __init__(self, d_in: int, d_out: int, train_scale: bool = True, data_init: bool = False):
        super().__init__()
        self.v = nn.Parameter(torch.randn(d_out, d_in) * 0.05)     # the direction: its norm is divided out
        self.b = nn.Parameter(torch.zeros(d_out))
        if train_scale:
            self.g = nn.Parameter(torch.ones(d_out))
        else:
            self.register_buffer("g", torch.ones(d_out))
        self.initialised = not data_init

    def forward(self, x):
        if self.training and not self.initialised:
            self._init_from(x)
        return F.linear(x, self.v * (self.g / self.v.norm(dim=1)).unsqueeze(1), self.b)

    @torch.compiler.disable            # once, eagerly: a parameter write and a Python flag
    @torch.no_grad()
    def _init_from(self, x):
        with torch.autocast(x.device.type, enabled=False):     # statistics in fp32 under bf16 training
            y = F.linear(x.float(), self.v / self.v.norm(dim=1, keepdim=True))
            scale = 1.0 / (y.std(0) + 1e-8)
            self.g.copy_(scale)
            self.b.copy_(-y.mean(0) * scale)
        self.initialised = True

    in_features = property(lambda self: self.v.shape[1])
    out_features = property(lambda self: self.v.shape[0])

    def get_extra_state(self):
        return {"initialised": self.initialised}

    def set_extra_state(self, state):
        self.initialised = bool(state["initialised"])

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, train_scale={isinstance(self.g, nn.Parameter)}"


class Unflatten(nn.Module):
    """(n, C*H*W) -> (n, C, H, W): every G and D here speaks flattened samples."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(len(x), *self.shape)


class GaussianNoise(nn.Module):
    """x + N(0, std^2) in training (Salimans et al.'s D regulariser), from the trainer's generator as
    `Dropout` draws its masks; the identity in eval mode."""

    def __init__(self, std: float):
        super().__init__()
        self.std = std
        self.generator: torch.Generator | None = None

    def forward(self, x):
        if not self.training:
            return x
        return x + self.std * torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)

    def extra_repr(self):
        return f"std={self.std}"


class Dropout(nn.Module):
    """Inverted dropout that draws its mask from a `torch.Generator` the trainer owns.

    nn.Dropout draws from the global RNG, which a checkpoint cannot own without owning the whole
    process's randomness; with the trainer's generator, resume stays bit-exact and two trainers in
    one process (two app sessions) never share a stream.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.generator is None:
            return F.dropout(x, self.p, training=True)
        keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype) >= self.p
        return x * keep / (1 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


REGULARISERS = (Dropout, GaussianNoise)     # layers that only add noise in training


def set_noise_generator(module: nn.Module, generator: torch.Generator | None) -> None:
    """Let every dropout and noise layer of `module` draw from `generator` (the trainer's stream)."""
    for m in module.modules():
        if isinstance(m, REGULARISERS):
            m.generator = generator
