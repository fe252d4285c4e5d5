"""End to end in a real browser: the README's `streamlit run app.py`, headless Chromium, Play."""

import importlib.util
import os
from pathlib import Path

import pytest

from browser import CHROMIUM, app_server, chromium, step_count, toggle_play, wait_for_app

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
