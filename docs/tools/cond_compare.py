"""Conditional D at equal time: joining c at D's first layer (Mirza & Osindero, 2014) against the
projection discriminator (Miyato & Koyama, 2018), each trained for the same wall-clock seconds.

    python docs/tools/cond_compare.py --seconds 240 --out docs/bench/cond-compare-zen5.json

Each run: dcgan-deep with its own recipe (fast-mnist) in bf16, alone on the machine, judged by
`eval`'s conditional metric (agreement with the asked class, per-class Fréchet) and the classifier
metrics. Prints and writes one JSON record.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from ganlab import Trainer, make_config
from ganlab.devices import cpu_model
from ganlab.evaluate import classifier, conditional


def run(cond: str, seconds: float, data: str, seed: int) -> dict:
    t = Trainer(make_config(data=data, model="dcgan-deep", precision="bf16", cond=cond, seed=seed), device="cpu")
    t.load_data()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t.step(50)
    spent = time.perf_counter() - start
    judged = conditional(t, n=10_000)
    return {"cond": cond, "seconds": round(spent, 1), "iterations": t.step_count,
            "agreement": judged["agreement"], "worst_class_agreement": judged["worst_class_agreement"],
            "mean_frechet_over_floor": judged["mean_frechet_over_floor"],
            "frechet_over_floor": classifier(t)["generated"]["frechet_over_floor"], "per_class": judged["per_class"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()
    record = {"date": time.strftime("%Y-%m-%d"), "machine": f"{cpu_model()}, {os.cpu_count()} cores, "
              f"{torch.get_num_threads()} threads, torch {torch.__version__}", "data": args.data,
              "command": f"python docs/tools/cond_compare.py --seconds {args.seconds:g} --data {args.data} --seed {args.seed}",
              "runs": [run(cond, args.seconds, args.data, args.seed) for cond in ("input", "projection")]}
    text = json.dumps(record, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
