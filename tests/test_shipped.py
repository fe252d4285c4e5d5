"""The shipped generators hold the numbers README.md states for them. Each test reads its number from
the README's Numbers table and computes it afresh from the file in checkpoints/, so neither the
table nor the checkpoint can drift alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from ganlab import Trainer
from ganlab.evaluate import ClassifierJudge, evaluate

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"


def readme_row(label: str) -> str:
    """The README Numbers-table row whose first cell starts with `label`."""
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| {label}")]
    assert len(rows) == 1, f"README.md needs exactly one Numbers row starting with {label!r}"
    return rows[0]


def numbers(pattern: str, text: str) -> tuple[float, ...]:
    return tuple(float(g) for g in stated(pattern, text))


def stated(pattern: str, text: str) -> tuple[str, ...]:
    """The numbers `pattern` captures in `text`, as written (commas dropped)."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return tuple(g.replace(",", "") for g in match.groups())


def holds(measured: float, written: str) -> bool:
    """`measured` rounds to `written` at the precision it is written to (0.0027: within 0.00005)."""
    decimals = len(written.partition(".")[2])
    return abs(measured - float(written)) <= 0.5 * 10**-decimals + 1e-12


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_the_shipped_toy_generators_cover_the_modes_the_readme_states(name):
    covered, total, hq = numbers(r"(\d+)/(\d+) modes, ([\d.]+) % high-quality", readme_row(f"shipped `{name}.pt`"))
    modes = evaluate(Trainer.load(CHECKPOINTS / f"{name}.pt", device="cpu"), ["modes"])["modes"]
    assert (modes["modes_covered"], modes["modes_total"]) == (covered, total)
    assert abs(100 * modes["high_quality_fraction"] - hq) <= 0.05 + 1e-9     # the README rounds to 0.1 %


def _classifier_claims(label: str) -> tuple[str, str, str]:
    return stated(r"(\d+)/10 (?:digits|classes), class KL ([\d.]+), Fréchet ([\d.]+)× the real-data floor",
                   readme_row(label))


@pytest.mark.slow
@pytest.mark.parametrize("label, file", [("`mnist-paper.pt`", "mnist-paper.pt"), ("`mnist-dcgan.pt`", "mnist-dcgan.pt"),
                                         ("`fashion-mnist-dcgan.pt`", "fashion-mnist-dcgan.pt")])
def test_the_shipped_mnist_generators_hold_their_classifier_metrics(label, file, real_data_root):
    classes, kl, over_floor = _classifier_claims(label)
    trainer = Trainer.load(CHECKPOINTS / file, device="cpu")
    m = ClassifierJudge(trainer.config.data, real_data_root)(trainer)
    assert m["classes_covered"] == int(classes)
    assert holds(m["class_kl_to_uniform"], kl) and holds(m["frechet_over_floor"], over_floor)


@pytest.mark.slow
def test_the_paper_model_holds_its_parzen_estimate_with_the_papers_protocol(real_data_root):
    mean, sem = numbers(r"([\d.]+) ± ([\d.]+) nats", readme_row("`mnist-paper.pt`"))
    result = evaluate(Trainer.load(CHECKPOINTS / "mnist-paper.pt", device="cpu"), ["parzen"],
                      data_root=real_data_root)["parzen"]
    assert abs(result["mean"] - mean) <= 0.05 + 1e-9 and abs(result["sem"] - sem) <= 0.05 + 1e-9


def test_the_parameter_counts_in_the_readme_are_the_models():
    from ganlab import build_models, make_config
    from ganlab.models import count_parameters

    text = (ROOT / "README.md").read_text()
    g, d = numbers(r"G has ([\d,]+) parameters and D ([\d,]+)", text)
    G, D = build_models(make_config(data="mnist", model="pytorch-mlp"))
    assert (count_parameters(G), count_parameters(D)) == (g, d)


@pytest.mark.slow
@pytest.mark.parametrize("file", ["mnist-cond.pt", "fashion-mnist-cond.pt"])
def test_the_shipped_conditional_generators_draw_the_class_asked_as_often_as_the_readme_states(file, real_data_root):
    overall, worst = numbers(r"asked class drawn on ([\d.]+) % of samples, the worst class on ([\d.]+) %",
                             readme_row(f"`{file}`"))
    result = evaluate(Trainer.load(CHECKPOINTS / file, device="cpu"), ["conditional"],
                      data_root=real_data_root)["conditional"]
    assert abs(100 * result["agreement"] - overall) <= 0.05 + 1e-9             # stated to 0.1 %
    assert abs(100 * result["worst_class_agreement"] - worst) <= 0.05 + 1e-9


@pytest.mark.slow
def test_the_shipped_semi_supervised_d_classifies_as_the_readme_states(real_data_root):
    (error,) = numbers(r"D's test error as a classifier ([\d.]+) %", readme_row("`mnist-semi.pt`"))
    result = evaluate(Trainer.load(CHECKPOINTS / "mnist-semi.pt", device="cpu"), ["semi_classifier"],
                      data_root=real_data_root)["semi_classifier"]
    assert result["test_images"] == 10_000 and abs(100 * result["test_error"] - error) <= 0.005 + 1e-9


def test_the_shipped_mnist_generator_carries_an_inference_net_trained_for_its_own_g():
    (steps,) = numbers(r"its encoder: ([\d,]+) steps", readme_row("inference on `mnist-dcgan.pt`"))
    t = Trainer.load(CHECKPOINTS / "mnist-dcgan.pt", device="cpu")
    assert t.encoder is not None and t.encoder_steps == steps and t.encoder_g_step == t.step_count


# checkpoints/README.md: what each shipped file keeps, its size, and the numbers it states beside
# the ones above.

def checkpoints_row(file: str) -> str:
    """The checkpoints/README.md rows of `file` (what it keeps, how it was trained), joined."""
    rows = [line for line in (CHECKPOINTS / "README.md").read_text().splitlines() if line.startswith(f"| `{file}` | ")]
    assert rows, f"checkpoints/README.md has no row for {file}"
    return " ".join(rows)


SIZES = json.loads((ROOT / "docs" / "bench" / "checkpoint-sizes.json").read_text())


@pytest.mark.parametrize("file", sorted(SIZES["files"]))
def test_a_shipped_file_is_the_slim_one_its_record_and_readme_describe(file):
    path, entry = CHECKPOINTS / file, SIZES["files"][file]
    assert path.stat().st_size == entry["after_bytes"], "slimmed again? rerun docs/tools/slim_checkpoints.py --record"
    sd = torch.load(path, weights_only=True, map_location="cpu")
    assert not any(k in sd for k in entry["dropped"])
    weights = {v.dtype for k in ("G", "D", "G_ema", "D_ema") if k in sd for v in sd[k].values() if torch.is_tensor(v)}
    assert torch.bfloat16 in weights if entry["weights"] == "bfloat16" else torch.bfloat16 not in weights
    assert f"{entry['before_bytes']:,} | {entry['after_bytes']:,} |" in checkpoints_row(file)
    assert entry["weights"] in checkpoints_row(file)


def test_the_folder_totals_in_the_readme_are_the_records():
    assert sum(p.stat().st_size for p in CHECKPOINTS.glob("*.pt")) == SIZES["folder_pt_after_bytes"]
    text = (CHECKPOINTS / "README.md").read_text()
    assert f"{SIZES['folder_pt_before_bytes']:,} bytes before, {SIZES['folder_pt_after_bytes']:,} after" in text


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_the_toy_numbers_in_the_checkpoints_readme_hold(name):
    covered, total, hq, kl = stated(r"(\d+)/(\d+) modes, ([\d.]+) % high-quality, KL ([\d.]+)",
                                    checkpoints_row(f"{name}.pt"))
    modes = evaluate(Trainer.load(CHECKPOINTS / f"{name}.pt", device="cpu"), ["modes"])["modes"]
    assert (modes["modes_covered"], modes["modes_total"]) == (int(covered), int(total))
    assert holds(100 * modes["high_quality_fraction"], hq) and holds(modes["mode_kl_to_uniform"], kl)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["mnist", "fashion-mnist"])
def test_the_shipped_classifiers_have_the_test_accuracy_the_readme_states(data, real_data_root):
    from ganlab.classifier import accuracy, load_classifier
    from ganlab.data import load_dataset

    (stated,) = numbers(r"test accuracy ([\d.]+)", checkpoints_row(f"classifier-{data}.pt"))
    model = load_classifier(CHECKPOINTS / f"classifier-{data}.pt", data)
    assert abs(accuracy(model, load_dataset(data, real_data_root, train=False)) - stated) <= 0.00005 + 1e-9


def test_the_shipped_conditional_generator_carries_a_class_net_naming_the_digit_as_stated(real_data_root):
    from ganlab.classinference import name_partly_seen
    from ganlab.data import load_dataset
    from ganlab.inference import named_mask

    row = checkpoints_row("mnist-cond.pt")
    (steps,) = numbers(r"\(([\d,]+) steps, \d+ s; `docs/bench/class-net-mnist-cond.log`", row)
    bottom, right = stated(r"names the digit of ([\d.]+) % of the 500 judged test images from their top half and "
                           r"([\d.]+) % from their left half", row)
    t = Trainer.load(CHECKPOINTS / "mnist-cond.pt", device="cpu")
    assert t.class_net.steps == steps and t.class_net.g_step == t.step_count      # trained for this G
    test = load_dataset("mnist", real_data_root, train=False)
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:500]   # inference_eval's images
    x, y = test.images[pick].reshape(-1, 1, 28, 28), test.labels[pick]
    for side, written in (("bottom", bottom), ("right", right)):
        named = float((name_partly_seen(t, x, named_mask(side, (1, 28, 28))) == y).float().mean())
        assert holds(100 * named, written), (side, named)


def test_the_completion_numbers_in_the_readme_span_every_pool_seed_recorded():
    records = [json.loads(p.read_text()) for p in sorted((ROOT / "docs" / "bench").glob("inference-mnist-cond-classnet-seed*-zen5.json"))]
    assert len(records) >= 3, "the spread over pool seeds needs at least three records"
    row = readme_row("completion with `mnist-cond.pt`")
    for side in ("bottom", "right"):
        low, high, nearest, ahead, seeds = numbers(
            side + r" half \(([\d.]+)–([\d.]+) % against ([\d.]+) %[^,]*, (\d+) of (\d+) pool seeds\)", row)
        sides = [r["completion"][side] for r in records]
        first = [100 * c["gan_first"]["class_agreement"] for c in sides]
        assert holds(min(first), f"{low:.1f}") and holds(max(first), f"{high:.1f}")
        assert all(holds(100 * c["nearest_neighbour"]["class_agreement"], f"{nearest:.1f}") for c in sides)
        assert (ahead, seeds) == (sum(c["gan_first_beats_nearest_neighbour"] for c in sides), len(records))


def test_the_time_to_good_in_the_readme_spans_the_recipes_own_seed_records():
    from dataclasses import asdict

    from ganlab.cli import build_parser
    from ganlab.cli.evaluation import time_to_good_config

    row = readme_row("time to a good MNIST generator")
    records_cell = row.rstrip(" |").rsplit(" | ", 1)[1]      # the row's own records (the numbers cell cites older ones)
    paths = re.findall(r"\((docs/bench/time-to-good-[\w.-]+-seed\d-zen5\.json)\)", records_cell)
    records = [json.loads((ROOT / p).read_text()) for p in paths]
    assert len(records) >= 3, "the spread over seeds needs at least three records"
    # Each record is a run of `time-to-good` as it is now: its defaults, only the seed changed.
    default = asdict(time_to_good_config(build_parser().parse_args(["time-to-good"])))
    assert [r["config"] for r in records] == [{**default, "seed": r["config"]["seed"]} for r in records]
    assert len({r["config"]["seed"] for r in records}) == len(records)
    assert all(r["seconds_to_good"] is not None for r in records)
    low, high = numbers(r"\*\*([\d,]+)–([\d,]+) iterations\*\*", row)
    assert (low, high) == (min(r["iterations"] for r in records), max(r["iterations"] for r in records))
    fast, slow = numbers(r"\*\*(\d+)–(\d+) s\*\*", row)
    seconds = [r["seconds_to_good"] for r in records]
    assert (fast, slow) == (round(min(seconds)), round(max(seconds)))
