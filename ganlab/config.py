"""The one training configuration: a frozen dataclass, validated in one place.

Defaults describe the toy setting the app opens on (`ring`, small MLPs). Model presets hold only the
fields they override (nanoGPT style), and `make_config` applies them before the user's own values,
so `make_config(data="mnist")` gives the seed code's MNIST setup and any explicit argument wins.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from .errors import ConfigError

TOY_DATASETS = ("gaussian1d", "ring", "grid")
IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")
# "points": a user's own 2-D point set (an uploaded CSV), passed to the Trainer as a dataset.
DATASETS = TOY_DATASETS + IMAGE_DATASETS + ("points",)
# Shape of one sample, so models can be built (and checkpoints sampled) without loading any data.
DATASET_SHAPES = {"gaussian1d": (1,), "ring": (2,), "grid": (2,), "points": (2,),
                  "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "digits": (1, 8, 8)}
# Training-set sizes, so a batch larger than the data is refused before anything is loaded.
DATASET_SIZES = {"mnist": 60_000, "fashion-mnist": 60_000, "digits": 1_797}
MODELS = ("mlp", "seed", "paper", "dcgan", "dcgan-deep")
CONV_MODELS = ("dcgan", "dcgan-deep")        # built for 28x28 images only
LOSSES = ("nonsat", "minimax")
OPTIMIZERS = ("adam", "sgd")
PRIORS = ("normal", "uniform")
PRECISIONS = ("fp32", "bf16")

# Override-only presets. "seed": the familiar PyTorch script (Adam 2e-4, betas (0.5, 0.999), batch 64,
# z ~ N(0, I) of 100 dims). "paper": the paper's published MNIST code (SGD with momentum 0.5, lr 0.1,
# batch 100, z uniform on [-sqrt 3, sqrt 3] of 100 dims).
MODEL_PRESETS: dict[str, dict] = {
    "mlp": {},
    "seed": dict(latent_dim=100, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, prior="normal"),
    # The paper's published schedule: lr divided by 1.000004 every step, momentum 0.5 -> 0.7 over
    # its first 250 epochs (of a 50,000-image split at batch 100: 125,000 steps).
    "paper": dict(latent_dim=100, batch_size=100, optimizer="sgd", lr_g=0.1, lr_d=0.1,
                  momentum=0.5, prior="uniform", lr_decay=1.000004, momentum_end=0.7, momentum_steps=125_000),
    "dcgan": dict(latent_dim=100, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, prior="normal"),
    # The recommended MNIST recipe (docs/performance.md, "A deeper pair"): Adam at 1e-3 with
    # StyleGAN2's betas (0, 0.99), lazy R1 (gamma 10 every 16th D step), a weight average of G over
    # ~200 steps, and the lr falling ~4x over the first 7,000 steps (the 5 minutes it was tuned for).
    "dcgan-deep": dict(latent_dim=100, batch_size=64, lr_g=1e-3, lr_d=1e-3, beta1=0.0, beta2=0.99, prior="normal",
                       r1=10.0, r1_every=16, ema=0.995, lr_decay=1.0002),
}

# Per-dataset overrides, applied after the model preset. Figure 1's setting has a 1-D z, uniform;
# in 1-D, Adam at 1e-3 for both players oscillates around pdata (std 0.29..0.49 over 2,000 steps)
# while a slower G and k = 2 (D kept nearer D*, as Proposition 2 assumes) stays within 0.48..0.60.
# On the 2-D mixtures a 2-D z: with it, 4,000 iterations at lr 1e-3 then 20,000 at 1e-4 covered all
# 8 ring modes with 97.0 % of samples high-quality over 5 seeds (docs/results.md). On grid the plain
# game dropped modes early in one seed in five whatever the lr, k, batch or width; the R1 penalty
# (gamma 1) kept all 25 in every seed tried (docs/results.md).
DATA_PRESETS: dict[str, dict] = {"gaussian1d": dict(latent_dim=1, prior="uniform", lr_g=1e-4, lr_d=5e-4, k=2),
                                 "ring": dict(latent_dim=2), "grid": dict(latent_dim=2, r1=1.0)}

# Fields that define the networks, the data or the random stream: changing them needs a new run,
# not an lr tweak (a run's seed and prior are part of what it is).
STRUCTURAL = ("data", "model", "latent_dim", "hidden", "depth", "optimizer", "seed", "prior")
# Upper bounds far above any sensible GAN on one machine: past them the networks or batches would
# not fit in memory, and a refused setting with a reason beats an allocator crash mid-run.
INT_LIMITS = {"latent_dim": 4096, "hidden": 8192, "depth": 32, "k": 1000, "batch_size": 65_536, "r1_every": 1000}


@dataclass(frozen=True)
class Config:
    data: str = "ring"          # one of DATASETS
    model: str = "mlp"          # "mlp" (toy, any data), "seed", "paper", or 28x28 conv "dcgan", "dcgan-deep"
    latent_dim: int = 8         # z dimension (the ring/grid presets use 2: a 2-D z for 2-D data)
    hidden: int = 128           # width of the "mlp" model's hidden layers (ignored by seed/paper)
    depth: int = 2              # hidden layers of the "mlp" model (ignored by seed/paper)
    prior: str = "normal"       # z ~ N(0, I), or uniform on [-sqrt 3, sqrt 3] (unit variance, as the paper)
    loss: str = "nonsat"        # G's loss: "nonsat" ascends log D(G(z)) (Sec. 3), "minimax" descends log(1 - D(G(z)))
    k: int = 1                  # D steps per G step (Algorithm 1); the paper used k = 1
    batch_size: int = 256       # m in Algorithm 1: real and noise samples per step
    optimizer: str = "adam"     # "adam" or "sgd" (with momentum), for both networks
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5          # Adam; 0.5 rather than 0.9 is the usual GAN choice (DCGAN)
    beta2: float = 0.999
    momentum: float = 0.5       # SGD; the paper started at 0.5
    lr_decay: float = 1.0       # both lrs are divided by this every step (lr_g/lr_d are the step-0 rates); 1 = constant
    momentum_end: float = 0.5   # SGD momentum reached linearly after momentum_steps steps (the paper: 0.7)
    momentum_steps: int = 0     # length of that ramp; 0 = momentum stays constant
    ema: float = 0.0            # decay of a moving average of G's weights that samples and metrics use (e.g. 0.999); 0 = off
    r1: float = 0.0             # weight gamma of the R1 penalty (gamma/2) E||grad_x D(x)||^2 on real x in D's loss; 0 = off
    r1_every: int = 1           # apply that penalty on every n-th D step only, weighted by n ("lazy", StyleGAN2); 1 = every step
    seed: int = 0
    precision: str = "fp32"     # "bf16": forward passes under CPU/CUDA bf16 autocast (opt-in; matmuls ~2x on CPUs with bf16 units)

    def __post_init__(self):
        self._check_choice("data", DATASETS)
        self._check_choice("model", MODELS)
        self._check_choice("loss", LOSSES)
        self._check_choice("optimizer", OPTIMIZERS)
        self._check_choice("prior", PRIORS)
        self._check_choice("precision", PRECISIONS)
        for name, most in INT_LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
                raise ConfigError(f"{name} must be an integer from 1 to {most:,}, got {value!r}")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not _is_real(value) or not 0 < value < float("inf"):
                raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
        for name in ("beta1", "beta2", "momentum"):
            value = getattr(self, name)
            if not _is_real(value) or not 0 <= value < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {value!r}")
        if not _is_real(self.lr_decay) or not 1 <= self.lr_decay <= 2:
            raise ConfigError(f"lr_decay must be a number from 1 (constant lr) to 2, got {self.lr_decay!r}")
        if not _is_real(self.momentum_end) or not 0 <= self.momentum_end < 1:
            raise ConfigError(f"momentum_end must be in [0, 1), got {self.momentum_end!r}")
        if isinstance(self.momentum_steps, bool) or not isinstance(self.momentum_steps, int) \
                or not 0 <= self.momentum_steps <= 10**9:
            raise ConfigError(f"momentum_steps must be an integer from 0 (no ramp) to 1,000,000,000, "
                              f"got {self.momentum_steps!r}")
        if not _is_real(self.ema) or not 0 <= self.ema < 1:
            raise ConfigError(f"ema must be in [0, 1) (0 = no weight average; 0.999 averages ~1,000 steps), got {self.ema!r}")
        if not _is_real(self.r1) or not 0 <= self.r1 <= 1e4:
            raise ConfigError(f"r1 must be a number from 0 (no gradient penalty) to 10,000 (the grid preset uses 1), "
                              f"got {self.r1!r}")
        for name in ("lr_g", "lr_d", "beta1", "beta2", "momentum", "lr_decay", "momentum_end", "ema", "r1"):
            # An int like beta1=0 is a fine value, but torch's optimizers want floats (and so does
            # equality with a config read back from a checkpoint).
            object.__setattr__(self, name, float(getattr(self, name)))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be an integer in [0, 2**63), got {self.seed!r}")
        if self.model in CONV_MODELS and DATASET_SHAPES[self.data][1:] != (28, 28):
            raise ConfigError(f"model {self.model!r} is for 28x28 images (mnist, fashion-mnist), not {self.data!r}; "
                              f"use model 'mlp' or 'seed'")
        if self.model in ("seed", *CONV_MODELS) and self.batch_size < 2:
            raise ConfigError(f"batch_size must be >= 2 for the {self.model} model: its BatchNorm layers need "
                              f"at least 2 samples to normalise a batch")
        size = DATASET_SIZES.get(self.data)
        if size is not None and self.batch_size > size:
            raise ConfigError(f"batch_size {self.batch_size} is larger than the {size} images of "
                              f"{self.data!r}; choose batch_size <= {size}")

    def _check_choice(self, name: str, allowed: tuple[str, ...]) -> None:
        value = getattr(self, name)
        if value not in allowed:
            raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")

    @property
    def is_image(self) -> bool:
        return self.data in IMAGE_DATASETS

    def replace(self, **changes) -> "Config":
        """A validated copy with `changes`; unknown keys are refused by name."""
        _check_keys(changes)
        return dataclasses.replace(self, **changes)

    def structural_diff(self, other: "Config") -> list[str]:
        """Names of the fields that differ and would need a new model."""
        return [f for f in STRUCTURAL if getattr(self, f) != getattr(other, f)]


# Python type of each field, for parsing command-line flags and URL parameters.
FIELD_TYPES: dict[str, type] = {f.name: {"int": int, "float": float, "str": str}[f.type] for f in fields(Config)}


def make_config(**overrides) -> Config:
    """A config for `data` with its model's preset, then the data's preset, then `overrides`.

    >>> make_config(data="mnist").model, make_config(data="mnist").lr_g
    ('seed', 0.0002)
    """
    _check_keys(overrides)
    data = overrides.get("data", Config.data)
    default_model = "seed" if data in IMAGE_DATASETS else "mlp"
    model = overrides.get("model", default_model)
    preset = {**MODEL_PRESETS.get(model, {}), **DATA_PRESETS.get(data, {})}
    return Config(**{**preset, **overrides, "data": data, "model": model})


def config_from_dict(d: dict) -> Config:
    """Rebuild a config stored in a checkpoint (keys checked, values validated)."""
    _check_keys(d)
    return Config(**d)


def _check_keys(d: dict) -> None:
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
