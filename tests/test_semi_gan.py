"""The semi-supervised GAN (Salimans et al., 2016): a D with K class logits, trained on a few labelled
images besides the real-vs-fake game, against a G trained by feature matching."""

import contextlib

import pytest
import torch

from ganlab import Trainer, make_config
from ganlab.config import ConfigError
from ganlab.evaluate import semi_classifier
from ganlab.losses import feature_matching, generator_phase
from ganlab.models import WNLinear, eval_mode, frozen


def _semi(**changes):
    return make_config(**{"data": "digits", "model": "improved-gan", "semi_labels": 100, **changes})


@pytest.mark.slow
def test_a_semi_supervised_d_learns_the_digits_from_10_labels_per_class():
    """A learning test: 300 iterations on 100 labelled digits; the other 1,697 are scored."""
    t = Trainer(_semi(seed=0), device="cpu")
    before = semi_classifier(t)["test_error"]
    t.step(300)
    after = semi_classifier(t)
    assert after["test_images"] == 1797 - 100
    assert before > 0.5 and after["test_error"] < 0.12


def test_ds_probability_of_real_is_z_over_z_plus_one():
    """K real classes and a fake one whose logit is fixed at 0: D(x) = Z(x) / (Z(x) + 1), Z = sum exp(l_k)."""
    t = Trainer(_semi(seed=1), device="cpu")
    t.step(2)
    x = torch.rand(6, 64)
    t.D.eval()
    z = t.D.class_logits(x).exp().sum(1)
    assert torch.allclose(t.d_output(x), (z / (z + 1)).detach(), atol=1e-6)


def test_the_labelled_images_are_balanced_fixed_by_the_seed_and_the_same_after_a_resume(tmp_path):
    a = Trainer(_semi(seed=2, semi_labels=50), device="cpu")
    a.step(1)
    assert torch.equal(torch.bincount(a.labelled.labels, minlength=10), torch.full((10,), 5))
    a.save(tmp_path / "a.pt")
    resumed = Trainer.load(tmp_path / "a.pt", device="cpu")
    resumed.load_data()
    assert torch.equal(resumed.labelled_index, a.labelled_index)
    other = Trainer(_semi(seed=3, semi_labels=50), device="cpu")
    other.load_data()
    assert not torch.equal(other.labelled_index, a.labelled_index)


def test_weight_norm_starts_from_unit_variance_units_and_keeps_hidden_scales_fixed():
    layer = WNLinear(20, 8, train_scale=False, data_init=True)
    x = torch.randn(500, 20) * 3 + 1
    y = layer(x)                                   # the first pass in training initialises g and b
    assert torch.allclose(y.mean(0), torch.zeros(8), atol=1e-5) and torch.allclose(y.std(0), torch.ones(8), atol=1e-4)
    assert "g" not in dict(layer.named_parameters()) and layer.initialised
    g = layer.g.clone()
    assert torch.equal(layer(x * 2), layer(x * 2)) and torch.equal(layer.g, g)    # initialised once
    t = Trainer(_semi(seed=4), device="cpu")
    t.step(3)
    hidden = [m for m in t.D.modules() if isinstance(m, WNLinear)][:-1]
    scales = [m.g.clone() for m in hidden]
    t.step(3)
    assert all(torch.equal(m.g, s) for m, s in zip(hidden, scales))


def test_feature_matching_is_zero_when_the_means_agree_and_moves_g_toward_the_real_features():
    f = torch.randn(10, 4)
    assert feature_matching(f, f[torch.randperm(10)]) < 1e-12      # order within a batch does not matter
    t = Trainer(_semi(seed=5), device="cpu")
    t.step(5)
    real = t.data.sample(500, torch.Generator().manual_seed(0))
    z = torch.rand(500, 100, generator=torch.Generator().manual_seed(1)) * 2 * 3**0.5 - 3**0.5

    def gap():
        with torch.no_grad(), eval_mode(t.D):
            return feature_matching(t.D.features(real), t.D.features(t.G(z))).item()

    start = gap()
    t.opt_d.zero_grad(set_to_none=True)
    d_weights = [p.detach().clone() for p in t.D.parameters()]
    for _ in range(20):     # G steps alone, against a D that stays as it is
        with frozen(t.D):
            loss = generator_phase(t.D, t.G, z[:100], "features", contextlib.nullcontext(), real=real[:100])
            t.opt_g.zero_grad()
            loss.backward()
            t.opt_g.step()
    assert all(p.grad is None for p in t.D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(d_weights, t.D.parameters()))
    assert gap() < 0.5 * start


@pytest.mark.parametrize("changes, message", [
    (dict(data="ring", semi_labels=10), "semi_labels needs a labelled image set .* not 'ring'; use semi_labels 0"),
    (dict(data="digits", semi_labels=15), "semi_labels must be a multiple of the 10 classes of 'digits'"),
    (dict(data="digits", semi_labels=1800), "at most 1,740 \\(10 times its smallest class\\), got 1800"),
    (dict(data="digits", semi_labels=100, cond="projection"), "use cond 'none' with semi_labels"),
    (dict(data="digits", loss="features", cond="projection"), "G would learn nothing of the class"),
    (dict(data="ring", model="improved-gan"), "generates images, not 'ring' points"),
])
def test_settings_that_cannot_work_are_refused_in_one_line(changes, message):
    with pytest.raises(ConfigError, match=message) as exc:
        make_config(**changes)
    assert "\n" not in str(exc.value)


def test_more_labels_per_class_than_the_smallest_class_has_are_refused_before_any_data_is_read():
    with pytest.raises(ConfigError, match="at most 1,740 \\(10 times its smallest class\\), got 1750"):
        make_config(data="digits", semi_labels=1750)
    t = Trainer(make_config(data="digits", semi_labels=1740), device="cpu")
    t.load_data()
    assert len(t.labelled) == 1740


@pytest.mark.parametrize("data", ["digits", "mnist", "fashion-mnist"])
def test_the_smallest_class_sizes_the_config_knows_are_the_datas(data, request):
    from ganlab.config import SMALLEST_CLASS
    from ganlab.data import load_dataset

    root = request.getfixturevalue("real_data_root") if data != "digits" else None
    labels = load_dataset(data, root).labels
    assert int(torch.bincount(labels).min()) == SMALLEST_CLASS[data]


def test_an_unsupervised_d_is_not_a_classifier():
    t = Trainer(make_config(data="digits"), device="cpu")
    with pytest.raises(ConfigError, match="not a classifier: train with semi_labels > 0"):
        t.classify(torch.rand(2, 64))
    assert semi_classifier(t) is None
