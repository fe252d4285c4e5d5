"""Every metric that applies to a trained generator, in one call (what `python -m ganlab eval` prints).

- losses: means of the last 100 history rows.
- modes (ring, grid): mode coverage, high-quality fraction, KL of the mode histogram (docs/design.md §4).
- moments (gaussian1d): sample mean / std beside the data's.
- parzen (mnist, fashion-mnist): the paper's Table 1 protocol, plus the same estimator with held-out
  real images as kernel centres, the reference point.
- classifier (mnist, fashion-mnist): classes covered, class-histogram KL, classifier score and the
  Fréchet distance in the shipped classifier's feature space, each beside real test images.
- conditional (a model trained with `cond`): how often G draws the class it is asked for, per class.
- semi_classifier (a D trained with `semi_labels`): D's test error as a classifier.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import checkpoint_dir
from .data import TOY, load_dataset
from .errors import CheckpointError
from .metrics import class_histogram_metrics, frechet_distance, mode_coverage, parzen_evaluate

N_PARZEN = 10_000       # kernel centres, as in the paper
N_VALID = 1_000         # validation images that choose sigma; the last 1,000 of the training set


def recent_losses(trainer, **_) -> dict | None:
    if not trainer.step_count:
        return None
    h = trainer.history(start=max(0, trainer.step_count - 100))
    return {k: float(v.mean()) for k, v in h.items()}


def modes(trainer, n: int = 2500, seed: int = 0, **_) -> dict | None:
    if trainer.config.data not in ("ring", "grid"):
        return None
    dist = TOY[trainer.config.data]()
    return mode_coverage(trainer.sample(n, seed=seed), dist.centres, dist.std)


def moments(trainer, n: int = 2500, seed: int = 0, **_) -> dict | None:
    if trainer.config.data != "gaussian1d":
        return None
    x = trainer.sample(n, seed=seed).squeeze(1)
    dist = TOY["gaussian1d"]()
    return {"sample_mean": float(x.mean()), "sample_std": float(x.std()),
            "data_mean": float(dist.centres[0, 0]), "data_std": dist.std}


def parzen(trainer, seed: int = 0, data_root=None, **_) -> dict | None:
    """Parzen log-likelihood of the test set, in nats, pixels in [0, 1] (paper: GAN 225 +- 2 on MNIST).

    Our generators train on all 60,000 training images, so the 1,000 validation images that pick
    sigma were seen in training (only sigma is fitted on them); the real-data reference uses the
    10,000 training images before them as kernel centres.
    """
    if trainer.config.data not in ("mnist", "fashion-mnist"):
        return None
    train = load_dataset(trainer.config.data, data_root, train=True)
    test = load_dataset(trainer.config.data, data_root, train=False)
    valid = train.images[-N_VALID:]
    samples = trainer.sample(N_PARZEN, seed=seed).reshape(N_PARZEN, -1)
    result = parzen_evaluate(samples, valid, test.images)
    real = parzen_evaluate(train.images[-N_VALID - N_PARZEN:-N_VALID], valid, test.images)
    result["real_images_as_centres"] = {k: real[k] for k in ("sigma", "mean", "sem")}
    return result


class ClassifierJudge:
    """The classifier metrics of a generator against real test images, with the real side (test
    features, and the real-vs-real Fréchet floor) computed once, so a training run can be judged
    every few hundred iterations (`ganlab.timetogood`)."""

    def __init__(self, data: str, data_root=None, classifier_path=None, n: int = 10_000, seed: int = 0):
        from .classifier import load_classifier, predict

        path = Path(classifier_path) if classifier_path else checkpoint_dir() / f"classifier-{data}.pt"
        if not path.is_file():
            raise CheckpointError(f"no classifier at {path}; train one with `python -m ganlab classifier "
                                  f"--data {data} --out {path}`")
        self.path, self.n, self.seed, self._predict = path, n, seed, predict
        self.model = load_classifier(path, data)
        train = load_dataset(data, data_root, train=True)
        test = load_dataset(data, data_root, train=False)
        test_probs, self.test_feats = predict(self.model, test.images)
        self.test_labels, self.test_pred = test.labels, test_probs.argmax(1)
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n]
        _, train_feats = predict(self.model, train.images[pick])
        self.train_feats, self.train_labels = train_feats, train.labels[pick]
        self.real = class_histogram_metrics(test_probs)
        self.real["frechet_distance"] = frechet_distance(train_feats, self.test_feats)   # the floor: real vs real

    def __call__(self, trainer) -> dict:
        return self.images(trainer.sample(self.n, seed=self.seed))

    def images(self, images: torch.Tensor) -> dict:
        """The same metrics for any images (n, 1, 28, 28) in [0, 1], e.g. changed real ones."""
        probs, feats = self._predict(self.model, images)
        generated = class_histogram_metrics(probs)
        generated["frechet_distance"] = frechet_distance(feats, self.test_feats)
        generated["frechet_over_floor"] = generated["frechet_distance"] / self.real["frechet_distance"]
        return generated


def _judge(data: str, data_root, classifier_path, n: int, seed: int, judges: dict | None) -> ClassifierJudge:
    """A ClassifierJudge, built once per setup within one `evaluate` call (its real side costs a pass
    of the classifier over 20,000 images)."""
    key = (data, str(data_root), str(classifier_path), n, seed)
    if judges is None:
        return ClassifierJudge(data, data_root, classifier_path, n=n, seed=seed)
    if key not in judges:
        judges[key] = ClassifierJudge(data, data_root, classifier_path, n=n, seed=seed)
    return judges[key]


def classifier(trainer, n: int = 10_000, seed: int = 0, data_root=None, classifier_path=None, judges=None,
               **_) -> dict | None:
    if trainer.config.data not in ("mnist", "fashion-mnist"):
        return None
    judge = _judge(trainer.config.data, data_root, classifier_path, n, seed, judges)
    return {"generated": judge(trainer), "real_test_images": judge.real, "n_samples": n, "classifier": _shown(judge.path)}


def _shown(path: Path) -> str:
    """A path as a record shows it: relative to the working folder when inside it, so a record
    names the file the same way on any machine."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def conditional(trainer, n: int | None = None, seed: int = 0, data_root=None, classifier_path=None, judges=None,
                **_) -> dict | None:
    """A conditional generator asked for each class in turn (n samples in all, an equal share each):
    how often it draws the class it was asked for. On ring / grid the judge is the nearest mixture
    component (and a sample within 3 std of it counts as high quality); on mnist / fashion-mnist the
    shipped classifier, beside that classifier's own accuracy on real test images of the class, and
    the Fréchet distance of each class's samples to that class's real test images, beside the same
    distance from real training images of the class (the floor)."""
    cfg = trainer.config
    if not cfg.classes or cfg.data not in ("ring", "grid", "mnist", "fashion-mnist"):
        return None
    toy = cfg.data in ("ring", "grid")
    n = n or (2500 if toy else 10_000)
    per = max(1, n // cfg.classes)
    asked = torch.arange(cfg.classes).repeat_interleave(per)
    x, _ = trainer.sample_labeled(len(asked), seed=seed, labels=asked)
    if toy:
        dist = TOY[cfg.data]()
        d = torch.cdist(x.double(), dist.centres.double())
        hit = d.argmin(1) == asked
        hq = d.min(1).values < 3 * dist.std
        rows = [{"class": c, "agreement": float(hit[asked == c].float().mean()),
                 "high_quality_agreement": float((hit & hq)[asked == c].float().mean())} for c in range(cfg.classes)]
        return _agreement_summary(rows, len(asked))
    from .classifier import predict

    judge = _judge(cfg.data, data_root, classifier_path, 10_000, seed, judges)
    probs, feats = predict(judge.model, x)
    hit = probs.argmax(1) == asked
    rows = []
    for c in range(cfg.classes):
        real_c, train_c = judge.test_labels == c, judge.train_labels == c
        rows.append({"class": c, "agreement": float(hit[asked == c].float().mean()),
                     "classifier_accuracy_on_real": float((judge.test_pred[real_c] == c).float().mean()),
                     "frechet_distance": frechet_distance(feats[asked == c], judge.test_feats[real_c]),
                     "frechet_floor": frechet_distance(judge.train_feats[train_c], judge.test_feats[real_c])})
    out = _agreement_summary(rows, len(asked))
    out["classifier_accuracy_on_real"] = float((judge.test_pred == judge.test_labels).float().mean())
    out["worst_gap_to_real_accuracy"] = max(r["classifier_accuracy_on_real"] - r["agreement"] for r in rows)
    out["mean_frechet_over_floor"] = sum(r["frechet_distance"] / r["frechet_floor"] for r in rows) / len(rows)
    return out


def _agreement_summary(rows: list[dict], n: int) -> dict:
    worst = min(rows, key=lambda r: r["agreement"])
    return {"agreement": sum(r["agreement"] for r in rows) / len(rows), "worst_class": worst["class"],
            "worst_class_agreement": worst["agreement"], "n_samples": n, "per_class": rows}


def semi_classifier(trainer, data_root=None, **_) -> dict | None:
    """A semi-supervised D's own test error as a classifier of the K classes (Salimans et al., 2016,
    report 0.93 % +- 0.07 on MNIST with 100 labels), on the full test set; on digits, which has
    none, on the images that were not among its labelled ones."""
    from .semi import NO_TEST_SPLIT

    cfg = trainer.config
    if not cfg.semi_labels:
        return None
    shared = cfg.data in NO_TEST_SPLIT
    test = load_dataset(cfg.data, data_root or trainer.data_root, train=shared)
    scored = torch.ones(len(test), dtype=torch.bool)
    if shared:
        trainer.load_data()
        scored[trainer.labelled_index] = False
    wrong = trainer.classify(test.images[scored]) != test.labels[scored]
    return {"test_error": float(wrong.float().mean()), "test_images": int(scored.sum()), "labels": cfg.semi_labels}


METRICS = {"losses": recent_losses, "modes": modes, "moments": moments, "parzen": parzen, "classifier": classifier,
           "conditional": conditional, "semi_classifier": semi_classifier}


# Where each metric applies, said for a run it does not apply to.
APPLIES_TO = {"losses": "a run that has trained", "modes": "ring and grid, whose modes are known",
              "moments": "gaussian1d, whose mean and std are known",
              "parzen": "mnist and fashion-mnist, the paper's Table 1 protocol with their test sets",
              "classifier": "mnist and fashion-mnist, for which ganlab trains a classifier",
              "conditional": "a conditional run on ring, grid, mnist or fashion-mnist",
              "semi_classifier": "a semi-supervised D (semi_labels > 0)"}


def evaluate(trainer, metrics=None, **options) -> dict:
    """{name: result} for each metric that applies to the trainer's run, and under "not_applicable"
    {name: what it applies to} for each asked for that does not."""
    out, judges, skipped = {}, {}, {}
    for name in metrics or METRICS:
        value = METRICS[name](trainer, judges=judges, **options)
        if value is not None:
            out[name] = value
        else:
            skipped[name] = f"applies only to {APPLIES_TO[name]}"
    return {**out, **({"not_applicable": skipped} if skipped else {})}
