"""Mistakes cost a second, not a run: every file a command writes is checked before any work, and a
checkpoint whose numbers are NaN or inf is named as broken when it is read."""

from __future__ import annotations

import os
import time

import pytest
import torch

from ganlab import Trainer, make_config
from ganlab.cli import OUTPUTS, main


def argv_for(command: str, flag: str, path: str, tmp_path) -> list[str]:
    """A command line of `command` whose output `flag` is `path`; its inputs need not exist, since
    nothing may be read before the outputs are checked."""
    ckpt, images = str(tmp_path / "missing.pt"), str(tmp_path / "missing.npy")
    base = {"train": ["train", "--data", "ring", "--steps", "1000000"], "sample": ["sample", ckpt],
            "classifier": ["classifier", "--data", "mnist"], "time-to-good": ["time-to-good"],
            "encoder": ["encoder", ckpt], "encode": ["encode", ckpt, "--images", images],
            "complete": ["complete", ckpt, "--images", images, "--mask", "top"]}[command]
    needed = {"sample": ["--out", str(tmp_path / "ok.npy")], "time-to-good": [], "encoder": []}
    rest = [] if flag == "--out" else needed.get(command, ["--out", str(tmp_path / "ok.npy")])
    return [*base, *rest, flag, path]


CASES = [(command, "--" + dest.replace("_", "-"), endings[0])
         for command, outputs in OUTPUTS.items() for dest, endings in outputs.items()]


@pytest.mark.parametrize("command,flag,ending", CASES)
def test_a_bad_output_path_is_refused_in_one_line_before_any_work(command, flag, ending, tmp_path, capsys):
    (tmp_path / "a-folder").mkdir()
    bad = {tmp_path / "a-folder": "is a folder", tmp_path / "no-such-folder" / f"x{ending}": "does not exist",
           tmp_path / "wrong.txt": f"should end in {ending}"}
    for path, says in bad.items():
        t0 = time.perf_counter()
        assert main(argv_for(command, flag, str(path), tmp_path)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and str(path) in err, err
        assert time.perf_counter() - t0 < 2          # refused at once: nothing loaded, nothing trained
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder"]            # and nothing written


def test_a_folder_that_cannot_be_written_is_named(tmp_path, capsys, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    assert main(["train", "--data", "ring", "--steps", "5", "--out", str(tmp_path / "r.pt")]) == 1
    err = capsys.readouterr().err
    assert "cannot be written (permission denied)" in err and str(tmp_path) in err


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
