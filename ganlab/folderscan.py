"""The image files of a folder (`--data folder:PATH`) and the channels a run on it takes by default,
read from the files' names and headers only: what a config needs of a folder before any image is
decoded (the decoding is imagefolder.py's).
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .errors import DataError
from .outputs import check_input

EXTENSIONS = (".png", ".jpg", ".jpeg")
PROBE = 256                 # files whose headers decide a folder's default channels
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def image_files(root: str | os.PathLike) -> tuple[list[Path], list[int], list[str]]:
    """The image files under `root` (sorted), the class index of each and the class names; a one-line
    DataError for a path that is not a readable folder or holds no PNG/JPEG file."""
    root = check_input(root, "image", folder=True, error=DataError)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise DataError(f"image folder {root} holds no PNG or JPEG files ({', '.join(EXTENSIONS)})")
    tops = [p.relative_to(root).parts[0] if len(p.relative_to(root).parts) > 1 else "" for p in files]
    names = sorted(set(tops))
    index = {name: i for i, name in enumerate(names)}
    return files, [index[t] for t in tops], names


def folder_channels(root: str | os.PathLike) -> int:
    """1 when the folder's first PROBE images (by path) are all grey, else 3: the channels a run on it
    takes by default (read from the files' headers only)."""
    for path in image_files(root)[0][:PROBE]:
        try:
            with Image.open(path) as image:
                if image.mode not in GREY_MODES:
                    return 3
        except UNREADABLE:
            continue                    # counted when the folder is loaded
    return 1
