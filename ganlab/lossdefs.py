"""The game's losses, one entry each: what a loss is, written once.

A `Loss` holds its name and a line of what it is, what D's output means under it, both players'
objectives as pure functions of D's raw outputs, the number the history records as the game's value
with its optimum at pg = pdata, the words the app shows for that value, what G's and D's steps need
beyond the plain game, and the settings its paper trained with. The field's choices, its help, the
new-run rule, the phases (losses.py), the recipes' per-loss settings and the views all read `LOSS`,
so a new loss is one entry here and its test (tests/test_entries.py checks every entry is complete).

For the paper's log losses D's output is a logit l with D(x) = sigmoid(l): log D = -softplus(-l) and
log(1 - D) = -softplus(l). Written this way they never take log(0) when D saturates, which is exactly
the regime Sec. 3 of the paper is about. The family beyond the paper reads the output as a score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

# What D's output can mean, and what the colour of D's surface is under each: a logit whose sigmoid
# is a probability (the log losses), a least-squares score, or an unbounded critic. A run can switch
# between losses of one meaning; one of another makes the trained D a different kind of function.
MEANINGS = {"probability": "D(x), the probability D gives that x is real (red ≈ 0, blue ≈ 1)",
            "score": "D's least-squares score (its targets: 1 for real, blue; 0 for fake, red; 1/2 at the optimum)",
            "critic": "the critic's score (higher, blue, for what it takes as real; only differences count)"}


@dataclass(frozen=True)
class Loss:
    name: str
    about: str                  # one line, for --help and the app's choice
    meaning: str                # what D's output is, a key of MEANINGS
    d_loss: Callable            # what D descends: d_loss(D's outputs for real x, for G(z))
    g_loss: Callable            # what G descends: g_loss(D's outputs for G(z)), or with g_needs_real
    value: Callable             # the game's value the history records: value(real outputs, fake outputs)
    value_name: str             # what that value is called on the value panel
    optimum: float              # where the value ends when pg = pdata (the panel's dashed line)
    optimum_text: str
    words: str                  # the value panel's caption: the game and its optimum
    # G's loss compares D's last hidden features of a real batch with those of G(z),
    # g_loss(f(x), f(G(z))), rather than reading D's outputs: G's step draws a real batch too.
    g_needs_real: bool = False
    penalty: bool = False       # D's step adds the gradient penalty of weight `gp` (losses.gradient_penalty)
    settings: dict = field(default_factory=dict)    # what its paper trained with, where the recipe's would not do

    def shown(self, out: torch.Tensor) -> torch.Tensor:
        """D's output as the views show it: the probability sigmoid(l) for a log loss, else as it is."""
        return torch.sigmoid(out) if self.meaning == "probability" else out


def value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] (Eq. 1).

    At the global optimum D = 1/2 everywhere and V = -log 4 (Theorem 1).
    """
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def log_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D ascends V (Algorithm 1), i.e. descends -V: the binary cross-entropy with real = 1, fake = 0."""
    return -value(real, fake)


def minimax_g(fake: torch.Tensor) -> torch.Tensor:
    """Descend log(1 - D(G(z))), the game as written in Eq. 1 and Algorithm 1. Its gradient vanishes
    when D confidently rejects fakes (early training), the saturation of Sec. 3."""
    return -F.softplus(fake).mean()


def nonsat_g(fake: torch.Tensor) -> torch.Tensor:
    """Ascend log D(G(z)) instead, the paper's recommended fix: same fixed point, strong gradients early."""
    return F.softplus(-fake).mean()


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """||E f(x) - E f(G(z))||^2 over D's last hidden layer f, per unit (Salimans et al., 2016, Sec. 3.1):
    G matches the statistics D finds most telling instead of maximising D's output, so it cannot
    overtrain on the current D; the objective their semi-supervised D was trained against."""
    return (real_features.mean(0) - fake_features.mean(0)).square().mean()


def ls_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Half the squared distance of D's score to 1 on real and to 0 on fake (Mao et al., 2017, Eq. 2
    with a = 0, b = c = 1)."""
    return 0.5 * ((real - 1).square().mean() + fake.square().mean())


def ls_g(fake: torch.Tensor) -> torch.Tensor:
    """Bring D's score of G(z) to 1, the real target (Mao et al., 2017, Eq. 2)."""
    return 0.5 * (fake - 1).square().mean()


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """A margin of 1 on each side (Lim & Ye, 2017; Miyato et al., 2018)."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def critic_g(fake: torch.Tensor) -> torch.Tensor:
    """Ascend the critic's score of G(z), as the hinge and WGAN papers do."""
    return -fake.mean()


def wgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic maximises E[D(x)] - E[D(G(z))] (Gulrajani et al., 2017); its gradient penalty is
    `losses.gradient_penalty`."""
    return fake.mean() - real.mean()


def wasserstein(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's estimate of the Wasserstein-1 distance, E[D(x)] - E[D(G(z))]."""
    return real.mean() - fake.mean()


def _minus(d_loss: Callable) -> Callable:
    """-(D's loss): the value of a game whose D descends `d_loss`."""
    return lambda real, fake: -d_loss(real, fake)


_LOG_GAME = ("D ascends V(D, G) = E[log D(x)] + E[log(1 − D(G(z)))]; G descends it (Algorithm 1). At the "
             "global optimum pg = pdata, D(x) = D(G(z)) = 1/2 and V = −log 4 ≈ −1.386 (Theorem 1), the dashed "
             "line.")
_LOG_VALUE = dict(value=value, value_name="V(D, G)", optimum=-math.log(4.0), optimum_text="−log 4")

# The paper's two (Sec. 3), feature matching for G (Salimans et al., 2016), and the family that
# followed, each changing both players' objectives. Optima at pg = pdata: the log losses' V = -log 4
# (Theorem 1); ls's best D for a fixed G, (b pdata + a pg) / (pdata + pg) (Mao et al., 2017; a = 0,
# b = 1 here), is 1/2, so each half of D's loss is 1/8; hinge's D at pg = pdata is optimal anywhere in
# [-1, 1] and its loss is 2; the Wasserstein distance is 0.
# Settings: Gulrajani et al. (2017)'s Algorithm 1 takes 5 critic steps per G step with Adam's betas
# (0, 0.9); with the toy recipe's k = 1 and betas it covered none of ring's modes. Their λ = 10 left G's
# samples between the modes (12-57 % near one, seeds 0-4); λ = 1 puts 80-84 % there. Mao et al. (2017)
# trained least squares at 2e-4: on ring it dropped a mode in seed 0, at the toy recipe's 1e-3 it
# dropped two; 5e-4 covers all 8 (docs/results.md, "A family of losses", every run screened).
LOSS: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("nonsat", "ascend log D(G(z)) (the paper's Sec. 3 fix)", "probability", log_d_loss, nonsat_g,
         words=_LOG_GAME, **_LOG_VALUE),
    Loss("minimax", "descend log(1 - D(G(z))) (Eq. 1 as written)", "probability", log_d_loss, minimax_g,
         words=_LOG_GAME, **_LOG_VALUE),
    Loss("features", "G matches the mean of D's last hidden layer on real and fake (Salimans et al., 2016)",
         "probability", log_d_loss, feature_matching, words=_LOG_GAME + " G matches D's features instead.",
         g_needs_real=True, **_LOG_VALUE),
    Loss("ls", "least squares: D's score to 1 on real, 0 on fake; G's to 1 (Mao et al., 2017)", "score", ls_d,
         ls_g, _minus(ls_d), "−D's loss", -0.25, "−1/4",
         "Least squares (Mao et al., 2017): D regresses its score to 1 on real and 0 on fake, G its score of "
         "G(z) to 1. At pg = pdata the best D is 1/2 everywhere and −D's loss is −1/4, the dashed line.",
         settings=dict(lr_g=5e-4, lr_d=5e-4)),
    Loss("hinge", "a margin of 1 for the critic, G ascends its score (Lim & Ye, 2017; Miyato et al., 2018)",
         "critic", hinge_d, critic_g, _minus(hinge_d), "−D's loss", -2.0, "−2",
         "Hinge (Lim & Ye, 2017): the critic wants a margin of 1 on each side, G raises its score. At pg = "
         "pdata no critic beats a loss of 2: −D's loss ends at −2, the dashed line."),
    Loss("wgan-gp", "a Wasserstein critic kept 1-Lipschitz by a gradient penalty of weight gp (Gulrajani et al., "
         "2017)", "critic", wgan_d, critic_g, wasserstein, "E D(x) − E D(G(z)), the critic's W₁", 0.0,
         "0", "WGAN-GP (Gulrajani et al., 2017): the critic estimates the Wasserstein-1 distance E D(x) − E "
         "D(G(z)), kept 1-Lipschitz by a gradient penalty; G lowers it. It is 0 at pg = pdata, the dashed line; "
         "the critic's scores themselves have no fixed level.", penalty=True,
         settings=dict(k=5, beta1=0.0, beta2=0.9, gp=1.0)),
)}


def named(**facts) -> tuple[str, ...]:
    """The names of the losses whose fields equal `facts`, in table order.

    >>> named(meaning="probability"), named(penalty=True)
    (('nonsat', 'minimax', 'features'), ('wgan-gp',))
    """
    return tuple(n for n, loss in LOSS.items() if all(getattr(loss, k) == v for k, v in facts.items()))
