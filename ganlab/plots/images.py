"""Images out of samples: a grid of image samples, the frames of a 2-D walk, and an animated GIF of
either (Pillow, imported when first used)."""

from __future__ import annotations

import io

import numpy as np
import torch
from torchvision.utils import make_grid


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """(n, C, H, W) in [0, 1] -> one (H', W', 3) uint8 image, tiles separated by white lines."""
    grid = make_grid(images.float().cpu(), nrow=nrow, padding=padding, pad_value=1.0)
    return (grid.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def gif_bytes(frames: list[np.ndarray], duration_ms: int = 80, scale: int = 1) -> bytes:
    """Frames (H, W) or (H, W, 3) uint8 -> an animated, looping GIF (Pillow's writer)."""
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    if scale > 1:
        images = [im.resize((im.width * scale, im.height * scale), Image.NEAREST) for im in images]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def points_frames(points: torch.Tensor, background: torch.Tensor, size: int = 320) -> list[np.ndarray]:
    """One RGB frame per point of a 2-D walk: background samples grey, the path blue, the current
    point red. Pillow drawing, for the GIF export of toy walks."""
    from PIL import Image, ImageDraw

    allp = torch.cat([points, background]).numpy()
    lo, hi = allp.min(0), allp.max(0)
    span = float((hi - lo).max()) * 1.1 + 1e-6
    centre = (lo + hi) / 2

    def px(p):
        return (float((p[0] - centre[0]) / span + 0.5) * size, float(0.5 - (p[1] - centre[1]) / span) * size)

    base = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(base)
    for p in background.numpy():
        x, y = px(p)
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=(180, 180, 180))
    draw.line([px(p) for p in points.numpy()], fill=(31, 119, 180), width=2)
    frames = []
    for p in points.numpy():
        frame = base.copy()
        x, y = px(p)
        ImageDraw.Draw(frame).ellipse([x - 5, y - 5, x + 5, y + 5], fill=(220, 30, 30))
        frames.append(np.asarray(frame))
    return frames
