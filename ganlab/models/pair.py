"""G and D around any family's layers: the `Generator` and `Discriminator` every builder returns, and
how each takes the class c of a conditional model (Sec. 7.1).

Every D returns *logits*; the losses apply the sigmoid in its numerically stable log-sigmoid form
(see losses.py). Every G maps (n, latent_dim) noise to flattened samples (n, dim); `G.out_range`
says what range its images live in, if any.

A D trained with `semi_labels` ends in K class logits l_1..l_K instead of one (Salimans et al.'s
K + 1 classes with the "fake" logit fixed at 0); its real-vs-fake logit is logsumexp(l), so
D(x) = Z / (Z + 1) with Z = sum exp(l_k), and every loss, view and metric reads it as before.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import DATASET_CLASSES, Config
from .layers import REGULARISERS, Maxout, WNLinear


class Generator(nn.Module):
    def __init__(self, body: nn.Sequential, latent_dim: int, out_range: tuple[float, float] | None, classes: int = 0):
        super().__init__()
        self.net = body
        self.latent_dim = latent_dim
        self.out_range = out_range      # (lo, hi) of the output activation, None if unbounded
        self.classes = classes
        if classes:
            # Sec. 7.1: c as an input of G, a learned embedding joined to z (the body's first layer
            # takes latent_dim + classes inputs: `g_inputs`). The class frequencies of the training
            # data travel with the weights, so a checkpoint samples labels as the data has them.
            self.embed = nn.Embedding(classes, classes)
            self.register_buffer("class_freq", torch.full((classes,), 1.0 / classes))

    def forward(self, z, c=None):       # (n, latent_dim), (n,) labels -> (n, dim)
        if self.classes:
            if c is None:
                raise ValueError("this generator is conditional: pass the class labels c")
            return self.from_embedding(z, self.embed(c))
        return self.net(z)

    def from_embedding(self, z, e):     # (n, latent_dim), (n, classes) class embeddings -> (n, dim)
        """G(z, c) given c's embedding, so a path between two classes' embeddings can be drawn."""
        return self.net(torch.cat([z, e.to(z.dtype)], dim=1))


def g_inputs(cfg: Config) -> int:
    """Width of G's first layer: z, plus the class embedding of a conditional G."""
    return cfg.latent_dim + cfg.classes


def d_outputs(cfg: Config) -> int:
    """Width of D's last layer: one real-vs-fake logit, or a semi-supervised D's K class logits."""
    return DATASET_CLASSES[cfg.data] if cfg.semi_labels else 1


class Discriminator(nn.Module):
    def __init__(self, body: nn.Sequential, max_norm: float | None = None, classes: int = 0, cond: str = "none"):
        super().__init__()
        self.net = body
        self.max_norm = max_norm        # per-unit weight-norm bound, applied after every D step
        self.cond = cond if classes else "none"
        self.heads = _width(body[-1])   # 1, or a semi-supervised D's K class logits
        # phi(x) ends at D's last hidden layer, before the dropout or noise that regularises the last
        # layer: feature matching compares the features, not a noisy draw of them.
        self.phi_end = len(body) - 1
        while self.phi_end and isinstance(body[self.phi_end - 1], REGULARISERS):
            self.phi_end -= 1
        if self.cond == "input":
            # Joining a one-hot c to the input of the first layer adds a learned vector per class to
            # that layer's output (cat(x, onehot(c)) W = x Wx + Wc[c]), which is how it is built:
            # for a conv D, one bias per class and channel (the one-hot planes joined as channels,
            # without their zero-padded borders). The paper's maxout D gets it after its first max,
            # a bias per class on the first hidden layer, not per piece before the max.
            self.join_at = next(i for i, m in enumerate(body) if _width(m))
            self.embed = nn.Embedding(classes, _width(body[self.join_at]))
        elif self.cond == "projection":
            self.embed = nn.Embedding(classes, body[-1].in_features)
        if self.cond != "none":
            nn.init.zeros_(self.embed.weight)       # starts as the unconditional D, learns the class

    def features(self, x):              # (n, dim) -> (n, f): phi(x), D's last hidden layer
        for m in self.net[:self.phi_end]:
            x = m(x)
        return x

    def class_logits(self, x):          # (n, dim) -> (n, K): a semi-supervised D's class logits
        return self.net(x)

    def forward(self, x, c=None):       # (n, dim), (n,) labels -> (n,) logits
        if self.cond == "none":
            out = self.net(x)
            return out.logsumexp(1) if self.heads > 1 else out.squeeze(1)
        if c is None:
            raise ValueError("this discriminator is conditional: pass the class labels c")
        if self.cond == "projection":
            h = self.net[:-1](x)
            return self.net[-1](h).squeeze(1) + (self.embed(c).to(h.dtype) * h).sum(1)
        for i, m in enumerate(self.net):
            x = m(x)
            if i == self.join_at:
                e = self.embed(c).to(x.dtype)
                x = x + e.view(*e.shape, *([1] * (x.dim() - 2)))
        return x.squeeze(1)

    @torch.no_grad()
    def constrain(self) -> None:
        """Project each unit's incoming weight vector back into the ball of radius `max_norm`
        (pylearn2's max_col_norm), which keeps maxout units stable at the paper's lr of 0.1."""
        if self.max_norm is None:
            return
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                m.weight.renorm_(2, 0, self.max_norm)


def _width(m: nn.Module) -> int:
    """Output width of a weight layer (0 for anything else): where D joins an input c."""
    if isinstance(m, (nn.Linear, WNLinear)):
        return m.out_features
    if isinstance(m, nn.Conv2d):
        return m.out_channels
    return m.units if isinstance(m, Maxout) else 0


def wrap_d(cfg: Config, body: nn.Sequential, max_norm: float | None = None) -> Discriminator:
    """D's layers as a `Discriminator` that takes the class as `cfg.cond` says."""
    return Discriminator(body, max_norm, cfg.classes, cfg.cond)
