"""Conditional generation, the paper's Sec. 7.1: G(z, c) draws the class it is asked for, labels
are drawn like the data's, and a class outside the model is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab import Config, Trainer, make_config
from ganlab.cli import main
from ganlab.data import ImageData
from ganlab.errors import ConfigError
from ganlab.evaluate import conditional


@pytest.mark.slow
@pytest.mark.parametrize("cond", ["input", "projection"])
def test_a_conditional_ring_draws_the_component_it_is_asked_for(cond):
    t = Trainer(make_config(data="ring", cond=cond, seed=0), device="cpu")
    t.step(600)
    result = conditional(t, n=2400)
    # Every component, asked in turn, comes out nearest to its own centre.
    assert result["worst_class_agreement"] >= 0.95, result
    x = t.sample(200, seed=5, labels=3)
    centre = torch.tensor([np.cos(3 * np.pi / 4), np.sin(3 * np.pi / 4)]) * 2
    assert (x - centre).norm(dim=1).median() < 0.3


def test_the_fakes_labels_follow_the_datas_class_frequencies():
    labels = torch.tensor([0] * 700 + [1] * 200 + [2] * 100)
    data = ImageData(torch.rand(1000, 64), labels % 10, (1, 8, 8))
    t = Trainer(make_config(data="digits", cond="projection", model="mlp"), device="cpu", dataset=data)
    drawn = t.draw_labels(20_000)
    share = torch.bincount(drawn, minlength=10).float() / len(drawn)
    assert torch.allclose(share[:3], torch.tensor([0.7, 0.2, 0.1]), atol=0.02) and share[3:].sum() == 0
    _, asked = t.sample_labeled(5000, seed=0)                    # sampling without a label: the same p(c)
    assert abs(float((asked == 0).float().mean()) - 0.7) < 0.03


def test_a_conditional_fixed_batch_is_one_row_per_class_with_the_same_z_in_each_column():
    t = Trainer(make_config(data="digits", cond="input", model="mlp"), device="cpu")
    x, c = t.sample_labeled()
    assert x.shape[0] == 10 * 8 and c.tolist() == [k for k in range(10) for _ in range(8)]


def test_classes_only_where_the_data_has_them():
    for data in ("gaussian1d", "points"):
        with pytest.raises(ConfigError, match="cond 'projection' needs labelled data"):
            Config(data=data, cond="projection")
    Config(data="grid", cond="input")


def test_bad_labels_are_refused_in_one_line(tmp_path, capsys):
    cond, plain = tmp_path / "cond.pt", tmp_path / "plain.pt"
    assert main(["train", "--quiet", "--data", "ring", "--cond", "--steps", "2", "--out", str(cond)]) == 0
    assert Trainer.load(cond, device="cpu").config.cond == "projection"          # a bare --cond
    assert main(["train", "--quiet", "--data", "ring", "--steps", "2", "--out", str(plain)]) == 0
    capsys.readouterr()
    cases = [([str(cond), "--label", "8"], "class 8 is out of range: this generator has classes 0 to 7"),
             ([str(cond), "--label", "-1"], "class -1 is out of range"),
             ([str(plain), "--label", "1"], "unconditional (trained without --cond)"),
             ([str(plain), "--out-labels", str(tmp_path / "l.npy")], "has no labels for --out-labels")]
    for args, message in cases:
        out = tmp_path / "s.npy"
        assert main(["sample", *args, "--n", "4", "--out", str(out)]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err and not out.exists()
    labels = tmp_path / "l.npy"                  # a refused command writes no file at all, labels included
    assert main(["sample", str(cond), "--out", str(tmp_path / "x.png"), "--out-labels", str(labels)]) == 1
    assert "a .png grid needs image data" in capsys.readouterr().err and not labels.exists()


def test_sample_writes_the_asked_class_and_the_labels(tmp_path):
    ckpt = tmp_path / "c.pt"
    main(["train", "--quiet", "--data", "grid", "--cond", "input", "--steps", "2", "--out", str(ckpt)])
    assert main(["sample", str(ckpt), "--n", "6", "--label", "24", "--out", str(tmp_path / "x.npy"),
                 "--out-labels", str(tmp_path / "c.npy")]) == 0
    assert np.load(tmp_path / "c.npy").tolist() == [24] * 6 and np.load(tmp_path / "x.npy").shape == (6, 2)
    main(["sample", str(ckpt), "--n", "500", "--out", str(tmp_path / "x.npy"), "--out-labels", str(tmp_path / "c.npy")])
    assert len(set(np.load(tmp_path / "c.npy").tolist())) > 20            # without --label: every class


def test_an_unconditional_checkpoint_loads_as_it_was():
    t = Trainer.load("checkpoints/ring.pt", device="cpu")
    assert t.config.cond == "none" and not any("embed" in k for k in t.state_dict()["G"])
    x, labels = t.sample_labeled(10, seed=0)
    assert labels is None and torch.equal(x, t.sample(10, seed=0))


def test_a_walk_between_two_classes_starts_and_ends_at_those_classes():
    t = Trainer(make_config(data="digits", cond="projection", model="mlp"), device="cpu")
    t.step(3)
    z = torch.randn(t.config.latent_dim)
    walk = t.sample_between_classes(z, 2, 7, steps=5)
    assert torch.allclose(walk[0], t.sample(z=z[None], labels=2)[0], atol=1e-6)
    assert torch.allclose(walk[-1], t.sample(z=z[None], labels=7)[0], atol=1e-6)


def test_input_conditioning_is_joining_a_one_hot_class_to_ds_input():
    """cat(x, onehot(c)) W = x Wx + Wc[c]: the per-class vector on the first layer is that join."""
    t = Trainer(make_config(data="ring", cond="input"), device="cpu")
    D = t.D
    with torch.no_grad():
        D.embed.weight.normal_()
        first = D.net[0]
        joined = torch.nn.Linear(2 + 8, first.out_features)
        joined.weight.copy_(torch.cat([first.weight, D.embed.weight.T], dim=1))
        joined.bias.copy_(first.bias)
        x, c = torch.randn(16, 2), torch.randint(8, (16,))
        by_join = D.net[1:](joined(torch.cat([x, torch.nn.functional.one_hot(c, 8).float()], dim=1))).squeeze(1)
        assert torch.allclose(D(x, c), by_join, atol=1e-5)
        assert torch.allclose(t.d_output(x, c), torch.sigmoid(D(x, c)), atol=1e-6)
    with pytest.raises(ConfigError, match="2 labels for 16 points"):
        t.d_output(x, torch.tensor([0, 1]))
