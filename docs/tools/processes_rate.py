"""Iterations/s and images/s of `ganlab train` in one process and in two torchrun processes, at the
same per-process batch, each case run in turn on an otherwise idle machine.

    python docs/tools/processes_rate.py --out docs/bench/processes-zen5.json [--repeats 2]

Cases: one process with every core (torch's default threads), one process with one thread, and
`torchrun --standalone --nproc-per-node 2` with one thread each (torchrun's default). The rate is
the one `train` prints: all iterations of the command over its training time, data loading excluded.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganlab.devices import cpu_model

# name: (train flags, batch per process); FOLDER is replaced by a folder of 2,000 random 32x32 images.
SETUPS = {
    "ring (mlp, batch 256)": (["--data", "ring", "--steps", "3000"], 256),
    "mnist, the seed preset (pytorch-mlp, batch 64)": (["--data", "mnist", "--steps", "600"], 64),
    "a folder of 32x32 colour images (pytorch-dcgan, batch 64)": (["--data", "FOLDER", "--steps", "60"], 64),
}
RATE = re.compile(r"trained (\d+) iterations in ([\d.]+) s")


def run(flags: list[str], batch: int, processes: int, threads: int | None, out: str) -> dict:
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    else:
        env.pop("OMP_NUM_THREADS", None)
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"] if processes > 1 else []
    args = ["-m", "ganlab", "train", *flags, "--out", out, "--quiet"]
    done = subprocess.run([sys.executable, *launcher, *args], env=env, capture_output=True, text=True, check=True)
    iters, seconds = RATE.search(done.stdout).groups()
    it_s = int(iters) / float(seconds)
    shown = (f"OMP_NUM_THREADS={threads} " if threads else "") + \
        (f"torchrun --standalone --nproc-per-node {processes} " if processes > 1 else "python ") + \
        " ".join(args).replace(str(Path(out)), "OUT.pt")
    return {"processes": processes, "threads_per_process": threads or torch.get_num_threads(), "it_s": it_s,
            "images_s": it_s * batch * processes, "command": shown}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    rows = []
    folder = Path(tempfile.mkdtemp()) / "images"
    rng = np.random.default_rng(0)
    for i in range(2000):
        (folder / f"c{i % 4}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"c{i % 4}" / f"{i}.png")
    for name, (flags, batch) in SETUPS.items():
        flags = [f"folder:{folder}" if f == "FOLDER" else f for f in flags]
        for _ in range(args.repeats):
            for processes, threads in ((1, None), (1, 1), (2, 1)):
                row = {"setup": name, **run(flags, batch, processes, threads, "/tmp/processes-rate.pt")}
                row["command"] = row["command"].replace(str(folder), "IMAGES")
                print(f"{name}: {processes} process(es) x {row['threads_per_process']} thread(s): "
                      f"{row['it_s']:.1f} it/s, {row['images_s']:,.0f} images/s", flush=True)
                rows.append(row)
    record = {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
              "date": datetime.date.today().isoformat(), "rows": rows}
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
