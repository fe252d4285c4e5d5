"""Mistakes cost a second, not a run: every file a command writes is checked before any work (its
folder, its ending, the free space of its disk), every path it reads likewise, and a checkpoint whose
numbers are NaN or inf is named as broken when it is read. Large sample requests are drawn in chunks."""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab import Trainer, make_config, memory, sampling
from ganlab.cli import INPUTS, OUTPUTS, main
from ganlab.data import load_points_csv
from ganlab.errors import CheckpointError, ConfigError, DataError
from ganlab.outputs import check_output


def argv_for(command: str, flag: str, path: str, tmp_path) -> list[str]:
    """A command line of `command` whose output `flag` is `path`; its inputs need not exist, since
    nothing may be read before the outputs are checked."""
    ckpt, images = str(tmp_path / "missing.pt"), str(tmp_path / "missing.npy")
    base = {"train": ["train", "--data", "ring", "--steps", "1000000"], "sample": ["sample", ckpt],
            "classifier": ["classifier", "--data", "mnist"], "time-to-good": ["time-to-good"],
            "encoder": ["encoder", ckpt], "encode": ["encode", ckpt, "--images", images],
            "complete": ["complete", ckpt, "--images", images, "--mask", "top"],
            "directions": ["directions", ckpt, "--judge"]}[command]
    needed = {"sample": ["--out", str(tmp_path / "ok.npy")], "time-to-good": [], "encoder": [], "directions": []}
    rest = [] if flag == "--out" else needed.get(command, ["--out", str(tmp_path / "ok.npy")])
    return [*base, *rest, flag, path]


CASES = [(command, "--" + dest.replace("_", "-"), endings[0])
         for command, outputs in OUTPUTS.items() for dest, endings in outputs.items()]


@pytest.mark.parametrize("command,flag,ending", CASES)
def test_a_bad_output_path_is_refused_in_one_line_before_any_work(command, flag, ending, tmp_path, capsys):
    (tmp_path / "a-folder").mkdir()
    bad = {tmp_path / "a-folder": "is a folder", tmp_path / "no-such-folder" / f"x{ending}": "does not exist",
           tmp_path / "wrong.txt": f"should end in {ending}"}
    if Path("/proc/self").is_dir():             # a folder that exists and that root may write, by its bits
        bad[Path("/proc") / f"x{ending}"] = "the folder /proc cannot be written"
    for path, says in bad.items():
        t0 = time.perf_counter()
        assert main(argv_for(command, flag, str(path), tmp_path)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and str(path) in err, err
        assert time.perf_counter() - t0 < 2          # refused at once: nothing loaded, nothing trained
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder"]            # and nothing written


def refuse_new_files(monkeypatch, folder, code: int) -> None:
    """New files in `folder` fail with errno `code`, as the system would fail them."""
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kw):
        if str(dir) == str(folder):
            raise OSError(code, os.strerror(code))
        return real(*args, dir=dir, **kw)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("code,says", [(errno.EACCES, "permission denied"), (errno.EROFS, "a read-only file system"),
                                       (errno.ENOSPC, "no space left on its disk")])
def test_a_folder_that_cannot_be_written_is_named_with_the_reason(tmp_path, capsys, monkeypatch, code, says):
    refuse_new_files(monkeypatch, tmp_path, code)
    assert main(["train", "--data", "ring", "--steps", "5", "--out", str(tmp_path / "r.pt")]) == 1
    err = capsys.readouterr().err
    assert err == f"error: --out {tmp_path / 'r.pt'}: the folder {tmp_path} cannot be written ({says})\n", err


def test_a_folder_is_judged_by_writing_a_file_there_not_by_permission_bits(tmp_path, monkeypatch):
    """os.access answers from the mode bits, and root passes it everywhere; the check makes a file."""
    monkeypatch.setattr(os, "access", lambda *a, **kw: True)
    refuse_new_files(monkeypatch, tmp_path, errno.ENOENT)            # /proc's answer
    with pytest.raises(ConfigError, match=f"the folder {tmp_path} cannot be written \\(it takes no new files\\)"):
        check_output(tmp_path / "r.pt", "--out", (".pt",))
    monkeypatch.undo()
    assert check_output(tmp_path / "r.pt", "--out", (".pt",)) == tmp_path / "r.pt"
    assert not list(tmp_path.iterdir())                                   # the trial file is gone


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a folder whatever its mode, "
                    "so a chmod 555 folder takes the file and there is no refusal to see")
def test_a_folder_made_read_only_by_chmod_is_refused(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert main(["train", "--data", "ring", "--steps", "5", "--out", str(locked / "r.pt")]) == 1
    finally:
        locked.chmod(0o755)
    assert "cannot be written (permission denied)" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc on this system")
def test_a_classifier_for_proc_is_refused_at_once_without_training(real_data_root, capsys):
    """/proc exists and root passes os.access there, but it takes no new file: refused before the epoch."""
    t0 = time.perf_counter()
    assert main(["classifier", "--data", "mnist", "--data-root", str(real_data_root), "--out", "/proc/c.pt"]) == 1
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < 3, "the classifier trained before its output was checked"
    assert err == "error: --out /proc/c.pt: the folder /proc cannot be written (it takes no new files)\n", err


def test_an_encoder_written_into_its_own_checkpoint_checks_that_folder(runs, tmp_path, monkeypatch, capsys):
    ckpt = tmp_path / "cond.pt"
    shutil.copy(runs["cond"], ckpt)
    refuse_new_files(monkeypatch, tmp_path, errno.EROFS)
    assert main(["encoder", str(ckpt), "--steps", "1"]) == 1
    assert capsys.readouterr().err == f"error: checkpoint {ckpt}: the folder {tmp_path} cannot be written (a read-only " \
        "file system)\n"


@pytest.mark.parametrize("part,key", [("G", "net.0.weight"), ("opt_d", "state"), ("fixed_z", None)])
def test_a_checkpoint_holding_nan_is_named_broken_when_sampled_or_resumed(tmp_path, capsys, part, key):
    t = Trainer(make_config(data="ring", hidden=16), device="cpu")
    t.step(3)
    sd = t.state_dict()
    if part == "fixed_z":
        sd["fixed_z"][0, 0] = float("nan")
    elif part == "G":
        sd["G"][key][0, 0] = float("inf")
    else:
        next(iter(sd["opt_d"]["state"].values()))["exp_avg"].view(-1)[0] = float("nan")
    torch.save(sd, tmp_path / "bad.pt")
    named = {"G": "G's weights (net.0.weight)", "opt_d": "D's optimizer state", "fixed_z": "the fixed noise"}[part]
    for argv in (["sample", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "s.npy")],
                 ["train", "--resume", str(tmp_path / "bad.pt"), "--steps", "5", "--out", str(tmp_path / "r.pt")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"holds NaN or inf in {named}" in err and "state itself is broken" in err, err
    assert not (tmp_path / "s.npy").exists() and not (tmp_path / "r.pt").exists()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Tiny checkpoints: a ring run, a conditional digits run, a uniform-prior ring run."""
    folder = tmp_path_factory.mktemp("runs")
    kinds = {"ring": dict(data="ring", hidden=16), "cond": dict(data="digits", cond="input", hidden=16),
             "uniform": dict(data="ring", hidden=16, latent_dim=3, prior="uniform")}
    for name, kw in kinds.items():
        t = Trainer(make_config(**kw), device="cpu")
        t.step(2)
        t.save(folder / f"{name}.pt")
    return {name: folder / f"{name}.pt" for name in kinds}


@pytest.mark.parametrize("run,extra", [("ring", []), ("uniform", []), ("cond", []), ("cond", ["--label", "3"])])
def test_samples_drawn_in_chunks_equal_one_batch_bit_for_bit(runs, run, extra, tmp_path, monkeypatch):
    monkeypatch.setattr(sampling, "CHUNK_BYTES", 1)           # the least: chunks of sampling.ALIGN rows
    n, seed = 16 * 6 + 7, 11                # six chunks, and a short seventh that joins the sixth
    assert sampling.chunk_rows(Trainer.load(runs[run], device="cpu").config) == sampling.ALIGN
    labels = ["--out-labels", str(tmp_path / "y.npy")] if run == "cond" else []
    assert main(["sample", str(runs[run]), "--n", str(n), "--seed", str(seed), "--out", str(tmp_path / "x.npy"),
                 *labels, *extra]) == 0
    whole, y = Trainer.load(runs[run], device="cpu").sample_labeled(n, seed=seed,
                                                                     labels=int(extra[1]) if extra else None)
    assert np.array_equal(np.load(tmp_path / "x.npy"), whole.numpy())
    if labels:
        assert np.array_equal(np.load(tmp_path / "y.npy"), y.numpy())


def free_bytes(monkeypatch, free: int) -> None:
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=free))


def test_a_sample_the_disk_cannot_hold_is_refused_with_an_n_that_fits(runs, tmp_path, monkeypatch, capsys):
    free_bytes(monkeypatch, 50_000)
    out = tmp_path / "x.npy"
    t0 = time.perf_counter()
    assert main(["sample", str(runs["ring"]), "--n", "10000", "--out", str(out)]) == 1     # 80 kB of float32
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < 2 and not list(tmp_path.iterdir())
    assert err.count("\n") == 1 and f"--out {out} would take about 78.2 KiB" in err and "48.8 KiB free" in err, err
    fits = re.search(r"use --n (\d+) or less", err).group(1)
    assert main(["sample", str(runs["ring"]), "--n", fits, "--out", str(out)]) == 0        # the count named fits
    assert out.stat().st_size <= 50_000
    # Files on one disk count together: samples and their labels.
    assert main(["sample", str(runs["cond"]), "--n", "700", "--out", str(tmp_path / "c.npy"),
                 "--out-labels", str(tmp_path / "c-labels.npy")]) == 1
    assert "and --out-labels" in capsys.readouterr().err


def test_a_checkpoint_the_disk_cannot_hold_is_refused_before_training(runs, tmp_path, monkeypatch, capsys):
    free_bytes(monkeypatch, memory.checkpoint_bytes(make_config(data="ring", hidden=512)) - 1)
    out = tmp_path / "r.pt"
    assert main(["train", "--data", "ring", "--hidden", "512", "--steps", "1000000", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "would take about" in err and "free some space" in err and not out.exists()
    free_bytes(monkeypatch, runs["cond"].stat().st_size - 1)         # encoder writes the file it read, and more
    assert main(["encoder", str(runs["cond"]), "--out", str(tmp_path / "e.pt")]) == 1
    assert "would take about" in capsys.readouterr().err


def test_the_checkpoint_estimate_is_a_lower_bound_close_to_the_file(tmp_path):
    for kw in (dict(data="ring"), dict(data="ring", optimizer="sgd"), dict(data="digits", ema=0.999, hidden=64)):
        t = Trainer(make_config(**kw), device="cpu")
        t.step(1)                           # the optimizer's moments exist from the first step
        t.save(tmp_path / "c.pt")
        size = (tmp_path / "c.pt").stat().st_size
        assert 0.6 * size <= memory.checkpoint_bytes(t.config) <= size, (kw, size)


def test_a_grid_too_large_for_memory_is_refused_with_a_count_that_fits(runs, tmp_path, monkeypatch, capsys):
    """A .png grid is made whole, so its samples count in full; a .npy counts one chunk (and the labels)."""
    monkeypatch.setattr(memory, "available_memory", lambda: 2**30)
    grid = tmp_path / "g.png"
    assert main(["sample", str(runs["cond"]), "--n", "400000", "--out", str(grid)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "400,000 samples need about" in err and not grid.exists(), err
    fits = int(re.search(r"\(--n (\d+)\)", err).group(1))
    cfg = Trainer.load(runs["cond"], device="cpu").config
    rows = sampling.chunk_rows(cfg)
    memory.check_sampling_fits(cfg, fits, rows, sampling.held_bytes_per_sample(cfg, png=True), 2**30)  # fits as a grid
    memory.check_sampling_fits(cfg, 400_000, rows, sampling.held_bytes_per_sample(cfg, png=False), 2**30)  # all, as a .npy


def read_argv(command: str, dest: str, path: str, runs, tmp_path) -> list[str]:
    """A command line of `command` that reads `path` as `dest`, every other input good."""
    good = {"checkpoint": str(runs["cond"]), "resume": str(runs["ring"]), "z": None, "images": None,
            "classifier": None}
    np.save(tmp_path / "ok.npy", np.zeros((2, 1, 8, 8), np.float32))
    argv = {"train": ["train", "--steps", "1"], "sample": ["sample"], "eval": ["eval"], "semi": ["semi", "--labels", "10"],
            "encoder": ["encoder"], "encode": ["encode", "--images", str(tmp_path / "ok.npy")],
            "complete": ["complete", "--mask", "top", "--images", str(tmp_path / "ok.npy")],
            "directions": ["directions"]}[command]
    out = {"train": ".pt", "sample": ".npy", "encoder": ".pt", "encode": ".npy", "complete": ".npy"}.get(command)
    argv += ["--out", str(tmp_path / f"out{out}")] if out else []
    if dest == "checkpoint":
        return [argv[0], path, *argv[1:]]
    return [argv[0], *([good["checkpoint"]] if command != "train" else []), *argv[1:], f"--{dest}", path]


READS = [(command, dest) for command, inputs in INPUTS.items() for dest in inputs]


@pytest.mark.parametrize("command,dest", READS)
def test_a_bad_path_to_read_is_refused_in_one_line_before_any_work(command, dest, runs, tmp_path, capsys):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    bad = {tmp_path / "a-folder": "is a folder, not a file", tmp_path / "missing.pt": "no such",
           tmp_path / "dangling": "is a link to", "/dev/null": "is not a regular file"}
    for path, says in bad.items():
        t0 = time.perf_counter()
        assert main(read_argv(command, dest, str(path), runs, tmp_path)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and str(path) in err, err
        assert time.perf_counter() - t0 < 2
    assert not any(p.name.startswith("out") for p in tmp_path.iterdir())


def test_a_path_without_read_permission_is_named(runs, tmp_path, capsys, monkeypatch):
    """os.access is what decides (root reads anything, so a chmod alone proves nothing there)."""
    real_access = os.access
    locked = {str(runs["ring"]), str(tmp_path / "images")}
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) in locked else real_access(p, mode, **kw))
    (tmp_path / "images").mkdir()
    for argv, what in ((["sample", str(runs["ring"]), "--out", str(tmp_path / "x.npy")], "checkpoint file"),
                       (["train", "--data", f"folder:{tmp_path / 'images'}", "--steps", "1", "--out",
                         str(tmp_path / "r.pt")], "image folder"),
                       (["train", "--data", "mnist", "--data-root", str(tmp_path / "images"), "--steps", "1",
                         "--out", str(tmp_path / "r.pt")], "data folder")):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{what} " in err and "cannot be read (permission denied)" in err, err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode, so a "
                    "chmod 000 file is readable and there is no refusal to see")
def test_a_checkpoint_made_unreadable_by_chmod_is_refused(runs, tmp_path, capsys):
    locked = tmp_path / "locked.pt"
    shutil.copy(runs["ring"], locked)
    locked.chmod(0)
    assert main(["sample", str(locked), "--out", str(tmp_path / "x.npy")]) == 1
    assert "cannot be read (permission denied)" in capsys.readouterr().err


def test_a_data_root_that_is_a_file_is_refused_from_the_flag_or_the_environment(tmp_path, capsys, monkeypatch):
    (tmp_path / "a-file").write_text("x")
    argv = ["train", "--data", "mnist", "--steps", "1", "--out", str(tmp_path / "r.pt")]
    assert main(argv + ["--data-root", str(tmp_path / "a-file")]) == 1
    assert "data folder" in (err := capsys.readouterr().err) and "is a file, not a folder" in err, err
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "a-file"))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a folder" in err and not (tmp_path / "r.pt").exists(), err


def test_the_app_neither_offers_nor_loads_a_link_out_of_its_folder_and_the_cli_follows_one(runs, tmp_path,
                                                                                          monkeypatch, capsys):
    from ganlab.ui.checkpoints import list_checkpoints, load_trainer

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(runs["ring"], folder / "ring.pt")
    (folder / "inside.pt").symlink_to(folder / "ring.pt")
    (folder / "outside.pt").symlink_to(runs["cond"])
    monkeypatch.setenv("GANLAB_CHECKPOINTS", str(folder))
    assert [p.name for p in list_checkpoints()] == ["inside.pt", "ring.pt"]
    assert load_trainer(folder / "inside.pt").step_count == 2
    with pytest.raises(CheckpointError, match=f"leads out of {folder}"):
        load_trainer(folder / "outside.pt")
    assert main(["sample", str(folder / "outside.pt"), "--out", str(tmp_path / "x.npy")]) == 0   # typed: followed


def test_a_points_csv_over_the_limit_is_refused_before_it_is_read(monkeypatch):
    from ganlab import data

    monkeypatch.setattr(data, "MAX_CSV_BYTES", 1000)
    upload = io.BytesIO(b"x,y\n" + b"0.5,0.25\n" * 200)
    upload.read = lambda *a: pytest.fail("read before its size was checked")
    with pytest.raises(DataError, match=r"^the points CSV is 1\.8 KiB; up to 1\.0 KiB \(1,000,000 points\) are read$"):
        load_points_csv(upload)
    assert len(load_points_csv(io.BytesIO(b"0,0\n1,1\n")).points) == 2
    # The limit holds the most points learnt from, written in full.
    line = f"{-1 / 3!r},{-2 / 3!r}\n"
    assert len(line) == 40 and len(line) * data.PointCloud.MAX_POINTS < 64 * 2**20
