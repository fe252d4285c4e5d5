"""End to end in a real browser: the README's `streamlit run app.py`, headless Chromium, Play."""

import importlib.util
import os
from pathlib import Path

import pytest

from browser import CHROMIUM, app_server, chromium, step_count, toggle_play, wait_for_app, wait_until_idle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="needs playwright (pip install playwright)"),
]


def test_play_trains_in_the_browser_and_two_tabs_are_two_runs(tmp_path):
    shots = Path(os.environ.get("GANLAB_SCREENSHOTS", tmp_path))
    with app_server({"GANLAB_CHECKPOINTS": str(tmp_path)}) as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        wait_for_app(page)
        assert step_count(page) == 0
        assert page.locator(".stException").count() == 0

        toggle_play(page)
        page.wait_for_function("() => /step [1-9]/.test(document.body.innerText)", timeout=30_000)
        page.wait_for_function("() => /it\\/s/.test(document.body.innerText)", timeout=30_000)
        first = step_count(page)
        page.wait_for_function(f"() => {{ const m = document.body.innerText.match(/step ([0-9,]+)/);"
                               f" return m && parseInt(m[1].replace(/,/g, '')) > {first}; }}", timeout=30_000)
        page.screenshot(path=str(shots / "browser-train.png"), full_page=True)

        other = browser.new_context().new_page()          # a second tab: its own session, its own run
        other.goto(url)
        wait_for_app(other)
        assert step_count(other) == 0

        toggle_play(page)                                  # pause; a refresh already in flight may land
        readings = [step_count(page)]
        for _ in range(10):
            page.wait_for_timeout(2500)                    # longer than a refresh period plus its slice
            readings.append(step_count(page))
            if readings[-1] == readings[-2]:
                break
        paused = readings[-1]
        page.wait_for_timeout(3000)                        # two refresh periods: nothing may move now
        assert step_count(page) == paused > first, readings
        assert page.locator(".stException").count() == 0 and not errors


def test_a_drawn_digit_and_an_uploaded_photo_become_endpoints_of_a_walk(tmp_path):
    """The latent explorer's real-image endpoints in a real browser: strokes on the canvas, a PNG upload."""
    from PIL import Image, ImageDraw

    from ganlab import Trainer, make_config
    from ganlab.inference import train_encoder

    t = Trainer(make_config(data="digits", seed=0), device="cpu")
    t.step(20)
    train_encoder(t, 20, progress=False)
    t.save(tmp_path / "digits-e.pt")
    photo = Image.new("RGB", (300, 400), "white")
    ImageDraw.Draw(photo).line([(150, 50), (150, 350)], fill="black", width=25)
    photo.save(tmp_path / "one.png")
    with app_server({"GANLAB_CHECKPOINTS": str(tmp_path)}) as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/latent")
        page.get_by_text("A checkpoint in checkpoints/").click()
        page.get_by_text("Endpoint A", exact=True).wait_for(timeout=60_000)
        page.get_by_role("radiogroup", name="Endpoint A").get_by_text("Drawing").click()
        canvas = page.locator("canvas").last
        canvas.wait_for(timeout=30_000)
        box = canvas.bounding_box()
        middle = box["x"] + box["width"] / 2
        page.mouse.move(middle, box["y"] + 30)
        page.wait_for_timeout(200)                    # the canvas takes pointer events once it is drawn
        page.mouse.down()
        page.mouse.move(middle, box["y"] + box["height"] - 30, steps=20)    # a stroke: many small moves
        page.mouse.up()
        page.get_by_text("mean squared pixel error").first.wait_for(timeout=60_000)
        page.get_by_role("radiogroup", name="Endpoint B").get_by_text("Upload").click()
        page.locator("input[type=file]").last.set_input_files(str(tmp_path / "one.png"))
        page.wait_for_function("() => (document.body.innerText.match(/mean squared pixel error/g) || []).length >= 2",
                               timeout=60_000)
        page.get_by_text("your drawing to your upload").first.wait_for(timeout=30_000)
        assert page.locator(".stException").count() == 0 and not errors


def play_until(page, steps: int, timeout_s: float = 90) -> None:
    """Play until the header's step counter reaches `steps`, then pause and let the last refresh land."""
    toggle_play(page)
    for _ in range(int(timeout_s * 2)):
        page.wait_for_timeout(500)
        if step_count(page) >= steps:
            break
    toggle_play(page)
    page.wait_for_timeout(2500)
    assert step_count(page) >= steps


def test_slow_motion_a_pinned_run_and_drawn_points_in_the_browser(tmp_path):
    """The views beyond GAN Lab's, driven as a person would: a D step and a G step alone, a pinned run
    beside a new one, and a data set clicked onto the plane, trained on."""
    shots = Path(os.environ.get("GANLAB_SCREENSHOTS", tmp_path))
    with app_server({"GANLAB_CHECKPOINTS": str(tmp_path)}) as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1500, "height": 1300}).new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/?data=ring")
        wait_for_app(page)
        page.get_by_text("G's push", exact=True).click()
        for _ in range(3):
            page.get_by_role("button", name="Step", exact=True).click()
            page.wait_for_timeout(400)
        page.get_by_role("button", name="D step", exact=True).click()
        page.get_by_text("Slow motion: one D step", exact=True).wait_for(timeout=30_000)
        page.get_by_text("the change").first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "slow-motion-d-step.png"), full_page=True)
        page.get_by_role("button", name="G step", exact=True).click()
        page.get_by_text("Slow motion: one G step", exact=True).wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "slow-motion-g-step.png"), full_page=True)

        play_until(page, 200)                               # some training, then a pin and a new seed
        page.get_by_role("button", name="Pin this run").click()
        page.get_by_role("button", name="New seed").click()
        page.get_by_text("pin 1: seed 0").first.wait_for(timeout=30_000)
        play_until(page, 200)
        page.get_by_text("Runs side by side").wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "compare-runs.png"), full_page=True)

        page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
        page.get_by_role("option").filter(has_text="my own points").click()
        canvas = page.locator("canvas").last
        canvas.wait_for(timeout=30_000)
        page.wait_for_timeout(500)                          # the canvas takes pointer events once it is drawn
        box = canvas.bounding_box()
        for i in range(12):                                 # two clusters: a small data set of one's own
            cx, cy = (0.3, 0.3) if i % 2 else (0.7, 0.65)
            page.mouse.click(box["x"] + box["width"] * (cx + 0.02 * (i % 3)),
                             box["y"] + box["height"] * (cy + 0.02 * (i % 4)))
            page.wait_for_timeout(300)
        page.get_by_text("12 points drawn").wait_for(timeout=30_000)
        page.get_by_role("button", name="Train on these points").click()
        page.wait_for_function("() => /step 0 · mlp on points/.test(document.body.innerText)", timeout=30_000)
        play_until(page, 200)
        page.screenshot(path=str(shots / "drawn-points.png"), full_page=True)
        assert page.locator(".stException").count() == 0 and not errors


def test_the_explorer_steers_the_shipped_generator_along_named_directions(tmp_path):
    """The Steer tab as a person uses it: the ink slider moved with the keyboard, the class kept."""
    shots = Path(os.environ.get("GANLAB_SCREENSHOTS", tmp_path))
    with app_server() as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/latent")
        page.get_by_role("tab", name="Steer (directions in z)").click()
        page.get_by_text("keep class").wait_for(timeout=60_000)
        page.get_by_text("keep class").click()
        thumb = page.locator("[data-testid='stSlider']").filter(has_text="ink").get_by_role("slider")
        thumb.focus()
        for _ in range(8):                                  # +2 prior standard deviations, a quarter a key
            page.keyboard.press("ArrowRight")
        page.get_by_text("moved: ink +2").wait_for(timeout=60_000)
        page.get_by_text("ink: −3 to +3 standard deviations").first.wait_for(timeout=30_000)
        wait_until_idle(page)
        page.screenshot(path=str(shots / "steer.png"), full_page=True)
        assert page.locator(".stException").count() == 0 and not errors
