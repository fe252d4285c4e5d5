import math

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
