"""A folder of a person's own images as a training set (`--data folder:PATH`).

PNG and JPEG files anywhere under the folder, any sizes: each is centre-cropped to a square and
resized to `image_size` (DCGAN's preparation of its photo sets), kept grey or made RGB as the run's
`channels` say. A file's class is the name of the subfolder of PATH it sits in (files at the top
are one class of their own), so labels come with the images. The set is decoded once into uint8
codes, as MNIST is (data.ImageData); a folder whose codes would not fit in memory is refused before
any decoding, and files that cannot be read are skipped and counted in one line.
"""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps

from .errors import DataError, first_line, size_text
from .memory import available_memory
from .folderscan import EXTENSIONS, UNREADABLE, image_files
from .outputs import source_size

MEMORY_SHARE = 0.5          # the most of the available memory a folder's codes may take
# An uploaded zip of images: the upload's size, what it may unpack to, and how many files it may hold.
MAX_ZIP_BYTES = 200 * 2**20
MAX_UNPACKED_BYTES = 2 * 2**30
MAX_ZIP_FILES = 200_000


def load_folder(root: str | os.PathLike, image_size: int, channels: int, workers: int | None = None):
    """The images under `root` as (codes, labels): (N, channels * image_size**2) uint8 codes, pixel =
    code / 255, and each image's class (data.ImageData holds them)."""
    files, labels, _ = image_files(root)
    need = len(files) * channels * image_size**2
    have = available_memory()
    if need > MEMORY_SHARE * have:
        fits = int(MEMORY_SHARE * have // (channels * image_size**2))
        raise DataError(f"{len(files):,} images of {channels}x{image_size}x{image_size} take {size_text(need)}, more "
                        f"than half of the {size_text(have)} of memory available: use --image-size 32, or a folder of "
                        f"at most {fits:,} images")
    codes = np.empty((len(files), channels, image_size, image_size), np.uint8)
    mode = "L" if channels == 1 else "RGB"

    def decode(i: int) -> str | None:
        try:
            codes[i] = _prepared(files[i], image_size, mode)
            return None
        except UNREADABLE as exc:
            return f"{files[i]}: {type(exc).__name__}: {first_line(exc, 80)}"

    # Pillow releases the GIL while it decodes and resizes, so threads decode side by side.
    with ThreadPoolExecutor(workers or min(8, os.cpu_count() or 1)) as pool:
        failed = list(pool.map(decode, range(len(files)), chunksize=64))
    bad = [i for i, why in enumerate(failed) if why]
    if bad:
        print(f"skipped {len(bad):,} of {len(files):,} files that could not be read as images (first: "
              f"{failed[bad[0]]})", file=sys.stderr)
        if len(bad) == len(files):
            raise DataError(f"none of the {len(files):,} image files in {root} could be read")
        keep = np.setdiff1d(np.arange(len(files)), bad)
        codes, labels = codes[keep], [labels[i] for i in keep]
    return torch.from_numpy(codes.reshape(len(codes), -1)), torch.tensor(labels, dtype=torch.int64)


def _prepared(path: Path, size: int, mode: str) -> np.ndarray:
    """One file centre-cropped to a square, resized to `size`, in `mode`, as (C, size, size) uint8."""
    with Image.open(path) as image:
        # A JPEG can decode at 1/2, 1/4 or 1/8 of its size directly: far less work for a large photo.
        image.draft(mode, (2 * size, 2 * size))
        return prepared(ImageOps.exif_transpose(image), size, mode)


def prepared(image: Image.Image, size: int, mode: str) -> np.ndarray:
    """An image as a folder's images are made: centre-cropped to a square, resized to `size`, in
    `mode` ("L" or "RGB"), as (C, size, size) uint8."""
    if image.mode in ("RGBA", "LA", "P", "PA"):       # transparency over a white page, as a viewer shows it
        page = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(page, image.convert("RGBA"))
    if image.mode.startswith("I") or image.mode == "F":     # 16/32-bit grey: scaled by its own range
        a = np.asarray(image, np.float32)
        a = (a - a.min()) / max(float(a.max() - a.min()), 1e-6)
        image = Image.fromarray((a * 255).round().astype(np.uint8))
    a = np.asarray(ImageOps.fit(image.convert(mode), (size, size), Image.BICUBIC), np.uint8)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)

def unpack_zip(source, dest: str | os.PathLike, name: str = "the zip") -> Path:
    """Unpack the PNG and JPEG files of a zip (a path or a binary file object) into the new folder
    `dest`, and return it; a one-line DataError, with nothing left behind, for anything unsafe: a
    member whose path would leave `dest` (absolute, or with ".."), a link, an upload over
    MAX_ZIP_BYTES, or contents over MAX_UNPACKED_BYTES or MAX_ZIP_FILES, counted as they are written
    rather than trusted from the zip's own directory (a zip bomb lies there). A single folder
    holding everything is unwrapped, so that its subfolders are the classes; other files, hidden
    files and macOS's __MACOSX folder are left out."""
    dest = Path(dest)
    size = source_size(source)
    if size > MAX_ZIP_BYTES:
        raise DataError(f"{name} is {size_text(size)}; zips of images up to {size_text(MAX_ZIP_BYTES)} are read")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DataError(f"{name} is not a zip file that can be read ({first_line(exc)})") from None
    with archive:
        members = [m for m in archive.infolist() if _is_image_member(m)]
        if not members:
            raise DataError(f"{name} holds no PNG or JPEG files ({', '.join(EXTENSIONS)})")
        if len(members) > MAX_ZIP_FILES:
            raise DataError(f"{name} holds {len(members):,} images; up to {MAX_ZIP_FILES:,} are read")
        paths = [_member_path(m, name) for m in members]
        tops = {p.parts[0] for p in paths}
        if len(tops) == 1 and all(len(p.parts) > 1 for p in paths):
            paths = [PurePosixPath(*p.parts[1:]) for p in paths]
        dest.mkdir(parents=True, exist_ok=False)
        try:
            written = 0
            for member, rel in zip(members, paths):
                target = dest.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(target, "wb") as out:
                    while chunk := src.read(2**20):
                        written += len(chunk)
                        if written > MAX_UNPACKED_BYTES:
                            raise DataError(f"{name} unpacks to more than {size_text(MAX_UNPACKED_BYTES)}, the most "
                                            f"that is unpacked; make a smaller zip")
                        out.write(chunk)
        except BaseException as exc:
            shutil.rmtree(dest, ignore_errors=True)
            if isinstance(exc, (zipfile.BadZipFile, OSError, EOFError)):
                raise DataError(f"{name} is damaged: {first_line(exc)}") from None
            raise
    return dest


def _is_image_member(m: zipfile.ZipInfo) -> bool:
    parts = PurePosixPath(m.filename.replace("\\", "/")).parts
    is_link = (m.external_attr >> 16) & 0o170000 == 0o120000
    return (not m.is_dir() and not is_link and Path(m.filename).suffix.lower() in EXTENSIONS
            and not any((p.startswith(".") and p != "..") or p == "__MACOSX" for p in parts))


def _member_path(m: zipfile.ZipInfo, name: str) -> PurePosixPath:
    """A member's path inside the folder it unpacks to; DataError when it would leave that folder."""
    path = PurePosixPath(m.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        raise DataError(f"{name} holds {m.filename!r}, a path that leads out of the folder it unpacks to; "
                        f"such a zip is not unpacked")
    return path
