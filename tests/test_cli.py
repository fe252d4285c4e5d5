import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ganlab.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    """The CLI as a user runs it, in a fresh process."""
    return subprocess.run([sys.executable, "-m", "ganlab", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_resumed_training_samples_identically_to_an_uninterrupted_run(tmp_path):
    a, b, c = tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "c.pt"
    assert main(["train", "--data", "ring", "--steps", "400", "--seed", "0", "--out", str(a), "--quiet"]) == 0
    assert main(["train", "--data", "ring", "--steps", "200", "--seed", "0", "--out", str(b), "--quiet"]) == 0
    assert main(["train", "--resume", str(b), "--steps", "200", "--out", str(c), "--quiet"]) == 0
    for ckpt in (a, c):
        assert main(["sample", str(ckpt), "--n", "500", "--seed", "5", "--out", str(ckpt.with_suffix(".npy"))]) == 0
    xa, xc = np.load(a.with_suffix(".npy")), np.load(c.with_suffix(".npy"))
    assert xa.shape == (500, 2) and np.array_equal(xa, xc)


@pytest.mark.slow
def test_periodic_checkpoints_and_throughput_line(tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert main(["train", "--data", "gaussian1d", "--steps", "30", "--checkpoint-every", "7",
                 "--out", str(out), "--quiet"]) == 0
    assert "it/s" in capsys.readouterr().out
    saves = []
    import ganlab.trainer as trainer_module
    original = trainer_module.Trainer.save
    trainer_module.Trainer.save = lambda self, path, **kw: (saves.append(self.step_count), original(self, path, **kw))
    try:
        main(["train", "--resume", str(out), "--steps", "16", "--checkpoint-every", "7", "--out", str(out), "--quiet"])
    finally:
        trainer_module.Trainer.save = original
    assert saves == [35, 42, 46]


@pytest.mark.parametrize("data, shape", [("ring", (50, 2)), ("gaussian1d", (50, 1)), ("digits", (50, 1, 8, 8))])
def test_sample_writes_the_documented_shapes_and_ranges(tmp_path, data, shape):
    ckpt, npy = tmp_path / "m.pt", tmp_path / "s.npy"
    assert main(["train", "--data", data, "--steps", "5", "--batch-size", "32", "--out", str(ckpt), "--quiet"]) == 0
    assert main(["sample", str(ckpt), "--n", "50", "--out", str(npy)]) == 0
    x = np.load(npy)
    assert x.shape == shape and x.dtype == np.float32
    if len(shape) == 4:
        assert 0.0 <= x.min() and x.max() <= 1.0


def test_mnist_end_to_end_with_the_seed_model(tmp_path, real_data_root):
    ckpt, npy = tmp_path / "mnist.pt", tmp_path / "s.npy"
    assert main(["train", "--data", "mnist", "--steps", "20", "--data-root", str(real_data_root),
                 "--out", str(ckpt), "--quiet"]) == 0
    assert main(["sample", str(ckpt), "--n", "16", "--out", str(npy)]) == 0
    x = np.load(npy)
    assert x.shape == (16, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


def test_eval_prints_json_metrics(tmp_path, capsys):
    import json
    ckpt = tmp_path / "r.pt"
    main(["train", "--data", "ring", "--steps", "10", "--out", str(ckpt), "--quiet"])
    capsys.readouterr()
    assert main(["eval", str(ckpt), "--n", "300"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["step"] == 10 and result["modes"]["modes_total"] == 8
    assert 0 <= result["modes"]["high_quality_fraction"] <= 1 and "d_loss" in result["losses"]


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "ring", "--steps", "5", "--lr-g", "0"], "lr_g must be a finite number > 0"),
    (["train", "--data", "ring", "--steps", "5", "--k", "0"], "k must be an integer from 1 to"),
    (["train", "--data", "ring", "--steps", "5", "--latent-dim", "0"], "latent_dim must be an integer from 1 to"),
    (["train", "--data", "digits", "--steps", "5", "--batch-size", "5000"], "larger than the 1797 images"),
    (["train", "--data", "imagenet", "--steps", "5"], "unknown data 'imagenet'"),
    (["train", "--data", "ring", "--model", "vit", "--steps", "5"], "unknown model 'vit'"),
    (["train", "--data", "ring", "--loss", "wgan", "--steps", "5"], "unknown loss 'wgan'"),
    (["train", "--steps", "5"], "--data is required"),
    (["sample", "missing.pt", "--out", "x.npy"], "no such checkpoint file"),
])
def test_bad_input_ends_with_one_line_and_a_nonzero_exit(tmp_path, capsys, args, message):
    args = [a if a != "x.npy" else str(tmp_path / a) for a in args]
    code = main(args + (["--out", str(tmp_path / "o.pt")] if args[0] == "train" else []))
    err = capsys.readouterr().err
    assert code != 0 and message in err and err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp_path / "o.pt").exists()


def test_resume_with_a_config_that_does_not_fit_is_refused_and_nothing_is_damaged(tmp_path, capsys):
    ckpt = tmp_path / "r.pt"
    main(["train", "--data", "ring", "--steps", "5", "--out", str(ckpt), "--quiet"])
    before = ckpt.read_bytes()
    code = main(["train", "--resume", str(ckpt), "--latent-dim", "3", "--steps", "5", "--out", str(ckpt)])
    err = capsys.readouterr().err
    assert code == 1 and "--latent-dim 3 (checkpoint: 2)" in err and ckpt.read_bytes() == before


def test_resume_with_a_loss_that_gives_d_another_meaning_is_refused_in_one_line(tmp_path, capsys):
    """nonsat's D gives a probability, wgan-gp's a critic's score: the weights mean something else,
    so the change needs a new run (Config.structural_diff); minimax's D means what nonsat's does."""
    ckpt = tmp_path / "r.pt"
    assert main(["train", "--data", "ring", "--steps", "5", "--out", str(ckpt), "--quiet"]) == 0
    before = ckpt.read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(ckpt), "--loss", "wgan-gp", "--steps", "5", "--out", str(ckpt)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "--loss wgan-gp (checkpoint: nonsat)" in err and "D's output another meaning" in err, err
    assert ckpt.read_bytes() == before
    assert main(["train", "--resume", str(ckpt), "--loss", "minimax", "--steps", "1", "--out", str(ckpt),
                 "--quiet"]) == 0


@pytest.mark.slow
def test_a_truncated_checkpoint_gives_no_traceback(tmp_path):
    ckpt = tmp_path / "r.pt"
    main(["train", "--data", "ring", "--steps", "5", "--out", str(ckpt), "--quiet"])
    ckpt.write_bytes(ckpt.read_bytes()[:300])
    proc = run("sample", ckpt, "--out", tmp_path / "s.npy")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "truncated or corrupt" in proc.stderr


@pytest.mark.slow
def test_divergence_stops_naming_the_step_and_keeps_the_last_good_state(tmp_path):
    ckpt = tmp_path / "r.pt"
    proc = run("train", "--data", "ring", "--steps", "300", "--optimizer", "sgd", "--momentum", "0.9",
               "--lr-g", "1e30", "--lr-d", "1e30", "--out", ckpt, "--quiet")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "NaN/inf at step" in proc.stderr and f"saved to {ckpt}" in proc.stderr
    assert run("train", "--resume", ckpt, "--lr-g", "1e-3", "--lr-d", "1e-3", "--steps", "10",
               "--out", ckpt, "--quiet").returncode == 0


def test_help_lists_the_config_flags_with_defaults():
    proc = run("train", "--help")
    assert proc.returncode == 0
    for flag in ("--lr-g", "--lr-d", "--k", "--latent-dim", "--batch-size", "--loss", "--model", "--seed",
                 "--device", "--data-root", "--checkpoint-every", "--resume"):
        assert flag in proc.stdout
    assert "default: nonsat" in proc.stdout


def test_sample_can_write_a_png_grid_for_images_only(tmp_path, capsys):
    from PIL import Image
    ckpt = tmp_path / "d.pt"
    main(["train", "--data", "digits", "--steps", "2", "--batch-size", "16", "--out", str(ckpt), "--quiet"])
    assert main(["sample", str(ckpt), "--n", "16", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (4 * 8 + 5 * 2,) * 2
    main(["train", "--data", "ring", "--steps", "2", "--out", str(tmp_path / "r.pt"), "--quiet"])
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "r.pt"), "--out", str(tmp_path / "r.png")]) == 1
    assert "needs image data" in capsys.readouterr().err
