"""The fully connected pairs that need no special layers.

- "mlp": small MLPs for the toy data (width `hidden`, `depth` hidden layers).
- "pytorch-mlp": the PyTorch GAN script's pair (the seed code), layer for layer (1,510,032 +
  533,505 parameters at latent_dim 100 on MNIST), minus D's final Sigmoid (folded into the loss).
"""

from __future__ import annotations

from torch import nn

from ..config import Config
from .pair import Generator, d_outputs, g_inputs, wrap_d


def mlp_pair(cfg: Config, dim: int):
    h = cfg.hidden
    g, d = [nn.Linear(g_inputs(cfg), h), nn.ReLU()], [nn.Linear(dim, h), nn.LeakyReLU(0.2)]
    for _ in range(cfg.depth - 1):
        g += [nn.Linear(h, h), nn.ReLU()]
        d += [nn.Linear(h, h), nn.LeakyReLU(0.2)]
    g.append(nn.Linear(h, dim))
    d.append(nn.Linear(h, d_outputs(cfg)))
    return Generator(nn.Sequential(*g), cfg.latent_dim, None, cfg.classes), wrap_d(cfg, nn.Sequential(*d))


def pytorch_mlp_pair(cfg: Config, dim: int):
    G = nn.Sequential(
        *_pytorch_mlp_block(g_inputs(cfg), 128, normalize=False),   # (n, z) -> (n, 128)
        *_pytorch_mlp_block(128, 256),                               # -> (n, 256)
        *_pytorch_mlp_block(256, 512),                               # -> (n, 512)
        *_pytorch_mlp_block(512, 1024),                              # -> (n, 1024)
        nn.Linear(1024, dim),                                 # -> (n, 784)
        nn.Tanh(),                                            # images in [-1, 1]
    )
    D = nn.Sequential(
        nn.Linear(dim, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, d_outputs(cfg)),                       # logits; the seed's Sigmoid is in the loss
    )
    return Generator(G, cfg.latent_dim, (-1.0, 1.0), cfg.classes), wrap_d(cfg, D)


def _pytorch_mlp_block(d_in: int, d_out: int, normalize: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Linear(d_in, d_out)]
    if normalize:
        # The script wrote BatchNorm1d(out, 0.8): the 2nd positional argument is *eps*, so eps = 0.8
        # (the Keras original meant momentum 0.8). Kept as is: it is the script's model.
        layers.append(nn.BatchNorm1d(d_out, eps=0.8))
    layers.append(nn.LeakyReLU(0.2))
    return layers
