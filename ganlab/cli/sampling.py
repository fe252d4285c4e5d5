"""What a checkpoint's G makes: `sample` (samples to a .npy or a .png grid), and Sec. 7.2-7.3 of the
paper: `encoder` (an inference net E: x -> z), `encode` (z for given images) and `complete` (the
hidden part of an image filled from G); with the .npy reading and writing they share.

    python -m ganlab sample checkpoints/ring.pt --n 2500 --seed 0 --out ring.npy
    python -m ganlab sample checkpoints/mnist-cond.pt --n 64 --label 7 --out sevens.png
    python -m ganlab sample checkpoints/mnist-dcgan.pt --n 16 --move ink=1.5 --keep class --out bold.png
    python -m ganlab encode checkpoints/mnist-dcgan.pt --images x.npy --refine 100 --out z.npy
    python -m ganlab complete checkpoints/mnist-dcgan.pt --images x.npy --mask bottom --n 4 --out c.png
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch

from .. import memory, sampling
from ..checkpoint import atomic_write
from ..errors import ConfigError
from ..inference import COMPLETE_STEPS, POOL
from ..outputs import check_output, check_space
from ..trainer import Trainer
from .core import add_device, check_range
from .directions import add_move_flags, moved_z


def add_sample(sub) -> None:
    sample = sub.add_parser("sample", help="write samples from a checkpoint's G to a .npy file")
    sample.add_argument("checkpoint")
    sample.add_argument("--n", type=int, default=None, help="number of samples (default: 64, or one per row of --z)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    sample.add_argument("--label", type=int, help="a conditional checkpoint's class for every sample (default: "
                        "classes drawn with the training data's frequencies)")
    sample.add_argument("--out-labels", help=".npy file for the class of each sample (int64, conditional checkpoints)")
    sample.add_argument("--z", help=".npy file of noise vectors (N, latent_dim), e.g. from `encode`: one sample each")
    sample.add_argument("--out", required=True, help=".npy file: (N, d) for toy data, (N, C, H, W) in [0, 1] for images; "
                        "or a .png grid of image samples")
    add_move_flags(sample)
    add_device(sample)


def add_encoder(sub) -> None:
    en = sub.add_parser("encoder", help="Sec. 7.2: train an inference net E: x -> z on the fixed G's own samples, "
                        "saved into the checkpoint (or, with --net class, a conditional G's class net)")
    en.add_argument("checkpoint")
    en.add_argument("--net", choices=("z", "class"), default="z",
                    help="z: E, x -> z (default); class: the class of a partly hidden image, which `complete` "
                         "then uses for an image of unknown class (a conditional G only)")
    en.add_argument("--steps", type=int, default=None,
                    help="training steps of 256 draws (default: 3000 for E, 4000 for the class net)")
    en.add_argument("--seed", type=int, default=0, help="seed of the pairs drawn (default: 0)")
    en.add_argument("--fresh", action="store_true", help="train a new net from its initialisation, replacing the "
                    "one the checkpoint holds (default: go on training that one)")
    en.add_argument("--out", help="checkpoint to write (default: the checkpoint itself, rewritten atomically)")
    add_device(en)
    en.add_argument("--quiet", action="store_true", help="no progress bar")


def add_encode(sub) -> None:
    ec = sub.add_parser("encode", help="z for each image of a .npy file: E(x), optionally refined by a search")
    ec.add_argument("checkpoint")
    ec.add_argument("--images", required=True, help=".npy of images (N, C, H, W) or (N, H, W) in [0, 1]")
    ec.add_argument("--out", required=True, help=".npy file for z (N, latent_dim), float32")
    ec.add_argument("--refine", type=int, default=0, metavar="STEPS", help="gradient steps on z from E(x), on the "
                    "pixel and D-feature error of G(z) (default: 0)")
    ec.add_argument("--label", type=int, help="a conditional checkpoint's class for every image (refinement)")
    add_device(ec)


def add_complete(sub) -> None:
    co = sub.add_parser("complete", help="Sec. 7.3: fill the masked pixels of each image from G, K ways")
    co.add_argument("checkpoint")
    co.add_argument("--images", required=True, help=".npy of images (N, C, H, W) or (N, H, W) in [0, 1]")
    co.add_argument("--mask", required=True, help="the hidden part: top, bottom, left, right, or a .npy of the "
                    "image's shape whose nonzero pixels are hidden")
    co.add_argument("--n", type=int, default=4, help="completions per image (default: 4)")
    co.add_argument("--refine", type=int, default=COMPLETE_STEPS, metavar="STEPS",
                    help=f"search steps per completion (default: {COMPLETE_STEPS})")
    co.add_argument("--label", type=int, help="a conditional checkpoint's class (default: the class its class net "
                    "names, where it holds one, else the class whose samples fit the visible pixels best)")
    co.add_argument("--seed", type=int, default=0, help="seed of the starts (default: 0)")
    co.add_argument("--pool", type=int, default=POOL, help=f"draws of z the starts are picked from; a conditional "
                    f"checkpoint given no --label and no class net splits them over its classes (default: {POOL:,})")
    co.add_argument("--out", required=True, help=".npy (N, K, C, H, W) in [0, 1], or a .png grid: each image "
                    "as given (hidden pixels grey), then its completions")
    add_device(co)


def cmd_sample(args) -> int:
    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    trainer = Trainer.load(args.checkpoint, device=args.device, training=False)
    cfg = trainer.config
    if args.out_labels and not cfg.classes:
        raise ConfigError(f"{args.checkpoint} is unconditional (trained without --cond): it has no labels for --out-labels")
    png = str(args.out).lower().endswith(".png")
    if png and not cfg.is_image:
        raise ConfigError(f"a .png grid needs image data; {cfg.data!r} samples go to a .npy file")
    z = None
    if args.z:
        z = torch.from_numpy(read_npy(args.z, "--z")).float()
        if z.ndim != 2 or z.shape[1] != cfg.latent_dim or not len(z):
            raise ConfigError(f"--z {args.z} has shape {tuple(z.shape)}; this generator takes (N, "
                              f"{cfg.latent_dim}) noise vectors")
        if not bool(torch.isfinite(z).all()):
            raise ConfigError(f"--z {args.z} holds NaN or inf values")
        if args.n is not None and args.n != len(z):
            raise ConfigError(f"--n {args.n} and --z with {len(z)} rows disagree; drop --n (one sample per row)")
    n = len(z) if z is not None else args.n or 64
    z = moved_z(args, trainer, n, z)
    # What the files and the memory take, before anything is drawn.
    outputs = {"--out": (args.out, sampling.npy_bytes((n,), sampling.file_bytes_per_sample(cfg, png, labels=False)))}
    if args.out_labels:
        outputs["--out-labels"] = (args.out_labels, sampling.npy_bytes((n,), 8))
    per_sample = sampling.file_bytes_per_sample(cfg, png, labels=bool(args.out_labels))

    def fix(free: int) -> str:
        fits = (free - 256) // per_sample
        return f"use --n {fits} or less" if fits >= 1 else "free some space or write elsewhere"
    check_space(outputs, fix=fix)
    rows = sampling.chunk_rows(cfg)
    memory.check_sampling_fits(cfg, n, rows, sampling.held_bytes_per_sample(cfg, png), memory.available_memory())
    chunks = sampling.sample_chunks(trainer, n, args.seed, rows, z=z, label=args.label)
    labels = []

    def samples():
        for x, y in chunks:
            labels.append(y)
            yield x

    if png:
        x = torch.cat(list(samples()))
        write_grid(args.out, x, math.ceil(math.sqrt(n)))
    else:
        atomic_write(args.out, lambda f: sampling.write_npy_chunks(f, samples(), (n, *cfg.shape)))
    if args.out_labels:
        atomic_write(args.out_labels, lambda f: np.save(f, torch.cat(labels).numpy()))
    print(f"wrote a grid of {n} samples to {args.out}" if png else
          f"wrote float32 samples of shape {(n, *cfg.shape)} to {args.out}")
    return 0


MAX_NPY_BYTES = 2**30         # an input array larger than this is refused before it is read


def read_npy(path: str, flag: str) -> np.ndarray:
    """A numeric .npy array, or a one-line ConfigError (no pickles: a file never runs code; a huge one
    is refused from its header)."""
    try:
        header = np.load(path, mmap_mode="r", allow_pickle=False)
        if header.nbytes > MAX_NPY_BYTES:
            raise ConfigError(f"{flag} {path} holds {header.nbytes / 2**20:,.0f} MB; at most "
                              f"{MAX_NPY_BYTES // 2**20:,} MB are read (split it into parts)")
        array = np.array(header)
    except FileNotFoundError:
        raise ConfigError(f"{flag} {path}: no such file") from None
    except (ValueError, OSError, EOFError) as exc:
        raise ConfigError(f"{flag} {path} is not a .npy array ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ConfigError(f"{flag} {path} holds {getattr(array, 'dtype', type(array))} values, not numbers")
    return array


def write_npy(path: str, values: torch.Tensor) -> np.ndarray:
    """`values` as float32 in a .npy file, written atomically; the array written."""
    array = values.numpy().astype(np.float32)
    atomic_write(path, lambda f: np.save(f, array))
    return array


def write_grid(path: str, images, nrow: int) -> None:
    from PIL import Image

    from ..plots import image_grid

    grid = Image.fromarray(image_grid(images, nrow=nrow))
    atomic_write(path, lambda f: grid.save(f, format="PNG"))


def _encoder_trainer(args) -> Trainer:
    trainer = Trainer.load(args.checkpoint, device=args.device)
    if not trainer.config.is_image:
        raise ConfigError(f"{args.checkpoint} is a {trainer.config.data} generator: inference and completion are "
                          f"for image generators")
    return trainer


MAX_STEPS = 1_000_000           # encoder training steps, search steps: far past any use, a guard on typos
MAX_COMPLETIONS = 64
MAX_POOL = 1_000_000            # draws of z for `complete`, whose images are held at once (~3 GB on MNIST)


def cmd_encoder(args) -> int:
    from ..checkpoint import update_stored
    from ..classinference import CLASS_NET_STEPS, train_class_net
    from ..inference import ENCODER_STEPS, train_encoder
    from ..runstate import inference_nets

    steps = (ENCODER_STEPS if args.net == "z" else CLASS_NET_STEPS) if args.steps is None else args.steps
    check_range("--steps", steps, 1, MAX_STEPS)
    out = args.out or args.checkpoint
    if not args.out:            # the checkpoint itself is rewritten: its folder must take a new file
        check_output(out, "checkpoint", ())
    trainer = _encoder_trainer(args)
    if args.fresh and args.net == "z":
        trainer.encoder, trainer.encoder_steps = None, 0
    elif args.fresh:
        trainer.class_net = None
    # The checkpoint written holds all the file read holds, and the net besides.
    check_space({"--out": (out, Path(args.checkpoint).stat().st_size)})
    t0 = time.perf_counter()
    if args.net == "z":
        result = train_encoder(trainer, steps, seed=args.seed, progress=not args.quiet)
        fit, key = f"z error {result['z_mse']:.4f} per coordinate on G's samples", "encoder"
    else:
        result = train_class_net(trainer, steps, seed=args.seed, progress=not args.quiet)
        fit, key = f"{result['accuracy']:.1%} of G's partly hidden samples named as their class (last 100 steps)", "class_net"
    # The file as it was, the net added: a slimmed file stays slim, the rest in the dtype it was kept in.
    entry = inference_nets(trainer)[key]
    update_stored(args.checkpoint, lambda state: state.update({key: entry}), out)
    print(f"trained the {'encoder' if args.net == 'z' else 'class net'} {steps} steps in "
          f"{time.perf_counter() - t0:.0f} s ({result['steps']} in all); {fit}; saved to {out}")
    return 0


def cmd_encode(args) -> int:
    from ..inference import encode

    check_range("--refine", args.refine, 0, MAX_STEPS)
    trainer = _encoder_trainer(args)
    images = torch.from_numpy(read_npy(args.images, "--images"))
    z = write_npy(args.out, encode(trainer, images, refine=args.refine, labels=args.label))
    print(f"wrote z of shape {z.shape} to {args.out}")
    return 0


def cmd_complete(args) -> int:
    from ..inference import MASKS, check_images, complete, named_mask

    check_range("--n", args.n, 1, MAX_COMPLETIONS)
    check_range("--refine", args.refine, 0, MAX_STEPS)
    check_range("--pool", args.pool, 1, MAX_POOL)
    trainer = _encoder_trainer(args)
    images = check_images(trainer, torch.from_numpy(read_npy(args.images, "--images")))
    shape = trainer.config.shape
    named = args.mask in MASKS or not args.mask.lower().endswith(".npy")       # a name, or a file
    mask = named_mask(args.mask if named else torch.from_numpy(read_npy(args.mask, "--mask")), shape)
    out = complete(trainer, images, mask, n=args.n, steps=args.refine, labels=args.label, seed=args.seed,
                   pool=args.pool)
    if str(args.out).lower().endswith(".png"):
        given = images * (1 - mask) + 0.5 * mask
        write_grid(args.out, torch.cat([given[:, None], out], 1).flatten(0, 1), args.n + 1)
        print(f"wrote a grid of {len(images)} images and {args.n} completions each to {args.out}")
        return 0
    array = write_npy(args.out, out)
    print(f"wrote completions of shape {array.shape} to {args.out}")
    return 0
