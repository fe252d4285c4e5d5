"""Samples from a run's generator: `sample_labeled` (what `Trainer.sample` gives), G's outputs as
images in [0, 1], and many samples drawn and written a chunk at a time.

`python -m ganlab sample --n 10000000` should take the memory of one chunk, not of ten million
samples, and give the samples `Trainer.sample_labeled(n, seed=...)` gives for that seed: the same
noise and labels, and on the CPU the same samples bit for bit (a GPU may pick another kernel for
another batch size, and round a product differently). That method draws all of z from one generator seeded by `seed`, then (a conditional G) the
labels from the same generator; here z is drawn from that stream a chunk at a time, and the labels
after a first pass over it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from . import labels as class_labels
from .latent import sample_z
from .memory import sampling_bytes
from .models import eval_mode

FIXED_PER_CLASS = 8  # a conditional model's fixed batch: these many of the fixed z, once per class
CHUNK_BYTES = 2**28         # what one chunk may take while G draws it (memory.sampling_bytes)
# torch.randn on the CPU turns its uniforms into normals 16 at a time, redrawing the last 16 when
# the count is not a multiple of 16, and below 16 numbers it draws one by one: chunks of a multiple
# of 16 rows, and a last chunk of at least 16 rows, read the stream exactly as one call does.
ALIGN = 16


@torch.inference_mode()
def sample_labeled(trainer, n: int | None = None, seed: int | None = None, z: torch.Tensor | None = None,
                   labels=None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Samples from G in eval mode (BatchNorm running statistics) on the CPU, and the class of each
    (None for an unconditional G). Images come back as (n, C, H, W) in [0, 1]; toy data as (n, d).

    With neither n nor z, the fixed noise batch is used. The training stream is never touched. For a
    conditional G, `labels` is one class for every sample or one per sample; without it, classes are
    drawn with the training data's frequencies (after z, from the same seed), and the fixed batch
    shows one row per class, the same FIXED_PER_CLASS z in each row.
    """
    cfg = trainer.config
    labels = class_labels.check(cfg, labels)
    if z is None and n is None and cfg.classes and labels is None:
        z = trainer.fixed_z[:FIXED_PER_CLASS].repeat(cfg.classes, 1)
        labels = torch.arange(cfg.classes).repeat_interleave(FIXED_PER_CLASS)
    # Noise drawn on the CPU and moved: CPU and CUDA generators give different streams for one seed,
    # and a seed should show the same samples on every device.
    gen = torch.Generator().manual_seed(cfg.seed if seed is None else seed)
    if z is None and n is None:
        z = trainer.fixed_z
    elif z is None:
        z = sample_z(n, cfg.latent_dim, cfg.prior, gen)
    if cfg.classes:
        labels = trainer.draw_labels(len(z), gen).cpu() if labels is None else class_labels.one_each(labels, len(z), "sample")
    with eval_mode(trainer.sample_net) as net:
        x = (net(z.to(trainer.device), labels.to(trainer.device)) if cfg.classes
             else net(z.to(trainer.device))).float().cpu()
    return as_output(trainer, x), labels


def as_output(trainer, x: torch.Tensor) -> torch.Tensor:
    """G's output as samples are given out: images (n, C, H, W) in [0, 1], toy points as they are."""
    if trainer.config.is_image:
        if trainer.G.out_range is not None:
            lo, hi = trainer.G.out_range
            x = ((x - lo) / (hi - lo)).clamp_(0.0, 1.0)
        x = x.reshape(len(x), *trainer.config.shape)
    return x


def to_g_range(trainer, images: torch.Tensor) -> torch.Tensor:
    """Images (n, C, H, W) or (n, C*H*W) in [0, 1] as G's flattened outputs (and D's inputs), on the
    device: `as_output` undone. An unbounded G (model "mlp") was trained on [0, 1] pixels."""
    lo, hi = trainer.G.out_range or (0.0, 1.0)
    return images.reshape(len(images), -1).to(trainer.device, torch.float32) * (hi - lo) + lo


def chunk_rows(cfg) -> int:
    """Rows per chunk for a G of `cfg`: as many as fit CHUNK_BYTES, a multiple of ALIGN."""
    return ALIGN * max(1, CHUNK_BYTES // sampling_bytes(cfg, ALIGN))


def chunk_spans(n: int, rows: int) -> list[tuple[int, int]]:
    """(start, stop) of each chunk of `rows` rows over n; a last chunk shorter than ALIGN joins the one before.

    >>> chunk_spans(100, 32)
    [(0, 32), (32, 64), (64, 100)]
    """
    spans = [(a, min(a + rows, n)) for a in range(0, n, rows)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < ALIGN:
        spans[-2:] = [(spans[-2][0], n)]
    return spans


def sample_chunks(trainer, n: int, seed: int, rows: int, z: torch.Tensor | None = None,
                  label: int | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(samples, labels) of each chunk of `trainer.sample_labeled(n, seed, z, label)`, in order,
    `rows` (a multiple of ALIGN) at a time."""
    cfg, spans = trainer.config, chunk_spans(n, rows)

    def noise(gen: torch.Generator) -> Iterator[torch.Tensor]:
        for a, b in spans:
            yield z[a:b] if z is not None else sample_z(b - a, cfg.latent_dim, cfg.prior, gen)

    labels = label
    if cfg.classes and label is None:
        # sample_labeled draws the labels after all of z from the same generator: run through the
        # noise once to reach them (drawing z costs little beside G), then draw it again to use it.
        gen = torch.Generator().manual_seed(seed)
        for _ in noise(gen):
            pass
        labels = trainer.draw_labels(n, gen).cpu()
    for (a, b), zc in zip(spans, noise(torch.Generator().manual_seed(seed))):
        yield trainer.sample_labeled(z=zc, labels=labels[a:b] if isinstance(labels, torch.Tensor) else labels)


def file_bytes_per_sample(cfg, png: bool, labels: bool) -> int:
    """Bytes one sample adds to what `sample` writes: float32 numbers to a .npy, or at most three
    bytes (RGB) a number to a .png (its tiles' borders aside; compression only makes it smaller),
    and an int64 label when labels are written too."""
    return (3 if png else 4) * math.prod(cfg.shape) + (8 if labels else 0)


def held_bytes_per_sample(cfg, png: bool) -> int:
    """Bytes per sample that `sample` holds for all n at once, beside one chunk: a conditional G's
    labels, and for a .png the samples (float32) with the float32 RGB grid that image_grid makes and
    copies twice on the way to bytes."""
    return 8 * bool(cfg.classes) + (4 + 3 * 12) * math.prod(cfg.shape) * png


def npy_bytes(shape: tuple[int, ...], itemsize: int = 4) -> int:
    """Size of a .npy file of float32 (or `itemsize`-byte) values of `shape`: header and data."""
    return 128 + itemsize * math.prod(shape)


def write_npy_chunks(f, chunks: Iterator[torch.Tensor], shape: tuple[int, ...]) -> None:
    """Write float32 arrays that together have `shape` (along the first axis) as one .npy file to
    the open binary file `f`, one chunk at a time."""
    np.lib.format.write_array_header_1_0(f, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                                             "fortran_order": False, "shape": shape})
    rows = 0
    for x in chunks:
        f.write(np.ascontiguousarray(x.numpy(), np.float32).tobytes())
        rows += len(x)
    if rows != shape[0]:
        raise RuntimeError(f"wrote {rows} rows of the {shape[0]} a .npy header promised")
