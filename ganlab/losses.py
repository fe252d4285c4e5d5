"""The value function and the two players' losses, as pure functions of D's logits.

With D(x) = sigmoid(l): log D = -softplus(-l) and log(1 - D) = -softplus(l). Written this way the
losses never take log(0) when D saturates, which is exactly the regime Sec. 3 of the paper is about.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] (Eq. 1).

    At the global optimum D = 1/2 everywhere and V = -log 4 (Theorem 1).
    """
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D ascends V (Algorithm 1), i.e. descends -V: binary cross-entropy, real = 1, fake = 0."""
    return -value(real_logits, fake_logits)


def g_loss(fake_logits: torch.Tensor, kind: str = "nonsat") -> torch.Tensor:
    """G's loss on D's logits for G(z).

    "minimax": descend log(1 - D(G(z))), the game as written in Eq. 1 and Algorithm 1. Its gradient
    vanishes when D confidently rejects fakes (early training), the saturation of Sec. 3.
    "nonsat": ascend log D(G(z)) instead, the paper's recommended fix: same fixed point, strong
    gradients early.
    """
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    if kind == "nonsat":
        return F.softplus(-fake_logits).mean()
    raise ValueError(f"unknown G loss {kind!r}; choose 'minimax' or 'nonsat'")


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
