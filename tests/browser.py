"""A real `streamlit run app.py` server and headless Debian Chromium driven by Playwright.

Used by tests/test_browser.py and tests/test_classroom.py, to refresh the README screenshots and to
measure the live page:
    python tests/browser.py docs/screenshots
    python tests/browser.py --faded docs/bench/faded-charts.json
    python tests/browser.py --speed docs/bench/page-speed.json
    python tests/browser.py --classroom docs/bench/classroom.json
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
def app_server(env: dict | None = None, timeout: float = 90, with_process: bool = False):
    """Start the app on a free port; yield its URL (and the server's process, `with_process`); stop it."""
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
        yield (url, proc) if with_process else url
    finally:
        stop(proc, 10)


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """Ask a server to stop; kill it after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
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


def step_count(page, timeout_ms: int = 60_000) -> int:
    """The step counter the Train page shows ("step 1,234 · ..."), as soon as it shows one: a tab left
    unwatched past the idle timeouts has its run shelved, and the page says it is bringing the run back
    (no counter) until it is."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        found = page.wait_for_function("() => (document.body.innerText.match(/step ([0-9,]+) ·/) || [])[1]",
                                       timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"no step counter on the page within {timeout_ms / 1000:g} s") from None
    return int(found.json_value().replace(",", ""))


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    step_count(page, timeout_ms)


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Until the script has finished its run: no "Running" indicator, no element marked stale."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                           "!document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms)


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


FADED = """() => {
    const stale = document.querySelectorAll('[data-stale="true"]').length;
    const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
    const shown = charts.filter(el => el.checkVisibility());
    const faded = shown.filter(el => {
        for (let e = el; e; e = e.parentElement) if (parseFloat(getComputedStyle(e).opacity) < 1) return true;
        return false;
    }).length;
    return {stale, faded, charts: charts.length, hidden: charts.length - shown.length};
}"""


def faded_readings(page, readings: int = 20, every_ms: int = 500) -> list[dict]:
    """While Play runs: the elements Streamlit marks stale (an element a rerun under way has not
    re-sent yet), the charts a person sees greyed (drawn, with an opacity below 1, themselves or an
    ancestor), the chart elements on the page and how many of them are hidden (Streamlit keeps an old
    copy of a chart that a rerun placed anew, not rendered, until the rerun ends: it is in the page,
    not on the screen), and the step the header shows, sampled `readings` times `every_ms` apart."""
    counts = []
    for _ in range(readings):
        page.wait_for_timeout(every_ms)
        counts.append({**page.evaluate(FADED), "step": step_count(page)})
    return counts


def _machine() -> dict:
    import datetime

    from ganlab.devices import cpu_model

    return {"machine": f"{cpu_model()}, {os.cpu_count()} cores", "date": datetime.date.today().isoformat()}


def readings_while_playing(browser, url: str, data: str, errors: list | None = None) -> list[dict]:
    """Open the Train page on `data` in a tab of its own, Play, and take `faded_readings` after 3 s of
    play; page errors go into `errors`."""
    page = browser.new_context(viewport={"width": 1500, "height": 1300}).new_page()
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + f"/?data={data}")
    wait_for_app(page)
    toggle_play(page)
    page.wait_for_timeout(3000)
    readings = faded_readings(page)
    readings.append(settled_reading(page))
    toggle_play(page)
    page.context.close()
    return readings


def settled_reading(page, seconds: float = 10) -> dict:
    """A reading taken between two reruns: the first within `seconds` with no element marked stale.
    A reading caught mid-rerun shows the old chart beside the new one; a pile-up would show in this
    one too."""
    deadline = time.monotonic() + seconds
    while True:
        reading = {**page.evaluate(FADED), "step": step_count(page), "settled": True}
        if reading["stale"] == 0 or time.monotonic() > deadline:
            return reading
        page.wait_for_timeout(100)


def faded_record(out: Path, datasets=("ring", "gaussian1d", "digits")) -> dict:
    """`faded_readings` while Play runs on each dataset, one tab at a time."""
    import json

    record = {"what": "elements marked stale, charts seen greyed and hidden chart copies while Play runs, "
                      "20 readings 0.5 s apart and one settled",
              "command": f"python tests/browser.py --faded {out}", **_machine(), "runs": {}}
    with app_server() as url, chromium() as browser:
        for data in datasets:
            readings = readings_while_playing(browser, url, data)
            record["runs"][data] = {"readings": readings,
                                    "readings_with_a_faded_chart": sum(1 for r in readings if r["faded"]),
                                    "readings_with_a_stale_element": sum(1 for r in readings if r["stale"]),
                                    "readings_with_a_hidden_chart_copy": sum(1 for r in readings if r["hidden"]),
                                    "most_charts": max(r["charts"] for r in readings)}
    out.write_text(json.dumps(record, indent=1))
    return record


def rate_in_page(page, seconds: float) -> float:
    """Iterations per second of the tab's run over `seconds`, read from the header's step counter."""
    s0, t0 = step_count(page), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    return (step_count(page) - s0) / (time.monotonic() - t0)


def rate_headless(data: str, seconds: float) -> float:
    """The same run with no page: a `Run` playing in a process of its own, read without drawing."""
    code = (f"import time; from ganlab import Config, Trainer; from ganlab.run import Run\n"
            f"r = Run(Trainer(Config(data={data!r}), device='cpu')); r.play(); time.sleep(3)\n"
            f"s0, t0 = r.snapshot().step, time.monotonic(); time.sleep({seconds}); r.snapshot(); time.sleep(0.3)\n"
            f"print((r.snapshot().step - s0) / (time.monotonic() - t0)); r.close()")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def speed_record(out: Path, data: str = "ring", seconds: float = 20, rounds: int = 5) -> dict:
    """The run's rate with the Train page open and drawing, against the same run with no page, in
    alternating rounds; the browser shares the machine, as a person's would on a laptop."""
    import json
    import statistics

    rounds_out = []
    with app_server() as url, chromium() as browser:
        for _ in range(rounds):
            alone = rate_headless(data, seconds)
            page = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
            page.goto(url + f"/?data={data}")
            wait_for_app(page)
            toggle_play(page)
            page.wait_for_timeout(3000)
            shown = rate_in_page(page, seconds)
            toggle_play(page)
            page.context.close()
            rounds_out.append({"no_page_it_s": round(alone, 1), "page_open_it_s": round(shown, 1),
                               "ratio": round(shown / alone, 3)})
    record = {"what": f"iterations/s of a {data} run with the Train page open and drawing, over the same run "
                      f"with no page ({seconds:g} s each, alternating)", "command": f"python tests/browser.py --speed {out}",
              **_machine(), "rounds": rounds_out, "median_ratio": statistics.median(r["ratio"] for r in rounds_out)}
    out.write_text(json.dumps(record, indent=1))
    return record


def server_line(page) -> dict:
    """The sidebar's line about the server: runs, memory they hold, and the budget."""
    match = re.search(r"This server: ([0-9]+) runs?, holding about ([0-9.]+ \w+)", page.inner_text("body"))
    assert match, "no server line in the sidebar"
    return {"runs": int(match[1]), "held": match[2]}


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def classroom(browser, url: str, pid: int, datasets: list[str], seconds: float = 60) -> dict:
    """`len(datasets)` tabs, each its own browser context, Play at once for `seconds`: each tab's
    rate from its header, the server's memory, and errors seen. With short idle timeouts the first tabs
    may sit unwatched long enough, while the others load, to have their runs shelved: Play brings them
    back, and their rates count from when they show a step again."""
    errors, pages = [], []
    for data in datasets:
        page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + f"/?data={data}")
        wait_for_app(page, timeout_ms=120_000)
        pages.append(page)
    for page in pages:
        toggle_play(page)
    pages[0].wait_for_timeout(5000)
    start = [(step_count(p), time.monotonic()) for p in pages]
    peak = rss_mb(pid)
    for _ in range(int(seconds // 5)):
        pages[0].wait_for_timeout(5000)
        peak = max(peak, rss_mb(pid))
    rates = [(step_count(p) - s0) / (time.monotonic() - t0) for p, (s0, t0) in zip(pages, start)]
    exceptions = sum(p.locator(".stException").count() for p in pages)
    for page in pages:
        page.context.close()
    total = sum(rates)
    return {"tabs": datasets, "rates_it_s": [round(r, 1) for r in rates], "total_it_s": round(total, 1),
            "slowest_over_fair_share": round(min(rates) / (total / len(rates)), 3) if total else 0.0,
            "server_rss_peak_mb": round(peak), "page_errors": errors, "exceptions": exceptions}


# Short enough that closed tabs' runs are freed within the test, long enough that a tab the loaded
# machine refreshes late (every 4 s with eight runs on two cores, later when the browser lags) is not
# taken for a closed one.
CLASSROOM_ENV = {"GANLAB_IDLE_PAUSE_S": "20", "GANLAB_IDLE_FREE_S": "30"}
MIXED = ["ring", "grid", "gaussian1d", "digits"] * 2


def classroom_record(out: Path, seconds: float = 60) -> dict:
    """One tab alone, then eight tabs mixed, then eight on `ring`; then whether the closed tabs' runs
    were freed (idle timeouts set short)."""
    import json

    with app_server(CLASSROOM_ENV, with_process=True) as (url, proc), chromium() as browser:
        settle = float(CLASSROOM_ENV["GANLAB_IDLE_FREE_S"]) + 10   # closed tabs' runs play on until they idle
        alone = classroom(browser, url, proc.pid, ["ring"], seconds=20)
        time.sleep(settle)
        mixed = classroom(browser, url, proc.pid, MIXED, seconds)
        time.sleep(settle)
        ring = classroom(browser, url, proc.pid, ["ring"] * 8, seconds)
        time.sleep(settle)                              # past the idle timeouts: every closed tab's run freed
        page = browser.new_context().new_page()
        page.goto(url)
        wait_for_app(page)
        after = {**server_line(page), "server_rss_mb": round(rss_mb(proc.pid))}
        page.context.close()
    for result in (mixed, ring):
        result["total_over_one_run_alone"] = round(result["total_it_s"] / alone["total_it_s"], 3)
    record = {"what": "eight browser contexts playing at once on one server, each its own run, for "
                      f"{seconds:g} s; rates read from each tab's header", "command": f"python tests/browser.py --classroom {out}",
              **_machine(), "environment": CLASSROOM_ENV, "one_tab_alone": alone, "eight_mixed": mixed,
              "eight_ring": ring, "after_closing_them": after}
    out.write_text(json.dumps(record, indent=1))
    return record


if __name__ == "__main__":
    if sys.argv[1:2] == ["--faded"]:
        print(faded_record(Path(sys.argv[2])))
    elif sys.argv[1:2] == ["--speed"]:
        print(speed_record(Path(sys.argv[2])))
    elif sys.argv[1:2] == ["--classroom"]:
        print(classroom_record(Path(sys.argv[2])))
    else:
        screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
