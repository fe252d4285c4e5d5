"""Semi-supervised use of a trained discriminator (the paper's Sec. 7.4: "features from the
discriminator could improve the performance of classifiers when limited labeled data is available").

A few labelled training images, an equal number per class, are classified by a linear model on
three representations of the same images, so the only difference between the three errors is the
representation:

- D's penultimate features phi(x) (`Discriminator.features`, the input of D's last layer);
- the raw pixels, the baseline a feature has to beat;
- phi(x) of a randomly initialised D of the same shape, which separates what D *learned* from what
  its architecture gives for free (a wide random layer is itself a useful feature map).

Each is repeated over several label draws, because with 10 labels per class the draw moves the
error by more than many of the differences one would want to read.
"""

from __future__ import annotations

import numbers
import statistics

import numpy as np
import torch

from .config import DATASET_CLASSES, LABELLED_IMAGES
from .data import balanced_pick, load_dataset
from .errors import ConfigError, DataError
from .models import build_models, eval_mode

# digits is one set of 1,797 images without a test split (data.py): its "test set" is the images
# not drawn as labelled ones, so no labelled image is ever scored.
NO_TEST_SPLIT = ("digits",)
BATCH = 1000        # images per D pass: bounds the activations a conv D holds at once


def semi(trainer, labels: int, repeats: int = 3, seed: int = 0, data_root=None) -> dict:
    """Test error of a linear classifier trained on `labels` labelled images (labels // 10 per class),
    on D's features, on raw pixels and on a random D's features; `repeats` label draws, the r-th
    drawn from a `torch.Generator` seeded with seed + r. Every error is on the full test set (on
    digits, which has none, on all images not drawn). D and the trainer's random stream are left as
    they were, so this can run between training steps.

    >>> from ganlab import Trainer, make_config
    >>> out = semi(Trainer(make_config(data="digits", model="pytorch-mlp"), device="cpu"), labels=50, repeats=1)
    >>> out["feature_dim"], out["test_images"], len(out["error_pixels"]["runs"])
    (256, 1747, 1)
    """
    cfg = trainer.config
    if cfg.data not in LABELLED_IMAGES:
        raise ConfigError(f"semi-supervised evaluation needs a labelled image set ({', '.join(LABELLED_IMAGES)}); "
                          f"this trainer was trained on {cfg.data!r}: train one on an image set")
    if cfg.cond == "input":
        raise ConfigError("a D that takes c at its first layer (cond 'input') has no class-free features to "
                          "classify with; use an unconditional or a projection D")
    k = DATASET_CLASSES[cfg.data]
    if isinstance(labels, bool) or not isinstance(labels, numbers.Integral) or labels < k or labels % k:
        raise ConfigError(f"labels {labels!r} must be a positive multiple of {k} (an equal number per class), "
                          f"e.g. 100")
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or repeats < 1:
        raise ConfigError(f"repeats {repeats!r} must be a whole number of label draws, at least 1")
    train = load_dataset(cfg.data, data_root, train=True)
    labels, repeats, per_class = int(labels), int(repeats), labels // k
    try:
        balanced_pick(train.labels, per_class, k, torch.Generator().manual_seed(seed))
    except DataError as exc:
        raise ConfigError(f"labels {labels}: {exc}") from None
    shared = cfg.data in NO_TEST_SPLIT
    test = train if shared else load_dataset(cfg.data, data_root, train=False)

    # A random D built from another seed than the trained D's own initial weights, so it is a fresh
    # draw, not the trained D's starting point.
    device = next(trainer.D.parameters()).device
    random_d = build_models(cfg.replace(seed=(cfg.seed + 1) % 2**63))[1].to(device)
    represent = {"error_d_features": lambda x: _features(trainer, trainer.D, x),
                 "error_pixels": lambda x: x.double().numpy(),
                 "error_random_d": lambda x: _features(trainer, random_d, x)}
    test_x = {name: f(test.images) for name, f in represent.items()}      # once: the expensive pass
    test_y = test.labels.numpy()

    runs: dict[str, list[float]] = {name: [] for name in represent}
    for r in range(repeats):
        picked = balanced_pick(train.labels, per_class, k, torch.Generator().manual_seed(seed + r))
        scored = np.ones(len(test), dtype=bool)
        if shared:
            scored[picked.numpy()] = False
        y = train.labels[picked].numpy()
        for name, f in represent.items():
            x = test_x[name][picked.numpy()] if shared else f(_pixels(train, picked))
            model = _classifier().fit(x, y)
            runs[name].append(float((model.predict(test_x[name][scored]) != test_y[scored]).mean()))

    out = {"data": cfg.data, "labels": labels, "repeats": repeats, "seed": int(seed), "test_images": int(scored.sum())}
    for name, errors in runs.items():
        out[name] = {"mean": statistics.fmean(errors), "sd": statistics.stdev(errors) if repeats > 1 else 0.0,
                     "runs": errors}
    out["feature_dim"] = int(test_x["error_d_features"].shape[1])
    return out


def _classifier():
    """Standardised features into an L2-regularised logistic regression.

    With far fewer labelled images than feature dimensions the classes are linearly separable, so
    an unpenalised fit has no optimum: its weights grow until the solver stops, and the error would
    depend on max_iter. The L2 penalty makes the optimum unique. Its strength is scikit-learn's
    default (C = 1) rather than cross-validated: with one image per class a fold cannot score a C,
    and one fixed C keeps errors at different label counts comparable. On MNIST at 100 labels, C
    from 0.01 to 10 barely moved the errors and never changed their order. Standardising gives each
    feature the same penalty whatever its scale (D's units and pixels live on very different ones).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def _features(trainer, D, images: torch.Tensor) -> np.ndarray:
    """phi(x) of images (n, C*H*W) in [0, 1], mapped to G's range as D saw them in training
    (`Trainer.to_g_range`), in eval mode (no dropout); (n, f) float64 for scikit-learn."""
    with eval_mode(D), torch.inference_mode():
        parts = [D.features(trainer.to_g_range(b)).flatten(1).float().cpu() for b in images.split(BATCH)]
    return torch.cat(parts).double().numpy()


def _pixels(data, idx: torch.Tensor) -> torch.Tensor:
    """data.images[idx] (the same floats) from the uint8 codes where the set has them, without
    making the float copy of a whole training set (188 MB for MNIST) for a few hundred images."""
    if data.codes is None:
        return data.images[idx]
    return data.codes[idx].float().div_(data.levels)
