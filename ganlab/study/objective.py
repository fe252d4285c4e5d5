"""What one trial is: a normal ganlab training run of the sampled settings, kept as a checkpoint and
judged by the project's own metric.

On ring and grid the judge is mode coverage (docs/design.md §4: the share of samples within 3 std of
a mode, the modes covered, the reverse KL of the mode histogram); on mnist and fashion-mnist it is
the shipped classifier (Fréchet distance in its features, KL of the class histogram to uniform).
Every trial stores all of its data's metrics as user attributes and returns the one the study
optimises; the same number is reported a few times during training, for Optuna's median pruner.
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import make_config
from ..errors import ConfigError, DivergenceError
from ..evaluate import ClassifierJudge, modes
from ..trainer import Trainer
from .space import Space


@dataclass(frozen=True)
class Metric:
    direction: str          # "maximize" or "minimize", as Optuna spells it
    data: tuple[str, ...]   # where it applies
    about: str


TOY, IMAGES = ("ring", "grid"), ("mnist", "fashion-mnist")
METRICS = {
    "high_quality": Metric("maximize", TOY, "share of samples within 3 std of a mode"),
    "modes": Metric("maximize", TOY, "modes covered by a high-quality sample"),
    "reverse_kl": Metric("minimize", TOY, "KL of the mode histogram to uniform (PacGAN's reverse KL)"),
    "frechet": Metric("minimize", IMAGES, "Fréchet distance in the project's classifier's features"),
    "class_kl": Metric("minimize", IMAGES, "KL of the classifier's class histogram to uniform"),
}
DEFAULT_METRIC = {"ring": "high_quality", "grid": "high_quality", "mnist": "frechet", "fashion-mnist": "frechet"}
# How often a trial reports its metric while it trains (what the median pruner compares).
REPORTS = 5


def choose_metric(data: str, metric: str | None = None) -> str:
    """The metric a study on `data` optimises: `metric` if it applies, else the data's default."""
    if data not in DEFAULT_METRIC:
        raise ConfigError(f"studies judge {', '.join(DEFAULT_METRIC)} (their metrics are known); {data!r} has none")
    metric = metric or DEFAULT_METRIC[data]
    if metric not in METRICS:
        raise ConfigError(f"unknown --metric {metric!r}; choose one of: {', '.join(METRICS)}")
    if data not in METRICS[metric].data:
        fits = [m for m, spec in METRICS.items() if data in spec.data]
        raise ConfigError(f"--metric {metric} applies to {', '.join(METRICS[metric].data)}, not {data}; "
                          f"on {data} choose one of: {', '.join(fits)}")
    return metric


class Judge:
    """Every metric of a study's data for a trainer; the classifier's real side is built once."""

    def __init__(self, data: str, data_root=None):
        self.data, self.data_root, self._classifier = data, data_root, None

    def __call__(self, trainer: Trainer) -> dict:
        if self.data in TOY:
            result = modes(trainer)
            kl = result["reverse_kl"]
            # No high-quality sample leaves the histogram undefined: score it as one mode alone, log K.
            return {"high_quality": result["high_quality_fraction"], "modes": result["modes_covered"],
                    "reverse_kl": math.log(result["modes_total"]) if kl is None else kl}
        if self._classifier is None:
            self._classifier = ClassifierJudge(self.data, self.data_root, n=5_000)
        got = self._classifier(trainer)
        return {"frechet": got["frechet_distance"], "class_kl": got["class_kl_to_uniform"],
                "classes_covered": got["classes_covered"]}


@dataclass(frozen=True)
class Plan:
    """What every trial of one study shares."""
    data: str
    steps: int
    space: Space
    metric: str
    folder: Path            # the study's checkpoints: folder/trial-N.pt
    data_root: str | None = None
    device: str = "cpu"


class Objective:
    """`objective(trial)` for `study.optimize`: trains, saves, stores the metrics, returns the one."""

    def __init__(self, plan: Plan, say=print):
        self.plan, self.say, self.judge = plan, say, Judge(plan.data, plan.data_root)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, trial) -> float:
        import optuna

        plan = self.plan
        settings = plan.space.suggest(trial)
        path = plan.folder / f"trial-{trial.number}.pt"
        trial.set_user_attr("worker", self.worker)
        trial.set_user_attr("checkpoint", str(path.resolve()))
        self._log(f"start {trial.number} {self.worker}")
        t0 = time.perf_counter()
        trainer = Trainer(make_config(data=plan.data, **settings), device=plan.device, data_root=plan.data_root)
        trainer.load_data()
        values, pruned = self._train(trainer, trial)
        trainer.save(path)
        seconds = time.perf_counter() - t0
        for name, value in values.items():
            trial.set_user_attr(name, value)
        trial.set_user_attr("seconds", round(seconds, 3))
        trial.set_user_attr("steps", trainer.step_count)
        self._log(f"end {trial.number} {self.worker}")
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())
        self.say(f"trial {trial.number}: {shown} -> {plan.metric} {values[plan.metric]:.4g}"
                 f"{' (pruned)' if pruned else ''} in {seconds:.1f} s", flush=True)
        if pruned:
            raise optuna.TrialPruned()
        return values[plan.metric]

    def _train(self, trainer: Trainer, trial) -> tuple[dict, bool]:
        """Train the plan's steps in REPORTS slices, reporting the metric after each; stop early when
        the pruner says so, or when the losses diverge (the trainer is back at its last good state,
        which is what the trial gave)."""
        steps, done = self.plan.steps, 0
        slices = [steps * (i + 1) // REPORTS - steps * i // REPORTS for i in range(REPORTS)]
        values = None
        for n in filter(None, slices):
            try:
                trainer.train(n, progress=False)
            except DivergenceError:
                trial.set_user_attr("diverged_at", trainer.step_count)
                return self.judge(trainer), False
            done += n
            values = self.judge(trainer)
            if done < steps:
                trial.report(values[self.plan.metric], done)
                if trial.should_prune():
                    return values, True
        return values, False

    def _log(self, line: str) -> None:
        """One line per trial start and end in folder/trials.log (appends of one short line are
        atomic): the record that no trial ran in two places."""
        with open(self.plan.folder / "trials.log", "a") as f:
            f.write(line + "\n")
