"""Where one trainer iteration spends its time: torch.profiler's table of operators over N iterations.

    python docs/tools/profile_step.py [model=pytorch-mlp] [batch_size=64] [precision=fp32] [iters=200] [rows=25]

MNIST-shaped random images (no data needed), 30 untimed iterations first.
"""

import json
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from ganlab.config import FIELD_TYPES, make_config
from ganlab.data import ImageData
from ganlab.devices import cpu_model
from ganlab.trainer import Trainer


def main(argv):
    fields = dict(a.split("=", 1) for a in argv)
    iters, rows = int(fields.pop("iters", 200)), int(fields.pop("rows", 25))
    fields.setdefault("model", "pytorch-mlp")
    trainer = random_mnist_trainer(make_config(data="mnist", **{k: FIELD_TYPES[k](v) for k, v in fields.items()}))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.step(iters)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def random_mnist_trainer(cfg, **options) -> Trainer:
    """A CPU trainer of `cfg` on 60,000 random MNIST-shaped images, in G's output range, after 30
    untimed iterations; `options` go to the Trainer (compile=True, say)."""
    from ganlab.models import build_models

    codes = torch.randint(0, 256, (60_000, 784), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    data = ImageData(None, torch.zeros(60_000, dtype=torch.long), (1, 28, 28), levels=255, codes=codes)
    trainer = Trainer(cfg, device="cpu", **options, dataset=data.for_training(*(build_models(cfg)[0].out_range or (0.0, 1.0))))
    trainer.step(30)
    return trainer


def alternating_rates(variants: dict, rounds: int, iters: int) -> dict[str, list[float]]:
    """it/s of each `variants[name](iters)`, the variants run one after another in each of `rounds`
    rounds, so that the machine's drift falls on all alike."""
    rates = {name: [] for name in variants}
    for r in range(rounds):
        for name, run in variants.items():
            t = time.perf_counter()
            run(iters)
            rates[name].append(round(iters / (time.perf_counter() - t), 1))
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1]:.1f} it/s" for k, v in rates.items()), flush=True)
    return rates


def write_record(path, tool: str, argv, cfg, fields: dict, **measured) -> None:
    """A tool's JSON record: the machine, the date, the settings, what it measured and its command."""
    record = {"cpu": cpu_model(), "threads": torch.get_num_threads(), "torch": torch.__version__,
              "date": time.strftime("%Y-%m-%d"), "config": {**fields, "batch_size": cfg.batch_size,
                                                            "precision": cfg.precision},
              **measured, "command": f"python docs/tools/{tool} " + " ".join(argv)}
    with open(path, "w") as f:
        json.dump(record, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
