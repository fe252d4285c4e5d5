"""The class net C of a conditional generator: the class of an image of which only some pixels are
seen (trained in classinference.py). It reads the seen pixels and which pixels those are, so one net
serves every mask: two strided convolutions for 28x28 images (E's layout at half its width: 436k weights, 1.7 MB in
float32), an MLP otherwise."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import Config


class ClassNet(nn.Module):
    """C: (x in G's output range (n, C, H, W), visible (n, C, H, W), 1 = seen) -> class logits (n, classes).
    `steps` and `g_step` record its training (steps taken, G's step then), as the encoder's do."""

    def __init__(self, body: nn.Sequential):
        super().__init__()
        self.net = body
        self.steps, self.g_step = 0, 0

    def entry(self) -> dict:
        """What a checkpoint keeps of C (its "class_net")."""
        return {"weights": self.state_dict(), "steps": self.steps, "g_step": self.g_step}

    def forward(self, x, visible):
        # The hidden pixels read as 0 (mid-grey in G's range), told apart from seen grey by `visible`.
        return self.net(torch.cat([x * visible, visible], 1))


def class_net_for(cfg: Config) -> ClassNet:
    """C's layers for `cfg`'s data, initialised from the global RNG (`build_class_net` seeds it)."""
    c, h, w = cfg.shape
    if (h, w) == (28, 28):
        body = nn.Sequential(
            nn.Conv2d(2 * c, 32, 4, 2, 1), nn.LeakyReLU(0.2),             # -> (n, 32, 14, 14)
            nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),                # -> (n, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, cfg.classes))
    else:
        body = nn.Sequential(nn.Flatten(), nn.Linear(2 * math.prod(cfg.shape), 512), nn.LeakyReLU(0.2),
                             nn.Linear(512, 512), nn.LeakyReLU(0.2), nn.Linear(512, cfg.classes))
    return ClassNet(body)
