"""How well a generator's directions do what their names say, measured on its own samples with
`attributes.py` and the project's classifier (`python -m ganlab directions CKPT --judge`):

- along **ink**, **slant** and **width**, from −2 to +2 prior standard deviations over many starting
  z: the median over paths of Spearman's ρ between the amount and the attribute, and the share of
  images within ±1.5 that keep the starting image's class;
- **ink with the class kept** (`directions.move_keeping_class`): how much ink changes against the
  plain move, and the class kept within ±2;
- along **class k**, for each digit: the share classified k at 0, +0.5, ..., +3, whether it rises
  at every step, and where it first passes 50 %;
- for the found methods (sefa, ganspace): how many directions an attribute follows with |ρ| ≥ 0.8, and
  which.
"""

from __future__ import annotations

from functools import partial

import torch

from . import attributes
from .directions import NAMED_RHO, PATH, Direction, along, class_of, move, move_keeping_class, path_correlations
from .latent import sample_z

KEPT_WITHIN = 1.5       # the class must hold within this many SD along an attribute's direction
KEPT_WITH_CLASS = 2.0   # ... and within this many with the class kept
CLASS_PATH = torch.linspace(0.0, 3.0, 7)


def _start(trainer, paths: int, seed: int) -> torch.Tensor:
    cfg = trainer.config
    return sample_z(paths, cfg.latent_dim, cfg.prior, torch.Generator().manual_seed(seed))


def attribute_paths(trainer, found: dict[str, Direction], classify, names=("ink", "slant", "width"),
                    paths: int = 200, seed: int = 1) -> dict:
    z = _start(trainer, paths, seed)
    within = PATH.abs() <= KEPT_WITHIN
    out = {}
    for name in names:
        images = along(trainer, z, found[name].vector)
        rho = path_correlations(images)[name]
        classes = classify(images.flatten(0, 1)).reshape(paths, len(PATH))
        start = classes[:, PATH.abs().argmin()]
        kept = (classes[:, within] == start[:, None]).float().mean()
        out[name] = {"median_spearman": float(rho.median()), "paths_at_least_0.95": float((rho >= 0.95).float().mean()),
                     f"class_kept_within_{KEPT_WITHIN:g}_sd": float(kept)}
    return out


def ink_with_class_kept(trainer, found: dict[str, Direction], classifier, classify, paths: int = 200,
                        seed: int = 2) -> dict:
    z = _start(trainer, paths, seed)
    start = classify(trainer.sample(z=z))
    amounts = PATH[PATH.abs() <= KEPT_WITH_CLASS]

    def walk(moved):
        zs = torch.stack([moved({"ink": float(t)}) for t in amounts], dim=1)
        images = trainer.sample(z=zs.flatten(0, 1))
        ink = attributes.ink(images).reshape(paths, len(amounts))
        classes = classify(images).reshape(paths, len(amounts))
        return {"ink_change_median": float((ink[:, -1] - ink[:, 0]).median()),
                f"class_kept_within_{KEPT_WITH_CLASS:g}_sd": float((classes == start[:, None]).float().mean())}
    return {"plain": walk(lambda moves: move(z, found, moves)),
            "class_kept": walk(lambda moves: move_keeping_class(trainer, classifier, z, found, moves))}


def class_paths(trainer, found: dict[str, Direction], classify, paths: int = 200, seed: int = 3) -> dict:
    z = _start(trainer, paths, seed)
    out = {}
    for k in range(10):
        name = f"class-{k}"
        if name not in found:
            continue
        images = along(trainer, z, found[name].vector, CLASS_PATH)
        share = (classify(images.flatten(0, 1)).reshape(paths, len(CLASS_PATH)) == k).float().mean(0)
        past = [float(t) for t, s in zip(CLASS_PATH, share) if s > 0.5]
        out[name] = {"share": [round(float(s), 4) for s in share], "rises_at_every_step": bool((share.diff() >= 0).all()),
                     "first_past_half_at_sd": past[0] if past else None}
    return out


def found_summary(found: dict[str, Direction], method: str) -> dict:
    mine = [d for d in found.values() if d.method == method]
    named = [d for d in mine if d.attribute is not None and d.score >= NAMED_RHO]
    return {"directions": len(mine), f"followed_by_an_attribute_rho_{NAMED_RHO:g}": len(named),
            "which": {d.name: round(d.score, 3) for d in named}}


def judge(trainer, found: dict[str, Direction], classifier, paths: int = 200) -> dict:
    """Every measure of the module's text that `found` has the directions for."""
    classify = partial(class_of, classifier)
    record = {"paths": paths, "amounts_sd": [float(t) for t in PATH]}
    if all(n in found for n in ("ink", "slant", "width")):
        record["attributes"] = attribute_paths(trainer, found, classify, paths=paths)
    if "ink" in found and any(n.startswith("class-") for n in found):
        record["ink_keeping_class"] = ink_with_class_kept(trainer, found, classifier, classify, paths=paths)
        record["classes"] = class_paths(trainer, found, classify, paths=paths)
    for method in ("sefa", "ganspace"):
        if any(d.method == method for d in found.values()):
            record[method] = found_summary(found, method)
    return record
