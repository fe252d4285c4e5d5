"""The Studies page in a real browser: a study made by `python -m ganlab study run` opens from the
sidebar with its table and its three figures, and "Open in the Train page" makes the best trial the
live run there (its step counter shows the trial's iterations)."""

import importlib.util
import os
from pathlib import Path

import pytest

from browser import CHROMIUM, app_server, chromium, step_count, wait_for_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="needs playwright (pip install playwright)"),
    pytest.mark.skipif(importlib.util.find_spec("optuna") is None, reason="studies need optuna (requirements.txt)"),
]

STEPS = 40


def test_the_studies_page_opens_a_study_and_a_trial(tmp_path, monkeypatch):
    from ganlab.cli import main

    studies = tmp_path / "studies"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANLAB_STUDIES", str(studies))
    assert main(["study", "run", "browser", "--data", "ring", "--trials", "3", "--steps", str(STEPS),
                 "--sampler", "random", "--space", "lr_g=1e-4..1e-2:log loss=nonsat|hinge"]) == 0
    shots = Path(os.environ.get("GANLAB_SCREENSHOTS", tmp_path))
    with app_server({"GANLAB_STUDIES": str(studies), "GANLAB_CHECKPOINTS": str(tmp_path)}) as url, \
            chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        wait_for_app(page)
        page.get_by_role("link", name="Studies").click()
        page.wait_for_function("() => /metric high_quality/.test(document.body.innerText)", timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
        assert page.locator(".stException").count() == 0
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)    # drawn after the charts
        assert page.locator("[data-testid='stDataFrame']").count() == 1
        assert page.locator(".js-plotly-plot .parcoords").count() >= 1       # the parallel coordinates
        page.screenshot(path=str(shots / "browser-studies.png"), full_page=True)

        page.get_by_role("button", name="Open in the Train page").click()
        wait_for_app(page)
        page.wait_for_function(f"() => /step {STEPS} ·/.test(document.body.innerText)", timeout=60_000)
        assert step_count(page) == STEPS
        assert page.locator(".stException").count() == 0
        assert not errors, errors
