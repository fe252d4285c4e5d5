"""Peak RSS of one loop alone in a fresh process, data loading included (docs/performance.md):

    python docs/tools/peak_memory.py ganlab|seed BATCH
"""
import json
import sys

import torch

from ganlab import Trainer, make_config
from ganlab.bench import PeakRSS, _time, seed_loop

which, bs = sys.argv[1], int(sys.argv[2])
with PeakRSS() as mem:                       # the whole run: data loading included
    if which == "ganlab":
        t = Trainer(make_config(data="mnist", batch_size=bs), device="cpu")
        ips = _time(lambda: t.step(50), 6, 1, t.device) * 50
    else:
        from ganlab.data import default_data_root
        loop = seed_loop(default_data_root(), bs, torch.device("cpu"))
        ips = _time(lambda: next(loop), 300, 50, torch.device("cpu"))
print(json.dumps({"loop": which, "batch": bs, "it_s": round(ips, 1), "peak_mb": round(mem.peak / 2**20)}))
