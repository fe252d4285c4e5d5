"""The one training configuration: a frozen dataclass whose fields carry their own rules.

Each field is declared once, with its default, its choices or bounds, whether it can change in a
live run or needs a new one, and a line of help, in `dataclasses.field(metadata=...)`. Validation
below, the CLI's flags, the app's widgets and URL keys, and `Trainer.update`'s in-place/new-run
split all read those rules (`rules(name)`), so a new field is one declaration plus its use.

Training settings come in named recipes (`ganlab.recipes`); `make_config` applies a recipe, then
the dataset's own settings, then the caller's values, so `make_config(data="mnist")` gives the
PyTorch script's MNIST setup and any explicit argument wins.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from pathlib import Path

# The datasets' and models' entries, and their views under the names other modules import from here.
from .catalog import (BATCHNORM_MODELS, CONV_MODELS, DATASET_CLASSES, DATASET_SHAPES, DATASET_SIZES,  # noqa: F401
                      DATASETS, IMAGE_DATASETS, IMAGE_MODELS, LABELLED_IMAGES, MODEL, MODEL_ALIASES, MODELS,
                      SMALLEST_CLASS, SQUARE_SIDES, TOY_DATASETS)
from .errors import ConfigError
from .lossdefs import LOSS, named
from .recipes import DATA_PRESETS, LOSS_PRESETS, RECIPES, recipe_for

# A folder of a person's own images: `data` is this prefix and the folder's path (imagefolder.py).
FOLDER = "folder:"
# How D sees the class (models.py): a learned per-class bias on its first layer, which is what joining
# a one-hot c to its input amounts to (Mirza & Osindero, 2014), or the projection <embed(c), phi(x)>
# on its last features (Miyato & Koyama, 2018).
CONDITIONING = {"none": "unconditional: G(z), D(x)",
                "input": "G(z, c); D joins c at its first layer (Mirza & Osindero, 2014)",
                "projection": "G(z, c); D adds <embed(c), features(x)> to its output (Miyato & Koyama, 2018)"}
# The game's losses are entries of `lossdefs.LOSS`; these views keep the old names: each loss and
# what it is, and what D's output means under it (a switch across meanings needs a new run).
LOSSES = {name: loss.about for name, loss in LOSS.items()}
D_MEANING = {name: loss.meaning for name, loss in LOSS.items()}


def listed(names, last: str = "or") -> str:
    """Names in words: "a, b or c".

    >>> listed(["nonsat", "minimax", "features"]), listed(["ls", "wgan-gp"], "and")
    ('nonsat, minimax or features', 'ls and wgan-gp')
    """
    return ", ".join(names[:-1]) + f" {last} " + names[-1] if len(names) > 1 else "".join(names)


def _rule(default, help: str, *, structural: bool = False, label: str | None = None, **rule):
    """A field with its rules in `metadata` (see `rules`)."""
    return dataclasses.field(default=default, metadata={"help": help, "structural": structural,
                                                        "label": label, **rule})


def choice(default: str, choices, help: str, **kw):
    return _rule(default, help, choices=tuple(choices), **kw)


def integer(default: int, lo: int, hi: int, help: str, *, off: str | None = None, says: str | None = None, **kw):
    """An integer in [lo, hi]; `off` names what `lo` means (e.g. "no ramp")."""
    says = says or f"an integer from {lo:,}{f' ({off})' if off else ''} to {hi:,}"
    return _rule(default, help, bounds=(lo, hi), says=says, **kw)


def real(default: float, lo: float, hi: float, help: str, *, hi_open: bool = False, off: str | None = None,
         **kw):
    """A number in [lo, hi] (or [lo, hi) with `hi_open`); hi = inf means any finite number > lo."""
    if math.isinf(hi):
        says = f"a finite number > {lo:g}"
    elif hi_open:
        says = f"in [{lo:g}, {hi:g})" + (f" ({lo:g} = {off})" if off else "")
    else:
        says = f"a number from {lo:g}" + (f" ({off})" if off else "") + f" to {hi:,g}"
    return _rule(float(default), help, bounds=(lo, hi), hi_open=hi_open or math.isinf(hi),
                 lo_open=math.isinf(hi), says=says, **kw)


# Typical values offered by the app's sliders (any value in bounds is still valid, e.g. from a link).
LR_LADDER = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2)


@dataclass(frozen=True)
class Config:
    # ---- what is trained: changing any of these needs a new run (new networks or data). The upper
    # bounds of the sizes are far above any sensible GAN on one machine: past them the networks or
    # batches would not fit in memory, and a refused setting with a reason beats an allocator crash.
    # data and model bring their own settings (`make_config`): a change to either re-applies them
    data: str = choice("ring", DATASETS, "the dataset: toy 1-D/2-D densities, images, your own points, or "
                       "folder:PATH, a folder of your own PNG/JPEG images (subfolders are classes)",
                       structural=True, label="Dataset", described=DATASETS, brings_settings=True, prefix=FOLDER)
    image_size: int = choice(32, (32, 64), "side of a folder's images: each is centre-cropped to a square and "
                             "resized to it", structural=True, label="Image size", only_for={"data": FOLDER})
    channels: int = choice(3, (1, 3), "a folder's images as grey (1) or colour (3); by default 1 when the "
                           "folder's first images are all grey", structural=True, label="Channels",
                           only_for={"data": FOLDER})
    model: str = choice("mlp", MODELS, "the network pair (images default to pytorch-mlp)", structural=True,
                        label="Model", aliases=MODEL_ALIASES, described=MODELS, brings_settings=True)
    latent_dim: int = integer(8, 1, 4096, "size of z (ring and grid use 2: a 2-D z for 2-D data)", structural=True,
                              label="latent_dim (size of z)", widget_max=512)
    hidden: int = integer(128, 1, 8192, "width of the mlp model's hidden layers", structural=True, label="Width",
                          only_for={"model": "mlp"}, ladder=(16, 32, 64, 128, 256, 512))
    depth: int = integer(2, 1, 32, "hidden layers of the mlp model", structural=True, label="Depth",
                         only_for={"model": "mlp"}, widget_max=6)
    cond: str = choice("none", CONDITIONING, "class-conditional G(z, c) and D(x, c) (Sec. 7.1); the label is "
                       "the digit or garment, or the toy mixture's component; a bare --cond means projection",
                       structural=True, label="Conditioning on the class", described=CONDITIONING,
                       flag_const="projection")
    semi_labels: int = integer(0, 0, 60_000, "semi-supervised D (Salimans et al., 2016): K class logits, trained "
                               "on this many labelled training images (an equal number per class) besides the "
                               "real-vs-fake game", off="unsupervised", structural=True,
                               label="Labelled images for a semi-supervised D", widget_max=1000, advanced=True,
                               only_for={"data": LABELLED_IMAGES})
    prior: str = choice("normal", ("normal", "uniform"), "z ~ N(0, I), or uniform on [-sqrt 3, sqrt 3] "
                        "(unit variance, as the paper's code)", structural=True, label="Prior of z", advanced=True)
    optimizer: str = choice("adam", ("adam", "sgd"), "Adam, or SGD with momentum, for both players",
                            structural=True, label="Optimizer")
    # ---- how it is trained: these apply to a live run between steps
    loss: str = choice("nonsat", LOSSES, "the game's loss: the paper's nonsat (Sec. 3) or minimax (Eq. 1), "
                       "feature matching, least squares, hinge or WGAN-GP; one that changes what D's output "
                       f"means (probability, score, critic) needs a new run; {listed(list(LOSS_PRESETS), 'and')} bring "
                       "their papers' settings",
                       label="Loss", described=LOSSES, own_settings=True)
    gp: float = real(10.0, 0, 1e4, "λ, the weight of WGAN-GP's gradient penalty E(‖∇ₓD(x̂)‖ − 1)² (Gulrajani et al. "
                     "used 10; wgan-gp brings 1, which lets G's samples reach ring's modes)",
                     label="λ of the gradient penalty", ladder=(0.0, 0.1, 1.0, 10.0, 100.0),
                     only_for={"loss": named(penalty=True)})
    k: int = integer(1, 1, 1000, "D steps per G step (Algorithm 1; the paper used 1)",
                     label="k: D steps per G step", widget_max=20)
    batch_size: int = integer(256, 1, 65_536, "m in Algorithm 1: real and noise samples per step",
                              label="Batch size m", ladder=(16, 32, 64, 100, 128, 256, 512, 1024))
    lr_g: float = real(1e-3, 0, math.inf, "G's learning rate at step 0", label="lr of G", ladder=LR_LADDER)
    lr_d: float = real(1e-3, 0, math.inf, "D's learning rate at step 0", label="lr of D", ladder=LR_LADDER)
    beta1: float = real(0.5, 0, 1, "Adam's beta1 (0.5 rather than 0.9: the usual GAN choice, DCGAN)",
                        hi_open=True, label="Adam β1", advanced=True)
    beta2: float = real(0.999, 0, 1, "Adam's beta2", hi_open=True, label="Adam β2", advanced=True)
    momentum: float = real(0.5, 0, 1, "SGD momentum at step 0 (the paper started at 0.5)", hi_open=True,
                           label="SGD momentum", advanced=True)
    lr_decay: float = real(1.0, 1, 2, "both lrs are divided by this every step (the paper: 1.000004)",
                           off="constant lr", label="lr decay per step", advanced=True,
                           ladder=(1.0, 1.000004, 1.00001, 1.00005, 1.0001, 1.0002, 1.0005, 1.001))
    momentum_end: float = real(0.5, 0, 1, "SGD momentum reached after momentum_steps (the paper: 0.7)",
                               hi_open=True, label="SGD momentum at the ramp's end", advanced=True)
    momentum_steps: int = integer(0, 0, 10**9, "length of the linear momentum ramp", off="no ramp",
                                  label="Momentum ramp (steps)", advanced=True)
    ema: float = real(0.0, 0, 1, "decay of an average of G's weights that samples and metrics use (0.999 "
                      "averages ~1,000 steps); a semi-supervised D's weights are averaged too, for its classifier", hi_open=True, off="no weight average",
                      label="Average of G's weights (EMA)", ladder=(0.0, 0.9, 0.99, 0.995, 0.999, 0.9999))
    r1: float = real(0.0, 0, 1e4, "weight γ of the R1 penalty (γ/2) E‖∇ₓD(x)‖² on real x in D's loss "
                     "(grid's own settings use 1)", off="no gradient penalty",
                     label="R1 penalty on D's slope at real data (γ)", ladder=(0.0, 0.01, 0.1, 1.0, 10.0))
    r1_every: int = integer(1, 1, 1000, "apply the R1 penalty on every n-th D step only, weighted by n "
                            "(lazy, StyleGAN2)", label="R1 every n-th D step", advanced=True, widget_max=64)
    precision: str = choice("fp32", ("fp32", "bf16"), "bf16: forward passes under bf16 autocast (opt-in; "
                            "matmuls ~2x on CPUs with bf16 units)", label="Precision", advanced=True)
    # ---- the random stream: initial weights and every draw of training; a new seed is a new run
    seed: int = integer(0, 0, 2**63 - 1, "seed of the initial weights and of every random draw", structural=True,
                        says="an integer in [0, 2**63)", label="Seed", widget_max=2**31 - 1)

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, _checked(f.name, getattr(self, f.name), f.metadata))
        model = MODEL[self.model]
        if model.fits == "28x28" and self.shape[1:] != (28, 28):
            size = f"'s {self.shape[1]}x{self.shape[2]} images" if self.is_image else ""
            raise ConfigError(f"model {self.model!r} is for 28x28 images (mnist, fashion-mnist), not {self.data!r}"
                              f"{size}; use model {default_model(self.shape)!r}")
        if model.fits != "any" and not self.is_image:
            raise ConfigError(f"model {self.model!r} generates images, not {self.data!r} points; use model 'mlp'")
        if model.fits == "square" and (self.shape[1] != self.shape[2] or self.shape[1] not in model.sides):
            sides = " or ".join(map(str, model.sides))
            raise ConfigError(f"model {self.model!r} is for square images of side {sides}, "
                              f"not {self.data!r}'s {self.shape[1]}x{self.shape[2]} images; use model {default_model(self.shape)!r}")
        if model.batchnorm and self.batch_size < 2:
            raise ConfigError(f"batch_size must be >= 2 for the {self.model} model: its BatchNorm layers need "
                              f"at least 2 samples to normalise a batch")
        if self.cond != "none" and self.is_folder:
            raise ConfigError("cond needs the number of classes before the data is loaded, which a folder does not "
                              "give: use cond 'none' with folder data")
        if self.cond != "none" and self.data not in DATASET_CLASSES:
            raise ConfigError(f"cond {self.cond!r} needs labelled data ({', '.join(DATASET_CLASSES)}); "
                              f"{self.data!r} has no classes: use cond 'none'")
        if self.semi_labels:
            self._check_semi()
        if self.semi_labels and LOSS[self.loss].meaning != "probability":
            raise ConfigError(f"semi_labels reads D's real-vs-fake output as a probability, which loss "
                              f"{self.loss!r} does not: use loss {listed(named(meaning='probability'))} with it")
        if LOSS[self.loss].g_needs_real and self.cond != "none":
            raise ConfigError(f"loss {self.loss!r} matches D's class-free features, so G would learn nothing of "
                              "the class: use cond 'none' with it, or another loss")
        size = DATASET_SIZES.get(self.data)
        if size is not None and self.batch_size > size:
            raise ConfigError(f"batch_size {self.batch_size} is larger than the {size} images of "
                              f"{self.data!r}; choose batch_size <= {size}")

    def _check_semi(self) -> None:
        if self.data not in LABELLED_IMAGES:
            raise ConfigError(f"semi_labels needs a labelled image set ({', '.join(LABELLED_IMAGES)}), not "
                              f"{self.data!r}; use semi_labels 0")
        if self.cond != "none":
            raise ConfigError("semi_labels makes D a classifier of x alone; a conditional D is given the class: "
                              "use cond 'none' with semi_labels")
        k, most = DATASET_CLASSES[self.data], DATASET_CLASSES[self.data] * SMALLEST_CLASS[self.data]
        if self.semi_labels % k or self.semi_labels > most:
            raise ConfigError(f"semi_labels must be a multiple of the {k} classes of {self.data!r} (an equal number "
                              f"per class) and at most {most:,} ({k} times its smallest class), got "
                              f"{self.semi_labels}; e.g. 100")

    @property
    def is_image(self) -> bool:
        return self.data in IMAGE_DATASETS or self.is_folder

    @property
    def is_folder(self) -> bool:
        """The data is a folder of a person's own images (`data` "folder:PATH")."""
        return self.data.startswith(FOLDER)

    @property
    def folder(self) -> str:
        return self.data[len(FOLDER):]

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample: (d,) for points, (C, H, W) for images."""
        return data_shape(self.data, self.image_size, self.channels)

    @property
    def classes(self) -> int:
        """Number of classes G and D are conditioned on; 0 for an unconditional pair."""
        return DATASET_CLASSES[self.data] if self.cond != "none" else 0

    def replace(self, **changes) -> "Config":
        """A validated copy with `changes`; unknown keys are refused by name."""
        _check_keys(changes)
        return dataclasses.replace(self, **changes)

    def structural_diff(self, other: "Config") -> list[str]:
        """Names of the fields that differ and would need a new run: the structural ones, and the loss
        when the new one gives D's output another meaning (`D_MEANING`)."""
        names = [f for f in STRUCTURAL if getattr(self, f) != getattr(other, f)]
        return names + (["loss"] if LOSS[self.loss].meaning != LOSS[other.loss].meaning else [])

    def differing(self, other: "Config") -> list[str]:
        """Names of every field in which `other` differs from this config, in declaration order."""
        return [f for f in FIELDS if getattr(self, f) != getattr(other, f)]

    def in_place_diff(self, other: "Config") -> dict:
        """{name: other's value} for the fields that differ and apply to a live run."""
        held = set(STRUCTURAL) | set(self.structural_diff(other))
        return {f: getattr(other, f) for f in FIELDS if f not in held and getattr(self, f) != getattr(other, f)}


def check_field(name: str, value):
    """`value` as field `name` holds it (aliases resolved, reals as float); ConfigError if its rules
    refuse it. Cross-field rules (model vs data, batch vs dataset size) are Config's."""
    return _checked(name, value, Config.__dataclass_fields__[name].metadata)


def _checked(name: str, value, rule):
    """`value` if `rule` admits it (canonical: aliases resolved, reals as float), else ConfigError."""
    if "choices" in rule:
        value = rule.get("aliases", {}).get(value, value) if isinstance(value, str) else value
        prefix = rule.get("prefix")
        if prefix and isinstance(value, str) and value.startswith(prefix) and value[len(prefix):].strip():
            return value
        if value not in rule["choices"] or isinstance(value, bool) or not isinstance(value, type(rule["choices"][0])):
            raise ConfigError(f"unknown {name} {value!r}; choose one of: {allowed(name)}")
        return value
    lo, hi = rule["bounds"]
    integral = FIELD_TYPES[name] is int
    ok = isinstance(value, int) if integral else isinstance(value, (int, float))
    ok = ok and not isinstance(value, bool) and (lo < value if rule.get("lo_open") else lo <= value) \
        and (value < hi if rule.get("hi_open") else value <= hi)
    if not ok:
        raise ConfigError(f"{name} must be {rule['says']}, got {value!r}")
    # An int like beta1=0 is a fine value, but torch's optimizers want floats (and so does equality
    # with a config read back from a checkpoint).
    return value if integral else float(value)


FIELDS = tuple(f.name for f in fields(Config))
# Python type of each field, for parsing command-line flags and URL parameters.
FIELD_TYPES: dict[str, type] = {f.name: {"int": int, "float": float, "str": str}[f.type] for f in fields(Config)}
# Fields that define the networks, the data or the random stream: changing them needs a new run.
STRUCTURAL = tuple(f.name for f in fields(Config) if f.metadata["structural"])


def rules(name: str) -> dict:
    """The declared rules of field `name`: help, structural, label, and choices (+ aliases, described:
    a line per choice) or bounds (+ says, the range in words); brings_settings for data and model,
    own_settings for loss (each loss's `settings`, `lossdefs.LOSS`);
    optional app hints: ladder (typical values), widget_max, only_for ({field: value or tuple of values} it applies
    to), advanced.

    >>> rules("k")["bounds"], rules("loss")["choices"][:3]
    ((1, 1000), ('nonsat', 'minimax', 'features'))
    """
    return dict(Config.__dataclass_fields__[name].metadata)


def allowed(name: str) -> str:
    """Field `name`'s allowed values in words: its choices, or its range.

    >>> allowed("prior"), allowed("k")
    ('normal, uniform', 'an integer from 1 to 1,000')
    """
    rule = rules(name)
    if "choices" not in rule:
        return rule["says"]
    return ", ".join(map(str, rule["choices"])) + (f", or {rule['prefix']}PATH" if rule.get("prefix") else "")


def needs_new_run(names) -> str:
    """The one wording for a change that cannot apply to a live run."""
    why = ["new networks, data or random stream"] if set(names) - {"loss"} else []
    why += ["the new loss gives D's output another meaning"] if "loss" in names else []
    return f"changing {', '.join(names)} needs a new run ({'; '.join(why)})"


def make_config(recipe: str | None = None, **overrides) -> Config:
    """A config for `data`: the recipe's settings, then the dataset's, then the loss's, then `overrides`.

    Without a recipe, the model's own (`recipes.DEFAULT_RECIPE`): the one it was built and tuned with.
    Without a model, the dataset's default network (`mlp` for toy data, `pytorch-mlp` for images).

    >>> make_config(data="mnist").model, make_config(data="mnist").lr_g
    ('pytorch-mlp', 0.0002)
    >>> make_config(data="mnist", model="dcgan", recipe="fast-mnist").r1_every
    16
    """
    _check_keys(overrides)
    data = check_field("data", overrides.get("data", Config.data))
    if data.startswith(FOLDER):
        from .folderscan import folder_channels        # reads a few image headers: only for a folder

        # The full path: a checkpoint resumed from another working folder still finds its images.
        data = FOLDER + str(Path(data[len(FOLDER):]).expanduser().resolve())
        overrides = {"channels": folder_channels(data[len(FOLDER):]), **overrides, "data": data}
    shape = data_shape(data, overrides.get("image_size", Config.image_size), overrides.get("channels", Config.channels))
    model = check_field("model", overrides.get("model", default_model(shape)))
    recipe = recipe_for(model, recipe)
    if recipe not in RECIPES:
        raise ConfigError(f"unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}")
    settings = {**RECIPES[recipe].settings, **DATA_PRESETS.get(data, {})}
    loss = check_field("loss", overrides.get("loss", settings.get("loss", Config.loss)))
    settings.update(LOSS[loss].settings)
    return Config(**{**settings, **overrides, "data": data, "model": model})


def data_shape(data: str, image_size: int, channels: int) -> tuple[int, ...]:
    """The shape of one sample of `data`; a folder's images are (channels, image_size, image_size)."""
    return (channels, image_size, image_size) if data.startswith(FOLDER) else DATASET_SHAPES[data]


def default_model(shape: tuple[int, ...]) -> str:
    """The network a dataset gets when none is named: by the shape of its samples.

    >>> default_model((2,)), default_model((1, 28, 28)), default_model((3, 64, 64))
    ('mlp', 'pytorch-mlp', 'pytorch-dcgan')
    """
    if len(shape) == 1:
        return "mlp"
    square = [name for name, m in MODEL.items() if m.fits == "square" and shape[1] == shape[2] and shape[1] in m.sides]
    return square[0] if square else "pytorch-mlp"


def config_from_dict(d: dict) -> Config:
    """Rebuild a config stored in a checkpoint (keys checked, values validated, old names upgraded)."""
    _check_keys(d)
    return Config(**d)


def _check_keys(d: dict) -> None:
    unknown = sorted(set(d) - set(FIELD_TYPES))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(FIELD_TYPES))}")
