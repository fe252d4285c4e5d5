"""What a class costs one model's iteration, measured in alternating rounds so drift hits all three alike.

    python docs/tools/cond_cost.py --model pytorch-mlp --batch-size 64 --rounds 7 --iters 400 \
        --out docs/bench/cond-cost-pytorch-mlp-zen5.json

Each round times the unconditional trainer, then `cond input`, then `cond projection` (the same
`bench_case` as `python -m ganlab bench --cond`), and takes each conditional variant's time per
iteration over the unconditional one's in that round. The cost is reported per round and as the
median over rounds, a number the machine's slow drift moves far less than a single round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from ganlab.bench import bench_case
from ganlab.devices import cpu_model, resolve_device


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="pytorch-mlp")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--precision", default="fp32")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--iters", type=int, default=400)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--out", help="JSON record to write")
    args = p.parse_args(argv)
    device = resolve_device("cpu")
    rounds = []
    for r in range(args.rounds):
        its = {c: bench_case(args.model, args.batch_size, args.iters, args.warmup, None, device, False,
                             args.precision, False, c)["ganlab_it_s"] for c in ("none", "input", "projection")}
        rounds.append({"it_s": its, "cost": {c: its["none"] / its[c] - 1 for c in ("input", "projection")}})
        print(json.dumps(rounds[-1]), flush=True)
    record = {"command": "python docs/tools/cond_cost.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out" and v is not None),
              "date": time.strftime("%Y-%m-%d"), "cpu": cpu_model(), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "model": args.model, "batch_size": args.batch_size,
              "precision": args.precision, "rounds": rounds,
              "median_cost": {c: statistics.median(r["cost"][c] for r in rounds) for c in ("input", "projection")}}
    print(json.dumps(record["median_cost"]))
    if args.out:
        with open(args.out, "w") as f:
            f.write(json.dumps(record, indent=2) + "\n")
    return record


if __name__ == "__main__":
    main()
