"""How often a conditional generator's class net names the digit of a half-hidden test image.

    python -m ganlab encoder checkpoints/mnist-cond.pt --net class --fresh --steps 2000 --quiet --out /tmp/c2000.pt
    python docs/tools/class_net_screen.py /tmp/c2000.pt checkpoints/mnist-cond.pt \
        --out docs/bench/class-net-screen-zen5.json

For each checkpoint's class net (`ganlab.classinference`), the share of test images whose label it
names from each visible half (top, bottom, left or right hidden), on the 500 test images
`inference_eval.py --images 500` judges (its default `--seed 0`, "eval") and on the next 500 of the
same shuffle ("tune"), where a choice can be made without touching the judged ones. A completion
keeps the digit about as often as its class is named (docs/results.md), so this screens a class net
in a second, where the full completion takes minutes a side.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

import torch

from ganlab import Trainer
from ganlab.classinference import name_partly_seen
from ganlab.data import load_dataset
from ganlab.devices import cpu_model
from ganlab.inference import MASKS, named_mask


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help="conditional generators' checkpoints holding a class net")
    p.add_argument("--out", help="JSON record to write")
    args = p.parse_args(argv)
    rows = []
    for path in args.checkpoints:
        t = Trainer.load(path, device="cpu")
        if t.class_net is None:
            p.error(f"{path} holds no class net: `python -m ganlab encoder {path} --net class` trains one")
        test = load_dataset(t.config.data, train=False)
        order = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))    # inference_eval's --seed 0
        row = {"checkpoint": path, "class_net_steps": t.class_net.steps}
        for name, pick in (("eval", order[:500]), ("tune", order[500:1000])):
            x, y = test.images[pick].reshape(-1, *test.shape), test.labels[pick]
            for side in MASKS:
                named = name_partly_seen(t, x, named_mask(side, tuple(test.shape)))
                row[f"{name}_{side}_hidden"] = float((named == y).float().mean())
        rows.append(row)
        print(json.dumps(row))
    record = {"what": "share of test images whose label the class net names from the visible half",
              "command": "python docs/tools/class_net_screen.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": f"{cpu_model()}, {os.cpu_count()} cores", "date": datetime.date.today().isoformat(),
              "torch": torch.__version__, "rows": rows}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(record, f, indent=1)
    return record


if __name__ == "__main__":
    main()
