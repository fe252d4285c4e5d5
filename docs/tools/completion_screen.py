"""How a conditional generator's completion picks its class, screened without the full completion.

    python docs/tools/completion_screen.py checkpoints/mnist-cond.pt --pool-seeds 0 1 2 \
        --out docs/bench/completion-vote-knn-zen5.json
    python docs/tools/completion_screen.py checkpoints/mnist-cond.pt --pool-seeds 0 --sides right \
        --images tune --runoff 2 --out docs/bench/completion-runoff-zen5.json

A conditional G given no class and no class net completes as the class its draws vote for
(`ganlab.inference.vote`; the screen votes whether or not the checkpoint holds a class net):
per class, the mean visible-pixel error of its `k` nearest draws of z. The completion then keeps the
digit about as often as the vote names it, so the vote is the screen:

- the vote's agreement with the label for each `k` in `--knn`, on the 500 test images
  `inference_eval.py --images 500` judges with its default `--seed 0` (`--images eval`) and on the
  next 500 of the same shuffle (`--images tune`), which a choice of `k` can be made on without
  touching the judged ones;
- with `--runoff R`: the R best-voted classes each searched from their nearest draw for `--steps`,
  the class whose search ends nearest the visible pixels picked, against the vote's own pick and
  against an oracle that knows which of the R is right.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ganlab import Trainer
from ganlab.data import load_dataset
from ganlab.devices import cpu_model
# the completion's own scoring of the pool, so the screen votes exactly as `complete()` does
from ganlab.inference import COMPLETE_STEPS, KNN, POOL, _nearest_draws, _pool, named_mask, search
from ganlab.latent import sample_z
from ganlab.models import eval_mode


def runoff(t, z, target, visible, err, idx, labels, rounds: int, steps: int) -> dict:
    """The R best-voted classes searched from their nearest draw; the best visible fit picks."""
    n = len(target)
    top = err[:, :, :KNN].mean(2).topk(rounds, dim=1, largest=False).indices          # (n, R), best first
    start = z[idx[torch.arange(n)[:, None], top, 0].reshape(-1)]
    classes = top.reshape(-1)
    target, visible = target.repeat_interleave(rounds, 0), visible.repeat_interleave(rounds, 0)
    found = search(t, target, start, steps, visible=visible, labels=classes)
    with torch.no_grad(), eval_mode(t.sample_net):
        fill = _pool(t, found, classes)
    fit = ((fill - target).square() * visible).sum(1).reshape(n, rounds)
    return {"classes": rounds, "steps": steps, "vote": float((top[:, 0] == labels).float().mean()),
            "runoff": float((top[torch.arange(n), fit.argmin(1)] == labels).float().mean()),
            "oracle": float((top == labels[:, None]).any(1).float().mean())}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="a conditional generator's checkpoint")
    p.add_argument("--pool-seeds", type=int, nargs="+", default=[0])
    p.add_argument("--pool", type=int, default=10 * POOL, help="prior draws, split over the classes (default: %(default)s)")
    p.add_argument("--sides", nargs="+", default=["bottom", "right"], help="the hidden halves (default: bottom right)")
    p.add_argument("--images", choices=["eval", "tune"], nargs="+", default=["eval", "tune"])
    p.add_argument("--knn", type=int, nargs="+", default=[1, 2, 4, 8, 16], help="vote sizes (default: 1 2 4 8 16)")
    p.add_argument("--runoff", type=int, default=0, help="classes searched in the runoff (default: none)")
    p.add_argument("--steps", type=int, default=COMPLETE_STEPS, help="search steps in the runoff (default: %(default)s)")
    p.add_argument("--out", help="JSON record to write")
    args = p.parse_args(argv)

    t = Trainer.load(args.checkpoint, device="cpu")
    if not t.config.classes:
        p.error(f"{args.checkpoint} is not a conditional generator: it has no class to vote for")
    test = load_dataset(t.config.data, train=False)
    order = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))    # inference_eval's --seed 0
    sets = {"eval": order[:500], "tune": order[500:1000]}
    classes = list(range(t.config.classes))
    k = max(*args.knn, KNN)
    rows = []
    for pool_seed in args.pool_seeds:
        z = sample_z(args.pool // len(classes), t.config.latent_dim, t.config.prior,
                     torch.Generator().manual_seed(pool_seed))
        for name in args.images:
            x, y = test.images[sets[name]].reshape(-1, *test.shape), test.labels[sets[name]]
            for side in args.sides:
                start = time.perf_counter()
                visible = (1 - named_mask(side, tuple(test.shape))).reshape(1, -1).expand(len(x), -1).contiguous()
                target = t.to_g_range(x).reshape(len(x), -1)
                with torch.no_grad():
                    err, idx = _nearest_draws(t, z, target, visible, classes, None, k)
                row = {"images": name, "hidden": side, "pool_seed": pool_seed,
                       "vote_agreement": {str(j): float((err[:, :, :j].mean(2).argmin(1) == y).float().mean())
                                          for j in args.knn}}
                if args.runoff:
                    row["runoff"] = runoff(t, z, target, visible, err, idx, y, args.runoff, args.steps)
                row["seconds"] = round(time.perf_counter() - start, 1)
                print(json.dumps(row), flush=True)
                rows.append(row)
    record = {"command": "python docs/tools/completion_screen.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d"), "cpu": cpu_model(), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "checkpoint": args.checkpoint, "step": t.step_count,
              "pool": args.pool, "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    return record


if __name__ == "__main__":
    main()
