"""Studies with several workers, one of them SIGKILLed in the middle of a trial: on the default SQLite
file (`--workers 2` in one command) and on a throwaway PostgreSQL server (two commands, as two
machines would run them). The study still ends with every trial finished and none running, the
killed trial failed and retried once with its settings, no trial run twice, and every finished
trial's checkpoint loading.

Slow tier. The PostgreSQL test needs Debian's `postgresql` package (`.ci/run` installs it; this file
installs nothing) and skips, saying so, where `initdb` is absent.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="studies need optuna (requirements.txt)")

from ganlab.trainer import Trainer  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TRIALS, STEPS = 12, 600
SPACE = "lr_g=1e-4..1e-2:log lr_d=1e-4..1e-2:log k=1..2 loss=nonsat|hinge"


def study_command(name: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ganlab", "study", "run", name, "--data", "ring", "--trials", str(TRIALS),
            "--steps", str(STEPS), "--space", SPACE, "--sampler", "random", "--heartbeat", "1", *extra]


def start(cmd: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GANLAB_STUDIES": str(cwd / "studies")}
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def storage_of(url: str):
    from ganlab.study import open_storage

    return open_storage(url, heartbeat=1)


def kill_mid_trial(url: str, name: str, pids: set[int], timeout: float = 300) -> int:
    """SIGKILL the first of `pids` seen running a trial for 0.3 s; the killed trial's number."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name=name, storage=storage_of(url))
        except KeyError:                              # not created yet
            time.sleep(0.2)
            continue
        for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
            pid = int(str(t.user_attrs.get("worker", ":0")).rsplit(":", 1)[1])
            if pid in pids and t.number >= 1:        # a trial in: the other worker has work left
                time.sleep(0.3)
                os.kill(pid, signal.SIGKILL)
                return t.number
        time.sleep(0.1)
    raise AssertionError("no worker was seen running a trial")


def check_study(url: str, name: str, folder: Path, killed: int) -> None:
    study = optuna.load_study(study_name=name, storage=storage_of(url))
    trials = study.get_trials()
    by_state = {s: [t for t in trials if t.state == s] for s in optuna.trial.TrialState}
    done = by_state[optuna.trial.TrialState.COMPLETE]
    assert len(done) >= TRIALS and not by_state[optuna.trial.TrialState.RUNNING]
    assert [t.number for t in by_state[optuna.trial.TrialState.FAIL]] == [killed]
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert retries[0].params == trials[killed].params                    # retried with its settings
    starts = [line.split()[1] for line in (folder / "trials.log").read_text().splitlines() if line.startswith("start")]
    assert len(starts) == len(set(starts)) == len(trials) - len(by_state[optuna.trial.TrialState.WAITING])
    assert not (folder / f"trial-{killed}.pt").exists()
    for t in done:
        trainer = Trainer.load(t.user_attrs["checkpoint"], device="cpu")
        assert trainer.step_count == STEPS and trainer.config.loss == t.params["loss"]


def test_sqlite_two_workers_one_killed_mid_trial(tmp_path):
    url = f"sqlite:///{tmp_path / 'studies' / 'killed.db'}"
    proc = start(study_command("killed", "--workers", "2"), tmp_path)
    try:
        children = {int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()} \
            if Path(f"/proc/{proc.pid}/task/{proc.pid}/children").exists() else set()
        deadline = time.monotonic() + 60
        while len(children) < 2 and time.monotonic() < deadline:      # spawn's workers (and its tracker)
            time.sleep(0.2)
            children = {int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()}
        killed = kill_mid_trial(url, "killed", children)
        out, _ = proc.communicate(timeout=600)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "was killed (signal 9)" in out and "Traceback" not in out
    check_study(url, "killed", tmp_path / "studies" / "killed", killed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL server with user ganlab, password "secret" and a database "studies";
    its URL. As root, the server runs as the `postgres` user (it refuses to run as root)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql")
    bindir = Path(bins[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="ganlab-pg-"))
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    (folder / "pw").write_text("secret\n")
    if as_user:
        shutil.chown(folder / "pw", "postgres")
    data, port = folder / "data", free_port()
    run = lambda *cmd, **kw: subprocess.run([*as_user, *map(str, cmd)], check=True, capture_output=True,  # noqa: E731
                                             timeout=120, **kw)
    run(bindir / "initdb", "-D", data, "-U", "ganlab", "--auth=scram-sha-256", f"--pwfile={folder / 'pw'}")
    run(bindir / "pg_ctl", "-D", data, "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300",
        "-l", folder / "log", "-w", "start")
    try:
        run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "ganlab", "studies",
            env={**os.environ, "PGPASSWORD": "secret"})
        yield f"postgresql+psycopg://ganlab:secret@127.0.0.1:{port}/studies"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_wrong_password_and_another_space_are_one_line(postgres, tmp_path, monkeypatch):
    from ganlab.cli import main

    monkeypatch.chdir(tmp_path)
    bad = postgres.replace(":secret@", ":wrong@")
    proc = subprocess.run(study_command("pw", "--storage", bad), cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "refused the user or password" in proc.stderr and "wrong" not in proc.stderr
    assert main(["study", "run", "sp", "--data", "ring", "--trials", "1", "--steps", "5", "--space", "k=1..2",
                 "--storage", postgres]) == 0
    proc = subprocess.run(study_command("sp", "--storage", postgres), cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 1 and "was created with other settings" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "secret" not in proc.stderr


def test_postgres_two_machines_one_killed_mid_trial(postgres, tmp_path):
    # Two commands on one server, as two machines would run them, each with its own sampler seed.
    procs = [start(study_command("shared", "--storage", postgres, "--seed", str(i)), tmp_path) for i in (0, 1)]
    try:
        try:
            killed = kill_mid_trial(postgres, "shared", {procs[0].pid})
        except AssertionError:
            for p in procs:
                p.kill()
            raise AssertionError("\n".join(p.communicate()[0][-2000:] for p in procs)) from None
        out, _ = procs[1].communicate(timeout=600)
        procs[0].wait(timeout=30)
    finally:
        for p in procs:
            p.kill()
    assert procs[1].returncode == 0, out
    assert procs[0].returncode == -signal.SIGKILL
    check_study(postgres, "shared", tmp_path / "studies" / "shared", killed)
