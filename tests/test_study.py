"""Studies (ganlab.study, `python -m ganlab study`): the space's parsing and its one-line refusals,
the metric's choice, the storage's errors, and a tiny study on SQLite end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="studies need optuna (requirements.txt)")

from ganlab.checkpoint import load_checkpoint  # noqa: E402
from ganlab.cli import main  # noqa: E402
from ganlab.errors import ConfigError  # noqa: E402
from ganlab.study import StudyError, choose_metric, open_storage, parse_space, spread_of  # noqa: E402
from ganlab.trainer import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPACE = "lr_g=1e-4..1e-2:log lr_d=1e-4..1e-2:log k=1..5 loss=nonsat|minimax|hinge latent_dim=2|8|32"


def test_the_issue_s_space_parses_to_its_fields_with_their_types():
    space = parse_space(SPACE, "ring")
    assert space.names == ["lr_g", "lr_d", "k", "loss", "latent_dim"]
    lr_g, _, k, loss, z = space.params
    assert (lr_g.lo, lr_g.hi, lr_g.log) == (1e-4, 1e-2, True)
    assert (k.lo, k.hi, k.log) == (1, 5, False) and isinstance(k.lo, int)
    assert loss.choices == ("nonsat", "minimax", "hinge") and z.choices == (2, 8, 32)
    # The canonical text is what a study stores: another spelling of one space is the same space.
    assert parse_space(space.text, "ring").text == space.text
    assert parse_space("lr_g=0.0001..0.01:log", "ring").text == parse_space("lr_g=1e-4..1e-2:log", "ring").text


@pytest.mark.parametrize("spec, says", [
    ("", "--space is empty"),
    ("k", "is not FIELD=LO..HI"),
    ("speed=1..2", "'speed', which is not a config field"),
    ("data=ring|grid", "cannot search data"),
    ("k=0..5", "k must be an integer from 1"),
    ("k=1.5..3", "is not an integer"),
    ("lr_g=0..1e-2:log", "lr_g must be a finite number > 0"),
    ("lr_g=1e-2..1e-4", "the low end must be below the high end"),
    ("lr_g=1e-4..1e-2:sqrt", "only 'log' is allowed"),
    ("loss=nonsat|bogus", "unknown loss 'bogus'"),
    ("loss=a..b", "loss is a choice, not a number"),
    ("k=1..3 k=2..4", "names k twice"),
    ("k=2|2", "lists a value twice"),
    ("model=mlp|dcgan", "reaches model=dcgan on ring, which the config refuses"),
])
def test_a_space_the_config_refuses_is_one_line_naming_the_entry(spec, says):
    with pytest.raises(ConfigError, match=None) as caught:
        parse_space(spec, "ring")
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_the_grid_sampler_takes_choices_and_integer_ranges_only():
    assert parse_space("k=1..3 loss=nonsat|hinge", "ring").grid() == {"k": [1, 2, 3], "loss": ["nonsat", "hinge"]}
    with pytest.raises(ConfigError, match="lr_g=0.0001..0.01 is a range of real numbers"):
        parse_space("lr_g=1e-4..1e-2", "ring").grid()


def test_the_metric_is_the_data_s_own_and_a_foreign_one_is_refused():
    assert choose_metric("ring") == "high_quality" and choose_metric("grid", "reverse_kl") == "reverse_kl"
    assert choose_metric("mnist") == "frechet" and choose_metric("fashion-mnist", "class_kl") == "class_kl"
    with pytest.raises(ConfigError, match="applies to mnist, fashion-mnist, not ring"):
        choose_metric("ring", "frechet")
    with pytest.raises(ConfigError, match="'digits' has none"):
        choose_metric("digits")
    with pytest.raises(ConfigError, match="unknown --metric 'speed'"):
        choose_metric("ring", "speed")


def test_the_spread_groups_by_value_and_bins_a_real_setting():
    rows = [{"state": "COMPLETE", "lr": 10.0 ** -i, "value": float(i)} for i in range(9)]
    groups = spread_of(rows, "lr")
    assert [g["trials"] for g in groups] == [3, 3, 3]
    assert groups[0]["min"] == 6.0 and groups[-1]["max"] == 2.0
    assert spread_of(rows + [{"state": "FAIL", "lr": 1.0, "value": None}], "lr") == groups


def test_an_unreachable_server_and_an_unknown_url_are_one_line():
    with pytest.raises(StudyError, match="cannot reach the database server") as caught:
        open_storage("postgresql+psycopg://ganlab:secret@127.0.0.1:1/studies")
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(StudyError, match="not a database URL SQLAlchemy knows"):
        open_storage("nosuchdb://somewhere/x")


def run_cli(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_refusals_come_before_any_training_and_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["study", "run", "s", "--data", "ring", "--trials", "2", "--steps", "10"]
    code, _, err = run_cli(base + ["--space", "k=0..3"], capsys)
    assert code == 1 and err.startswith("error: --space entry 'k=0..3'") and err.count("\n") == 1
    code, _, err = run_cli(base + ["--space", "k=1..3", "--storage", "postgresql+psycopg://u:pw@127.0.0.1:1/db"],
                           capsys)
    assert code == 1 and "cannot reach the database server" in err and err.count("\n") == 1
    assert not (tmp_path / "studies" / "s").exists()           # nothing trained, no folder made
    code, _, err = run_cli(["study", "run", "bad/name", "--data", "ring", "--trials", "1", "--steps", "1",
                            "--space", "k=1..2"], capsys)
    assert code == 1 and "study name 'bad/name'" in err
    code, _, err = run_cli(["study", "show", "missing"], capsys)
    assert code == 1 and "no study file" in err


def test_a_tiny_study_runs_end_to_end_and_its_trials_open(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["study", "run", "tiny", "--data", "ring", "--trials", "3", "--steps", "30", "--sampler", "random",
            "--space", "lr_g=1e-4..1e-2:log k=1..2 loss=nonsat|hinge latent_dim=2|8", "--heartbeat", "2"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert out.count("trial ") >= 3 and "holds 3 complete" in out
    code, out, _ = run_cli(["study", "show", "tiny", "--json"], capsys)
    report = json.loads(out)
    assert report["states"] == {"COMPLETE": 3} and report["data"] == "ring" and report["metric"] == "high_quality"
    assert set(report["spread"]) == {"k", "latent_dim", "loss", "lr_g"}
    for row in report["trials"]:
        assert 0 <= row["high_quality"] <= 1 and 0 <= row["modes"] <= 8 and row["reverse_kl"] >= 0
        assert row["value"] == row["high_quality"] and row["steps"] == 30
        trainer = Trainer.load(row["checkpoint"], device="cpu")          # each trial opens as a normal run
        assert trainer.step_count == 30 and trainer.config.loss == row["loss"]
        assert trainer.config.latent_dim == row["latent_dim"] and trainer.config.k == row["k"]
        assert load_checkpoint(row["checkpoint"])["config"]["lr_g"] == pytest.approx(row["lr_g"])
    code, out, _ = run_cli(["study", "show", "tiny"], capsys)
    assert "metric high_quality (maximize" in out and "best:" in out and "high_quality by loss:" in out
    # Joining the study with another space is refused, in one line, before any trial.
    code, _, err = run_cli(args[:-4] + ["--space", "k=1..5"], capsys)
    assert code == 1 and "was created with other settings: space" in err and err.count("\n") == 1
    # Asking again for what it holds trains nothing more.
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "trial " not in out.replace("holds", "") and "holds 3 complete" in out


def test_the_studies_page_shows_a_study_s_trials_and_figures(tmp_path, monkeypatch, capsys):
    from streamlit.testing.v1 import AppTest

    from ganlab.study import figures, summary

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANLAB_STUDIES", str(tmp_path / "studies"))
    assert main(["study", "run", "page", "--data", "ring", "--trials", "3", "--steps", "20", "--sampler", "random",
                 "--space", "lr_d=1e-4..1e-2:log loss=nonsat|hinge"]) == 0
    report = summary("page", f"sqlite:///{tmp_path / 'studies' / 'page.db'}")
    assert len(figures.parallel(report["trials"], ["loss", "lr_d"], "high_quality").data[0].dimensions) == 3
    assert figures.heatmap(report["trials"], "loss", "lr_d", "high_quality").data[0].type == "heatmap"
    assert len(figures.spread(report["trials"], "loss", "high_quality").data) >= 1
    at = AppTest.from_file(str(ROOT / "app_pages" / "studies.py"), default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="studies_name").value == "page"
    assert len(at.get("plotly_chart")) == 3 and at.selectbox(key="studies_by").value == "loss"
    assert any("metric **high_quality**" in m.value for m in at.markdown)
    assert at.selectbox(key="studies_trial").value in {r["number"] for r in report["trials"]}
