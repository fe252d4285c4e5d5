"""Load time and resident memory of `--data folder:PATH` for a folder of 64x64 RGB images.

    python docs/tools/folder_load.py --images 50000 --out docs/bench/folder-load-50k-64-zen5.json [--workdir DIR]

Writes the folder first (JPEG, quality 90, in 10 class subfolders; smooth random colour fields, so a
file is the size of a small photo, not of incompressible noise), then loads it in a fresh process
the way training does (`load_dataset`, decoded once into uint8 codes) and records the seconds, the
process's peak resident memory and its resident memory before loading (Python, torch and ganlab
imported), beside the size of the codes themselves.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ganlab.devices import cpu_model

LOAD = """
import json, resource, sys, time
import torch
from ganlab.data import load_dataset
def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
before = rss_mb()
t0 = time.perf_counter()
data = load_dataset("folder:" + sys.argv[1], image_size=64, channels=3)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "images": len(data), "codes_mb": data.codes.numel() / 2**20,
                  "rss_before_mb": before, "rss_after_mb": rss_mb(),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "threads": torch.get_num_threads()}))
"""


def write_folder(root: Path, n: int) -> float:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for i in range(n):
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)           # upsampled: smooth, photo-like sizes
        Image.fromarray(small).resize((64, 64), Image.BICUBIC).save(folder / f"{i:06d}.jpg", quality=90)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=50_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        root = Path(tmp) / "images"
        written = write_folder(root, args.images)
        disk_mb = sum(p.stat().st_size for p in root.rglob("*.jpg")) / 2**20
        done = subprocess.run([sys.executable, "-c", LOAD, str(root)], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout)
    record = {"cpu": cpu_model(), "cores": os.cpu_count(), "date": datetime.date.today().isoformat(),
              "command": f"python docs/tools/folder_load.py --images {args.images} --out {args.out}",
              "folder": {"images": args.images, "size": "64x64 RGB JPEG, quality 90", "disk_mb": disk_mb,
                         "write_seconds": written},
              "load": result}
    print(json.dumps(record, indent=1))
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
