"""The MNIST pair of Salimans et al. (2016), "Improved Techniques for Training GANs" ("improved-gan"),
as their published code builds it: D 1000-500-250-250-250 ReLU with weight normalisation and
Gaussian noise on its input (std 0.3) and every hidden layer (std 0.5); G 500-500 softplus with
BatchNorm and a sigmoid output. Built for their semi-supervised D (`semi_labels`)."""

from __future__ import annotations

from torch import nn

from ..config import Config
from .layers import GaussianNoise, WNLinear
from .pair import Generator, d_outputs, g_inputs, wrap_d


def improved_gan_pair(cfg: Config, dim: int):
    # Salimans et al. (2016)'s published MNIST code (train_mnist_feature_matching.py), layer for layer.
    G = nn.Sequential(
        nn.Linear(g_inputs(cfg), 500), nn.BatchNorm1d(500), nn.Softplus(),    # (n, z) -> (n, 500)
        nn.Linear(500, 500), nn.BatchNorm1d(500), nn.Softplus(),              # -> (n, 500)
        WNLinear(500, dim), nn.Sigmoid(),                                     # -> (n, 784), pixels in [0, 1]
    )
    widths = (dim, 1000, 500, 250, 250, 250)
    D = [GaussianNoise(0.3)]
    for d_in, d_out in zip(widths, widths[1:]):
        D += [WNLinear(d_in, d_out, train_scale=False, data_init=True), nn.ReLU(),
              GaussianNoise(0.5)]                                             # -> (n, 1000) ... (n, 250)
    D.append(WNLinear(250, d_outputs(cfg), data_init=True))                   # logits
    return Generator(G, cfg.latent_dim, (0.0, 1.0), cfg.classes), wrap_d(cfg, nn.Sequential(*D))
