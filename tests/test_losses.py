import math

import pytest
import torch

from ganlab.losses import d_loss, g_loss, value


def test_value_is_the_papers_value_function():
    real, fake = torch.randn(100), torch.randn(100)
    expected = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(value(real, fake), expected, atol=1e-6)
    assert torch.allclose(d_loss(real, fake), -expected, atol=1e-6)


def test_value_at_the_global_optimum_is_minus_log_4():
    # Theorem 1: with D = 1/2 everywhere (logit 0), V = -log 4.
    assert math.isclose(float(value(torch.zeros(10), torch.zeros(10))), -math.log(4), rel_tol=1e-6)


def test_losses_stay_finite_when_d_saturates():
    real, fake = torch.tensor([200.0, -200.0]), torch.tensor([-200.0, 200.0])
    for loss in (value(real, fake), d_loss(real, fake), g_loss(fake, "nonsat"), g_loss(fake, "minimax")):
        assert torch.isfinite(loss)
    assert math.isclose(float(g_loss(torch.tensor([-100.0]), "nonsat")), 100.0, rel_tol=1e-6)


def test_g_losses_match_their_definitions():
    fake = torch.randn(50)
    d = torch.sigmoid(fake)
    assert torch.allclose(g_loss(fake, "minimax"), torch.log(1 - d).mean(), atol=1e-6)
    assert torch.allclose(g_loss(fake, "nonsat"), -torch.log(d).mean(), atol=1e-6)


def test_minimax_saturates_where_nonsat_does_not():
    # Sec. 3: when D confidently rejects fakes, d/dl log(1 - sigmoid(l)) -> 0 but d/dl -log sigmoid(l) -> -1.
    logits = torch.full((1,), -8.0, requires_grad=True)
    (grad_minimax,) = torch.autograd.grad(g_loss(logits, "minimax"), logits)
    (grad_nonsat,) = torch.autograd.grad(g_loss(logits, "nonsat"), logits)
    assert abs(float(grad_minimax)) < 1e-3 < 0.99 < abs(float(grad_nonsat))


def test_gs_push_climbs_ds_slope_and_vanishes_for_minimax_against_a_confident_d():
    from torch import nn

    from ganlab.losses import g_push

    D = nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[1.0, -2.0]]))
        D.bias.fill_(-10.0)                        # D says "fake" with probability ~1 - e^-10 near 0
    logit = lambda x: D(x).squeeze(1)              # noqa: E731
    x = torch.randn(16, 2) * 0.1
    nonsat, minimax = g_push(logit, x, "nonsat"), g_push(logit, x, "minimax")
    assert (nonsat @ D.weight.detach().T > 0).all()          # toward where D says "real"
    assert (minimax.norm(dim=1) * 1000 < nonsat.norm(dim=1)).all()
    assert torch.allclose(nonsat, torch.sigmoid(-logit(x)).detach()[:, None] * D.weight.detach(), atol=1e-6)


def test_each_loss_of_the_family_matches_its_papers_definition():
    from ganlab.losses import game_value

    real, fake = torch.randn(64), torch.randn(64)
    # Least squares with targets 1 (real) and 0 (fake), G's target 1 (Mao et al., 2017, Eq. 2, halved).
    assert torch.allclose(d_loss(real, fake, "ls"), 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean())
    assert torch.allclose(g_loss(fake, "ls"), 0.5 * ((fake - 1) ** 2).mean())
    # Hinge: E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))); G ascends D(G(z)).
    assert torch.allclose(d_loss(real, fake, "hinge"), torch.clamp(1 - real, min=0).mean() + torch.clamp(1 + fake, min=0).mean())
    assert torch.allclose(g_loss(fake, "hinge"), -fake.mean())
    # WGAN: the critic descends E D(G(z)) - E D(x); the value recorded is the distance estimate.
    assert torch.allclose(d_loss(real, fake, "wgan-gp"), fake.mean() - real.mean())
    assert torch.allclose(game_value(real, fake, "wgan-gp"), real.mean() - fake.mean())
    assert torch.allclose(game_value(real, fake, "nonsat"), value(real, fake))


def test_each_losss_recorded_optimum_is_its_value_when_pg_equals_pdata():
    # At pg = pdata the best D is 1/2 (log losses: logit 0; least squares: score 1/2), any critic in
    # [-1, 1] for hinge (take 0), and the Wasserstein estimate of a constant critic is 0.
    from ganlab.losses import OPTIMUM, game_value

    at_optimum = {"nonsat": 0.0, "minimax": 0.0, "features": 0.0, "ls": 0.5, "hinge": 0.0, "wgan-gp": 0.3}
    for kind, out in at_optimum.items():
        same = torch.full((32,), out)
        assert math.isclose(float(game_value(same, same, kind)), OPTIMUM[kind][1], abs_tol=1e-6), kind


def test_the_gradient_penalty_is_zero_for_a_unit_slope_critic_and_counts_the_excess():
    from torch import nn

    from ganlab.losses import gradient_penalty

    D = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[0.6, 0.8]]))          # |grad| = 1 everywhere
    real, fake, eps = torch.randn(16, 2), torch.randn(16, 2), torch.rand(16, 1)
    assert float(gradient_penalty(D, real, fake, eps).detach()) < 1e-10
    with torch.no_grad():
        D.weight.mul_(3.0)                                  # |grad| = 3: penalty (3 - 1)^2 = 4
    penalty = gradient_penalty(D, real, fake, eps)
    assert math.isclose(float(penalty.detach()), 4.0, rel_tol=1e-5)
    penalty.backward()                                      # in the graph: D's step descends it
    assert D.weight.grad is not None and D.weight.grad.abs().sum() > 0


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["nonsat", "minimax", "ls", "hinge", "wgan-gp"])
def test_each_loss_learns_the_ring_from_its_defaults_alone(loss):
    # What `python -m ganlab train --data ring --loss L --steps 3000` trains, seed 0: all 8 modes, at
    # least 40 % of the samples near one (docs/results.md, "A family of losses", has all five seeds).
    from ganlab import Trainer, make_config
    from ganlab.evaluate import modes

    t = Trainer(make_config(data="ring", loss=loss, seed=0), device="cpu")
    t.train(3000, progress=False)
    m = modes(t)
    assert m["modes_covered"] == 8 and m["high_quality_fraction"] >= 0.4, m
