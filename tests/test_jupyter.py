"""The notebook widgets in the real front ends: JupyterLab and Voilà from PyPI, each on a free local
port with a token made here, driven by Playwright through Debian's Chromium (never a downloaded one).

Slow tier (`-m slow`). Opens notebooks/00_start_here.ipynb (a copy, so outputs are never saved into
the repository), runs every cell, presses the lab's Play and checks that the step counter and the
points of the loss chart grow, that moving k while it plays reaches the run, and that moving the
explorer's path slider changes G(z); no error in the browser's console or the kernel's output.
With GANLAB_SCREENSHOTS set, the lab and the explorer are saved there as jupyter-lab.png and
jupyter-explore.png.

Also the page-speed measure (not a test): the same ring run's rate with its JupyterLab page open and
playing, against the run alone in a Python process, rounds alternating:
    python tests/test_jupyter.py --speed docs/bench/jupyter-page-speed-zen5.json
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import chromium, free_port, stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "notebooks" / "00_start_here.ipynb"
STEP = re.compile(r"step ([0-9,]+) ·")
# The points of the lab's loss chart, read from Plotly's own graph div in the page.
LOSS_POINTS = """() => { const gd = document.querySelector('.ganlab-history.js-plotly-plot, .ganlab-history .js-plotly-plot');
    const t = gd && gd.data && gd.data.find(t => t.name === 'D loss'); return t && t.x ? t.x.length : 0; }"""


@contextlib.contextmanager
def jupyter(kind: str, notebook: Path, timeout: float = 120):
    """Start JupyterLab (kind "lab", its root the notebook's folder) or Voilà (kind "voila", serving
    the notebook) on 127.0.0.1; yield the page's URL; stop the server, whatever happens."""
    port, token = free_port(), secrets.token_hex(16)
    home = Path(tempfile.mkdtemp(prefix="ganlab-jupyter-"))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    if kind == "lab":
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebook.parent}", "--allow-root",
               "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        url = f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token={token}"
    else:
        cmd = [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               f"--token={token}"]
        url = f"http://127.0.0.1:{port}/?token={token}"
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(cmd, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except urllib.error.HTTPError:            # it answers (Voilà has no status API): it is up
                break
            except OSError:                           # refused until it listens
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} did not start: {(home / 'server.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        stop(proc, 15)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def open_page(browser, url: str):
    """A page at `url` that records the console's errors and uncaught exceptions in `page.errors`."""
    page = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
    page.errors, page.offsite = [], []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("requestfailed", lambda request: not request.url.startswith("http://127.0.0.1")
            and page.offsite.append(request.url))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    return page


def run_all_cells(page) -> None:
    """JupyterLab's Run > Run All Cells, once the notebook's kernel is idle (tried again until a cell
    shows it started: a menu opened while the page still lays out can close unclicked)."""
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    page.get_by_text("| Idle").first.wait_for(timeout=60_000)
    with contextlib.suppress(Exception):          # JupyterLab's question about news, in the way of clicks
        page.locator(".jp-Notification-Toast-Close, .jp-toast-button", has_text="No").first.click(timeout=3000)
    for _ in range(5):
        page.keyboard.press("Escape")
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).first.click()
        with contextlib.suppress(Exception):
            page.wait_for_function(STARTED, timeout=15_000)
            return
    raise AssertionError("Run All Cells did not start the notebook")


STARTED = """() => [...document.querySelectorAll('.jp-InputPrompt')].some(e => /\\[[0-9*]+\\]/.test(e.innerText))"""


def step_of(page) -> int:
    return int(STEP.search(page.locator(".ganlab-lab .ganlab-step").inner_text())[1].replace(",", ""))


def header(page) -> str:
    return page.locator(".ganlab-lab .ganlab-step").inner_text()


def kernel_errors(page) -> list[str]:
    """Tracebacks and errors in the cells' outputs (JupyterLab and Voilà both render them as text)."""
    texts = page.locator(".jp-OutputArea-output").all_inner_texts()
    return [t for t in texts if "Traceback" in t or "Error" in t]


def drive(page, shots: Path | None) -> None:
    """Play, watch it grow, move k while it plays, move along the explorer's path."""
    page.wait_for_selector(".ganlab-lab .ganlab-step", timeout=120_000)
    page.wait_for_selector(".ganlab-explore img.ganlab-gz", timeout=120_000)
    page.locator(".ganlab-lab .widget-toggle-button", has_text="Play").click()
    page.wait_for_function("() => /step [1-9][0-9,]* ·/.test(document.querySelector('.ganlab-lab .ganlab-step').innerText)",
                           timeout=60_000)
    page.wait_for_function(f"() => ({LOSS_POINTS})() > 0", timeout=30_000)
    first, points = step_of(page), page.evaluate(LOSS_POINTS)
    page.wait_for_timeout(4000)
    assert step_of(page) > first and page.evaluate(LOSS_POINTS) > points
    k = int(re.search(r"k=(\d+)", header(page))[1])
    handle = page.locator(".ganlab-lab .ganlab-k .noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('.ganlab-lab .ganlab-step').innerText.includes('k={k + 1} ')",
                           timeout=20_000)
    playing = step_of(page)
    page.wait_for_timeout(2500)
    assert step_of(page) > playing, "the run stopped when k moved"
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
        page.locator(".ganlab-lab").screenshot(path=str(shots / "jupyter-lab.png"))
    image = page.locator(".ganlab-explore img.ganlab-gz")
    image.scroll_into_view_if_needed()
    before = image.get_attribute("src")
    position = page.locator(".ganlab-explore .ganlab-position .noUi-handle")
    position.focus()
    for _ in range(4):
        position.press("ArrowRight")
    page.wait_for_function("(before) => document.querySelector('.ganlab-explore img.ganlab-gz').src !== before",
                           arg=before, timeout=20_000)
    if shots:
        page.wait_for_timeout(500)
        page.locator(".ganlab-explore").screenshot(path=str(shots / "jupyter-explore.png"))
    page.locator(".ganlab-lab .widget-toggle-button", has_text="Pause").click()
    # The lab's and the explorer's charts share one compiled copy of Plotly's widget code (compiled
    # once per chart, the later charts ran past anywidget's 2-s start on a busy machine).
    assert page.evaluate("() => Object.keys(globalThis.__ganlab || {}).length") == 1
    assert not kernel_errors(page), kernel_errors(page)
    assert not own_errors(page), (own_errors(page), page.offsite)


def own_errors(page) -> list[str]:
    """The console's errors less the failed loads of files from other hosts (Voilà's page asks a CDN
    for some; on a closed network they fail, and the page works without them)."""
    offsite = len(page.offsite)
    errors = []
    for text in page.errors:
        if offsite and text.startswith("Failed to load resource: net::ERR_NAME_NOT_RESOLVED"):
            offsite -= 1
        else:
            errors.append(text)
    return errors


def notebook_copy(tmp_path: Path) -> Path:
    target = tmp_path / "notebooks" / START.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(START, target)
    return target


@pytest.mark.slow
def test_the_start_notebook_in_jupyterlab(tmp_path):
    shots = Path(os.environ["GANLAB_SCREENSHOTS"]) if os.environ.get("GANLAB_SCREENSHOTS") else None
    with jupyter("lab", notebook_copy(tmp_path)) as url, chromium() as browser:
        page = open_page(browser, url)
        try:
            run_all_cells(page)
            drive(page, shots)
        except Exception:
            page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
            raise


@pytest.mark.slow
def test_the_start_notebook_in_voila(tmp_path):
    with jupyter("voila", notebook_copy(tmp_path)) as url, chromium() as browser:
        page = open_page(browser, url)
        try:
            drive(page, None)
        except Exception:
            page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
            raise


# ------------------------------------------------------------------ the page-speed measure
BENCH_CELL = 'import ganlab\nlab = ganlab.lab(data="ring", seed=0)\nlab'
HEADLESS = """
import sys, time
from ganlab import Trainer, make_config
from ganlab.run import Run
run = Run(Trainer(make_config(data="ring", seed=0), device="cpu"))
run.play()
def mark():
    v = run.snapshot().version
    while run.snapshot().version == v:
        time.sleep(0.02)
    return time.monotonic(), run.snapshot().step
time.sleep(float(sys.argv[1]))
t0, s0 = mark()
while time.monotonic() < t0 + float(sys.argv[2]):
    time.sleep(0.5); run.snapshot()            # a reader, as a page is: the run does not idle-pause
t1, s1 = mark()
print((s1 - s0) / (t1 - t0))
run.close()
"""


def page_rate(browser, url: str, warm: float, seconds: float) -> float:
    """The lab's run's iterations/s read off its page: the header's step where it changes, `seconds` apart."""
    page = open_page(browser, url)
    run_all_cells(page)
    page.wait_for_selector(".ganlab-lab .ganlab-step", timeout=120_000)
    page.locator(".ganlab-lab .widget-toggle-button", has_text="Play").click()
    page.wait_for_timeout(warm * 1000)

    def mark():
        shown = step_of(page)
        while step_of(page) == shown:
            page.wait_for_timeout(20)
        return time.monotonic(), step_of(page)
    t0, s0 = mark()
    page.wait_for_timeout(seconds * 1000)
    t1, s1 = mark()
    page.locator(".ganlab-lab .widget-toggle-button", has_text="Pause").click()
    page.locator(".lm-MenuBar-item", has_text="Kernel").first.click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Shut Down Kernel")).first.click()
    page.wait_for_timeout(1500)
    page.context.close()
    return (s1 - s0) / (t1 - t0)


def quiet(below: float = 0.8) -> float:
    """Wait until the machine's 1-minute load is under `below` (others share the cores); return it."""
    while (load := float(Path("/proc/loadavg").read_text().split()[0])) >= below:
        time.sleep(10)
    return load


def measure_speed(out: Path, rounds: int = 3, warm: float = 6.0, seconds: float = 20.0) -> dict:
    """Rounds of (the run alone, the run with its page), each half started on a quiet machine; the
    record is rewritten after every round, so a measure cut short keeps the rounds it finished."""
    import nbformat
    import torch

    root = Path(tempfile.mkdtemp(prefix="ganlab-bench-"))
    records = []
    result = {
        "what": "a ring run (mlp, k=1, m=256, seed 0) playing with its JupyterLab page open (ganlab.lab, Chromium "
                "headless, the page's step counter read where it changes) against the same run in a Python "
                "process with no page, rounds alternating, each half started when the 1-minute load was under 0.8; "
                "the target is a ratio of at least 0.85",
        "command": "python tests/test_jupyter.py --speed docs/bench/jupyter-page-speed-zen5.json",
        "machine": f"2-core AMD EPYC (family 26), torch {torch.__version__.split('+')[0]} CPU",
        "date": "2026-12-04",
        "seconds_per_reading": seconds, "warmup_s": warm,
    }
    with chromium() as browser:
        for i in range(rounds):
            load_headless = quiet()
            headless = float(subprocess.run([sys.executable, "-c", HEADLESS, str(warm), str(seconds)], cwd=ROOT,
                                            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
            book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BENCH_CELL)])
            book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            path = root / f"round{i}.ipynb"
            nbformat.write(book, path)
            load_page = quiet()
            with jupyter("lab", path) as url:
                page = page_rate(browser, url, warm, seconds)
            records.append({"round": i + 1, "headless_its": round(headless, 1), "page_its": round(page, 1),
                            "ratio": round(page / headless, 3), "load_1min_before_headless": load_headless,
                            "load_1min_before_page": load_page})
            print(records[-1], flush=True)
            ratios = sorted(r["ratio"] for r in records)
            result.update(rounds=records, median_ratio=ratios[len(ratios) // 2], min_ratio=ratios[0],
                          max_ratio=ratios[-1], target_met=ratios[len(ratios) // 2] >= 0.85)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(root, ignore_errors=True)
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--speed":
        print(json.dumps(measure_speed(Path(sys.argv[2])), indent=2))
    else:
        sys.exit(__doc__)
