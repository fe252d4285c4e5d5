"""Generator and discriminator families. Every D returns *logits*; the losses apply the sigmoid
in its numerically stable log-sigmoid form (see losses.py). Every G maps (n, latent_dim) noise to
flattened samples (n, dim); `G.out_range` says what range its images live in, if any.

- "mlp": small MLPs for the toy data (width `hidden`, `depth` hidden layers).
- "pytorch-mlp": the PyTorch GAN script's pair (the seed code), layer for layer (1,510,032 +
  533,505 parameters at latent_dim 100 on MNIST), minus D's final Sigmoid (folded into the loss).
- "paper": the paper's published MNIST model: G 1200-1200 ReLU with sigmoid output, D two maxout
  layers (240 units x 5 pieces) with dropout on its input (keep 0.8) and hidden layers (keep 0.5).
- "dcgan": a small convolutional pair for 28x28 images in the style of DCGAN (Radford et al., 2016):
  G z -> 128x7x7 -> 64x14x14 -> 1x28x28 with BatchNorm, D two strided convolutions; ganlab's
  first conv model, kept as it was so its runs and numbers keep their meaning.
- "dcgan-deep": dcgan with a 3x3 convolution more at 7x7 and at 14x14 in G and a third strided
  convolution (7x7 -> 4x4, 256 channels) in D; trained with the `fast-mnist` recipe (recipes.py),
  ganlab's recommended MNIST setup (docs/performance.md).
- "pytorch-dcgan": PyTorch's dcgan example (Radford et al., 2016) for 32x32 and 64x64 images, grey or
  colour: G z -> (64 * 2^s)x4x4 -> ... -> 64 x size/2 -> C x size by strided transposed convolutions with
  BatchNorm, D the mirror image with LeakyReLU, both 64 channels wide at full size; D without the
  example's BatchNorm, for the reason given at dcgan's D.
- "improved-gan": the MNIST pair of Salimans et al. (2016), "Improved Techniques for Training GANs",
  as their published code builds it: D 1000-500-250-250-250 ReLU with weight normalisation and
  Gaussian noise on its input (std 0.3) and every hidden layer (std 0.5); G 500-500 softplus with
  BatchNorm and a sigmoid output. Built for their semi-supervised D (`semi_labels`).

A D trained with `semi_labels` ends in K class logits l_1..l_K instead of one (Salimans et al.'s
K + 1 classes with the "fake" logit fixed at 0); its real-vs-fake logit is logsumexp(l), so
D(x) = Z / (Z + 1) with Z = sum exp(l_k), and every loss, view and metric reads it as before.

A model is layers only: the optimizer and its settings come from a recipe (recipes.py).
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn
import torch.nn.functional as F

from .config import DATASET_CLASSES, Config


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


def _pytorch_mlp_block(d_in: int, d_out: int, normalize: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Linear(d_in, d_out)]
    if normalize:
        # The script wrote BatchNorm1d(out, 0.8): the 2nd positional argument is *eps*, so eps = 0.8
        # (the Keras original meant momentum 0.8). Kept as is: it is the script's model.
        layers.append(nn.BatchNorm1d(d_out, eps=0.8))
    layers.append(nn.LeakyReLU(0.2))
    return layers


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


REGULARISERS = (Dropout, GaussianNoise)     # layers that only add noise in training


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


def _d(cfg: Config, body: nn.Sequential, max_norm: float | None = None) -> Discriminator:
    return Discriminator(body, max_norm, cfg.classes, cfg.cond)


def _mlp_pair(cfg: Config, dim: int):
    h = cfg.hidden
    g, d = [nn.Linear(g_inputs(cfg), h), nn.ReLU()], [nn.Linear(dim, h), nn.LeakyReLU(0.2)]
    for _ in range(cfg.depth - 1):
        g += [nn.Linear(h, h), nn.ReLU()]
        d += [nn.Linear(h, h), nn.LeakyReLU(0.2)]
    g.append(nn.Linear(h, dim))
    d.append(nn.Linear(h, d_outputs(cfg)))
    return Generator(nn.Sequential(*g), cfg.latent_dim, None, cfg.classes), _d(cfg, nn.Sequential(*d))


def _pytorch_mlp_pair(cfg: Config, dim: int):
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
    return Generator(G, cfg.latent_dim, (-1.0, 1.0), cfg.classes), _d(cfg, D)


def _paper_pair(cfg: Config, dim: int):
    G = nn.Sequential(
        nn.Linear(g_inputs(cfg), 1200), nn.ReLU(),           # (n, z) -> (n, 1200)
        nn.Linear(1200, 1200), nn.ReLU(),                     # -> (n, 1200)
        nn.Linear(1200, dim), nn.Sigmoid(),                   # -> (n, 784), pixels in [0, 1]
    )
    D = nn.Sequential(
        Dropout(0.2),                                         # keep 0.8 on the inputs
        Maxout(dim, 240, 5), Dropout(0.5),                    # -> (n, 240)
        Maxout(240, 240, 5), Dropout(0.5),                    # -> (n, 240)
        nn.Linear(240, d_outputs(cfg)),                       # logits
    )
    # The published code's initialisation (pylearn2 "irange": weights uniform in [-r, r], biases 0)
    # and D's max_col_norm of 1.9365; PyTorch's default init and no norm bound made this pair
    # collapse (Adam) or diverge to NaN (SGD at lr 0.1) within 1,000 steps here.
    _uniform_init(G, 0.05)
    _uniform_init(D, 0.005)
    return Generator(G, cfg.latent_dim, (0.0, 1.0), cfg.classes), _d(cfg, D, max_norm=1.9365)


class Unflatten(nn.Module):
    """(n, C*H*W) -> (n, C, H, W): every G and D here speaks flattened samples."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(len(x), *self.shape)


def _dcgan_pair(cfg: Config, dim: int, deep: bool = False):
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
    return Generator(G, cfg.latent_dim, (-1.0, 1.0), cfg.classes), _d(cfg, D)


def _pytorch_dcgan_pair(cfg: Config, dim: int, width: int = 64):
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
    return Generator(G, cfg.latent_dim, (-1.0, 1.0), cfg.classes), _d(cfg, D)


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


def _improved_gan_pair(cfg: Config, dim: int):
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
    return Generator(G, cfg.latent_dim, (0.0, 1.0), cfg.classes), _d(cfg, nn.Sequential(*D))


class Encoder(nn.Module):
    """E: x (n, dim) in G's output range -> z (n, latent_dim)."""

    def __init__(self, body: nn.Sequential, latent_dim: int):
        super().__init__()
        self.net = body
        self.latent_dim = latent_dim

    def forward(self, x):
        return self.net(x)


def build_encoder(cfg: Config) -> Encoder:
    """The inference net E of the paper's Sec. 7.2 for `cfg`'s data (trained in inference.py): two
    strided convolutions for 28x28 images (D's layout, with a hidden layer before z), an MLP
    otherwise; initialised from the seed without touching the global RNG."""
    shape = cfg.shape
    dim = math.prod(shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
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


def _conv3_bn_relu(channels: int) -> tuple[nn.Module, ...]:
    return nn.Conv2d(channels, channels, 3, 1, 1), nn.BatchNorm2d(channels), nn.ReLU()


def _uniform_init(net: nn.Module, r: float) -> None:
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -r, r)
            nn.init.zeros_(m.bias)


BUILDERS = {"mlp": _mlp_pair, "pytorch-mlp": _pytorch_mlp_pair, "paper": _paper_pair, "dcgan": _dcgan_pair,
            "dcgan-deep": lambda cfg, dim: _dcgan_pair(cfg, dim, deep=True), "improved-gan": _improved_gan_pair,
            "pytorch-dcgan": _pytorch_dcgan_pair}


def build_models(cfg: Config) -> tuple[Generator, Discriminator]:
    """G and D for `cfg`, initialised deterministically from `cfg.seed` without touching the
    global RNG.

    >>> G, D = build_models(Config())
    >>> D(G(torch.zeros(3, 8))).shape
    torch.Size([3])
    """
    dim = math.prod(cfg.shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return BUILDERS[cfg.model](cfg, dim)


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


def set_noise_generator(module: nn.Module, generator: torch.Generator | None) -> None:
    """Let every dropout and noise layer of `module` draw from `generator` (the trainer's stream)."""
    for m in module.modules():
        if isinstance(m, REGULARISERS):
            m.generator = generator


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
