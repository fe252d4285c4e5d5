"""Every loss, dataset and model is one entry; these check each entry is complete, so a new one that
misses a field, a formula or a builder fails here by name."""

import dataclasses
import math

import pytest
import torch

from ganlab import make_config
from ganlab.config import Config, rules
from ganlab.errors import ConfigError
from ganlab.lossdefs import LOSS, MEANINGS, Loss, named
from ganlab.losses import discriminator_phase, generator_phase
from ganlab.models import build_models


@pytest.mark.parametrize("name", list(LOSS))
def test_every_loss_entry_is_complete(name):
    loss = LOSS[name]
    assert loss.name == name and loss.meaning in MEANINGS
    for f in dataclasses.fields(Loss):
        value = getattr(loss, f.name)
        if isinstance(value, str):
            assert value.strip(), f"{name}: {f.name} is empty"
    assert callable(loss.d_loss) and callable(loss.g_loss) and callable(loss.value)
    assert math.isfinite(loss.optimum) and loss.optimum_text in loss.words
    assert set(loss.settings) <= set(Config.__dataclass_fields__), name
    assert not {"data", "model", "loss"} & set(loss.settings), f"{name}'s settings must not pick the game"


@pytest.mark.parametrize("name", list(LOSS))
def test_every_losss_phases_run_on_a_tiny_batch(name):
    cfg = make_config(data="ring", loss=name, hidden=8, batch_size=4)
    G, D = build_models(cfg)
    g = torch.Generator().manual_seed(0)
    real, z = torch.randn(4, 2, generator=g), torch.randn(4, cfg.latent_dim, generator=g)
    gp = 10.0 if LOSS[name].penalty else 0.0
    d = discriminator_phase(D, G, real, z, 0.0, torch.autocast("cpu", enabled=False), kind=name, gp=gp,
                            gp_eps=torch.rand(4, 1, generator=g))
    d.loss.backward()
    assert torch.isfinite(d.loss) and any(p.grad is not None for p in D.parameters())
    value = LOSS[name].value(d.real_logits, d.fake_logits)
    assert torch.isfinite(value) and torch.isfinite(LOSS[name].shown(d.real_logits)).all()
    g_loss = generator_phase(D, G, z, name, torch.autocast("cpu", enabled=False),
                             real=real if LOSS[name].g_needs_real else None)
    g_loss.backward()
    assert torch.isfinite(g_loss) and all(p.grad is not None for p in G.parameters())


def test_the_loss_field_and_its_messages_follow_the_entries():
    assert rules("loss")["choices"] == tuple(LOSS)
    assert rules("loss")["described"] == {n: loss.about for n, loss in LOSS.items()}
    assert rules("gp")["only_for"] == {"loss": named(penalty=True)}
    settled = [n for n, loss in LOSS.items() if loss.settings]
    assert f"{' and '.join(settled)} bring their papers' settings" in rules("loss")["help"]
    for name in LOSS:
        assert {k: getattr(make_config(data="ring", loss=name), k) for k in LOSS[name].settings} == LOSS[name].settings
    probability = named(meaning="probability")
    for name in set(LOSS) - set(probability):
        with pytest.raises(ConfigError, match=f"use loss {', '.join(probability[:-1])} or {probability[-1]} with it"):
            Config(data="digits", model="pytorch-mlp", batch_size=16, semi_labels=100, loss=name)
    for name in named(g_needs_real=True):
        with pytest.raises(ConfigError, match=f"loss '{name}' matches D's class-free features"):
            Config(data="ring", loss=name, cond="input")
