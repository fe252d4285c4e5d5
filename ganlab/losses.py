"""The value function, the two players' losses, and the objective of each phase of Algorithm 1.

The losses are pure functions of D's raw outputs. For the paper's log losses the output is a logit
l with D(x) = sigmoid(l): log D = -softplus(-l) and log(1 - D) = -softplus(l). Written this way they
never take log(0) when D saturates, which is exactly the regime Sec. 3 of the paper is about. The
family beyond the paper (`ls`, `hinge`, `wgan-gp`) reads the same output as a score, not a logit
(`config.D_MEANING`). The phases (`discriminator_phase`,
`generator_phase`) run the networks and return what each optimizer descends, as stylegan2-ada's
`loss.py` holds its phases and their regularisers; the trainer only orders them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .config import D_MEANING


def value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] (Eq. 1).

    At the global optimum D = 1/2 everywhere and V = -log 4 (Theorem 1).
    """
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def d_loss(real_out: torch.Tensor, fake_out: torch.Tensor, kind: str = "nonsat") -> torch.Tensor:
    """What D descends on its outputs for real x and for G(z), for loss `kind`.

    The log losses (nonsat, minimax, features): D ascends V (Algorithm 1), i.e. descends -V, the binary
    cross-entropy with real = 1, fake = 0. "ls" (Mao et al., 2017, Eq. 2 with a = 0, b = c = 1): half
    the squared distance of D's score to 1 on real and to 0 on fake. "hinge" (Lim & Ye, 2017;
    Miyato et al., 2018): a margin of 1 on each side. "wgan-gp" (Gulrajani et al., 2017): the critic
    maximises E[D(x)] - E[D(G(z))]; its gradient penalty is `gradient_penalty`.
    """
    if D_MEANING[kind] == "probability":
        return -value(real_out, fake_out)
    if kind == "ls":
        return 0.5 * ((real_out - 1).square().mean() + fake_out.square().mean())
    if kind == "hinge":
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()
    if kind == "wgan-gp":
        return fake_out.mean() - real_out.mean()
    raise ValueError(f"unknown loss {kind!r}")


def g_loss(fake_out: torch.Tensor, kind: str = "nonsat") -> torch.Tensor:
    """G's loss on D's outputs for G(z).

    "minimax": descend log(1 - D(G(z))), the game as written in Eq. 1 and Algorithm 1. Its gradient
    vanishes when D confidently rejects fakes (early training), the saturation of Sec. 3.
    "nonsat": ascend log D(G(z)) instead, the paper's recommended fix: same fixed point, strong
    gradients early. "ls": bring D's score of G(z) to 1, the real target. "hinge" and "wgan-gp":
    ascend the critic's score of G(z), as both papers do.
    """
    if kind == "minimax":
        return -F.softplus(fake_out).mean()
    if kind == "nonsat":
        return F.softplus(-fake_out).mean()
    if kind == "ls":
        return 0.5 * (fake_out - 1).square().mean()
    if kind in ("hinge", "wgan-gp"):
        return -fake_out.mean()
    raise ValueError(f"unknown G loss {kind!r}; choose one of: minimax, nonsat, ls, hinge, wgan-gp")


def game_value(real_out: torch.Tensor, fake_out: torch.Tensor, kind: str) -> torch.Tensor:
    """The number the history records as the game's value, with a known optimum (`OPTIMUM`): V for
    the log losses, -(D's loss) for ls and hinge, and for wgan-gp the critic's estimate of the
    Wasserstein-1 distance, E[D(x)] - E[D(G(z))]."""
    if D_MEANING[kind] == "probability":
        return value(real_out, fake_out)
    if kind == "wgan-gp":
        return real_out.mean() - fake_out.mean()
    return -d_loss(real_out, fake_out, kind)


# What `game_value` is called and where it ends when pg = pdata (None: it has no such value).
# Log losses: V = -log 4 (Theorem 1). ls: the best D for a fixed G, (b pdata + a pg) / (pdata + pg)
# (Mao et al., 2017; a = 0, b = 1 here), is 1/2, so each half of D's loss is 1/8. hinge: at pg = pdata any D in [-1, 1] is optimal and
# its loss is 2. wgan-gp: the distance is 0.
OPTIMUM = {**{kind: ("V(D, G)", -math.log(4.0), "−log 4") for kind, meaning in D_MEANING.items()
              if meaning == "probability"},
           "ls": ("−D's loss", -0.25, "−1/4"), "hinge": ("−D's loss", -2.0, "−2"),
           "wgan-gp": ("E D(x) − E D(G(z)), the critic's W₁", 0.0, "0")}


def d_display(out: torch.Tensor, kind: str) -> torch.Tensor:
    """D's output as the views show it: the probability sigmoid(l) for the log losses, the score as
    it is for the others (a least-squares target of 1 for real and 0 for fake, or a critic)."""
    return torch.sigmoid(out) if D_MEANING[kind] == "probability" else out


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


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """||E f(x) - E f(G(z))||^2 over D's last hidden layer f, per unit (Salimans et al., 2016, Sec. 3.1):
    G matches the statistics D finds most telling instead of maximising D's output, so it cannot
    overtrain on the current D; the objective their semi-supervised D was trained against."""
    return (real_features.mean(0) - fake_features.mean(0)).square().mean()


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
    vanishes (Sec. 3). Feature matching compares x, as a batch, with `real`."""
    x = x.detach().clone().requires_grad_(True)         # a copy: samples may come from inference mode
    with torch.enable_grad():
        if kind == "features":
            loss = feature_matching(D.features(real).detach(), D.features(x)) * len(x)
        else:
            logits = (D(x) if c is None else D(x, c)).float()
            loss = g_loss(logits, kind) * len(x)
        (grad,) = torch.autograd.grad(loss, x)
    return -grad


def generator_phase(D, G, z: torch.Tensor, kind: str, autocast, c: torch.Tensor | None = None,
                    real: torch.Tensor | None = None) -> torch.Tensor:
    """G's step objective on G(z) (G(z, c) and D(., c) for a conditional pair); the caller keeps
    D's weights out of the graph. Feature matching (`kind` "features") compares G(z) with `real`."""
    with autocast:
        fake = G(z) if c is None else G(z, c)
        if kind == "features":
            with torch.no_grad():
                target = D.features(real).float()
            return feature_matching(target, D.features(fake).float())
        fake_logits = (D(fake) if c is None else D(fake, c)).float()
    return g_loss(fake_logits, kind)
