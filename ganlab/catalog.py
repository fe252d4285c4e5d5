"""Every dataset and every network pair, one entry each: the facts about them, read without loading
any data or building any network.

A `Dataset` says what it is, the shape of one sample, its classes and sizes, its kind and its own
settings; a `Model` what it is, which data it fits, whether its G normalises over the batch, the
names it had before and the recipe it was built and measured with. `Config` validates against these
entries and `make_config` applies their settings; the loaders (`data.load_dataset`) and the builders
(`models.BUILDERS`) are registered by the same names higher up, since config sits below data and
models. The tables of one fact each that other modules import (`DATASET_SHAPES`, `CONV_MODELS`, ...)
are views of the entries, at the end. tests/test_entries.py checks every entry is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dataset:
    about: str                      # one line, for --help and the app's choice
    shape: tuple[int, ...]          # one sample's shape, so models are built without loading any data
    kind: str                       # "toy" (an exact density), "image" (a named image set) or "points" (a user's own)
    # Classes a conditional model can ask for: the labels of the image sets, the mixture component of
    # the toy mixtures (the paper's Sec. 7.1 "adding c as input to both G and D"); 0 for none.
    classes: int = 0
    size: int | None = None         # training images: a larger batch is refused before loading; None: drawn fresh
    smallest_class: int | None = None   # its smallest class: the most labelled images per class a balanced draw takes
    settings: dict = field(default_factory=dict)    # its own settings, applied after the recipe's

    @property
    def labelled(self) -> bool:
        """A named image set with its labels: a semi-supervised D can learn from it."""
        return self.kind == "image" and self.classes > 0


@dataclass(frozen=True)
class Model:
    about: str                      # one line, for --help and the app's choice
    recipe: str                     # the recipe it was built and measured with (recipes.RECIPES)
    # The data it fits: "any" (points or images), "images" of any size, "28x28" images only, or
    # "square" images of one of `sides`.
    fits: str = "any"
    sides: tuple[int, ...] = ()
    batchnorm: bool = False         # G normalises over the batch: a batch needs at least 2 samples
    aliases: tuple[str, ...] = ()   # names it had before: old checkpoints, links and scripts keep working


# Per-dataset settings, applied after the recipe. Figure 1's setting has a 1-D z, uniform; in 1-D,
# Adam at 1e-3 for both players oscillates around pdata (std 0.29..0.49 over 2,000 steps) while a
# slower G and k = 2 (D kept nearer D*, as Proposition 2 assumes) stays within 0.48..0.60. On the 2-D
# mixtures a 2-D z: with it, 4,000 iterations at lr 1e-3 then 20,000 at 1e-4 covered all 8 ring
# modes (docs/results.md); G's weight average (0.999) puts 69-91 % of the samples near a mode at
# 3,000 iterations where the live G put 19-83 %, whatever the loss (docs/results.md). On grid the
# plain game dropped modes early in one seed in five whatever the lr, k, batch or width; the R1
# penalty (gamma 1) kept all 25 in every seed tried (docs/results.md).
# Smallest classes: MNIST's 5s, digits' 8s.
DATASET: dict[str, Dataset] = {
    "gaussian1d": Dataset("Figure 1's 1-D Gaussian", (1,), "toy",
                          settings=dict(latent_dim=1, prior="uniform", lr_g=1e-4, lr_d=5e-4, k=2)),
    "ring": Dataset("8 Gaussians", (2,), "toy", classes=8, settings=dict(latent_dim=2, ema=0.999)),
    "grid": Dataset("25 Gaussians", (2,), "toy", classes=25, settings=dict(latent_dim=2, r1=1.0)),
    "mnist": Dataset("28×28 digits", (1, 28, 28), "image", 10, 60_000, 5_421),
    "fashion-mnist": Dataset("28×28 clothes", (1, 28, 28), "image", 10, 60_000, 6_000),
    "digits": Dataset("8×8 digits, bundled", (1, 8, 8), "image", 10, 1_797, 174),
    "cifar10": Dataset("32×32 colour photos", (3, 32, 32), "image", 10, 50_000, 5_000),
    # A user's own 2-D point set (an uploaded CSV), passed to the Trainer as a dataset.
    "points": Dataset("my own points, drawn or a CSV", (2,), "points"),
}

MODEL: dict[str, Model] = {
    "mlp": Model("small MLPs for toy data", "toy"),
    "pytorch-mlp": Model("the PyTorch GAN script's MLPs (1.5 M + 0.5 M parameters)", "pytorch", batchnorm=True,
                         aliases=("seed",)),
    "paper": Model("the paper's MNIST pair: 1200-1200 ReLU G, maxout D with dropout", "paper"),
    "dcgan": Model("a small convolutional pair for 28x28 images", "pytorch", "28x28", batchnorm=True),
    "dcgan-deep": Model("dcgan with a conv more at 7x7 and 14x14 in G and a third strided conv in D", "fast-mnist",
                        "28x28", batchnorm=True),
    "improved-gan": Model("Salimans et al. 2016's MNIST pair: weight-normalised D with Gaussian noise, softplus G",
                          "improved-gan", "images", batchnorm=True),
    "pytorch-dcgan": Model("PyTorch's dcgan example pair for 32x32 and 64x64 images, grey or colour, D without "
                           "BatchNorm", "fast-mnist", "square", (32, 64), batchnorm=True),
}

# Views of the entries, one fact each, under the names other modules import.
DATASETS = {name: d.about for name, d in DATASET.items()}
DATASET_SHAPES = {name: d.shape for name, d in DATASET.items()}
DATASET_CLASSES = {name: d.classes for name, d in DATASET.items() if d.classes}
DATASET_SIZES = {name: d.size for name, d in DATASET.items() if d.size is not None}
SMALLEST_CLASS = {name: d.smallest_class for name, d in DATASET.items() if d.smallest_class is not None}
TOY_DATASETS = tuple(name for name, d in DATASET.items() if d.kind == "toy")
IMAGE_DATASETS = tuple(name for name, d in DATASET.items() if d.kind == "image")
LABELLED_IMAGES = tuple(name for name, d in DATASET.items() if d.labelled)
MODELS = {name: m.about for name, m in MODEL.items()}
MODEL_ALIASES = {old: name for name, m in MODEL.items() for old in m.aliases}
CONV_MODELS = tuple(name for name, m in MODEL.items() if m.fits == "28x28")          # built for 28x28 images only
SQUARE_SIDES = {name: m.sides for name, m in MODEL.items() if m.fits == "square"}   # square images of these sides
IMAGE_MODELS = tuple(name for name, m in MODEL.items() if m.fits != "any")          # G's output is an image's pixels
BATCHNORM_MODELS = tuple(name for name, m in MODEL.items() if m.batchnorm)          # G normalises over the batch
