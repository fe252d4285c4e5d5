"""Generator and discriminator families, one module each, and the builders that seed them.

Every D returns *logits* and every G maps (n, latent_dim) noise to flattened samples (n, dim): the
`Generator` and `Discriminator` wrappers (pair.py) hold any family's layers and take the class c of
a conditional model. The families:

- mlp.py: "mlp", small MLPs for the toy data, and "pytorch-mlp", the PyTorch GAN script's pair.
- paper.py: "paper", the paper's published MNIST pair, a maxout D with dropout.
- conv.py: "dcgan", "dcgan-deep" (28x28) and "pytorch-dcgan" (32x32 and 64x64, PyTorch's example).
- improved.py: "improved-gan", Salimans et al. (2016)'s MNIST pair for a semi-supervised D.
- encoder.py: the inference net E of the paper's Sec. 7.2.
- classnet.py: the class net C of a conditional G, the class of a partly seen image (Sec. 7.3's completion).

The layers PyTorch lacks (maxout, weight normalisation, dropout and noise on the trainer's stream)
are in layers.py, the eval and frozen modes for a block in modes.py.

A model is layers only: the optimizer and its settings come from a recipe (recipes.py).
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from ..config import Config
from .classnet import ClassNet, class_net_for
from .conv import dcgan_pair, pytorch_dcgan_pair
from .encoder import Encoder, encoder_for
from .improved import improved_gan_pair
from .layers import REGULARISERS, Dropout, GaussianNoise, Maxout, Unflatten, WNLinear, set_noise_generator
from .mlp import mlp_pair, pytorch_mlp_pair
from .modes import eval_mode, frozen
from .pair import Discriminator, Generator, d_outputs, g_inputs
from .paper import paper_pair

__all__ = ["BUILDERS", "REGULARISERS", "ClassNet", "Discriminator", "Dropout", "Encoder", "GaussianNoise",
           "Generator", "Maxout", "Unflatten", "WNLinear", "build_class_net", "build_encoder", "build_models",
           "count_parameters", "d_outputs", "eval_mode", "frozen", "g_inputs", "set_noise_generator"]

# The builder of each network pair, by the name of its entry in `catalog.MODEL` (which holds what the
# pair is, the data it fits and its recipe; config sits below models, so the facts live there).
BUILDERS = {"mlp": mlp_pair, "pytorch-mlp": pytorch_mlp_pair, "paper": paper_pair, "dcgan": dcgan_pair,
            "dcgan-deep": lambda cfg, dim: dcgan_pair(cfg, dim, deep=True), "improved-gan": improved_gan_pair,
            "pytorch-dcgan": pytorch_dcgan_pair}


def build_models(cfg: Config) -> tuple[Generator, Discriminator]:
    """G and D for `cfg`, initialised deterministically from `cfg.seed` without touching the
    global RNG.

    >>> G, D = build_models(Config())
    >>> D(G(torch.zeros(3, 8))).shape
    torch.Size([3])
    """
    with _seeded(cfg.seed):
        return BUILDERS[cfg.model](cfg, math.prod(cfg.shape))


def build_encoder(cfg: Config) -> Encoder:
    """The inference net E (encoder.py) for `cfg`'s data, initialised from the seed without touching
    the global RNG."""
    with _seeded(cfg.seed):
        return encoder_for(cfg)


def build_class_net(cfg: Config) -> ClassNet:
    """The class net C (classnet.py) of a conditional G, initialised from the seed without touching
    the global RNG."""
    with _seeded(cfg.seed):
        return class_net_for(cfg)


@contextlib.contextmanager
def _seeded(seed: int):
    """The global RNG seeded for a block and restored after it: weights come from the seed alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
