"""Every loss, dataset and model is one entry; these check each entry is complete, so a new one that
misses a field, a formula or a builder fails here by name."""

import dataclasses
import math

import pytest
import torch

from ganlab import make_config
from ganlab.catalog import DATASET, MODEL
from ganlab.config import Config, rules
from ganlab.data import load_dataset
from ganlab.errors import ConfigError
from ganlab.lossdefs import LOSS, MEANINGS, Loss, named
from ganlab.losses import discriminator_phase, generator_phase
from ganlab.models import BUILDERS, build_models
from ganlab.recipes import DATA_PRESETS, DEFAULT_RECIPE, LOSS_PRESETS, RECIPES


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


@pytest.mark.parametrize("name", list(MODEL))
def test_every_model_entry_has_a_builder_a_recipe_and_fits_some_data(name):
    model = MODEL[name]
    assert name in BUILDERS and model.recipe in RECIPES and model.about.strip()
    assert model.fits in ("any", "images", "28x28", "square") and bool(model.sides) == (model.fits == "square")
    assert not set(model.aliases) & set(MODEL), f"{name}: an alias must not name another model"
    fitting = [d for d, data in DATASET.items() if data.kind != "points" and _fits(model, data.shape)]
    assert fitting, f"{name} fits no named dataset"
    cfg = make_config(data=fitting[0], model=name)
    G, D = build_models(cfg)
    assert D(G(torch.zeros(2, cfg.latent_dim))).shape == (2,)
    for old in model.aliases:
        assert make_config(data=fitting[0], model=old) == cfg


def _fits(model, shape) -> bool:
    if model.fits == "any":
        return True
    if len(shape) == 1:
        return False
    return model.fits == "images" or (model.fits == "28x28" and shape[1:] == (28, 28)) or \
        (model.fits == "square" and shape[1] == shape[2] and shape[1] in model.sides)


def test_the_builders_are_the_model_entries():
    assert list(BUILDERS) == list(MODEL) == list(DEFAULT_RECIPE)


@pytest.mark.parametrize("name", list(DATASET))
def test_every_dataset_entry_is_complete(name):
    data = DATASET[name]
    assert data.about.strip() and data.kind in ("toy", "image", "points") and all(n > 0 for n in data.shape)
    assert len(data.shape) == (3 if data.kind == "image" else 1)
    assert set(data.settings) <= set(Config.__dataclass_fields__) and not {"data", "model"} & set(data.settings)
    if data.kind == "image":        # a finite set: its size, and, labelled, its smallest class
        assert data.size and data.classes and data.smallest_class
        assert data.classes * data.smallest_class <= data.size
    else:
        assert data.size is None and data.smallest_class is None
    if data.kind == "points":
        return                      # a user's own: passed to the Trainer, never loaded by name
    cfg = make_config(data=name)
    assert cfg.shape == data.shape and cfg.is_image == (data.kind == "image")
    assert {k: getattr(cfg, k) for k in data.settings} == data.settings
    if data.kind == "toy":          # loaded without a download: the loader answers in its shape and classes
        loaded = load_dataset(name)
        x, c = loaded.sample_labeled(5, torch.Generator().manual_seed(0))
        assert x.shape == (5, *data.shape) and (not data.classes or int(c.max()) < data.classes)
        assert torch.isfinite(loaded.log_prob(x)).all()


def test_the_old_tables_are_views_of_the_entries():
    from ganlab import config

    assert config.DATASET_SHAPES == {n: d.shape for n, d in DATASET.items()}
    assert config.LABELLED_IMAGES == tuple(n for n, d in DATASET.items() if d.kind == "image" and d.classes)
    assert DATA_PRESETS == {n: d.settings for n, d in DATASET.items() if d.settings}
    assert config.MODEL_ALIASES == {"seed": "pytorch-mlp"}
    assert set(config.BATCHNORM_MODELS) == {n for n, m in MODEL.items() if m.batchnorm}
    assert LOSS_PRESETS == {n: loss.settings for n, loss in LOSS.items() if loss.settings}
