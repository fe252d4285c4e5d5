"""Running a study: create or join it, then run trials in one or more local worker processes until
the study holds N finished trials, none left running.

Each worker is an ordinary Optuna loop (`study.optimize`) on the shared storage, with its share of
the cores (`torch.set_num_threads`). Workers on other machines join the same study by running the
same command with the same `--storage`. A worker stops once the finished trials and the ones still
running reach N; it then waits until nothing is left running: a trial whose worker died is failed
when its heartbeat is stale and retried with its settings, so the study still ends with N finished.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import warnings
from dataclasses import dataclass

from ..errors import ConfigError
from .objective import METRICS, Objective, Plan
from .storage import HEARTBEAT, StudyError, open_storage, shown_url

SAMPLERS = ("tpe", "random", "grid")


@dataclass(frozen=True)
class Study:
    """A study as asked for on the command line."""
    name: str
    url: str
    trials: int
    plan: Plan
    sampler: str = "tpe"
    seed: int = 0
    prune: bool = False
    heartbeat: int = HEARTBEAT

    @property
    def meta(self) -> dict:
        """What the study is, stored with it: a later join must ask for the same."""
        p = self.plan
        return {"data": p.data, "steps": p.steps, "space": p.space.text, "metric": p.metric,
                "direction": METRICS[p.metric].direction}


def finished_states():
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


def load(study: Study, worker: int = 0):
    """The Optuna study, created if new; a StudyError if it exists with other settings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(study.url, study.heartbeat)
    meta = study.meta
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1) if study.prune else optuna.pruners.NopPruner()
    made = optuna.create_study(storage=storage, study_name=study.name, direction=meta["direction"],
                               sampler=_sampler(study, worker), pruner=pruner, load_if_exists=True)
    held = made.user_attrs.get("ganlab")
    if held is None:
        made.set_user_attr("ganlab", meta)
    elif held != meta:
        diff = "; ".join(f"{k} {held.get(k)!r} (asked: {v!r})" for k, v in meta.items() if held.get(k) != v)
        raise StudyError(f"study {study.name!r} in {shown_url(study.url)} was created with other settings: {diff}; "
                         "ask for the same, or name a new study")
    return made


def _sampler(study: Study, worker: int):
    import optuna

    # Each local worker its own stream: two workers with one seed would propose the same settings.
    seed = study.seed + worker
    if study.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if study.sampler == "grid":
        return optuna.samplers.GridSampler(study.plan.space.grid(), seed=seed)
    if study.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    raise ConfigError(f"unknown --sampler {study.sampler!r}; choose one of: {', '.join(SAMPLERS)}")


def counts(made) -> dict:
    """{state name: number of trials}."""
    out: dict = {}
    for t in made.get_trials(deepcopy=False):
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def work(study: Study, worker: int = 0, threads: int | None = None, say=print) -> int:
    """One worker's loop; returns the finished trials the study holds when it stops."""
    import torch
    from optuna.trial import TrialState

    if threads:
        torch.set_num_threads(threads)
    made = load(study, worker)
    study.plan.folder.mkdir(parents=True, exist_ok=True)
    objective = Objective(study.plan, say=say)
    done, live = finished_states(), finished_states() + (TrialState.RUNNING,)

    def enough(s, _trial) -> None:
        if len(s.get_trials(deepcopy=False, states=live)) >= study.trials:
            s.stop()

    while True:
        if len(made.get_trials(deepcopy=False, states=live)) < study.trials:
            made.optimize(objective, callbacks=[enough], catch=(ConfigError,))
        _settle(made, study.heartbeat)
        finished = len(made.get_trials(deepcopy=False, states=done))
        if finished >= study.trials or _grid_done(made):
            return finished
        failed = made.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        if len(failed) > 3 + 2 * study.trials:       # a setting that always fails must not loop forever
            raise StudyError(f"study {study.name!r}: {len(failed)} trials failed, {finished} finished; "
                             "see the failed trials with `study show`")


def _settle(made, heartbeat: int) -> None:
    """Wait until no trial is running: the other workers' end on their own; a dead worker's goes
    stale, is failed here and queued again (its retry is then run by the loop above)."""
    import optuna
    from optuna.trial import TrialState

    while made.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(made)
        time.sleep(min(1.0, heartbeat / 2))


def _grid_done(made) -> bool:
    """The grid sampler has proposed every point of its grid (it stops the study itself then)."""
    return hasattr(made.sampler, "is_exhausted") and made.sampler.is_exhausted(made)


def run(study: Study, workers: int = 1, say=print) -> dict:
    """Run the study with `workers` local processes, each with its share of the cores; the study's
    counts by state when all have stopped."""
    load(study)                           # every refusal (storage, settings) before any training
    cores = os.cpu_count() or 1
    threads = max(1, cores // workers)
    if workers == 1:
        work(study, 0, threads, say)
        return counts(load(study))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker_main, args=(study, i, threads), name=f"worker-{i}") for i in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lost = [(i, p.exitcode) for i, p in enumerate(procs) if p.exitcode]
    for i, code in lost:
        how = f"was killed (signal {-code})" if code < 0 else f"stopped with exit code {code}"
        print(f"worker {i} {how}; the others carried on and retried its trial", file=sys.stderr)
    final = counts(load(study))
    if len(lost) == workers:
        raise StudyError(f"every worker stopped early; the study holds {final}")
    return final


def _worker_main(study: Study, worker: int, threads: int) -> None:
    try:
        work(study, worker, threads)
    except KeyboardInterrupt:
        sys.exit(130)


