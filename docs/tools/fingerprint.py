"""Fingerprints of short training runs: a SHA-256 of the final weights, optimizer moments, RNG
state and history of each case, to show that a change to the code leaves training bit-identical.

    python docs/tools/fingerprint.py > before.json   # on one checkout
    python docs/tools/fingerprint.py > after.json    # on the other; the two files must be equal

Cases: ring (nonsat), digits class-conditional, MNIST with a semi-supervised D (needs MNIST under
$GANLAB_DATA), wgan-gp on grid, a folder of images drawn here, slow motion (d_step/g_step) on
ring, and a run saved and resumed halfway.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganlab import Trainer, make_config


def digest(obj, h) -> None:
    if isinstance(obj, torch.Tensor):
        h.update(str(obj.dtype).encode())
        h.update(obj.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes() if obj.numel() else b"")
    elif isinstance(obj, np.ndarray):
        h.update(obj.tobytes())
    elif isinstance(obj, dict):
        for key in sorted(obj, key=str):
            h.update(str(key).encode())
            digest(obj[key], h)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            digest(item, h)
    else:
        h.update(repr(obj).encode())


def fingerprint(t: Trainer) -> dict:
    parts = {"G": t.G.state_dict(), "D": t.D.state_dict(), "opt_g": t.opt_g.state_dict()["state"],
             "opt_d": t.opt_d.state_dict()["state"], "rng": t.rng.get_state(), "history": t.history()}
    out = {"step": t.step_count}
    for name, part in parts.items():
        h = hashlib.sha256()
        digest(part, h)
        out[name] = h.hexdigest()[:16]
    return out


def image_folder(root: Path) -> str:
    gen = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(gen.integers(0, 256, (40, 36, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    return f"folder:{root}"


def main() -> None:
    torch.set_num_threads(2)
    tmp = Path(tempfile.mkdtemp())
    cases = {
        "ring": (dict(data="ring", seed=0), 60),
        "digits-cond": (dict(data="digits", cond="projection", batch_size=32, seed=1), 20),
        "grid-wgan-gp": (dict(data="grid", loss="wgan-gp", k=2, seed=2), 30),
        "folder": (dict(data=image_folder(tmp / "images"), batch_size=8, seed=3), 5),
    }
    if os.environ.get("GANLAB_DATA") and Path(os.environ["GANLAB_DATA"], "MNIST").exists():
        cases["mnist-semi"] = (dict(data="mnist", model="dcgan", semi_labels=100, batch_size=32, seed=4), 5)
    else:
        print("mnist-semi skipped: set GANLAB_DATA to a folder holding MNIST", file=sys.stderr)
    result = {}
    for name, (fields, steps) in cases.items():
        t = Trainer(make_config(**fields), device="cpu")
        t.step(steps)
        result[name] = fingerprint(t)
    # Slow motion: k D steps and a G step one at a time, then a step().
    t = Trainer(make_config(data="ring", k=2, seed=5), device="cpu")
    for _ in range(3):
        t.d_step(); t.d_step(); t.g_step()
    t.step(5)
    result["ring-slow-motion"] = fingerprint(t)
    # Resume: save halfway, load, finish.
    t = Trainer(make_config(data="ring", ema=0.99, seed=6), device="cpu")
    t.step(20)
    t.save(tmp / "half.pt")
    t = Trainer.load(tmp / "half.pt", device="cpu")
    t.step(20)
    result["ring-resumed"] = fingerprint(t)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
