"""The notebook widgets' Python side (`ganlab.lab`, `ganlab.explore`): their controls send the run the
right commands, their models follow the run as it advances, a structural change asks first, and a
closed lab leaves no thread behind. The front end's side is tests/test_jupyter.py (slow tier)."""

import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")

import ganlab  # noqa: E402
from ganlab.ui.lab import Lab  # noqa: E402
from ganlab.ui.widgetparts import points_in  # noqa: E402

SHIPPED = "checkpoints/mnist-dcgan.pt"


def until(check, timeout: float = 10.0):
    """Poll `check` until it returns something true (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


@pytest.fixture
def lab():
    one = ganlab.lab(data="ring", seed=0)
    yield one
    one.close()


def test_import_ganlab_does_not_import_the_widgets():
    code = "import sys, ganlab; assert 'ipywidgets' not in sys.modules and 'anywidget' not in sys.modules; ganlab.lab"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lab_is_a_view_of_its_own_run(lab):
    assert isinstance(lab, Lab) and lab.run.snapshot().config.data == "ring"
    other = ganlab.lab(data="gaussian1d")
    try:
        assert other.run is not lab.run and other.run.config.data == "gaussian1d"
    finally:
        other.close()


def test_buttons_send_their_commands(lab):
    lab.buttons["Step"].click()
    assert until(lambda: lab.run.sync().step == 1)
    lab.controls["k"].value = 2
    assert lab.run.sync().config.k == 2
    lab.buttons["D step"].click()
    assert lab.run.sync().pending_d_steps == 1
    lab.buttons["D step"].click()
    lab.buttons["G step"].click()
    assert lab.run.sync().step == 2 and lab.run.snapshot().pending_d_steps == 0
    lab.play.value = True
    assert until(lambda: lab.run.sync().step > 20)
    lab.play.value = False
    assert not lab.run.sync().playing
    lab.buttons["New seed"].click()
    assert lab.run.sync().config.seed == 1 and lab.run.snapshot().step == 0
    lab.buttons["Reset"].click()
    assert lab.run.sync().step == 0


def test_in_place_settings_reach_the_run_while_it_plays(lab):
    lab.play.value = True
    lab.controls["k"].value = 3
    lab.controls["lr_g"].value = 2e-4
    cfg = lab.run.sync().config
    assert (cfg.k, cfg.lr_g) == (3, 2e-4) and lab.run.snapshot().playing
    assert lab.ask.layout.display == "none"


def test_the_widgets_follow_the_run(lab):
    lab._view_count = 1                           # as a page showing it would report
    lab.run.step(30).result()
    until(lambda: "<b>step 30</b>" in lab.header.value)
    assert points_in(lab.history) == 30 and len(lab.plane.data) >= 3
    lab.run.step(20).result()
    until(lambda: "<b>step 50</b>" in lab.header.value)
    assert points_in(lab.history) == 50
    lab.run.update(k=4).result()                  # a setting sent from a cell moves the slider
    until(lambda: lab.controls["k"].value == 4)


def test_a_lab_nobody_sees_does_not_read_its_run(lab):
    lab.run.step(10).result()
    time.sleep(1.2)                               # two of the idle thread's periods
    assert "<b>step 0</b>" in lab.header.value
    lab._view_count = 1
    until(lambda: "<b>step 10</b>" in lab.header.value)


def test_a_structural_change_asks_after_training(lab):
    lab.controls["latent_dim"].value = 3          # at step 0 nothing is lost: a new run at once
    assert lab.run.sync().config.latent_dim == 3 and lab.ask.layout.display == "none"
    lab.run.step(5).result()
    lab.controls["latent_dim"].value = 4
    assert lab.ask.layout.display == "flex" and "latent_dim: 3 → 4" in lab.ask_text.value
    assert lab.run.sync().config.latent_dim == 3 and lab.run.snapshot().step == 5
    lab.keep.click()
    assert lab.controls["latent_dim"].value == 3 and lab.ask.layout.display == "none"
    lab.controls["data"].value = "gaussian1d"
    assert "data: ring → gaussian1d" in lab.ask_text.value
    lab.confirm.click()
    snap = lab.run.sync()
    assert snap.config.data == "gaussian1d" and snap.step == 0


def test_an_image_run_draws_its_fixed_batch():
    one = ganlab.lab(data="digits", batch_size=32)
    try:
        one._view_count = 1
        one.run.step(2).result()
        until(lambda: "<b>step 2</b>" in one.header.value)
        assert one.view.children == (one.samples,) and bytes(one.samples.value).startswith(b"\x89PNG")
    finally:
        one.close()


def test_close_leaves_no_thread():
    before = set(threading.enumerate())
    one = ganlab.lab(data="ring")
    one._view_count = 1
    one.play.value = True
    until(lambda: one.run.sync().step > 0)
    one.close()
    assert not set(threading.enumerate()) - before          # neither the refresh thread nor the run's worker
    assert one.run.snapshot().state == "closed"


def test_explore_moves_along_the_path():
    ex = ganlab.explore(SHIPPED)
    first = ex.image.value
    assert bytes(first).startswith(b"\x89PNG") and ex.position.max == 11
    ex.position.value = 6
    assert ex.image.value != first
    strip = ex.strip.value
    ex.method.value = "lerp"
    assert ex.strip.value != strip
    ex.steps.value = 5
    assert ex.position.max == 4 and ex.position.value == 4
    assert "test image" in ex.ends["A"][0].options     # the shipped generator has an inference net


def test_explore_a_live_run_on_the_plane(lab):
    lab.run.step(20).result()
    ex = ganlab.explore(lab)
    assert ex.trainer.step_count == 20 and len(ex.plane.data) == 4
    before = ex.plane.data[3].x
    ex.position.value = 11
    assert ex.plane.data[3].x != before
