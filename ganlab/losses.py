"""The two players' losses, the penalties, and the objective of each phase of Algorithm 1.

Each loss is one entry of `lossdefs.LOSS`: its objectives are pure functions of D's raw outputs
(logits for the paper's log losses, scores for the family beyond it), written there once; the
functions here look a loss up by name. The phases (`discriminator_phase`, `generator_phase`) run the
networks and return what each optimizer descends, as stylegan2-ada's `loss.py` holds its phases and
their regularisers; the trainer only orders them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .lossdefs import LOSS, feature_matching, named, value

__all__ = ["DPhase", "OPTIMUM", "class_loss", "d_display", "d_loss", "discriminator_phase", "feature_matching",
           "g_loss", "g_push", "game_value", "generator_phase", "gradient_penalty", "r1_penalty", "r1_weight", "value"]


def d_loss(real_out: torch.Tensor, fake_out: torch.Tensor, kind: str = "nonsat") -> torch.Tensor:
    """What D descends on its outputs for real x and for G(z), for loss `kind` (`lossdefs.LOSS`).

    >>> float(d_loss(torch.zeros(4), torch.zeros(4), "hinge"))
    2.0
    """
    if kind not in LOSS:
        raise ValueError(f"unknown loss {kind!r}")
    return LOSS[kind].d_loss(real_out, fake_out)


def g_loss(fake_out: torch.Tensor, kind: str = "nonsat") -> torch.Tensor:
    """G's loss on D's outputs for G(z), for a loss whose G reads D's outputs (not feature matching)."""
    if kind not in LOSS or LOSS[kind].g_needs_real:
        raise ValueError(f"unknown G loss {kind!r}; choose one of: {', '.join(named(g_needs_real=False))}")
    return LOSS[kind].g_loss(fake_out)


def game_value(real_out: torch.Tensor, fake_out: torch.Tensor, kind: str) -> torch.Tensor:
    """The number the history records as the game's value, with a known optimum (`OPTIMUM`): V for
    the log losses, -(D's loss) for ls and hinge, and for wgan-gp the critic's estimate of the
    Wasserstein-1 distance, E[D(x)] - E[D(G(z))]."""
    return LOSS[kind].value(real_out, fake_out)


# What `game_value` is called and where it ends when pg = pdata: a view of the entries.
OPTIMUM = {name: (loss.value_name, loss.optimum, loss.optimum_text) for name, loss in LOSS.items()}


def d_display(out: torch.Tensor, kind: str) -> torch.Tensor:
    """D's output as the views show it: the probability sigmoid(l) for the log losses, the score as
    it is for the others (a least-squares target of 1 for real and 0 for fake, or a critic)."""
    return LOSS[kind].shown(out)


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor,
                     c: torch.Tensor | None = None) -> torch.Tensor:
    """E (||grad_x D(x_hat)|| - 1)^2 at x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample
    (Gulrajani et al., 2017, Algorithm 1): the critic is kept 1-Lipschitz along the lines between
    the two distributions, where the Wasserstein critic's slope is 1. Kept in the graph (a double
    backward), so that D's step descends it."""
    x = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = (D(x) if c is None else D(x, c)).float()
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """E ||grad_x l(x)||^2 over real x (Mescheder et al., 2018, "Which Training Methods for GANs
    actually Converge?"), on the logits l, for D's loss as (gamma / 2) times this.

    Near an equilibrium where pdata sits on thin sets (the toy mixtures' modes), plain simultaneous
    gradient play circles instead of converging: D grows steep slopes at the data that throw G's mass
    past it. Penalising D's slope on real data removes the circling without moving the equilibrium
    (at D = 1/2 the slope is zero). `real` must require grad and `real_logits` come from it; the
    gradient is kept in the graph (a double backward) so that D's step descends the penalty too.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.square().flatten(1).sum(1).mean()


def r1_weight(gamma: float, every: int, d_step: int) -> float:
    """The R1 weight on D step `d_step` (counted over the whole run): gamma * every on every
    `every`-th step, 0 on the others. Lazy R1 (Karras et al., 2020, StyleGAN2 Sec. 3.1) moves D the
    same on average at a fraction of the double backwards; a function of the step count, so a
    resumed run penalises the same steps.

    >>> [r1_weight(2.0, 3, s) for s in range(4)]
    [6.0, 0.0, 0.0, 6.0]
    """
    return gamma * every if gamma > 0 and d_step % every == 0 else 0.0


def class_loss(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """A semi-supervised D's supervised loss: cross-entropy of the true class among the K real ones
    (Salimans et al., 2016, Sec. 5; the K + 1-th "fake" class never wins on a labelled real image)."""
    return F.cross_entropy(class_logits, labels)


class DPhase(NamedTuple):
    loss: torch.Tensor          # what D's optimizer descends: D's loss plus the R1, GP and class terms when on
    value_loss: torch.Tensor    # D's loss alone (-V for the log losses), the number the history records
    real_logits: torch.Tensor   # D's raw outputs: logits for the log losses, scores for the others
    fake_logits: torch.Tensor


def discriminator_phase(D, G, real: torch.Tensor, z: torch.Tensor, r1: float, autocast,
                        c_real: torch.Tensor | None = None, c_fake: torch.Tensor | None = None,
                        labelled: tuple[torch.Tensor, torch.Tensor] | None = None, kind: str = "nonsat",
                        gp: float = 0.0, gp_eps: torch.Tensor | None = None) -> DPhase:
    """One D step's objective: D's loss for `kind` on a real batch and G(z), plus (r1 / 2)
    E||grad_x D(x)||^2 when r1 > 0 (`real` must then require grad), plus gp times WGAN-GP's penalty at
    the interpolates `gp_eps` picks when gp > 0. G runs without a graph: D's step trains D only. A
    conditional pair gets each sample's class: the real labels, and those drawn for the fakes.

    A semi-supervised D also gets `labelled` (images, classes) and descends, as Salimans et al.'s
    published code does, the class loss on them plus half of -V (their "unlabelled" loss is the mean
    over the real and the fake batch together)."""
    cond = c_real is not None
    with torch.no_grad(), autocast:
        fake = G(z, c_fake) if cond else G(z)
    # One D pass over [real; fake (; labelled)]: D has no batch statistics, so this equals separate
    # passes. bf16 autocast covers the forward passes only; logits go back to fp32 for the log-sigmoids.
    with autocast:
        both = torch.cat([real, fake.to(real.dtype), *(() if labelled is None else (labelled[0],))])
        if labelled is not None:
            out = D.class_logits(both).float()
            logits, labelled_logits = out[:2 * len(real)].logsumexp(1), out[2 * len(real):]
        else:
            logits = (D(both, torch.cat([c_real, c_fake])) if cond else D(both)).float()
    real_logits, fake_logits = logits[:len(real)], logits[len(real):]
    loss_d = d_loss(real_logits, fake_logits, kind)
    loss = loss_d if labelled is None else class_loss(labelled_logits, labelled[1]) + 0.5 * loss_d
    loss = loss + 0.5 * r1 * r1_penalty(real_logits, real) if r1 else loss
    loss = loss + gp * gradient_penalty(D, real, fake.to(real.dtype), gp_eps, c_real) if gp else loss
    return DPhase(loss, loss_d, real_logits, fake_logits)


def g_push(D, x: torch.Tensor, kind: str, c: torch.Tensor | None = None,
           real: torch.Tensor | None = None) -> torch.Tensor:
    """-grad_x of G's loss at samples x (n, dim): the direction in data space in which G's next step
    moves each sample, each sample's loss summed, not averaged, so the arrows do not shrink with n. D's
    weights are left out of the graph. With the minimax loss and a D that confidently rejects x, it
    vanishes (Sec. 3). A loss that matches features compares x, as a batch, with `real`."""
    x = x.detach().clone().requires_grad_(True)         # a copy: samples may come from inference mode
    with torch.enable_grad():
        if LOSS[kind].g_needs_real:
            loss = LOSS[kind].g_loss(D.features(real).detach(), D.features(x)) * len(x)
        else:
            logits = (D(x) if c is None else D(x, c)).float()
            loss = g_loss(logits, kind) * len(x)
        (grad,) = torch.autograd.grad(loss, x)
    return -grad


def generator_phase(D, G, z: torch.Tensor, kind: str, autocast, c: torch.Tensor | None = None,
                    real: torch.Tensor | None = None) -> torch.Tensor:
    """G's step objective on G(z) (G(z, c) and D(., c) for a conditional pair); the caller keeps
    D's weights out of the graph. A loss that matches features (`g_needs_real`) compares G(z) with `real`."""
    with autocast:
        fake = G(z) if c is None else G(z, c)
        if LOSS[kind].g_needs_real:
            with torch.no_grad():
                target = D.features(real).float()
            return LOSS[kind].g_loss(target, D.features(fake).float())
        fake_logits = (D(fake) if c is None else D(fake, c)).float()
    return g_loss(fake_logits, kind)
