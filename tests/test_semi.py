"""Sec. 7.4: a linear classifier on a few labelled images, on D's features, raw pixels and a random
D's features (ganlab.semi). The bundled 8x8 digits keep these fast; the paper's claim itself is
checked on the shipped MNIST generator, where it holds on every label draw."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import torch

from ganlab import ConfigError, Trainer, make_config
from ganlab.semi import semi

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
ERRORS = ("error_d_features", "error_pixels", "error_random_d")


@pytest.fixture(scope="module")
def trained() -> Trainer:
    t = Trainer(make_config(data="digits", model="pytorch-mlp", batch_size=32), device="cpu")
    t.step(100)                         # a few seconds on 2 free CPU cores; D is no longer its random init
    return t


@pytest.fixture(scope="module")
def report(trained) -> dict:
    return semi(trained, labels=100, repeats=3, seed=0)


def test_the_report_is_json_with_three_errors_over_the_label_draws(report):
    assert json.loads(json.dumps(report)) == report
    assert set(report) == {"data", "labels", "repeats", "seed", "test_images", "feature_dim", *ERRORS}
    assert (report["data"], report["labels"], report["repeats"], report["seed"]) == ("digits", 100, 3, 0)
    assert report["feature_dim"] == 256                 # pytorch-mlp D: 64 -> 512 -> 256 -> 1
    assert report["test_images"] == 1797 - 100          # digits has no test split: labelled images are never scored
    for key in ERRORS:
        e = report[key]
        assert len(e["runs"]) == 3 and all(0.0 <= r <= 1.0 for r in e["runs"])
        assert e["mean"] == pytest.approx(statistics.fmean(e["runs"]))
        assert e["sd"] == pytest.approx(statistics.stdev(e["runs"]))


def test_each_representation_learns_digits_from_10_labels_per_class(report):
    # chance is 0.9; every representation of 8x8 digits is far better than that at 100 labels
    for key in ERRORS:
        assert report[key]["mean"] < 0.3, (key, report[key])


def test_more_labels_give_lower_errors_and_one_draw_has_sd_zero(trained):
    few, many = semi(trained, labels=10, repeats=2), semi(trained, labels=200, repeats=1)
    for key in ERRORS:
        assert few[key]["mean"] > many[key]["mean"] + 0.1, (key, few[key], many[key])
        assert many[key]["sd"] == 0.0 and len(many[key]["runs"]) == 1


def test_draw_r_is_seeded_by_seed_plus_r_and_leaves_the_trainer_as_it_was(trained):
    rng_state, d_training = trained.rng.get_state(), trained.D.training
    two = semi(trained, labels=20, repeats=2, seed=5)
    assert semi(trained, labels=20, repeats=2, seed=5) == two
    shifted = semi(trained, labels=20, repeats=1, seed=6)
    assert all(shifted[k]["runs"] == two[k]["runs"][1:] for k in ERRORS)
    assert two["error_pixels"]["runs"][0] != two["error_pixels"]["runs"][1]      # two draws, two sets of images
    assert torch.equal(trained.rng.get_state(), rng_state) and trained.D.training == d_training


@pytest.mark.parametrize("labels, message", [
    (0, "labels 0 must be a positive multiple of 10"),
    (-10, "labels -10 must be a positive multiple of 10"),
    (5, "labels 5 must be a positive multiple of 10"),
    (15, "labels 15 must be a positive multiple of 10"),
    (20.0, "labels 20.0 must be a positive multiple of 10"),
    (1750, "labels 1750: 175 labelled images per class asked, but class 8 has only 174: ask for at most 1740 labels"),
])
def test_bad_label_counts_are_refused_in_one_line(labels, message):
    t = Trainer(make_config(data="digits"), device="cpu")
    with pytest.raises(ConfigError, match=message) as exc:
        semi(t, labels=labels)
    assert "\n" not in str(exc.value)


def test_repeats_must_be_at_least_one():
    with pytest.raises(ConfigError, match="repeats 0 must be a whole number of label draws, at least 1"):
        semi(Trainer(make_config(data="digits"), device="cpu"), labels=10, repeats=0)


def test_a_toy_trainer_is_refused():
    with pytest.raises(ConfigError, match="needs a labelled image set .* trained on 'ring': train one on an image set"):
        semi(Trainer(make_config(data="ring"), device="cpu"), labels=10)


def test_the_features_are_those_before_ds_last_layer_for_unbounded_and_projection_ds():
    # model "mlp" has no output range (its data stays in [0, 1]); a projection D's phi(x) is class-free
    for changes in (dict(model="mlp"), dict(model="pytorch-mlp", cond="projection")):
        t = Trainer(make_config(data="digits", **changes), device="cpu")
        x = torch.rand(5, 64)
        assert torch.equal(t.D.features(x), t.D.net[:-1](x))
        assert semi(t, labels=10, repeats=1)["feature_dim"] == t.D.net[-1].in_features


def test_a_d_that_takes_the_class_at_its_first_layer_is_refused():
    with pytest.raises(ConfigError, match="cond 'input'"):
        semi(Trainer(make_config(data="digits", model="pytorch-mlp", cond="input"), device="cpu"), labels=10)


@pytest.mark.slow
def test_the_shipped_mnist_discriminators_features_beat_pixels_and_a_random_d(real_data_root):
    """The paper's Sec. 7.4 claim, per label draw (the same 100 images for all three representations)."""
    t = Trainer.load(CHECKPOINTS / "mnist-seed.pt", device="cpu")
    out = semi(t, labels=100, repeats=3, data_root=real_data_root)
    assert out["test_images"] == 10_000
    d, pixels, random_d = (out[k]["runs"] for k in ERRORS)
    assert all(a < b - 0.03 for a, b in zip(d, pixels)), out
    assert all(a < b - 0.03 for a, b in zip(d, random_d)), out


def test_the_cli_prints_the_three_errors_as_json(trained, tmp_path, capsys):
    from ganlab.cli import main

    trained.save(tmp_path / "d.pt")
    assert main(["semi", str(tmp_path / "d.pt"), "--labels", "50", "--repeats", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["step"] == trained.step_count and all(len(out[k]["runs"]) == 2 for k in ERRORS)
    assert main(["semi", str(tmp_path / "d.pt"), "--labels", "15"]) == 1
    assert capsys.readouterr().err.startswith("error: labels 15 must be a positive multiple of 10")
