"""The inference net E: x -> z (the paper's Sec. 7.2) and completion of masked images (Sec. 7.3)."""

import numpy as np
import pytest
import torch

from ganlab import Trainer, make_config
from ganlab.checkpoint import widened
from ganlab.classinference import name_classes, random_masks, train_class_net
from ganlab.cli import main
from ganlab.errors import ConfigError
from ganlab.inference import complete, encode, named_mask, train_encoder, vote


@pytest.fixture(scope="module")
def digits_gan():
    """A small digits generator (8-d z) with a trained encoder, shared by the tests that only read it."""
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, hidden=256, seed=0), device="cpu")
    t.step(300)
    train_encoder(t, 300, progress=False)
    return t


@pytest.mark.slow
def test_the_encoder_learns_to_invert_g_and_the_search_improves_on_it(digits_gan):
    t = digits_gan
    x = t.sample(200, seed=5).clamp(0, 1)               # the mlp G is unbounded; images live in [0, 1]
    err = lambda z: float((t.sample(z=z) - x).square().mean())  # noqa: E731
    from_random = err(torch.randn(200, 8, generator=torch.Generator().manual_seed(1)))
    from_e = err(encode(t, x))
    refined = err(encode(t, x, refine=50))
    assert from_e < 0.85 * from_random and refined < 0.5 * from_e


def test_training_the_encoder_leaves_g_d_and_the_training_stream_alone():
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, seed=1), device="cpu")
    t.step(3)
    before = {k: v.clone() for k, v in t.state_dict()["G"].items()}
    rng = t.rng.get_state()
    train_encoder(t, 5, progress=False)
    assert torch.equal(rng, t.rng.get_state())
    assert all(torch.equal(before[k], v) for k, v in t.G.state_dict().items())


def test_a_completion_keeps_the_visible_pixels_and_each_completion_differs(digits_gan):
    x = digits_gan.sample(6, seed=2).clamp(0, 1)
    hidden = named_mask("bottom", (1, 8, 8))
    c = complete(digits_gan, x, hidden, n=3, steps=30)
    assert c.shape == (6, 3, 1, 8, 8)
    assert torch.equal(c[:, :, :, :4], x[:, None, :, :4].expand(-1, 3, -1, -1, -1))
    assert float((c[:, 0, :, 4:] - c[:, 1, :, 4:]).abs().mean()) > 1e-3


def test_completion_needs_no_encoder_is_seeded_and_refuses_a_pool_smaller_than_asked():
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, seed=4), device="cpu")
    t.step(20)
    assert t.encoder is None                     # the starts come from the prior pool, not from E
    x = t.sample(5, seed=3).clamp(0, 1)
    hidden = named_mask("right", (1, 8, 8))
    c = complete(t, x, hidden, n=4, steps=10, pool=256)
    assert c.shape == (5, 4, 1, 8, 8)
    assert torch.equal(c, complete(t, x, hidden, n=4, steps=10, pool=256))
    with pytest.raises(ConfigError, match="pool of starts must hold at least 4 draws for 4 completions"):
        complete(t, x, hidden, n=4, pool=3)


def test_named_masks_hide_the_named_half():
    m = named_mask("left", (1, 4, 4))
    assert m[0, :, :2].eq(1).all() and m[0, :, 2:].eq(0).all()
    assert torch.equal(named_mask(np.eye(4), (1, 4, 4))[0], torch.eye(4))
    for bad, message in (("middle", "unknown mask 'middle'"), (np.ones((3, 3)), "must have the image's shape"),
                         (np.zeros((4, 4)), "must hide some pixels")):
        with pytest.raises(ConfigError, match=message):
            named_mask(bad, (1, 4, 4))


def test_the_encoder_travels_in_the_checkpoint_and_old_files_load(tmp_path, digits_gan):
    digits_gan.save(tmp_path / "e.pt")
    back = Trainer.load(tmp_path / "e.pt", device="cpu")
    assert back.encoder_steps == 300
    x = digits_gan.sample(4, seed=3).clamp(0, 1)
    assert torch.equal(encode(back, x), encode(digits_gan, x))
    sd = torch.load(tmp_path / "e.pt", weights_only=True)
    assert sd["version"] == 2
    old = {k: v for k, v in sd.items() if k != "encoder"} | {"version": 1}
    torch.save(old, tmp_path / "v1.pt")
    assert Trainer.load(tmp_path / "v1.pt", device="cpu").encoder is None


def test_the_encoder_cli_adds_e_to_a_slimmed_file_and_keeps_the_rest_as_stored(tmp_path):
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, seed=1), device="cpu")
    t.step(10)
    t.save(tmp_path / "s.pt")
    sd = torch.load(tmp_path / "s.pt", weights_only=True)
    slim = {k: v for k, v in sd.items() if k not in ("opt_g", "opt_d")}
    slim["G"] = {k: v.bfloat16() if v.is_floating_point() else v for k, v in sd["G"].items()}   # as shipped
    slim["version"] = 1                                                     # from before E had a place
    torch.save(slim, tmp_path / "s.pt")
    assert main(["encoder", str(tmp_path / "s.pt"), "--steps", "5", "--quiet"]) == 0
    after = torch.load(tmp_path / "s.pt", weights_only=True)
    assert set(after) == set(slim) | {"encoder"} and after["encoder"]["steps"] == 5 and after["version"] == 2
    assert all(v.dtype == slim["G"][k].dtype and torch.equal(v, slim["G"][k]) for k, v in after["G"].items())
    assert Trainer.load(tmp_path / "s.pt", device="cpu").encoder_steps == 5


def test_encode_then_sample_round_trips_through_files(tmp_path, digits_gan):
    digits_gan.save(tmp_path / "e.pt")
    x = digits_gan.sample(5, seed=4).clamp(0, 1).numpy()
    np.save(tmp_path / "x.npy", x)
    assert main(["encode", str(tmp_path / "e.pt"), "--images", str(tmp_path / "x.npy"), "--out",
                 str(tmp_path / "z.npy"), "--refine", "5"]) == 0
    assert np.load(tmp_path / "z.npy").shape == (5, 8)
    assert main(["sample", str(tmp_path / "e.pt"), "--z", str(tmp_path / "z.npy"), "--out", str(tmp_path / "r.npy")]) == 0
    assert np.load(tmp_path / "r.npy").shape == (5, 1, 8, 8)
    assert main(["complete", str(tmp_path / "e.pt"), "--images", str(tmp_path / "x.npy"), "--mask", "top", "--n", "2",
                 "--refine", "3", "--out", str(tmp_path / "c.npy")]) == 0
    assert np.load(tmp_path / "c.npy").shape == (5, 2, 1, 8, 8)


def _bad_inputs(tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros((3, 1, 9, 9), np.float32))
    np.save(tmp_path / "nan.npy", np.full((3, 1, 8, 8), np.nan, np.float32))
    np.save(tmp_path / "big.npy", np.full((3, 1, 8, 8), 255.0, np.float32))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "z9.npy", np.zeros((3, 9), np.float32))
    (tmp_path / "text.npy").write_text("not an array")
    return [
        (["encode", "{e}", "--images", "{t}/wrong.npy"], "images must have shape \\(N, 1, 8, 8\\)"),
        (["encode", "{e}", "--images", "{t}/nan.npy"], "images hold NaN or inf values"),
        (["encode", "{e}", "--images", "{t}/big.npy"], "images must lie in \\[0, 1\\]"),
        (["encode", "{e}", "--images", "{t}/obj.npy"], "is not a .npy array"),
        (["encode", "{e}", "--images", "{t}/text.npy"], "is not a .npy array"),
        (["encode", "{e}", "--images", "{t}/missing.npy"], "no such --images file"),
        (["encode", "{plain}", "--images", "{t}/wrong.npy"], "has no encoder: train one with `python -m ganlab encoder"),
        (["sample", "{e}", "--z", "{t}/z9.npy"], "this generator takes \\(N, 8\\) noise vectors"),
        (["complete", "{e}", "--images", "{t}/wrong.npy", "--mask", "top"], "images must have shape"),
        (["complete", "{e}", "--images", "{t}/x.npy", "--mask", "middle"], "unknown mask 'middle'"),
        (["complete", "{e}", "--images", "{t}/x.npy", "--mask", "{t}/z9.npy"], "a mask must have the image's shape"),
        (["encoder", "{ring}"], "inference and completion are for image generators"),
        (["encoder", "{plain}", "--net", "class"], "a class net is for a conditional image generator \\(trained with --cond\\)"),
        (["complete", "{e}", "--images", "{t}/x.npy", "--mask", "top", "--n", "65"], "--n must be from 1 to 64, got 65"),
        (["encode", "{e}", "--images", "{t}/x.npy", "--refine", "-1"], "--refine must be from 0 to 1,000,000"),
    ]


def test_bad_inputs_are_refused_in_one_line_and_write_nothing(tmp_path, capsys, digits_gan):
    digits_gan.save(tmp_path / "e.pt")
    Trainer(make_config(data="digits", model="mlp", latent_dim=8), device="cpu").save(tmp_path / "plain.pt")
    Trainer(make_config(data="ring"), device="cpu").save(tmp_path / "ring.pt")
    np.save(tmp_path / "x.npy", np.zeros((3, 1, 8, 8), np.float32))
    names = {"e": tmp_path / "e.pt", "plain": tmp_path / "plain.pt", "ring": tmp_path / "ring.pt", "t": tmp_path}
    before = (tmp_path / "e.pt").read_bytes()
    for argv, message in _bad_inputs(tmp_path):
        argv = [a.format(**names) for a in argv]
        out = tmp_path / "out.npy"
        code = main(argv + (["--out", str(out)] if argv[0] != "encoder" else []))
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1, (argv, err)
        assert __import__("re").search(message, err), (argv, err)
        assert not out.exists(), argv
    assert (tmp_path / "e.pt").read_bytes() == before


def test_a_conditional_generator_is_searched_as_the_class_given_and_needs_one():
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, cond="projection", seed=2), device="cpu")
    t.step(30)
    train_encoder(t, 30, progress=False)
    x = t.sample(4, seed=1, labels=3).clamp(0, 1)
    assert encode(t, x).shape == (4, 8)                       # E alone needs no class
    with pytest.raises(ConfigError, match="the search needs the class of the images"):
        encode(t, x, refine=2)
    assert encode(t, x, refine=2, labels=3).shape == (4, 8)
    c = complete(t, x, named_mask("top", (1, 8, 8)), n=2, steps=2)        # the class that fits best
    assert c.shape == (4, 2, 1, 8, 8)
    plain = Trainer(make_config(data="digits", model="mlp", latent_dim=8), device="cpu")
    train_encoder(plain, 2, progress=False)
    with pytest.raises(ConfigError, match="unconditional"):
        encode(plain, x, labels=3)


class Templates(torch.nn.Module):
    """A conditional G whose class c draws template c, moved a little by z: each class is known
    exactly, top half and bottom half, so a completion's class can be read off its hidden half."""
    out_range = None

    def __init__(self, templates: torch.Tensor, latent_dim: int):
        super().__init__()
        self.templates = templates
        self.class_freq = torch.full((len(templates),), 1 / len(templates))      # what training draws classes by
        self.w = torch.nn.Parameter(0.02 * torch.randn(latent_dim, templates.shape[1],
                                                       generator=torch.Generator().manual_seed(0)))

    def forward(self, z, c):
        return self.templates[c] + z @ self.w


def test_a_conditional_generator_given_no_class_completes_as_the_class_its_draws_of_the_visible_half_vote_for():
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, cond="projection", seed=0), device="cpu")
    templates = torch.rand(10, 64, generator=torch.Generator().manual_seed(1))
    t.G = Templates(templates, 8)
    hidden = named_mask("bottom", (1, 8, 8))
    x = templates[[3, 7]].reshape(2, 1, 8, 8)

    def drawn(images):
        """The class whose template's bottom half each image's bottom half is nearest."""
        bottom = lambda a: a[..., 4:, :].flatten(-3)                  # noqa: E731
        return (bottom(images)[..., None, :] - bottom(templates.reshape(10, 1, 8, 8))).square().mean(-1).argmin(-1)

    assert drawn(complete(t, x, hidden, n=2, steps=5, pool=400)).tolist() == [[3, 3], [7, 7]]
    assert drawn(complete(t, x, hidden, n=2, steps=5, pool=400, labels=5)).tolist() == [[5, 5], [5, 5]]
    assert drawn(complete(t, x, hidden, n=2, steps=5, pool=400, labels=[5, 2])).tolist() == [[5, 5], [2, 2]]
    with pytest.raises(ConfigError, match="at least 4 draws per class \\(40 over 10 classes\\)"):
        complete(t, x, hidden, n=2, pool=39)
    assert complete(t, x, hidden, n=2, steps=0, pool=2, labels=5).shape == (2, 2, 1, 8, 8)   # one class: no split


def test_the_class_vote_is_the_mean_of_a_few_nearest_draws_not_the_single_nearest():
    # class 0 has the single nearest draw of both images and then only far ones; class 1's four nearest are close
    err = torch.tensor([[[0.1, 9.0, 9.0, 9.0], [0.5, 0.5, 0.6, 0.6]],
                        [[0.1, 0.2, 0.2, 0.3], [0.5, 0.5, 0.6, 0.6]]])
    assert vote(err).tolist() == [1, 0]
    given = torch.tensor([[[float("inf")] * 4, [0.5, 0.5, 0.6, 0.6]]])          # a given class rules the others out
    assert vote(given).tolist() == [1]


def test_an_encoder_trained_for_an_earlier_g_is_flagged(digits_gan):
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, seed=3), device="cpu")
    t.step(2)
    train_encoder(t, 2, progress=False)
    x = t.sample(2, seed=0).clamp(0, 1)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode(t, x)                                       # trained for this G: no warning
    t.step(1)
    with pytest.warns(UserWarning, match="trained for G at step 2, and G is now at step 3"):
        encode(t, x)


def _templates_trainer():
    """A conditional trainer whose G draws a fixed template per class (`Templates`)."""
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, cond="projection", seed=0), device="cpu")
    templates = torch.rand(10, 64, generator=torch.Generator().manual_seed(1))
    t.G = Templates(templates, 8)
    return t, templates


def test_a_class_net_learns_the_class_of_g_s_partly_hidden_draws_and_leaves_g_and_its_stream_alone():
    t, templates = _templates_trainer()
    rng = t.rng.get_state()
    result = train_class_net(t, 200, batch=64, progress=False)
    assert result["steps"] == 200 and result["accuracy"] > 0.9
    assert torch.equal(rng, t.rng.get_state())              # training's own stream untouched: a run resumes as it was
    gen = torch.Generator().manual_seed(7)
    c = torch.randint(10, (200,), generator=gen)
    x = t.G(torch.randn(200, 8, generator=gen), c)
    visible = 1 - random_masks(200, (1, 8, 8), gen, "cpu").reshape(200, -1)
    assert float((name_classes(t, x, visible) == c).float().mean()) > 0.9     # fresh draws, fresh masks


def test_with_a_class_net_a_completion_of_unknown_class_is_the_completion_as_the_class_it_names():
    t, templates = _templates_trainer()
    train_class_net(t, 200, batch=64, progress=False)
    hidden = named_mask("bottom", (1, 8, 8))
    x = templates[[3, 7]].reshape(2, 1, 8, 8)
    named = name_classes(t, x.reshape(2, -1), (1 - hidden).reshape(1, -1).expand(2, -1))
    assert named.tolist() == [3, 7]
    # the whole pool is drawn as the named class, as for a class given: no split over the classes
    assert torch.equal(complete(t, x, hidden, n=2, steps=3, pool=40),
                       complete(t, x, hidden, n=2, steps=3, pool=40, labels=named.tolist()))
    t.step_count += 1                                       # G trained on since: C may be off, and says so
    with pytest.warns(UserWarning, match="class net was trained for G at step 0, and G is now at step 1"):
        complete(t, x, hidden, n=1, steps=0, pool=40)


def test_random_masks_hide_a_named_half_or_a_box_of_a_quarter_to_three_quarters_of_each_side():
    m = random_masks(400, (1, 8, 8), torch.Generator().manual_seed(0), "cpu")[:, 0]
    halves = torch.stack([named_mask(s, (1, 8, 8))[0] for s in ("top", "bottom", "left", "right")])
    assert all(any(torch.equal(m[i], h) for h in halves) for i in range(0, 400, 2))
    rows, cols = m[1::2].amax(2).sum(1), m[1::2].amax(1).sum(1)            # each box's height and width
    assert rows.min() >= 2 and rows.max() <= 6 and cols.min() >= 2 and cols.max() <= 6
    assert torch.equal(m[1::2].sum((1, 2)), rows * cols)                   # one solid box each


def test_the_class_net_travels_in_the_checkpoint_also_slimmed_and_the_cli_trains_it(tmp_path):
    t = Trainer(make_config(data="digits", model="mlp", latent_dim=8, cond="projection", seed=2), device="cpu")
    t.step(10)
    t.save(tmp_path / "c.pt")
    before = torch.load(tmp_path / "c.pt", weights_only=True)
    slim = {k: v for k, v in before.items() if k not in ("opt_g", "opt_d")}
    torch.save(slim, tmp_path / "c.pt")                                    # as shipped: no optimizer state
    assert main(["encoder", str(tmp_path / "c.pt"), "--net", "class", "--steps", "5", "--quiet"]) == 0
    back = Trainer.load(tmp_path / "c.pt", device="cpu")
    assert (back.class_net.steps, back.class_net.g_step, back.encoder) == (5, 10, None)
    assert main(["encoder", str(tmp_path / "c.pt"), "--net", "class", "--steps", "3", "--quiet",
                 "--out", str(tmp_path / "more.pt")]) == 0                  # goes on training the net it holds
    assert Trainer.load(tmp_path / "more.pt", device="cpu").class_net.steps == 8
    assert main(["encoder", str(tmp_path / "c.pt"), "--net", "class", "--steps", "3", "--quiet", "--fresh",
                 "--out", str(tmp_path / "new.pt")]) == 0
    assert Trainer.load(tmp_path / "new.pt", device="cpu").class_net.steps == 3
    sd = torch.load(tmp_path / "c.pt", weights_only=True)
    assert set(sd) == set(slim) | {"class_net"}                             # the rest as it was, still slim
    assert all(torch.equal(v, sd["G"][k]) for k, v in slim["G"].items())
    sd["class_net"]["weights"] = {k: v.bfloat16() for k, v in sd["class_net"]["weights"].items()}
    assert all(v.dtype == torch.float32 for v in widened(sd)["class_net"]["weights"].values())
    torch.save(sd, tmp_path / "slim.pt")                                   # a shipped file's narrow weights
    slim = Trainer.load(tmp_path / "slim.pt", device="cpu")
    assert torch.equal(slim.class_net.net[-1].weight, back.class_net.net[-1].weight.bfloat16().float())
