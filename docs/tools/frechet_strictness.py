"""How strict is "Fréchet <= 3x the floor"? The classifier Fréchet distance of *real* training images,
slightly changed, against the test set, in units of the real-vs-real floor that time-to-good uses.

    python docs/tools/frechet_strictness.py [--data-root DIR]

Each row transforms 10,000 real training images (a fixed random pick) and judges them with
`ganlab.evaluate.ClassifierJudge.images`, the call that judges a generator's samples.
"""

import argparse

import torch
import torch.nn.functional as F

from ganlab.data import load_dataset
from ganlab.evaluate import ClassifierJudge

BLUR = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])[None, None] / 16


def noise(std: float):
    return lambda x: x + std * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))


CHANGES = {
    "none (other real images)": lambda x: x,
    "3x3 binomial blur": lambda x: F.conv2d(x, BLUR, padding=1),
    "Gaussian pixel noise, std 0.05": noise(0.05),
    "Gaussian pixel noise, std 0.1": noise(0.1),
    "shifted 1 pixel right": lambda x: torch.roll(x, 1, dims=3),
    "binarised at 0.5": lambda x: (x > 0.5).float(),
    "bolder strokes (sqrt of intensity)": lambda x: x.sqrt(),
    "fainter strokes (intensity squared)": lambda x: x.square(),
    "80 % intensity": lambda x: 0.8 * x,
    "strokes dilated (3x3 max)": lambda x: F.max_pool2d(x, 3, 1, 1),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args()
    judge = ClassifierJudge("mnist", args.data_root)
    train = load_dataset("mnist", args.data_root, train=True)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:10_000]
    x = train.images[pick].reshape(-1, 1, 28, 28).float()
    print(f"floor (real training vs real test images): {judge.real['frechet_distance']:.3f}")
    for name, change in CHANGES.items():
        print(f"{name:38s} {judge.images(change(x).clamp(0, 1))['frechet_over_floor']:7.2f}x the floor")


if __name__ == "__main__":
    main()
