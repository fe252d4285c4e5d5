"""What the views ask of a run, each a function that takes a trainer: D(x) at given points, where
G's next step pushes samples, a semi-supervised D's classes, and G along a path between two classes.

None of them trains or touches the training stream: networks in eval mode (no dropout, BatchNorm's
running statistics), results on the CPU. The app, the notebooks and the metrics read a run through
these; the `Trainer` keeps same-named methods for older code.
"""

from __future__ import annotations

import torch

from . import labels as class_labels
from .errors import ConfigError
from .lossdefs import LOSS
from .losses import d_display
from .losses import g_push as push
from .models import eval_mode, frozen
from .sampling import as_output


@torch.inference_mode()
def d_output(trainer, x: torch.Tensor, labels=None) -> torch.Tensor:
    """D(x) for x of shape (n, dim): the probability that x is real for the log losses, the score or
    critic value for the others (`losses.d_display`). A conditional D judges each x as class `labels`
    (one for all, or one each); without it, on toy data, as the mixture component nearest x."""
    x = x.to(trainer.device, torch.float32)
    with eval_mode(trainer.D):
        out = trainer.D(x) if not trainer.config.classes else trainer.D(x, point_labels(trainer, x, labels))
        return d_display(out.float(), trainer.config.loss).cpu()


def g_push(trainer, x: torch.Tensor, labels=None) -> torch.Tensor:
    """Where G's next step pushes samples x (n, dim) of 2-D or 1-D data: -grad_x of the current G
    loss (`losses.g_push`). A conditional D judges each x as class `labels`, or as the nearest component."""
    x = x.to(trainer.device, torch.float32)
    c = point_labels(trainer, x, labels) if trainer.config.classes else None
    # Feature matching's G loss compares with a real batch: a fixed one, so the arrows hold still.
    real = trainer.data.sample(len(x), torch.Generator(trainer.device).manual_seed(0)) \
        if LOSS[trainer.config.loss].g_needs_real else None
    with eval_mode(trainer.D), frozen(trainer.D):
        return push(trainer.D, x, trainer.config.loss, c, real).cpu()


def point_labels(trainer, x: torch.Tensor, labels=None) -> torch.Tensor:
    """The class a conditional D judges each point x as: `labels` (one for all, or one each), or on
    toy data the mixture component nearest x; on the device."""
    if labels is None:
        if not hasattr(trainer.data, "centres"):
            raise ConfigError("this discriminator is conditional: pass the class of each x (labels=...)")
        labels = torch.cdist(x, trainer.data.centres.to(x)).argmin(1)
    return class_labels.one_each(class_labels.check(trainer.config, labels), len(x), "point").to(trainer.device)


@torch.inference_mode()
def classify(trainer, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """A semi-supervised D's class for each image (n, C, H, W) or (n, C*H*W) in [0, 1]; with its
    weight average when there is one (Salimans et al. score the averaged D)."""
    if not trainer.config.semi_labels:
        raise ConfigError("this discriminator is not a classifier: train with semi_labels > 0 (--semi-labels)")
    with eval_mode(trainer.D if trainer.d_ema is None else trainer.d_ema.net) as net:
        return torch.cat([net.class_logits(trainer.to_g_range(b)).argmax(1).cpu() for b in images.split(batch)])


@torch.inference_mode()
def sample_between_classes(trainer, z: torch.Tensor, a: int, b: int, steps: int) -> torch.Tensor:
    """G at one z (shape (latent_dim,)) along the straight path from class a's embedding to class
    b's: the style held, the class changing (a conditional G; shaped as `Trainer.sample`)."""
    class_labels.check(trainer.config, [a, b])
    net = trainer.sample_net
    e = net.embed.weight[[a, b]].detach()
    t = torch.linspace(0, 1, steps, device=e.device)[:, None]
    with eval_mode(net):
        x = net.from_embedding(z.to(trainer.device).expand(steps, -1), (1 - t) * e[0] + t * e[1]).float().cpu()
    return as_output(trainer, x)
