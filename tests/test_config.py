import dataclasses
import math

import pytest

from ganlab import Config, ConfigError, make_config
from ganlab.config import config_from_dict


@pytest.mark.parametrize("changes, message", [
    (dict(lr_g=0.0), "lr_g must be a finite number > 0"),
    (dict(lr_d=-1e-3), "lr_d must be a finite number > 0"),
    (dict(lr_g=math.nan), "lr_g must be a finite number > 0"),
    (dict(lr_d=math.inf), "lr_d must be a finite number > 0"),
    (dict(k=0), "k must be an integer from 1 to"),
    (dict(latent_dim=0), "latent_dim must be an integer from 1 to"),
    (dict(batch_size=0), "batch_size must be an integer from 1 to"),
    (dict(k=1.5), "k must be an integer from 1 to"),
    (dict(data="cifar"), "unknown data 'cifar'; choose one of: gaussian1d, ring"),
    (dict(model="resnet"), "unknown model 'resnet'; choose one of: mlp, pytorch-mlp, paper"),
    (dict(loss="wgan"), "unknown loss 'wgan'; choose one of: nonsat, minimax"),
    (dict(optimizer="rmsprop"), "unknown optimizer"),
    (dict(beta1=1.0), r"beta1 must be in \[0, 1\)"),
    (dict(lr_decay=0.99), r"lr_decay must be a number from 1 \(constant lr\) to 2"),
    (dict(momentum_end=1.0), r"momentum_end must be in \[0, 1\)"),
    (dict(momentum_steps=-1), "momentum_steps must be an integer from 0"),
    (dict(data="digits", batch_size=1798), "batch_size 1798 is larger than the 1797 images of 'digits'"),
    (dict(data="mnist", batch_size=60_001), "larger than the 60000 images"),
])
def test_invalid_configs_are_refused_with_a_message_that_names_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        Config(**changes)


def test_error_messages_are_one_line():
    with pytest.raises(ConfigError) as info:
        Config(lr_g=-1)
    assert "\n" not in str(info.value)


def test_unknown_keys_are_refused_by_name():
    with pytest.raises(ConfigError, match="unknown config key.*learning_rate"):
        make_config(learning_rate=0.1)
    with pytest.raises(ConfigError, match="unknown config key.*foo"):
        config_from_dict({"foo": 1})


def test_image_data_defaults_to_the_seed_preset_and_explicit_values_win():
    cfg = make_config(data="mnist")
    assert (cfg.model, cfg.latent_dim, cfg.batch_size, cfg.lr_g, cfg.beta1, cfg.prior) == \
        ("pytorch-mlp", 100, 64, 2e-4, 0.5, "normal")
    assert make_config(data="mnist", lr_g=1e-3).lr_g == 1e-3
    paper = make_config(data="mnist", model="paper")
    assert (paper.optimizer, paper.lr_d, paper.momentum, paper.prior, paper.batch_size) == \
        ("sgd", 0.1, 0.5, "uniform", 100)
    # The paper's schedule: lr / 1.000004 per step, momentum 0.5 -> 0.7 over 250 epochs of 500 steps.
    assert (paper.lr_decay, paper.momentum_end, paper.momentum_steps) == (1.000004, 0.7, 125_000)
    assert make_config(data="ring").model == "mlp"


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().k = 3  # type: ignore[misc]
