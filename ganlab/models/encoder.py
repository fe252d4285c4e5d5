"""The inference net E of the paper's Sec. 7.2, x -> z (trained in inference.py): two strided
convolutions for 28x28 images (D's layout, with a hidden layer before z), an MLP otherwise."""

from __future__ import annotations

import math

from torch import nn

from ..config import Config
from .layers import Unflatten


class Encoder(nn.Module):
    """E: x (n, dim) in G's output range -> z (n, latent_dim)."""

    def __init__(self, body: nn.Sequential, latent_dim: int):
        super().__init__()
        self.net = body
        self.latent_dim = latent_dim

    def forward(self, x):
        return self.net(x)


def encoder_for(cfg: Config) -> Encoder:
    """E's layers for `cfg`'s data, initialised from the global RNG (`build_encoder` seeds it)."""
    shape = cfg.shape
    dim = math.prod(shape)
    if shape[1:] == (28, 28):
        body = nn.Sequential(
            Unflatten(*shape),
            nn.Conv2d(shape[0], 64, 4, 2, 1), nn.LeakyReLU(0.2),          # -> (n, 64, 14, 14)
            nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),               # -> (n, 128, 7, 7)
            nn.Flatten(), nn.Linear(128 * 7 * 7, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, cfg.latent_dim))
    else:
        body = nn.Sequential(nn.Linear(dim, 512), nn.LeakyReLU(0.2), nn.Linear(512, 512), nn.LeakyReLU(0.2),
                             nn.Linear(512, cfg.latent_dim))
    return Encoder(body, cfg.latent_dim)
