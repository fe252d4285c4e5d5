"""A small CNN classifier for MNIST / Fashion-MNIST, trained by ganlab itself, used to judge
generators: which classes they cover, how evenly, and how far their samples are from real images
in the classifier's feature space (a Fréchet distance, as FID does with Inception features).

    python -m ganlab classifier --data mnist --epochs 3 --out checkpoints/classifier-mnist.pt
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint_file, save_atomic
from .errors import CheckpointError

FORMAT = "ganlab-classifier"
VERSION = 1


class SmallCNN(nn.Module):
    """28x28 -> 10 logits; `features` is the 128-d layer the Fréchet distance uses."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),    # (n, 32, 14, 14)
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # (n, 64, 7, 7)
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(128, 10))

    def features(self, x):              # x: (n, 1, 28, 28) in [0, 1]
        return self.fc(self.conv(x))

    def forward(self, x):
        return self.head(self.features(x))


def train_classifier(train, test, epochs: int = 3, batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                     progress: bool = True) -> tuple[SmallCNN, float]:
    """Adam with a cosine-decayed lr; returns the model (eval mode) and its test accuracy."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SmallCNN()
        x, y = train.images.reshape(-1, *train.shape), train.labels
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        steps = epochs * math.ceil(len(x) / batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
        model.train()
        with tqdm(total=steps, disable=not progress, unit="batch") as bar:
            for _ in range(epochs):
                for idx in torch.randperm(len(x), generator=gen).split(batch_size):
                    loss = F.cross_entropy(model(x[idx]), y[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    bar.update(1)
    model.eval()
    return model, accuracy(model, test)


@torch.inference_mode()
def predict(model: SmallCNN, images: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities (n, 10), features (n, 128)) for images (n, 1, 28, 28) in [0, 1]."""
    model.eval()
    probs, feats = [], []
    for chunk in images.reshape(len(images), 1, 28, 28).float().split(batch):
        f = model.features(chunk)
        feats.append(f)
        probs.append(F.softmax(model.head(f), dim=1))
    return torch.cat(probs), torch.cat(feats)


def accuracy(model: SmallCNN, data) -> float:
    probs, _ = predict(model, data.images)
    return float((probs.argmax(1) == data.labels).double().mean())


def save_classifier(model: SmallCNN, path, data: str, test_accuracy: float, seconds: float) -> None:
    save_atomic({"format": FORMAT, "version": VERSION, "data": data, "test_accuracy": test_accuracy,
                 "train_seconds": seconds, "model": model.state_dict()}, path)


def load_classifier(path, data: str) -> SmallCNN:
    obj = load_checkpoint_file(path)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or obj.get("version") != VERSION:
        raise CheckpointError(f"{path} is not a ganlab classifier (format {FORMAT!r} version {VERSION})")
    if obj.get("data") != data:
        raise CheckpointError(f"{path} classifies {obj.get('data')!r}, not {data!r}")
    model = SmallCNN()
    try:
        model.load_state_dict(obj["model"])
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"{path}: classifier weights do not fit ({str(exc).splitlines()[0][:200]})") from None
    return model.eval()


def fit(data: str, root=None, epochs: int = 3, seed: int = 0, progress: bool = True):
    """Train on `data`'s training set; returns (model, test accuracy, seconds)."""
    from .data import load_dataset

    train = load_dataset(data, root, train=True)
    test = load_dataset(data, root, train=False)
    t0 = time.perf_counter()
    model, acc = train_classifier(train, test, epochs=epochs, seed=seed, progress=progress)
    return model, acc, time.perf_counter() - t0
