"""Directions in z: SeFa's closed form, attributes measured as documented, directions kept in a
checkpoint that still loads as before, moves that hold kept directions still, the shipped MNIST
generator's named directions doing what their names say, and bad input refused in one line."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab import Config, Trainer, attributes
from ganlab import directions as dirs
from ganlab.cli import main
from ganlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints" / "mnist-dcgan.pt"


@pytest.fixture(scope="module")
def shipped():
    return Trainer.load(SHIPPED, device="cpu", training=False), dirs.read(SHIPPED)


@pytest.fixture(scope="module")
def classifier():
    from ganlab.classifier import load_classifier

    return load_classifier(ROOT / "checkpoints" / "classifier-mnist.pt", "mnist")


def test_attributes_read_a_drawn_stroke_as_a_person_would():
    img = torch.zeros(3, 1, 28, 28)
    img[0, 0, 4:24, 13:15] = 1                              # an upright bar
    for r in range(4, 24):                                  # the same bar, leaning right by 0.5 px a row
        c = 13 + (24 - r) // 2
        img[1, 0, r, c:c + 2] = 1
    img[2, 0, 4:24, 8:20] = 0.5                             # wide and faint
    m = attributes.measure(img)
    assert abs(float(m["slant"][0])) < 1e-6 and 0.4 < float(m["slant"][1]) < 0.6
    assert m["width"][2] > 3 * m["width"][0] and m["height"][0] > 5 * m["width"][0]
    assert m["ink"][2] > m["ink"][0]


def test_sefa_finds_the_directions_g_s_first_layer_stretches_most():
    trainer = Trainer(Config(data="mnist", model="dcgan", latent_dim=16, seed=0), device="cpu", training=False)
    vectors = torch.stack(dirs.sefa(trainer, 16))
    assert torch.allclose(vectors @ vectors.T, torch.eye(16), atol=1e-4)           # orthonormal
    weight, _ = dirs._first_layer(trainer.sample_net)
    stretch = (weight @ vectors.T).norm(dim=0)
    assert bool((stretch.diff() <= 1e-5).all())                                    # largest first
    random = torch.nn.functional.normalize(torch.randn(200, 16, generator=torch.Generator().manual_seed(0)), dim=1)
    assert float((weight @ random.T).norm(dim=0).max()) <= float(stretch[0]) + 1e-5


def test_a_move_with_kept_directions_leaves_them_where_they_were():
    gen = torch.Generator().manual_seed(0)
    found = {name: dirs.Direction(name, torch.nn.functional.normalize(torch.randn(8, generator=gen), dim=0), "attributes", 1.0, name)
             for name in ("ink", "slant", "class-3")}
    z = torch.randn(5, 8, generator=gen)
    moved = dirs.move(z, found, {"ink": 2.0}, keep=("slant", "class-3"))
    change = moved - z
    for kept in ("slant", "class-3"):
        assert torch.allclose(change @ found[kept].vector, torch.zeros(5), atol=1e-5)
    assert torch.allclose(change.norm(dim=1), torch.full((5,), 2.0), atol=1e-5)    # amount in prior SDs
    plain = dirs.move(z, found, {"ink": 2.0})
    assert torch.allclose(plain - z, 2.0 * found["ink"].vector.expand(5, -1))


@pytest.mark.parametrize("text, says", [("ink", "NAME=AMOUNT"), ("ink=lots", "NAME=AMOUNT"), ("ink=9", "at most 5"),
                                        ("=1", "NAME=AMOUNT"), ("ink=nan", "NAME=AMOUNT")])
def test_a_move_that_cannot_be_made_is_refused_in_one_line(text, says):
    with pytest.raises(ConfigError, match=says) as refused:
        dirs.parse_moves(text)
    assert "\n" not in str(refused.value)


def test_directions_kept_in_a_checkpoint_leave_it_loading_as_before(tmp_path):
    trainer = Trainer(Config(data="mnist", model="dcgan", latent_dim=8, seed=0), device="cpu", training=False)
    path = tmp_path / "g.pt"
    trainer.save(path)
    state = torch.load(path, weights_only=True)                     # slimmed as the shipped files are
    state["G"] = {k: v.bfloat16() if v.dtype == torch.float32 else v for k, v in state["G"].items()}
    torch.save(state, path)
    vec = torch.nn.functional.normalize(torch.ones(8), dim=0)
    dirs.store(path, [dirs.Direction("sefa-1", vec, "sefa", 0.0, None)])
    dirs.store(path, [dirs.Direction("ink", vec, "attributes", 0.9, "ink")])
    dirs.store(path, [dirs.Direction("sefa-1-ink", -vec, "sefa", 0.9, "ink")])          # sefa's again: replaced
    assert sorted(dirs.read(path)) == ["ink", "sefa-1-ink"]
    raw = torch.load(path, weights_only=True)
    assert raw["G"]["net.0.weight"].dtype == torch.bfloat16         # a slimmed file stays slim
    again = Trainer.load(path, device="cpu")
    assert again.step_count == trainer.step_count
    assert all(torch.equal(a, b.bfloat16().float() if b.is_floating_point() else b)
               for a, b in zip(again.G.state_dict().values(), trainer.G.state_dict().values()))
    with pytest.raises(Exception, match="latent_dim 8"):
        dirs.store(path, [dirs.Direction("x", torch.ones(3), "sefa", 0.0, None)])


def test_the_shipped_generator_holds_named_directions(shipped):
    _, found = shipped
    for name in ["ink", "slant", "width", "height"] + [f"class-{k}" for k in range(10)]:
        assert name in found and found[name].method == "attributes", name
        assert torch.isclose(found[name].vector.norm(), torch.tensor(1.0), atol=1e-4)
    assert sum(d.method == "sefa" for d in found.values()) == 10
    assert sum(d.method == "ganspace" for d in found.values()) == 10


def test_the_shipped_ink_slant_and_width_directions_change_them_monotonically_on_20_paths(shipped):
    trainer, found = shipped
    z = torch.randn(20, trainer.config.latent_dim, generator=torch.Generator().manual_seed(11))
    for name in ("ink", "slant", "width"):
        rho = dirs.path_correlations(dirs.along(trainer, z, found[name].vector))[name]
        assert float(rho.median()) >= 0.95, (name, rho)


def test_keeping_the_class_keeps_it_along_the_shipped_ink_direction(shipped, classifier):
    from ganlab.classifier import predict

    trainer, found = shipped
    z = torch.randn(20, trainer.config.latent_dim, generator=torch.Generator().manual_seed(12))
    start = predict(classifier, trainer.sample(z=z))[0].argmax(1)
    kept = {}
    for how, moved in [("kept", dirs.move_keeping_class(trainer, classifier, z, found, {"ink": 2.0})),
                       ("plain", dirs.move(z, found, {"ink": 2.0}))]:
        images = trainer.sample(z=moved)
        kept[how] = int((predict(classifier, images)[0].argmax(1) == start).sum())
        assert float(attributes.ink(images).mean()) > float(attributes.ink(trainer.sample(z=z)).mean())
    assert kept["kept"] >= 17 and kept["kept"] >= kept["plain"], kept      # of 20, at +2 SD


def test_sample_moves_along_a_named_direction(tmp_path, shipped):
    out, bold = tmp_path / "plain.npy", tmp_path / "bold.npy"
    assert main(["sample", str(SHIPPED), "--n", "16", "--out", str(out)]) == 0
    assert main(["sample", str(SHIPPED), "--n", "16", "--move", "ink=2", "--keep", "slant", "--out", str(bold)]) == 0
    assert np.load(bold).mean() > np.load(out).mean()


@pytest.mark.parametrize("argv, says", [
    (["--move", "boldness=1"], "no direction named 'boldness'"),
    (["--move", "ink=7"], "at most 5"),
    (["--keep", "ink"], "add --move"),
    (["--move", "ink=1", "--keep", "ink"], "both moved and kept"),
])
def test_sample_refuses_a_bad_move_in_one_line(tmp_path, capsys, argv, says):
    assert main(["sample", str(SHIPPED), "--n", "4", *argv, "--out", str(tmp_path / "x.npy")]) == 1
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_directions_of_a_checkpoint_without_them_or_of_toy_data_are_refused_in_one_line(tmp_path, capsys):
    plain = tmp_path / "plain.pt"
    Trainer(Config(data="mnist", model="dcgan", latent_dim=8, seed=0), device="cpu", training=False).save(plain)
    assert main(["sample", str(plain), "--move", "ink=1", "--out", str(tmp_path / "x.npy")]) == 1
    assert "holds no directions" in capsys.readouterr().err
    ring = tmp_path / "ring.pt"
    shutil.copy(ROOT / "checkpoints" / "ring.pt", ring)
    assert main(["directions", str(ring)]) == 1
    err = capsys.readouterr().err
    assert "not images" in err and err.count("\n") == 1


def test_the_explorer_steers_the_shipped_generator_along_its_directions(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("mnist-dcgan.pt", "classifier-mnist.pt"):
        shutil.copy(ROOT / "checkpoints" / name, folder / name)
    monkeypatch.setenv("GANLAB_CHECKPOINTS", str(folder))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/latent.py").run()                   # opens on the shipped generator
    assert not at.exception and at.slider(key="st_ink").value == 0.0
    at.slider(key="st_ink").set_value(2.0).run()
    at.toggle(key="st_keep_class").set_value(True).run()
    captions = [img.caption for element in at.get("image") for img in element.proto.imgs]
    assert not at.exception and "moved: ink +2" in captions
    at.toggle(key="st_keep_ink").set_value(True).run()            # ink held still: its slider is off
    assert not at.exception and at.slider(key="st_ink").disabled
