"""Training recipes: named sets of training settings, apart from the networks they train.

A recipe holds only the `Config` fields it sets (nanoGPT's override-only config files); everything
else keeps its default. `--model` names a network pair, `--recipe` one of these. A model's default
recipe (`DEFAULT_RECIPE`) is the one it was built and tuned with, used when no recipe is named, so
`--model dcgan-deep` still trains the way it was measured; `--recipe` picks any other for any model.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import DATASET, MODEL
from .lossdefs import LOSS


@dataclass(frozen=True)
class Recipe:
    summary: str
    settings: dict


RECIPES: dict[str, Recipe] = {
    # Config's own defaults: Adam 1e-3 with beta1 0.5, batch 256, an 8-d normal z.
    "toy": Recipe("Adam 1e-3, β1 0.5, batch 256: the toy datasets' settings", {}),
    # The familiar PyTorch GAN script (the seed code): Adam 2e-4, betas (0.5, 0.999), batch 64,
    # z ~ N(0, I) of 100 dims.
    "pytorch": Recipe("the PyTorch GAN script's: Adam 2e-4, β (0.5, 0.999), batch 64, 100-d normal z",
                      dict(latent_dim=100, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, prior="normal")),
    # The paper's published MNIST code: SGD with momentum 0.5, lr 0.1, batch 100, z uniform on
    # [-sqrt 3, sqrt 3] of 100 dims; lr divided by 1.000004 every step and momentum 0.5 -> 0.7 over its
    # first 250 epochs (of a 50,000-image split at batch 100: 125,000 steps).
    "paper": Recipe("the paper's code: SGD lr 0.1 ÷ 1.000004 per step, momentum 0.5 → 0.7, batch 100, uniform z",
                    dict(latent_dim=100, batch_size=100, optimizer="sgd", lr_g=0.1, lr_d=0.1, momentum=0.5,
                         prior="uniform", lr_decay=1.000004, momentum_end=0.7, momentum_steps=125_000)),
    # The fastest MNIST recipe measured (docs/performance.md, "A deeper pair" and "Two minutes"): Adam
    # with beta1 0 and a short memory of the gradient scale (beta2 0.9 rather than StyleGAN2's 0.99: the
    # early game's gradient scale moves faster than a 100-step average follows), G's lr twice D's (2e-3
    # and 1e-3), lazy R1 every 16th D step at half StyleGAN2's gamma of 10 (fewer iterations to good on
    # every seed measured), a weight average of G over ~200 steps, and the lr falling ~4x over 7,000 steps.
    "fast-mnist": Recipe("Adam, G 2e-3, D 1e-3, β (0, 0.9), lazy R1 γ 5 every 16, EMA 0.995, lr ÷ 1.0002 per step",
                         dict(latent_dim=100, batch_size=64, lr_g=2e-3, lr_d=1e-3, beta1=0.0, beta2=0.9,
                              prior="normal", r1=5.0, r1_every=16, ema=0.995, lr_decay=1.0002)),
    # Salimans et al. (2016)'s published MNIST code: Adam 3e-3 with beta1 0.5 for both players, batch
    # 100 (labelled, unlabelled and fake each), 100-d uniform z, and G trained by feature matching.
    "improved-gan": Recipe("Salimans et al. 2016: Adam 3e-3, β1 0.5, batch 100, uniform z, feature matching",
                           dict(latent_dim=100, batch_size=100, lr_g=3e-3, lr_d=3e-3, beta1=0.5, prior="uniform",
                                loss="features")),
}

# Views of the entries: the recipe each network was built and measured with (`catalog.MODEL`), and
# each dataset's own settings, applied after the recipe (`catalog.DATASET`, with the reasons).
DEFAULT_RECIPE = {name: model.recipe for name, model in MODEL.items()}
DATA_PRESETS: dict[str, dict] = {name: data.settings for name, data in DATASET.items() if data.settings}

# Per-loss settings, applied after the dataset's: each loss's own (`lossdefs.LOSS`, with the reasons).
LOSS_PRESETS: dict[str, dict] = {name: loss.settings for name, loss in LOSS.items() if loss.settings}


def recipe_for(model: str, recipe: str | None = None) -> str:
    """The recipe a run of `model` trains with: `recipe` if named, else the model's own.

    >>> recipe_for("dcgan-deep"), recipe_for("dcgan-deep", "pytorch")
    ('fast-mnist', 'pytorch')
    """
    return DEFAULT_RECIPE.get(model, "toy") if recipe is None else recipe
