"""A person's own image (an upload, a drawing) turned into one of a dataset's images, each step kept so
the app can show the conversion.

MNIST's digits are white on black, size-normalised to fit a 20x20 box with their aspect ratio kept,
then centred by their centre of mass in the 28x28 frame (LeCun et al., the MNIST database's own
description); a photo or a drawing is usually dark ink on a light page, any size. The conversion
goes the same way: grey levels, ink made white (when the border is lighter than the middle), cropped
to the ink, scaled into the box, centred by mass. Datasets of another size (digits' 8x8) scale the
same box proportionally.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ConfigError

MAX_BYTES = 10 * 2**20          # an upload larger than this is refused before decoding
MAX_PIXELS = 25_000_000         # ... and an image with more pixels (a decompression bomb) after reading its header
INK = 0.1                       # grey level above which a pixel counts as ink when cropping


def read_image(data: bytes, name: str = "upload") -> Image.Image:
    """Decode an uploaded PNG/JPEG (any size up to the limits), or a one-line ConfigError."""
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{name} is {len(data) / 2**20:.1f} MB; images up to {MAX_BYTES // 2**20} MB are read")
    unreadable = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)
    try:
        image = Image.open(io.BytesIO(data))            # reads the header only
    except unreadable as exc:
        raise ConfigError(f"{name} is not an image that can be read ({type(exc).__name__})") from None
    if image.width * image.height > MAX_PIXELS:
        raise ConfigError(f"{name} is {image.width} x {image.height} pixels; images up to "
                          f"{MAX_PIXELS / 1e6:.0f} megapixels are read")
    try:
        image.load()
        return ImageOps.exif_transpose(image)           # a phone photo stands the way it was taken
    except unreadable as exc:
        raise ConfigError(f"{name} is not an image that can be read ({type(exc).__name__})") from None


def to_dataset_image(image: Image.Image | np.ndarray, shape: tuple[int, int, int],
                     photo: bool = False) -> tuple[torch.Tensor, list]:
    """`image` as a (C, H, W) float tensor in [0, 1] of the dataset's `shape`, and the conversion as
    [(caption, (h, w) or (h, w, 3) array in [0, 1]), ...]. An RGBA array (a canvas) is composited on
    black. With `photo` (a folder of one's own images, CIFAR-10), the image is made as such a set's
    images are (imagefolder.prepared: centre-cropped and resized), not as MNIST's digits."""
    c, h, w = shape
    if photo or c != 1:
        from .imagefolder import prepared

        if isinstance(image, np.ndarray):
            a = image.astype(np.float32) / (255.0 if image.max() > 1 else 1.0)
            a = a[..., :3] * a[..., 3:] if a.ndim == 3 and a.shape[2] == 4 else a
            image = Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))
        x = prepared(image, h, "L" if c == 1 else "RGB").astype(np.float32) / 255
        shown = x[0] if c == 1 else x.transpose(1, 2, 0)
        return torch.from_numpy(x), [(f"centre-cropped and resized to {h}x{w}", shown)]
    grey = _grey(image)
    if float(grey.max() - grey.min()) < INK:
        raise ConfigError("the image is blank: no ink to convert")
    steps = [("grey levels", grey)]
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]]).mean()
    if border > grey.mean():                            # light page, dark ink: make the ink white
        grey = 1.0 - grey
        steps.append(("inverted: white ink on black, as the dataset", grey))
    # The page's own level (an unevenly lit photo is never 0) to black, the brightest ink to white.
    page = float(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))
    grey = np.clip((grey - page) / max(float(grey.max()) - page, 1e-6), 0, 1)
    rows, cols = np.nonzero(grey > INK)
    if len(rows) == 0:
        raise ConfigError("the image is blank: no ink to convert")
    grey = grey[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    steps.append(("cropped to the ink", grey))
    box = max(1, round(20 * h / 28))                   # MNIST's 20-pixel box in its 28-pixel frame
    scale = box / max(grey.shape)
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    small = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize(size, Image.LANCZOS), np.float32) / 255
    frame = np.zeros((h, w), np.float32)
    mass = small.sum() or 1.0
    cy, cx = (np.arange(small.shape[0]) @ small.sum(1)) / mass, (np.arange(small.shape[1]) @ small.sum(0)) / mass
    top = int(np.clip(round(h / 2 - cy), 0, h - small.shape[0]))
    left = int(np.clip(round(w / 2 - cx), 0, w - small.shape[1]))
    frame[top:top + small.shape[0], left:left + small.shape[1]] = small
    steps.append((f"scaled into a {box}x{box} box, centred by mass in {h}x{w}", frame))
    return torch.from_numpy(frame)[None].clamp_(0, 1), steps


def _grey(image) -> np.ndarray:
    if isinstance(image, np.ndarray):
        a = image.astype(np.float32)
        a = a / 255.0 if a.max() > 1 else a
        if a.ndim == 3 and a.shape[2] == 4:            # RGBA: transparent parts are the black page
            a = a[..., :3] * a[..., 3:]
        return a.mean(2) if a.ndim == 3 else a
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        page = Image.new("RGBA", image.size, (255, 255, 255, 255))  # a transparent upload is a white page
        image = Image.alpha_composite(page, image)
    if image.mode.startswith("I"):                    # 16- or 32-bit grey: scaled by its own range
        a = np.asarray(image, np.float32)
        return (a - a.min()) / max(float(a.max() - a.min()), 1e-6)
    return np.asarray(image.convert("L"), np.float32) / 255.0
