"""The app through streamlit's AppTest: widgets found by key. The tab's run trains in its own
thread; a click waits for its command, and a test that plays waits for the run to get somewhere."""

import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab import Trainer, make_config
from ganlab.data import load_points_csv

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(autouse=True)
def checkpoint_folder(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    monkeypatch.setenv("GANLAB_CHECKPOINTS", str(folder))
    return folder


def app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def trainer(at) -> Trainer:
    """The tab's live trainer, once its run has done every command the page sent."""
    run = at.session_state["ganlab"].run
    run.sync()
    return run.trainer


def wait_for(at, done, timeout: float = 60.0):
    """Wait until `done(snapshot)` holds for the tab's run (it plays in the background), then redraw."""
    run, t0 = at.session_state["ganlab"].run, time.monotonic()
    while not done(run.snapshot()):
        assert time.monotonic() - t0 < timeout, f"the run did not get there: {run.snapshot()}"
        time.sleep(0.05)
    at.run()


def test_the_page_opens_on_ring_with_no_error():
    at = app()
    assert trainer(at).config.data == "ring" and trainer(at).step_count == 0
    assert any("step 0" in m.value for m in at.markdown)
    assert not at.error


def test_step_play_and_pause():
    at = app()
    at.button(key="step").click().run()
    assert trainer(at).step_count == 1
    at.toggle(key="playing").set_value(True).run()
    wait_for(at, lambda snap: snap.step > 50 and snap.ips)
    header = next(m.value for m in at.markdown if "step " in m.value)
    assert "it/s" in header
    at.toggle(key="playing").set_value(False).run()
    paused = trainer(at).step_count
    assert f"step {paused:,}" in next(m.value for m in at.markdown if "step " in m.value)   # the view of the pause
    time.sleep(0.3)
    at.run()
    assert trainer(at).step_count == paused


def test_lr_k_and_loss_apply_in_place():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    at.select_slider(key="cfg.lr_g").set_value(2e-4)
    at.number_input(key="cfg.k").set_value(3)
    at.selectbox(key="cfg.loss").set_value("minimax").run()
    assert trainer(at) is run and run.step_count == 1
    assert (run.config.lr_g, run.config.k, run.config.loss) == (2e-4, 3, "minimax")
    assert run.opt_g.param_groups[0]["lr"] == 2e-4
    assert at.query_params["k"] == "3" and at.query_params["loss"] == "minimax"


def test_a_loss_that_changes_ds_meaning_asks_and_brings_its_papers_settings():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    at.selectbox(key="cfg.loss").set_value("wgan-gp").run()
    assert trainer(at) is run and run.config.loss == "nonsat"          # asked, not applied
    assert any("D's output another meaning" in w.value for w in at.warning)
    assert at.number_input(key="cfg.k").value == 5 and at.select_slider(key="cfg.gp").value == 1.0
    at.button(key="confirm_new").click().run()
    new = trainer(at)
    assert new is not run and (new.config.loss, new.config.k, new.config.beta1) == ("wgan-gp", 5, 0.0)
    assert at.query_params["loss"] == "wgan-gp" and "k" not in at.query_params     # k comes with the loss
    at.button(key="step").click().run()
    assert not at.exception and any("the critic" in c.proto.spec for c in at.get("plotly_chart"))
    at.selectbox(key="cfg.loss").set_value("nonsat").run()
    assert at.number_input(key="cfg.k").value == 1                     # what wgan-gp brought goes back
    at.selectbox(key="cfg.loss").set_value("ls").run()
    assert at.select_slider(key="cfg.lr_g").value == 5e-4
    at.selectbox(key="cfg.loss").set_value("wgan-gp").run()            # from ls, not from the run's loss
    assert (at.select_slider(key="cfg.lr_g").value, at.number_input(key="cfg.k").value) == (1e-3, 5)


def test_slow_motion_shows_what_one_d_step_and_one_g_step_changed():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    d0 = [p.detach().clone() for p in run.D.parameters()]
    at.button(key="d_step").click().run()
    assert run.step_count == 1 and run.pending_d_steps == 1
    assert any("one D step" in m.value for m in at.markdown)
    assert not all(torch.equal(a, b) for a, b in zip(d0, run.D.parameters()))
    assert any("the change" in c.proto.spec for c in at.get("plotly_chart"))
    at.button(key="g_step").click().run()
    assert run.step_count == 2 and run.pending_d_steps == 0
    assert any("one G step" in m.value for m in at.markdown)
    assert any("each sample's move" in c.proto.spec for c in at.get("plotly_chart"))
    at.button(key="step").click().run()                             # the panel is for the latest step only
    assert not any("Slow motion" in m.value for m in at.markdown) and not at.exception


def test_slow_motion_on_images_and_on_the_1d_density():
    at = app({"data": "digits", "cond": "projection"})      # a conditional D judges each image as its class
    at.button(key="g_step").click().run()
    assert not at.exception and trainer(at).step_count == 1 and any("one G step" in m.value for m in at.markdown)
    at.button(key="d_step").click().run()
    assert not at.exception and any("mean D on 64 real" in m.label for m in at.metric)
    at = app({"data": "gaussian1d"})
    at.button(key="d_step").click().run()
    at.button(key="g_step").click().run()
    assert not at.exception and any("pg after" in c.proto.spec for c in at.get("plotly_chart"))


def test_the_weight_average_switches_on_in_place_and_the_view_samples_from_it():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    at.select_slider(key="cfg.ema").set_value(0.99).run()
    assert trainer(at) is run and run.config.ema == 0.99 and run.G_ema is not None
    assert at.query_params["ema"] == "0.99" and not at.error
    at.button(key="step").click().run()
    assert run.step_count == 2 and run.sample_net is run.G_ema


def test_the_r1_penalty_applies_in_place_and_the_grid_preset_brings_it():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    assert run.config.r1 == 0.0                                # ring: off
    at.select_slider(key="cfg.r1").set_value(0.1).run()
    assert trainer(at) is run and run.config.r1 == 0.1 and at.query_params["r1"] == "0.1" and not at.error
    at.button(key="step").click().run()
    assert run.step_count == 2
    grid = app({"data": "grid"})
    assert trainer(grid).config.r1 == 1.0 and grid.select_slider(key="cfg.r1").value == 1.0
    assert "r1" not in grid.query_params                       # the preset's own value is not spelled out


def test_a_change_that_needs_new_networks_asks_first():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    at.selectbox(key="cfg.data").set_value("grid").run()
    assert trainer(at) is run and any("would be discarded" in w.value for w in at.warning)
    at.button(key="keep_run").click().run()
    assert trainer(at) is run and at.selectbox(key="cfg.data").value == "ring"
    at.selectbox(key="cfg.data").set_value("grid").run()
    at.button(key="confirm_new").click().run()
    assert trainer(at).config.data == "grid" and trainer(at).step_count == 0
    assert at.query_params["data"] == "grid"


def test_switching_to_images_applies_the_seed_preset_and_shows_a_sample_grid():
    at = app()
    at.selectbox(key="cfg.data").set_value("digits").run()   # step 0: no question asked
    cfg = trainer(at).config
    assert (cfg.data, cfg.model, cfg.latent_dim, cfg.batch_size, cfg.lr_g) == ("digits", "pytorch-mlp", 100, 64, 2e-4)
    at.button(key="step").click().run()
    assert len(at.get("image")) >= 1


def test_reset_keeps_the_seed_and_new_seed_changes_it():
    at = app()
    first = next(trainer(at).G.parameters()).detach().clone()
    at.button(key="step").click().run()
    at.button(key="reset").click().run()
    assert trainer(at).step_count == 0 and torch.equal(next(trainer(at).G.parameters()), first)
    at.button(key="new_seed").click().run()
    assert trainer(at).config.seed == 1 and at.number_input(key="cfg.seed").value == 1
    assert not torch.equal(next(trainer(at).G.parameters()), first)


def test_a_link_reproduces_the_setup_and_bad_values_are_ignored():
    at = app({"data": "grid", "k": "4", "lr_d": "0.0005"})
    cfg = trainer(at).config
    assert (cfg.data, cfg.k, cfg.lr_d) == ("grid", 4, 5e-4)
    at = app({"data": "grid", "k": "many"})
    assert trainer(at).config.k == 1 and trainer(at).config.data == "grid"


def test_one_dimensional_view_and_dstar_view():
    at = app({"data": "gaussian1d"})
    at.button(key="step").click().run()
    assert trainer(at).config.latent_dim == 1 and not at.exception
    at = app()
    at.checkbox(key="show_dstar").check().run()
    assert not at.exception


def test_divergence_shows_a_status_and_stops_training():
    at = app({"optimizer": "sgd", "lr_g": "1e30", "lr_d": "1e30"})
    at.toggle(key="playing").set_value(True).run()
    wait_for(at, lambda snap: snap.status)
    assert any("NaN/inf" in e.value for e in at.error) and not at.toggle(key="playing").value
    stopped = trainer(at).step_count
    at.run()
    assert trainer(at).step_count == stopped


def test_save_then_load_a_checkpoint_and_keep_training(checkpoint_folder):
    at = app()
    at.button(key="step").click().run()
    at.text_input(key="ckpt_name").input("my-run").run()
    at.button(key="save_ckpt").click().run()
    assert (checkpoint_folder / "my-run.pt").is_file() and at.success
    at.button(key="reset").click().run()
    at.selectbox(key="ckpt_file").set_value(checkpoint_folder / "my-run.pt")
    at.button(key="load_ckpt").click().run()
    assert trainer(at).step_count == 1
    at.button(key="step").click().run()
    assert trainer(at).step_count == 2


def test_a_name_that_leaves_the_checkpoint_folder_is_refused(checkpoint_folder):
    at = app()
    at.text_input(key="ckpt_name").input("../../evil").run()
    at.button(key="save_ckpt").click().run()
    assert any("invalid checkpoint name" in e.value for e in at.error)
    assert not list(checkpoint_folder.parent.rglob("evil*"))


def test_loading_a_bad_file_gives_a_readable_message(checkpoint_folder):
    (checkpoint_folder / "broken.pt").write_bytes(b"not a checkpoint at all")
    at = app()
    at.selectbox(key="ckpt_file").set_value(checkpoint_folder / "broken.pt")
    at.button(key="load_ckpt").click().run()
    assert not at.exception
    assert any("broken.pt is not a ganlab checkpoint" in e.value for e in at.error)


def test_uploaded_points_train(tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y\n" + "\n".join(f"{i % 7},{(i * 3) % 5}" for i in range(200)))
    at = app()
    at.session_state["ganlab"].points = load_points_csv(csv)
    at.selectbox(key="cfg.data").set_value("points").run()
    assert trainer(at).config.data == "points"
    at.button(key="step").click().run()
    assert trainer(at).step_count == 1 and not at.exception


def test_a_zip_of_images_trains_in_the_app_and_a_bad_one_is_one_line(tmp_path, monkeypatch):
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))           # uploads unpack under the data folder
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(6):
            img = io.BytesIO()
            Image.fromarray(np.random.default_rng(i).integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(img, "PNG")
            z.writestr(f"pets/{'cats' if i % 2 else 'dogs'}/{i}.png", img.getvalue())
    at = app()
    ring = trainer(at)
    at.selectbox(key="cfg.data").set_value("my images").run()
    assert any("Upload a zip" in i.value for i in at.info) and trainer(at) is ring and not at.exception
    at.file_uploader(key="images_zip").set_value(("evil.zip", b"PK not a zip", "application/zip")).run()
    assert trainer(at) is ring and any("evil.zip is not a zip file" in e.value for e in at.sidebar.error)
    at.file_uploader(key="images_zip").set_value(("pets.zip", buf.getvalue(), "application/zip")).run()
    run = trainer(at)
    assert run.config.is_folder and run.config.model == "pytorch-dcgan" and run.config.shape == (3, 32, 32)
    assert any("a new run on the 6 images of pets.zip" in s.value for s in at.sidebar.success)
    assert at.radio(key="cfg.image_size").value == 32 and not at.exception
    at.button(key="step").click().run()
    assert run.step_count == 1 and not at.exception and len(at.get("image")) >= 1
    at.switch_page("app_pages/latent.py").run()                 # the latent explorer on colour images
    at.slider(key="lx_pos").set_value(5).run()
    assert not at.exception and len(at.get("image")) >= 3


def test_latent_explorer_on_the_current_run_and_on_a_checkpoint(checkpoint_folder):
    at = app({"data": "digits"})
    at.button(key="step").click().run()
    at.switch_page("app_pages/latent.py").run()
    assert not at.exception
    assert at.radio(key="lx_method").value == "slerp"
    at.slider(key="lx_pos").set_value(5).run()
    assert not at.exception and len(at.get("image")) >= 3
    t = Trainer(make_config(data="ring"), device="cpu")
    t.step(3)
    t.save(checkpoint_folder / "ring.pt")
    at.radio(key="lx_source").set_value("A checkpoint in checkpoints/").run()
    at.radio(key="lx_method").set_value("lerp").run()
    assert not at.exception and at.session_state["ganlab"].explorer[1].config.data == "ring"


def test_walk_gif_export_for_images_and_points():
    from ganlab.ui.latent_page import walk_gif
    for data in ("digits", "ring", "gaussian1d"):
        t = Trainer(make_config(data=data), device="cpu")
        z = torch.randn(6, t.config.latent_dim)
        gif = walk_gif(t, t.sample(z=z))
        assert gif[:6] == b"GIF89a"


def test_the_checkpoint_lists_hold_generators_only(checkpoint_folder):
    from ganlab.classifier import SmallCNN, save_classifier
    from ganlab.ui.checkpoints import list_checkpoints
    save_classifier(SmallCNN(), checkpoint_folder / "classifier-mnist.pt", "mnist", 0.99, 1.0)
    Trainer(make_config(data="ring"), device="cpu").save(checkpoint_folder / "ring.pt")
    assert [p.name for p in list_checkpoints()] == ["ring.pt"]


def test_every_setting_has_a_widget_keyed_apart_from_the_apps_own():
    from ganlab.config import FIELDS, FOLDER, rules
    at = app({"data": "digits", "model": "mlp", "loss": "wgan-gp"})
    keys = {w.key for kind in (at.selectbox, at.radio, at.select_slider, at.number_input) for w in kind}
    folder_only = {name for name in FIELDS if rules(name).get("only_for", {}).get("data") == FOLDER}
    assert {f"cfg.{name}" for name in FIELDS if name not in folder_only} <= keys   # mlp: width, depth; wgan-gp: gp
    assert not any(name in at.session_state for name in FIELDS)   # only the namespaced keys
    at = app({"data": "mnist"})
    assert not {"cfg.hidden", "cfg.depth"} & {w.key for w in at.number_input}      # mlp-only settings hidden
    assert at.selectbox(key="recipe").value == "pytorch"
    at.selectbox(key="recipe").set_value("fast-mnist").run()
    cfg = trainer(at).config                                        # step 0: the recipe applies at once
    assert (cfg.model, cfg.lr_g, cfg.beta1, cfg.beta2, cfg.r1_every) == ("pytorch-mlp", 2e-3, 0.0, 0.9, 16)
    assert at.query_params["recipe"] == "fast-mnist" and "lr_g" not in at.query_params
    assert all(rules(n)["label"] for n in FIELDS) and not at.exception


def test_a_linked_value_beyond_the_widgets_usual_range_is_kept():
    at = app({"data": "ring", "latent_dim": "1000", "k": "50"})
    cfg = trainer(at).config
    assert (cfg.latent_dim, cfg.k) == (1000, 50) and not at.exception
    assert at.number_input(key="cfg.latent_dim").value == 1000 and at.query_params["k"] == "50"


def test_keeping_the_run_after_a_recipe_that_needs_new_networks_keeps_it_whole():
    at = app({"data": "digits"})
    at.button(key="step").click().run()
    run = trainer(at)
    before = run.config
    at.selectbox(key="recipe").set_value("paper").run()     # SGD and a uniform z: a new run
    assert trainer(at) is run and run.config == before     # nothing applied while it asks
    assert any("would be discarded" in w.value for w in at.warning)
    at.button(key="keep_run").click().run()
    assert run.config == before and at.selectbox(key="recipe").value == "pytorch"
    assert "recipe" not in at.query_params and not at.warning


def test_a_conditional_run_shows_one_row_per_class_and_a_class_picker():
    at = app({"data": "digits", "cond": "projection"})
    run = trainer(at)
    assert run.config.cond == "projection" and not at.error
    at.button(key="step").click().run()
    assert at.selectbox(key="show_class").value is None           # every class, one row each
    assert any("One row per class" in c.value for c in at.caption)
    at.selectbox(key="show_class").set_value(7).run()
    assert not at.exception and trainer(at) is run and not any("One row per class" in c.value for c in at.caption)
    toy = app({"data": "ring", "cond": "input"})
    toy.button(key="step").click().run()
    toy.selectbox(key="show_class").set_value(3).run()
    assert not toy.exception


def test_the_latent_explorer_walks_a_conditional_generator_between_classes():
    at = app({"data": "digits", "cond": "input"})
    at.button(key="step").click().run()
    at.switch_page("app_pages/latent.py").run()
    assert not at.exception
    at.selectbox(key="lx_class").set_value(4).run()
    at.selectbox(key="lx_to").set_value(9).run()
    assert not at.exception and at.selectbox(key="lx_from").value == 0


def test_a_conditional_generator_completes_an_image_as_the_class_its_draws_vote_for(monkeypatch):
    import ganlab.inference
    from ganlab.inference import POOL
    asked = []
    real = ganlab.inference.complete
    monkeypatch.setattr(ganlab.inference, "complete", lambda *a, **kw: asked.append(kw["labels"]) or real(*a, **kw))
    at = app({"data": "digits", "cond": "input"})
    at.button(key="step").click().run()
    at.switch_page("app_pages/latent.py").run()
    at.selectbox(key="lx_class").set_value(4).run()
    at.radio(key="cx_kind").set_value("Test image").run()
    assert at.radio(key="cx_class").value is False              # by default, the class picked for the page
    _complete(at, steps=0)
    at.radio(key="cx_class").set_value(True).run()
    captions = _complete(at, steps=0)
    assert asked == [4, None]                                   # no class given: `complete` holds the vote
    assert any("the class G's draws vote for" in c and f"{POOL // 10:,} draws of z" in c for c in captions), captions


def test_a_checkpoint_with_a_class_net_completes_as_the_class_it_names_and_says_which(checkpoint_folder):
    from ganlab.classinference import name_partly_seen, train_class_net
    from ganlab.data import load_dataset
    from ganlab.inference import named_mask
    t = Trainer(make_config(data="digits", cond="input", seed=0), device="cpu")
    t.step(20)
    train_class_net(t, 50, batch=64, progress=False)
    t.save(checkpoint_folder / "digits-c.pt")
    at = app()
    at.switch_page("app_pages/latent.py").run()
    at.radio(key="lx_source").set_value("A checkpoint in checkpoints/").run()
    at.radio(key="cx_kind").set_value("Test image").run()
    at.radio(key="cx_class").set_value(True).run()
    captions = _complete(at, steps=0)
    x = load_dataset("digits", train=False).images[:1].reshape(1, *t.config.shape)        # test image 0
    named = int(name_partly_seen(t, x, named_mask("bottom", t.config.shape))[0])
    assert any(f"the class its class net names (digit {named})" in c for c in captions), captions


def test_an_unconditional_generator_completes_with_no_class_choice():
    at = app({"data": "digits"})
    at.button(key="step").click().run()
    at.switch_page("app_pages/latent.py").run()
    at.radio(key="cx_kind").set_value("Test image").run()
    assert not [r for r in at.radio if r.key == "cx_class"]
    assert any("each completion keeps the visible pixels" in c for c in _complete(at, steps=0))


def _complete(at: AppTest, steps: int) -> list[str]:
    """Complete the chosen image with `steps` search steps; the page's image captions after it."""
    at.slider(key="cx_steps").set_value(steps).run()
    at.button(key="cx_go").click().run()
    assert not at.exception
    return [c for img in at.get("image") for c in img.captions]


def _explorer_on_digits_with_an_encoder(folder) -> AppTest:
    """The latent explorer opened on a small digits checkpoint that carries an inference net."""
    from ganlab.inference import train_encoder
    t = Trainer(make_config(data="digits", seed=0), device="cpu")
    t.step(20)
    train_encoder(t, 20, progress=False)
    t.save(folder / "digits-e.pt")
    at = app()
    at.switch_page("app_pages/latent.py").run()
    at.radio(key="lx_source").set_value("A checkpoint in checkpoints/").run()
    return at


@pytest.mark.slow
def test_the_latent_explorer_walks_from_a_real_test_image_through_the_inference_net(checkpoint_folder):
    at = _explorer_on_digits_with_an_encoder(checkpoint_folder)
    at.radio(key="lx_a_kind").set_value("Test image").run()
    at.number_input(key="lx_a_index").set_value(7).run()
    at.slider(key="lx_a_refine").set_value(25).run()
    assert not at.exception
    captions = [c for img in at.get("image") for c in img.captions]
    assert any("mean squared pixel error" in c for c in captions), captions
    assert any("your test image to seed 1" in c for c in captions), captions


@pytest.mark.slow
def test_without_an_inference_net_the_explorer_says_so_and_trains_one_on_request():
    at = app({"data": "digits"})
    at.button(key="step").click().run()
    at.switch_page("app_pages/latent.py").run()
    at.radio(key="lx_b_kind").set_value("Test image").run()
    assert any("no inference net" in i.value for i in at.info)
    at.button(key="train_encoder").click().run()
    assert not at.exception and trainer(at).encoder is not None


@pytest.mark.slow
def test_the_completion_tab_fills_the_hidden_half(checkpoint_folder):
    at = _explorer_on_digits_with_an_encoder(checkpoint_folder)
    at.radio(key="cx_kind").set_value("Test image").run()
    captions = _complete(at, steps=50)
    assert any("each completion keeps the visible pixels" in c for c in captions), captions


def test_gs_push_and_manifold_show_on_the_toy_view():
    at = app()
    at.button(key="step").click().run()
    at.checkbox(key="show_arrows").check().run()
    at.checkbox(key="show_manifold").check().run()
    assert not at.exception
    spec = next(chart.proto.spec for chart in at.get("plotly_chart") if "G's push" in chart.proto.spec)
    assert "G's manifold" in spec


def test_a_link_the_app_cannot_honour_says_so_until_read():
    at = app({"data": "points"})
    assert trainer(at).config.data == "ring" and trainer(at).config.latent_dim == 2      # ring's own settings
    assert any("cannot carry your own points" in w.value for w in at.warning)
    at.run()
    assert any("cannot carry your own points" in w.value for w in at.warning)          # not a passing toast
    at.button(key="notes_read").click().run()
    assert not any("cannot carry" in w.value for w in at.warning)


def test_drawing_nothing_is_refused_in_one_line_and_the_run_is_kept():
    at = app()
    at.button(key="step").click().run()
    run = trainer(at)
    at.selectbox(key="cfg.data").set_value("points").run()
    assert at.radio(key="points_from").value == "a drawing" and not at.exception
    at.radio(key="draw_mode").set_value("drag").run()
    assert not at.exception and any("0 points drawn" in c.value for c in at.caption)
    at.button(key="use_drawing").click().run()
    assert [e.value for e in at.error] == ["nothing is drawn yet: click points onto the plane, or drag to spray them"]
    assert trainer(at) is run and run.step_count == 1


def test_pinned_runs_are_compared_labelled_by_their_differences_and_travel_in_the_link():
    at = app()
    at.button(key="step").click().run()
    at.button(key="pin").click().run()
    pinned = at.session_state["ganlab"].pinned[0].trainer
    assert pinned is not trainer(at) and pinned.step_count == 1
    at.selectbox(key="cfg.loss").set_value("hinge").run()
    at.button(key="confirm_new").click().run()
    at.button(key="step").click().run()
    assert any("pin 1: loss nonsat" in m.value for m in at.markdown)
    assert any("its optimum" in c.proto.spec for c in at.get("plotly_chart"))
    assert at.query_params["pins"] == "loss:nonsat@1" and not at.exception
    assert pinned.step_count == 1                                    # frozen when pinned
    for _ in range(3):                                               # four in all, then refused in one line
        at.button(key="pin").click().run()
    assert len(at.session_state["ganlab"].pinned) == 3
    assert [e.value for e in at.error] == ["at most 3 pinned runs beside the live one: unpin one first"]
    at.button(key="unpin_0").click().run()
    assert len(at.session_state["ganlab"].pinned) == 2


def test_a_link_with_pinned_runs_rebuilds_them_exactly():
    first = app()
    first.button(key="step").click().run()
    first.button(key="step").click().run()
    first.button(key="pin").click().run()
    original = first.session_state["ganlab"].pinned[0].trainer
    at = app({"data": "ring", "loss": "hinge", "pins": "loss:nonsat@2;k:x@3"})
    assert any("ignored the pinned run 'k:x@3'" in w.value for w in at.warning)
    at.button(key="rebuild_pins").click().run()
    rebuilt = at.session_state["ganlab"].pinned[0].trainer
    assert rebuilt.step_count == 2 and rebuilt.config == original.config
    assert all(torch.equal(a, b) for a, b in zip(rebuilt.G.parameters(), original.G.parameters()))


def test_a_loss_that_cannot_work_with_the_model_is_refused_in_one_line_and_the_run_kept():
    at = app({"data": "digits", "semi_labels": "100"})
    at.button(key="step").click().run()
    run = trainer(at)
    at.selectbox(key="cfg.loss").set_value("hinge").run()
    assert trainer(at) is run and run.config.loss == "nonsat" and run.step_count == 1
    assert [e.value for e in at.sidebar.error] == ["semi_labels reads D's real-vs-fake output as a probability, "
                                                   "which loss 'hinge' does not: use loss nonsat, minimax or features with it"]


def test_d_scored_as_a_classifier_shows_for_its_own_run_only():
    at = app({"data": "digits", "semi_labels": "100"})
    at.button(key="step").click().run()
    at.button(key="score_d").click().run()
    assert not at.exception and [m.label for m in at.metric] == ["test error at step 1"]
    at.button(key="reset").click().run()                     # a new run: the score was of the one before
    assert not at.exception and not at.metric


def _writes(path: Path, lab_state: bool) -> list[int]:
    """The lines of a module that assign to, delete from or call a mutating method of
    `st.session_state`; with `lab_state`, also those that change the `LabState` that `session.get()`
    returns (directly, or through a name it was assigned to)."""
    import ast

    tree = ast.parse(path.read_text())

    def is_session_state(node) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "session_state"

    def is_get(node) -> bool:
        return (lab_state and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get" and getattr(node.func.value, "id", None) == "session")

    held = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and is_get(node.value)
            for t in node.targets if isinstance(t, ast.Name)}

    def written(target) -> bool:
        """`target` (a name, attribute or item) lies inside the session state."""
        node = target
        while isinstance(node, (ast.Attribute, ast.Subscript)) and not is_session_state(node):
            node = node.value
        held_state = is_get(node) or (isinstance(node, ast.Name) and node.id in held)
        return is_session_state(node) or (node is not target and held_state)

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {
                "setdefault", "update", "pop", "popitem", "clear", "append", "__setitem__", "__delitem__"}:
            targets = [ast.Subscript(node.func.value, ast.Constant(0))]     # the object the method changes
        else:
            continue
        flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        lines += [node.lineno for e in flat if written(e)]
    return sorted(lines)


def test_session_state_has_one_writer():
    """Pages read the tab's state and call `ganlab.ui.session` to change it; of that package, only
    `state.py` touches `st.session_state`. (Widget keys that Streamlit itself writes are not
    assignments, so they pass.)"""
    root = Path(__file__).resolve().parents[1]
    ui, session = root / "ganlab" / "ui", root / "ganlab" / "ui" / "session"
    assert _writes(session / "state.py", lab_state=False)                 # the check does see writes
    fronts = [root / "app.py", *(root / "app_pages").glob("*.py"), *ui.rglob("*.py")]
    pages = {p.name: _writes(p, lab_state=True) for p in sorted(fronts) if p.parent != session}
    assert {name: lines for name, lines in pages.items() if lines} == {}
    parts = {p.name: _writes(p, lab_state=False) for p in sorted(session.glob("*.py")) if p.name != "state.py"}
    assert {name: lines for name, lines in parts.items() if lines} == {}


def _shown_steps(at) -> dict:
    """The step each view of the Train page shows: the header, the end of the curves, and the live
    run's label among the runs compared."""
    import json
    import re

    header = next(m.value for m in at.markdown if re.match(r"\*\*step [0-9,]+\*\*", m.value))
    curves = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "iteration" in c.proto.spec)
    live = next(m.value for m in at.markdown if m.value.startswith("**live**"))
    number = lambda text: int(re.search(r"step ([0-9,]+)", text)[1].replace(",", ""))  # noqa: E731
    return {"header": number(header), "curves": int(max(_last(t.get("x")) for t in curves["data"])),
            "compare": number(live)}


def _last(x) -> float:
    """The largest x of a Plotly trace as the chart's JSON carries it (a list, or typed binary)."""
    import base64

    import numpy as np

    if isinstance(x, dict):
        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
    return max(x) if x is not None and len(x) else 0


def test_every_view_shows_one_step_while_playing_after_pausing_and_after_a_slow_step():
    """Header, curves and the compare panel's label come from one snapshot: they agree on the step at
    any moment, not only after the run has settled."""
    import random

    at = app()
    at.button(key="step").click().run()
    at.button(key="pin").click().run()                   # the compare panel, with the live run's label
    at.toggle(key="playing").set_value(True).run()
    rng = random.Random(0)
    for _ in range(4):
        time.sleep(rng.uniform(0.2, 1.5))
        at.run()                                          # a refresh while the run plays on
        steps = _shown_steps(at)
        assert len(set(steps.values())) == 1, steps
    at.toggle(key="playing").set_value(False).run()
    steps = _shown_steps(at)
    assert len(set(steps.values())) == 1 and steps["header"] == trainer(at).step_count, steps
    for kind in ("d_step", "g_step"):
        at.button(key=kind).click().run()
        steps = _shown_steps(at)
        assert len(set(steps.values())) == 1 and steps["header"] == trainer(at).step_count, (kind, steps)
