"""Shared fixtures. Real MNIST / Fashion-MNIST come from $GANLAB_DATA (set by .ci/run to a writable
copy of ../shared/data), else from a temporary copy of ../shared/data; tests that need them skip
with the reason where neither exists."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _has(root: Path, folder: str) -> bool:
    return (root / folder / "raw").is_dir() and any((root / folder / "raw").iterdir())


@pytest.fixture(scope="session")
def real_data_root(tmp_path_factory) -> Path:
    env = os.environ.get("GANLAB_DATA")
    if env and _has(Path(env), "MNIST"):
        return Path(env)
    if _has(SHARED_DATA, "MNIST"):
        root = tmp_path_factory.mktemp("data")     # shared/ is read-only: torchvision extracts next to the .gz
        for folder in ("MNIST", "FashionMNIST"):
            shutil.copytree(SHARED_DATA / folder, root / folder)
        return root
    pytest.skip("real MNIST not found: set GANLAB_DATA to a folder with MNIST/raw/*.gz (and FashionMNIST/raw/*.gz)")


class RunsCode:
    """A pickle payload that would create a file if it were ever unpickled with weights_only=False."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    """Write an IDX ubyte file (magic 2051 for images, 2049 for labels)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 + array.ndim) + b"".join(struct.pack(">I", s) for s in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture
def tiny_mnist_root(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A data root holding a 20-image MNIST written by the test itself (uncompressed IDX, which
    torchvision reads without checking MD5s or downloading)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    labels = np.arange(20, dtype=np.uint8) % 10
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
    return tmp_path, images, labels


def same_weights_and_moments(a: dict, b: dict) -> bool:
    """Two checkpoints' state dicts hold bit-identical weights of G and D and optimizer moments."""
    for key in ("G", "D"):
        if any(not torch.equal(a[key][k], b[key][k]) for k in a[key]):
            return False
    for key in ("opt_g", "opt_d"):
        for i, st in a[key]["state"].items():
            if any(torch.is_tensor(v) and not torch.equal(v, b[key]["state"][i][k]) for k, v in st.items()):
                return False
    return True
