"""What a study costs beyond its trainings, and how workers scale on one machine:

    python -m ganlab.study.bench docs/bench/study-cost-zen5.json

1. Optuna's own cost per trial: a 1-worker study of ring trials of 1,500 iterations; the study's
   wall time less the time inside the trials (training, the metric, the checkpoint) is what Optuna
   and its SQLite storage took (asking, telling, heartbeats, attributes), per trial and as a share of
   the median trial; importing Optuna and opening the storage, once a worker, is given apart.
2. Trials per hour with 2 local workers against 1, the same study settings, one after the other in
   this one run, each from the command line (`study run ... --workers W`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPACE = "lr_g=1e-4..1e-2:log lr_d=1e-4..1e-2:log k=1..3 loss=nonsat|hinge"


def _cli(name: str, folder: Path, trials: int, steps: int, workers: int) -> float:
    """Seconds of `study run` (the whole command, process starts included)."""
    cmd = [sys.executable, "-m", "ganlab", "study", "run", name, "--data", "ring", "--trials", str(trials),
           "--steps", str(steps), "--space", SPACE, "--sampler", "random", "--workers", str(workers)]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=folder, env={**os.environ, "GANLAB_STUDIES": str(folder / "studies")}, check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def optuna_cost(folder: Path, trials: int, steps: int) -> dict:
    import torch

    from . import Plan, Study, load, open_study, parse_space, rows, work

    torch.set_num_threads(os.cpu_count() or 1)
    plan = Plan("ring", steps, parse_space(SPACE, "ring"), "high_quality", folder / "cost")
    study = Study("cost", f"sqlite:///{folder / 'cost.db'}", trials, plan, sampler="tpe", seed=0)
    t0 = time.perf_counter()
    load(study)                           # once a worker: importing Optuna, opening the storage
    once = time.perf_counter() - t0
    t0 = time.perf_counter()
    work(study, say=lambda *a, **k: None)
    wall = time.perf_counter() - t0
    inside = [r["seconds"] for r in rows(open_study("cost", study.url)) if r["state"] == "COMPLETE"]
    per_trial = (wall - sum(inside)) / len(inside)
    # Against the median trial: a trial slowed by other work on the machine would flatter the share.
    typical = statistics.median(inside)
    return {"trials": len(inside), "steps": steps, "once_per_worker_s": round(once, 3), "wall_s": round(wall, 2),
            "trial_s": [round(s, 2) for s in inside],
            "median_trial_s": round(typical, 3), "optuna_s_per_trial": round(per_trial, 4),
            "optuna_share_of_a_trial": round(per_trial / typical, 4), "target": "< 0.02",
            "met": per_trial / typical < 0.02,
            "includes": "per trial: asking (TPE), telling, heartbeats, reports, the trial's attributes; "
                        "once a worker (not in the share): importing Optuna and opening the storage"}


def main(out: str, trials: int = 10, steps: int = 1500, scale_trials: int = 12) -> dict:
    import torch

    folder = Path(tempfile.mkdtemp(prefix="ganlab-study-bench-"))
    cost = optuna_cost(folder, trials, steps)
    seconds = {w: _cli(f"scale-{w}", folder, scale_trials, steps, w) for w in (1, 2)}
    per_hour = {w: round(scale_trials / s * 3600) for w, s in seconds.items()}
    record = {"command": f"python -m ganlab.study.bench {out}", "date": time.strftime("%Y-%m-%d"),
              "machine": f"{os.cpu_count()} cores, {_cpu()}, torch {torch.__version__} CPU",
              "optuna_cost": cost,
              "workers": {"study": f"{scale_trials} ring trials of {steps} iterations, random sampler, SQLite",
                          "seconds": {str(w): round(s, 1) for w, s in seconds.items()},
                          "trials_per_hour": {str(w): n for w, n in per_hour.items()},
                          "speedup_2_vs_1": round(seconds[1] / seconds[2], 3)}}
    Path(out).write_text(json.dumps(record, indent=1) + "\n")
    return record


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
        name = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
        family = next(line.split(":", 1)[1].strip() for line in info if line.startswith("cpu family"))
        return f"{name} (family {family})"
    except (OSError, StopIteration):
        return platform.machine()


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), indent=1))
