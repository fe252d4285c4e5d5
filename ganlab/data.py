"""Datasets: toy distributions with exact densities, and image sets held as one tensor on the device.

Every dataset answers `sample(n, generator)` with an (n, dim) float tensor on the generator's device,
drawing all randomness from that generator, so a trainer that owns the generator owns the stream
(bit-exact resume needs nothing else). Images are decoded once, flattened, scaled to [0, 1]; batches
are drawn by index, with replacement, so there is no per-step PIL or DataLoader work.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from pathlib import Path

import torch

from .config import DATASET_CLASSES, FOLDER, IMAGE_DATASETS, TOY_DATASETS
from .errors import DataError, first_line, size_text
from .outputs import check_input, source_size


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")


def class_names(data: str) -> list[str]:
    """A readable name for each class of a labelled dataset (a toy mixture's are its components)."""
    if data == "fashion-mnist":
        return list(FASHION_CLASSES)
    if data in ("mnist", "digits"):
        return [f"digit {c}" for c in range(10)]
    return [f"component {c}" for c in range(DATASET_CLASSES.get(data, 0))]


class ToyData:
    """Base for the 2-D / 1-D toy distributions: exact `log_prob`, fresh samples every batch."""

    is_image = False

    def __init__(self, centres: torch.Tensor, std: float):
        self.centres = centres          # (K, d) mixture means; K = 1 for gaussian1d
        self.std = float(std)           # shared isotropic std of every component
        self.shape = (centres.shape[1],)
        self.dim = centres.shape[1]

    def to(self, device) -> "ToyData":
        return type(self)(self.centres.to(device), self.std)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n samples and the mixture component each came from (a conditional model's class)."""
        dev = generator.device
        idx = torch.randint(len(self.centres), (n,), generator=generator, device=dev)
        noise = torch.randn(n, self.dim, generator=generator, device=dev)
        return self.centres.to(dev)[idx] + self.std * noise, idx

    def class_freq(self, classes: int) -> torch.Tensor:
        """Share of each class (here, each component: all equal) in the data."""
        return torch.full((classes,), 1.0 / classes, device=self.centres.device)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p_data(x) (float64) for x of shape (n, d): a uniform mixture of N(c, std^2 I)."""
        # float64 and an explicit difference: with std 0.02, squared distances are divided by 8e-4,
        # so cdist's matmul shortcut in float32 would cost several digits.
        x = x.reshape(len(x), self.dim).double()
        sq = (x[:, None, :] - self.centres.to(x)[None]).square().sum(-1)   # (n, K)
        log_norm = -0.5 * self.dim * math.log(2 * math.pi * self.std**2)
        return torch.logsumexp(log_norm - sq / (2 * self.std**2), dim=1) - math.log(len(self.centres))


class Gaussian1D(ToyData):
    """The setting of the paper's Figure 1: a single 1-D Gaussian, N(2, 0.5^2)."""

    def __init__(self, centres=None, std: float = 0.5):
        super().__init__(torch.tensor([[2.0]]) if centres is None else centres, std)


class Ring(ToyData):
    """8 Gaussians evenly spaced on a circle of radius 2, std 0.02 (the VEEGAN/PacGAN benchmark)."""

    def __init__(self, centres=None, std: float = 0.02):
        if centres is None:
            angles = torch.arange(8) * (2 * math.pi / 8)
            centres = 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
        super().__init__(centres, std)


class Grid(ToyData):
    """25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05."""

    def __init__(self, centres=None, std: float = 0.05):
        if centres is None:
            ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
            centres = torch.cartesian_prod(ticks, ticks)
        super().__init__(centres, std)


def _draw_rows(rows: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n rows drawn uniformly with replacement, the indices from `generator` on its device."""
    return rows[torch.randint(len(rows), (n,), generator=generator, device=generator.device)]


def _draw_labeled(rows: torch.Tensor, labels: torch.Tensor, n: int, generator: torch.Generator):
    """`_draw_rows` (the same draw) and the labels of the drawn rows."""
    idx = torch.randint(len(rows), (n,), generator=generator, device=generator.device)
    return rows[idx], labels[idx]


def balanced_pick(labels: torch.Tensor, per_class: int, classes: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of `per_class` items of each class, drawn without replacement from `generator` (CPU),
    class by class; DataError naming the smallest class when one has fewer."""
    by_class = [torch.nonzero(labels.cpu() == c).squeeze(1) for c in range(classes)]
    smallest = min(range(classes), key=lambda c: len(by_class[c]))
    if per_class > len(by_class[smallest]):
        raise DataError(f"{per_class} labelled images per class asked, but class {smallest} has only "
                        f"{len(by_class[smallest])}: ask for at most {classes * len(by_class[smallest])} labels")
    return torch.cat([idx[torch.randperm(len(idx), generator=generator)[:per_class]] for idx in by_class])


def _class_freq(labels: torch.Tensor, classes: int) -> torch.Tensor:
    return torch.bincount(labels, minlength=classes).float() / len(labels)


class ImageData:
    """An image set as one (N, C*H*W) float tensor in [0, 1], plus its labels. A set whose pixels
    are k / levels (MNIST: 255) can be built from its uint8 codes alone; the float tensor is then
    made on first use of `images` (the metrics), and training never makes it (`for_training`)."""

    is_image = True

    def __init__(self, images: torch.Tensor | None, labels: torch.Tensor, shape: tuple[int, int, int],
                 levels: int | None = None, codes: torch.Tensor | None = None):
        if images is None and (codes is None or levels is None):
            raise ValueError("ImageData needs float images, or uint8 codes with their levels")
        self._images = images           # (N, C*H*W) float32 in [0, 1], or None until first used
        self.codes = codes              # (N, C*H*W) uint8, pixel = code / levels, if known
        self.labels = labels            # (N,) int64
        self.shape = tuple(shape)       # (C, H, W)
        self.dim = math.prod(shape)
        self.levels = levels            # pixels are k / levels, k an integer (255 for MNIST), if known

    @property
    def images(self) -> torch.Tensor:
        if self._images is None:
            self._images = self.codes.float().div_(self.levels)
        return self._images

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device) -> "ImageData":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return ImageData(move(self._images), self.labels.to(device), self.shape, self.levels, move(self.codes))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return _draw_rows(self.images, n, generator)

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return _draw_labeled(self.images, self.labels, n, generator)

    def class_freq(self, classes: int) -> torch.Tensor:
        return _class_freq(self.labels, classes)

    def subset(self, idx: torch.Tensor) -> "ImageData":
        """The images at `idx`, with their labels."""
        pick = lambda t: None if t is None else t[idx.to(t.device)]  # noqa: E731
        return ImageData(pick(self._images), pick(self.labels), self.shape, self.levels, pick(self.codes))

    def for_training(self, lo: float, hi: float):
        """The set as a generator's training data, pixels mapped to its output range [lo, hi]."""
        if self.codes is not None:
            return QuantisedImages(self.codes, self.levels, lo, hi, self.shape, self.labels)
        return ImageData(self.images * (hi - lo) + lo, self.labels, self.shape)


class QuantisedImages:
    """Training data whose pixels are k / levels, held as uint8 codes: a quarter of float32 (47 MB
    for MNIST instead of 188). Each batch is mapped to [lo, hi] by the same float operations, in the
    same order, as mapping the whole set once would be, so the batches are bit-identical to that."""

    is_image = True

    def __init__(self, codes: torch.Tensor, levels: int, lo: float, hi: float, shape: tuple[int, int, int],
                 labels: torch.Tensor):
        self.codes, self.levels, self.lo, self.hi, self.shape = codes, levels, lo, hi, tuple(shape)
        self.labels = labels

    def __len__(self) -> int:
        return len(self.codes)

    def to(self, device) -> "QuantisedImages":
        return QuantisedImages(self.codes.to(device), self.levels, self.lo, self.hi, self.shape, self.labels.to(device))

    def _pixels(self, codes: torch.Tensor) -> torch.Tensor:
        return codes.float().div_(self.levels) * (self.hi - self.lo) + self.lo

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self._pixels(_draw_rows(self.codes, n, generator))

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        codes, labels = _draw_labeled(self.codes, self.labels, n, generator)
        return self._pixels(codes), labels

    def class_freq(self, classes: int) -> torch.Tensor:
        return _class_freq(self.labels, classes)

    def subset(self, idx: torch.Tensor) -> "QuantisedImages":
        """The images at `idx`, with their labels."""
        idx = idx.to(self.codes.device)
        return QuantisedImages(self.codes[idx], self.levels, self.lo, self.hi, self.shape, self.labels[idx])


class PointCloud:
    """A user's own 2-D point set (e.g. an uploaded CSV), sampled by index like an image set.
    It has no known density, so D* and the mode metrics do not apply to it."""

    is_image = False
    MAX_POINTS = 1_000_000

    def __init__(self, points: torch.Tensor):
        self.points = points            # (N, 2) float32
        self.shape = (points.shape[1],)
        self.dim = points.shape[1]

    def __len__(self) -> int:
        return len(self.points)

    def to(self, device) -> "PointCloud":
        return PointCloud(self.points.to(device))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return _draw_rows(self.points, n, generator)


# A CSV of PointCloud.MAX_POINTS points, each written in full (-0.3333333333333333,...: 40 bytes a line), is 40 MB:
# past this a file holds more points than are learnt from, and is refused before it is read.
MAX_CSV_BYTES = 64 * 2**20


def load_points_csv(source) -> PointCloud:
    """Read 2-D points from a CSV (a path or a file-like object): two numeric columns, an optional
    header line, at least 2 rows. Anything else is a one-line `DataError`."""
    import numpy as np

    if not hasattr(source, "read"):
        source = check_input(source, "points", error=DataError)
    size = source_size(source)
    if size > MAX_CSV_BYTES:
        raise DataError(f"the points CSV is {size_text(size)}; up to {size_text(MAX_CSV_BYTES)} "
                        f"({PointCloud.MAX_POINTS:,} points) are read")
    try:
        text = source.read() if hasattr(source, "read") else Path(source).read_bytes()
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        if lines and not _is_numeric_row(lines[0]):
            lines = lines[1:]                                   # a header such as "x,y"
        arr = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2)
    except Exception as exc:
        raise DataError(f"could not read the points CSV ({first_line(exc)}); expected two numeric "
                        f"columns x,y, one point per line") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise DataError(f"the points CSV has {arr.shape[1] if arr.ndim == 2 else '?'} columns; expected 2 (x,y)")
    return point_cloud(arr, "the points CSV")


def point_cloud(arr, what: str) -> PointCloud:
    """A user's (n, 2) points as a PointCloud, or a one-line DataError naming `what` held them."""
    import numpy as np

    arr = np.asarray(arr, dtype=np.float64).reshape(-1, 2)
    if not 2 <= len(arr) <= PointCloud.MAX_POINTS:
        raise DataError(f"{what} has {len(arr):,} point{'s' * (len(arr) != 1)}; a set to learn needs 2 to "
                        f"{PointCloud.MAX_POINTS:,}")
    if not np.isfinite(arr).all():
        raise DataError(f"{what} holds NaN or infinite values")
    if np.ptp(arr, axis=0).max() == 0:
        raise DataError(f"{what} has all its points at one place; spread them out")
    return PointCloud(torch.as_tensor(arr, dtype=torch.float32))


def points_from_drawing(drawing: dict | None, width: int, height: int, span: float) -> list[tuple[float, float]]:
    """The points of a drawing on a canvas (Fabric.js JSON, as streamlit-drawable-canvas returns it)
    showing the square [-span, span]^2, y up: the centre of each clicked point (a circle), and every
    point along each freehand stroke (a path), so a drag sprays points where it passes."""
    out = []
    for obj in (drawing or {}).get("objects", []):
        kind = str(obj.get("type", "")).lower()          # Fabric 7 writes "Circle", older ones "circle"
        if kind == "circle":
            # (left, top) is the box corner unless the origin is "center"; the box holds the stroke too.
            half = float(obj.get("radius", 0)) * float(obj.get("scaleX", 1)) + float(obj.get("strokeWidth", 0)) / 2
            x = float(obj["left"]) + (half if obj.get("originX", "left") == "left" else 0.0)
            y = float(obj["top"]) + (half if obj.get("originY", "top") == "top" else 0.0)
            out.append((x, y))
        elif kind == "path":
            out += [(float(cmd[-2]), float(cmd[-1])) for cmd in obj.get("path", []) if len(cmd) >= 3]
    return [((px / width - 0.5) * 2 * span, (0.5 - py / height) * 2 * span) for px, py in out]


def _is_numeric_row(line: str) -> bool:
    try:
        [float(v) for v in line.split(",")]
        return True
    except ValueError:
        return False


TOY = {"gaussian1d": Gaussian1D, "ring": Ring, "grid": Grid}


def default_data_root() -> Path:
    """$GANLAB_DATA if set, else the user's cache folder (~/.cache/ganlab)."""
    if os.environ.get("GANLAB_DATA"):
        return Path(os.environ["GANLAB_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "ganlab"


def load_dataset(name: str, root: str | os.PathLike | None = None, train: bool = True, device="cpu",
                 image_size: int = 32, channels: int = 3):
    """Load dataset `name` (see config.DATASETS, or "folder:PATH") onto `device`. A folder's images
    are made `channels` x `image_size` x `image_size` (imagefolder.py); it has no test split apart.

    >>> load_dataset("ring").sample(4, torch.Generator().manual_seed(0)).shape
    torch.Size([4, 2])
    """
    if name == "points":
        raise DataError("dataset 'points' is a user's own point set: build it with load_points_csv() "
                        "and pass it to Trainer(config, dataset=...)")
    if name in TOY_DATASETS:
        return TOY[name]().to(device)
    if name == "digits":
        return _load_digits().to(device)
    if name.startswith(FOLDER):
        from .imagefolder import load_folder

        codes, labels = load_folder(name[len(FOLDER):], image_size, channels)
        return ImageData(None, labels, (channels, image_size, image_size), levels=255, codes=codes).to(device)
    if name in IMAGE_DATASETS:
        return _load_torchvision(name, Path(root) if root else default_data_root(), train).to(device)
    raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(TOY_DATASETS + IMAGE_DATASETS)}, "
                    f"or {FOLDER}PATH")


def _load_digits() -> ImageData:
    # scikit-learn ships these 1,797 8x8 digits inside the package: no download, no split.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    codes = torch.as_tensor(bunch.data, dtype=torch.uint8)              # pixel values are 0..16
    return ImageData(None, torch.as_tensor(bunch.target, dtype=torch.int64), (1, 8, 8), levels=16, codes=codes)


def check_data_root(root: str | os.PathLike) -> Path:
    """`root` if MNIST and the like can be read from it (or downloaded into it: it need not exist
    yet); else a one-line DataError, rather than torchvision's advice to download into a file."""
    root = Path(root).expanduser()
    if root.exists() or root.is_symlink():
        check_input(root, "data", folder=True, error=DataError)
    return root


def _load_torchvision(name: str, root: Path, train: bool) -> ImageData:
    from torchvision import datasets

    check_data_root(root)

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[name]
    try:
        # With the archives already in place (matching MD5), torchvision only verifies and extracts.
        # torchvision prints its progress; keep stdout clean for JSON output (`ganlab eval`).
        with contextlib.redirect_stdout(sys.stderr):
            ds = cls(str(root), train=train, download=True)
    except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError depending on the failure
        if hasattr(cls, "resources"):           # MNIST's layout: root/MNIST/raw/*.gz
            where, files = root / cls.__name__ / "raw", ", ".join(Path(url).name for url, _ in cls.resources)
        else:                                   # CIFAR-10's: root/cifar-10-python.tar.gz
            where, files = root, cls.filename
        raise DataError(f"could not load {name} from {where} ({type(exc).__name__}: {first_line(exc)}); "
                        f"when offline, put {files} there, or pass --data-root / set GANLAB_DATA") from None
    data = torch.as_tensor(ds.data)
    if data.ndim == 4:                          # CIFAR-10 keeps (N, H, W, C) numpy arrays
        data = data.permute(0, 3, 1, 2)
    else:
        data = data[:, None]
    codes = data.reshape(len(data), -1).contiguous()                     # uint8; [0, 1] floats on first use
    return ImageData(None, torch.as_tensor(ds.targets).long(), tuple(data.shape[1:]), levels=255, codes=codes)
