"""The convolutional pairs, all initialised as DCGAN is (Radford et al., 2016).

- "dcgan": a small convolutional pair for 28x28 images in the style of DCGAN: G z -> 128x7x7 ->
  64x14x14 -> 1x28x28 with BatchNorm, D two strided convolutions; ganlab's first conv model, kept as
  it was so its runs and numbers keep their meaning.
- "dcgan-deep": dcgan with a 3x3 convolution more at 7x7 and at 14x14 in G and a third strided
  convolution (7x7 -> 4x4, 256 channels) in D; trained with the `fast-mnist` recipe (recipes.py),
  ganlab's recommended MNIST setup (docs/performance.md).
- "pytorch-dcgan": PyTorch's dcgan example for 32x32 and 64x64 images, grey or colour: G z ->
  (64 * 2^s)x4x4 -> ... -> 64 x size/2 -> C x size by strided transposed convolutions with
  BatchNorm, D the mirror image with LeakyReLU, both 64 channels wide at full size; D without the
  example's BatchNorm, for the reason given at dcgan's D.
"""

from __future__ import annotations

import math

from torch import nn

from ..config import Config
from .layers import Unflatten
from .pair import Generator, d_outputs, g_inputs, wrap_d


def dcgan_pair(cfg: Config, dim: int, deep: bool = False):
    c, h, w = cfg.shape              # 28x28: Config refuses other shapes for conv models
    # "dcgan-deep" adds a 3x3 convolution at 7x7 and at 14x14 to G and a third strided one to D.
    # The larger D is the one that matters: a 2-conv D cannot tell a soft stroke from a sharp one, and
    # dcgan-deep reaches a good generator where dcgan does not in the same time (docs/performance.md).
    G = nn.Sequential(
        nn.Linear(g_inputs(cfg), 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(),   # (n, z) -> (n, 6272)
        Unflatten(128, 7, 7),                                                           # -> (n, 128, 7, 7)
        *(_conv3_bn_relu(128) if deep else ()),                                         # -> (n, 128, 7, 7)
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),            # -> (n, 64, 14, 14)
        *(_conv3_bn_relu(64) if deep else ()),                                          # -> (n, 64, 14, 14)
        nn.ConvTranspose2d(64, c, 4, 2, 1), nn.Tanh(),                                  # -> (n, 1, 28, 28)
        nn.Flatten(),                                                                   # -> (n, 784)
    )
    # No BatchNorm in D: the trainer scores [real; fake] in one pass, which equals two passes only
    # when D has no batch statistics.
    D = nn.Sequential(
        Unflatten(c, h, w),
        nn.Conv2d(c, 64, 4, 2, 1), nn.LeakyReLU(0.2),                                   # -> (n, 64, 14, 14)
        nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),                                 # -> (n, 128, 7, 7)
        *((nn.Conv2d(128, 256, 3, 2, 1), nn.LeakyReLU(0.2)) if deep else ()),           # -> (n, 256, 4, 4)
        nn.Flatten(), nn.Linear(256 * 4 * 4 if deep else 128 * 7 * 7, d_outputs(cfg)),  # logits
    )
    _dcgan_init(G, D)
    return Generator(G, cfg.latent_dim, (-1.0, 1.0), cfg.classes), wrap_d(cfg, D)


def pytorch_dcgan_pair(cfg: Config, dim: int, width: int = 64):
    c, size, _ = cfg.shape                          # square, 32 or 64: Config refuses other shapes
    ups = int(math.log2(size)) - 2                  # 4x4 -> size in `ups` doublings
    chans = [width * 2**i for i in reversed(range(ups))]        # 64x64: 512, 256, 128, 64
    G = [Unflatten(g_inputs(cfg), 1, 1),
         nn.ConvTranspose2d(g_inputs(cfg), chans[0], 4, 1, 0), nn.BatchNorm2d(chans[0]), nn.ReLU()]   # -> 4x4
    for c_in, c_out in zip(chans, chans[1:]):
        G += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]            # doubling
    G += [nn.ConvTranspose2d(chans[-1], c, 4, 2, 1), nn.Tanh(), nn.Flatten()]                      # -> (n, C*size^2)
    D = [Unflatten(c, size, size), nn.Conv2d(c, chans[-1], 4, 2, 1), nn.LeakyReLU(0.2)]             # -> size/2
    for c_in, c_out in zip(chans[::-1], chans[::-1][1:]):
        D += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]                                  # halving to 4x4
    D += [nn.Conv2d(chans[0], d_outputs(cfg), 4, 1, 0), nn.Flatten()]                              # logits
    G, D = nn.Sequential(*G), nn.Sequential(*D)
    _dcgan_init(G, D)
    return Generator(G, cfg.latent_dim, (-1.0, 1.0), cfg.classes), wrap_d(cfg, D)


def _dcgan_init(*nets: nn.Module) -> None:
    """DCGAN's init (Radford et al., 2016; PyTorch's dcgan example): weights N(0, 0.02), BatchNorm's
    scales N(1, 0.02), biases 0."""
    for m in (m for net in nets for m in net.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _conv3_bn_relu(channels: int) -> tuple[nn.Module, ...]:
    return nn.Conv2d(channels, channels, 3, 1, 1), nn.BatchNorm2d(channels), nn.ReLU()
