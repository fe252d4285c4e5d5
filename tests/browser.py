"""A real `streamlit run app.py` server and headless Debian Chromium driven by Playwright.

Used by tests/test_browser.py, and to refresh the README screenshots:
    python tests/browser.py docs/screenshots
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(env: dict | None = None, timeout: float = 90):
    """Start the app on a free port; yield its URL; stop it."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):           # refused until the server listens
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def step_count(page) -> int:
    """The step counter the Train page shows ("step 1,234 · ...")."""
    match = re.search(r"step ([0-9,]+) ·", page.inner_text("body"))
    assert match, "no step counter on the page"
    return int(match[1].replace(",", ""))


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_function("() => /step [0-9,]+ ·/.test(document.body.innerText)", timeout=timeout_ms)


def toggle_play(page) -> None:
    page.locator(".stCheckbox").filter(has_text="Play").first.click()


def screenshots(out: Path) -> None:
    """The README's screenshots: each main view after some live training."""
    out.mkdir(parents=True, exist_ok=True)
    views = [("train-ring", "/?data=ring", 12), ("train-1d", "/?data=gaussian1d", 10),
             ("train-digits", "/?data=digits", 12)]
    with app_server() as url, chromium() as browser:
        for name, query, seconds in views:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url + query)
            wait_for_app(page)
            toggle_play(page)
            page.wait_for_timeout(seconds * 1000)
            toggle_play(page)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            page.close()
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(url + "/latent")
        page.get_by_text("A checkpoint in checkpoints/").click()
        page.get_by_text("Latent explorer").first.wait_for()
        page.wait_for_timeout(4000)
        page.screenshot(path=str(out / "latent-explorer.png"), full_page=True)


def refresh_split(out: Path, readings: int = 20) -> dict:
    """The share of each refresh spent training on `ring` with G's push and G's manifold drawn, as the
    header reports it, over `readings` refreshes of Play (the first two, warming up, left out)."""
    import datetime
    import json
    import statistics

    from ganlab.devices import cpu_model

    shares = []
    with app_server() as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(url + "/?data=ring")
        wait_for_app(page)
        for label in ("G's push on its samples", "G's manifold"):
            page.locator(".stCheckbox").filter(has_text=label).first.click()
            page.wait_for_timeout(1500)
        toggle_play(page)
        seen = None
        while len(shares) < readings + 2:
            page.wait_for_timeout(500)
            match = re.search(r"step ([0-9,]+) ·.*?([0-9,]+) it/s · refresh: ([0-9]+)% training", page.inner_text("body"))
            if match and match[1] != seen:
                seen = match[1]
                shares.append({"step": int(match[1].replace(",", "")), "it_s": int(match[2].replace(",", "")),
                                "training_percent": int(match[3])})
        toggle_play(page)
    kept = shares[2:]
    record = {"what": "share of each Play refresh spent training on ring, G's push and G's manifold on",
              "command": f"python tests/browser.py --split {out}", "machine": cpu_model(),
              "date": datetime.date.today().isoformat(), "readings": kept,
              "median_training_percent": statistics.median(r["training_percent"] for r in kept),
              "min_training_percent": min(r["training_percent"] for r in kept)}
    out.write_text(json.dumps(record, indent=1))
    return record


FADED = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    .filter(el => parseFloat(getComputedStyle(el.closest('[data-stale]') || el).opacity) < 0.9).length"""


def faded_readings(page, readings: int = 16, every_ms: int = 450) -> list[int]:
    """While Play runs: how many charts are drawn faded (Streamlit greys an element it has not re-sent
    in a rerun still under way), sampled `readings` times `every_ms` apart."""
    counts = []
    for _ in range(readings):
        page.wait_for_timeout(every_ms)
        counts.append(page.evaluate(FADED))
    return counts


def faded_record(out: Path) -> dict:
    """`faded_readings` while Play runs on `ring`."""
    import datetime
    import json

    from ganlab.devices import cpu_model

    with app_server() as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1500, "height": 1300}).new_page()
        page.goto(url + "/?data=ring")
        wait_for_app(page)
        toggle_play(page)
        page.wait_for_timeout(3000)
        readings = faded_readings(page)
        toggle_play(page)
    record = {"what": "charts drawn faded (stale) while Play runs on ring, sampled 16 times 0.45 s apart",
              "command": f"python tests/browser.py --faded {out}", "machine": cpu_model(),
              "date": datetime.date.today().isoformat(), "ring": readings,
              "readings_with_a_faded_chart": sum(1 for r in readings if r)}
    out.write_text(json.dumps(record, indent=1))
    return record


if __name__ == "__main__":
    if sys.argv[1:2] == ["--split"]:
        print(refresh_split(Path(sys.argv[2])))
    elif sys.argv[1:2] == ["--faded"]:
        print(faded_record(Path(sys.argv[2])))
    else:
        screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
