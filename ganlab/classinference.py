"""The class of a partly seen image, learned from a conditional generator's own draws.

A conditional G completes an image of unknown class as some class, and the class decides the
completion: G draws the class it is asked nearly always (docs/results.md). Its own draws can name
the class without training anything (`inference.vote`: the class whose nearest draws fit the seen
pixels best), but a nearest-neighbour vote in pixel space reads a partial stroke poorly. The class
net C learns the same posterior, p(class | seen pixels) under G, from many more of G's draws: pairs
(c, G(z, c)) with part of each image hidden, in the spirit of the encoder of the paper's Sec. 7.2
("an auxiliary network ... for a fixed generator net"), so it needs no labelled image and G never
changes. `complete` asks C for the class where the checkpoint holds one.

Each image C trains on hides a named half (top, bottom, left or right) or, as often, a random box of
a quarter to three quarters of each side, so one net serves the named masks and drawn ones.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .errors import ConfigError
from .latent import sample_z
from .models import build_class_net, eval_mode, frozen

CLASS_NET_STEPS = 4000      # default training steps of C (batch 256)
CLASS_NET_BATCH = 256


def random_masks(n: int, shape: tuple[int, int, int], gen: torch.Generator, device) -> torch.Tensor:
    """(n, C, H, W) hidden masks (1 = hidden): half of them a named half of the image, half a box whose
    sides are each a quarter to three quarters of the image's."""
    c, h, w = shape
    halves = torch.zeros(4, h, w, device=device)
    halves[0, :h // 2], halves[1, h // 2:], halves[2, :, :w // 2], halves[3, :, w // 2:] = 1, 1, 1, 1
    u = torch.rand(n, 5, generator=gen, device=device)
    half = halves[(u[:, 0] * 4).long()]                               # top, bottom, left or right
    bh = (h // 4 + u[:, 1] * (3 * h // 4 - h // 4 + 1)).long()       # the box's height and width, then its corner
    bw = (w // 4 + u[:, 2] * (3 * w // 4 - w // 4 + 1)).long()
    top, left = (u[:, 3] * (h - bh + 1)).long(), (u[:, 4] * (w - bw + 1)).long()
    rows, cols = torch.arange(h, device=device)[None], torch.arange(w, device=device)[None]
    box = (((rows >= top[:, None]) & (rows < (top + bh)[:, None]))[:, :, None]
           & ((cols >= left[:, None]) & (cols < (left + bw)[:, None]))[:, None, :]).float()
    use_half = torch.arange(n, device=device) % 2 == 0
    return torch.where(use_half[:, None, None], half, box)[:, None].expand(n, c, h, w)


def train_class_net(trainer, steps: int = CLASS_NET_STEPS, batch: int = CLASS_NET_BATCH, lr: float = 1e-3,
                    seed: int = 0, progress: bool = True) -> dict:
    """Train (or go on training) `trainer.class_net` for `steps` steps on fresh draws (c, G(z, c)) of the
    sampling generator (the weight average where there is one), G fixed in eval mode; classes with the
    training data's frequencies, z from the prior, part of each image hidden (`random_masks`); the
    rate decays to 0 over the steps of each call (cosine). Returns its steps in all and its accuracy on
    the draws of the last 100 steps."""
    cfg, device = trainer.config, trainer.device
    if not cfg.classes or not cfg.is_image:
        raise ConfigError(f"a class net is for a conditional image generator (trained with --cond): this "
                          f"{cfg.data} generator has no class to name")
    if steps < 1:
        raise ConfigError(f"class net steps must be >= 1, got {steps}")
    if trainer.class_net is None:
        trainer.class_net = build_class_net(cfg).to(device)
    C = trainer.class_net.train()
    opt = torch.optim.Adam(C.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator(device).manual_seed(seed + C.steps)          # more training, fresh draws
    hits = torch.empty(steps, device=device)
    with eval_mode(trainer.sample_net) as G, frozen(G):
        for i in tqdm(range(steps), disable=not progress, unit="step", dynamic_ncols=True):
            c = trainer.draw_labels(batch, gen)
            with torch.no_grad():
                x = G(sample_z(batch, cfg.latent_dim, cfg.prior, gen), c).float().reshape(batch, *cfg.shape)
            logits = C(x, 1 - random_masks(batch, cfg.shape, gen, device))
            loss = F.cross_entropy(logits, c)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            hits[i] = (logits.detach().argmax(1) == c).float().mean()
    C.eval()
    C.steps, C.g_step = C.steps + steps, trainer.step_count
    return {"steps": C.steps, "accuracy": float(hits[-100:].mean())}


@torch.no_grad()
def name_classes(trainer, target: torch.Tensor, visible: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """Each image's class (N,) by the class net, from `target` (N, dim) in G's range and `visible`
    (N, dim), 1 where a pixel is seen."""
    shape, C = (-1, *trainer.config.shape), trainer.class_net
    if C is None:
        raise ConfigError("this checkpoint has no class net: train one with `python -m ganlab encoder CKPT --net class`")
    if C.g_step != trainer.step_count:
        warnings.warn(f"the class net was trained for G at step {C.g_step:,}, and G is now at step "
                      f"{trainer.step_count:,}: it may name classes G no longer draws there; `python -m ganlab "
                      f"encoder CKPT --net class --fresh` trains one for today's G", stacklevel=3)
    with eval_mode(C):
        return torch.cat([C(t.reshape(shape), v.reshape(shape)).argmax(1)
                          for t, v in zip(target.to(trainer.device).split(chunk), visible.to(trainer.device).split(chunk))])


def name_partly_seen(trainer, images: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """`name_classes` for images as the data gives them, in [0, 1] (N, ...), each hidden where
    `hidden` (one image's mask, 1 where a pixel is unseen) is 1."""
    n = len(images)
    return name_classes(trainer, trainer.to_g_range(images).reshape(n, -1), (1 - hidden).reshape(1, -1).expand(n, -1))
