"""A long app session without the browser: the Train page's live loop (a training slice, then the
toy view and the history plot, serialised as Streamlit sends them) run for many iterations, with the
process's resident memory (RSS) printed as it goes. The test in test_reliability.py runs it small;
docs/reliability.md gives the 100,000-iteration numbers:

    python tests/long_session.py --iterations 100000 --every 10000
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from ganlab import Trainer, make_config
from ganlab import plots


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(iterations: int, every: int, slice_: int = 500, **config) -> list[dict]:
    trainer = Trainer(make_config(**config), device="cpu")
    rows, t0 = [], time.perf_counter()
    while trainer.step_count < iterations:
        trainer.step(min(slice_, iterations - trainer.step_count))
        # What one refresh of the Train page draws (ganlab/ui/train_page.py: draw()).
        figures = [plots.history_figure(trainer.history(max_rows=1500))]
        if trainer.config.data in ("ring", "grid", "points"):
            figures.append(plots.toy2d_figure(trainer))
        payload = sum(len(f.to_json()) for f in figures)
        if trainer.step_count % every == 0 or trainer.step_count == iterations:
            rows.append({"step": trainer.step_count, "rss_mb": round(rss_mb(), 1),
                         "history_rows": len(trainer.history()["d_loss"]), "figure_bytes": payload,
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=100_000)
    p.add_argument("--every", type=int, default=10_000)
    p.add_argument("--data", default="ring")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    run(args.iterations, args.every, data=args.data)
