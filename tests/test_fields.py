"""Each config field is declared once, with its rules; these tests hold that every way a setting gets
in (the library, the CLI, the app's URL and widgets) follows those rules, that networks and recipes
are apart, and that the old names (model "seed", links from before recipes) keep working."""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from pathlib import Path

import pytest
import torch

from ganlab import Config, ConfigError, Trainer, make_config
from ganlab.cli import build_parser, config_help, fields_table, main
from ganlab.config import FIELD_TYPES, FIELDS, MODELS, STRUCTURAL, allowed, rules
from ganlab.links import read_link, write_link
from ganlab.models import BUILDERS
from ganlab.recipes import DEFAULT_RECIPE, RECIPES

ROOT = Path(__file__).resolve().parents[1]


def base_data(name: str) -> str:
    """ring, or the first dataset a field applies to when it declares some (`only_for`)."""
    only = rules(name).get("only_for", {}).get("data")
    return only[0] if isinstance(only, tuple) else "ring"


def bad_value(name: str) -> str:
    """A value of field `name`, as typed, that its rules refuse."""
    if "choices" in rules(name):
        return "nonsense" if FIELD_TYPES[name] is str else "7"
    return str(out_of_bounds(name))


def other_value(name: str):
    """A valid value of field `name` that is neither its default nor its base dataset's, and trains there."""
    rule, data = rules(name), base_data(name)
    avoid = {Config.__dataclass_fields__[name].default, getattr(make_config(data=data), name)}
    if "choices" in rule:
        candidates = rule["choices"]
    elif FIELD_TYPES[name] is int:
        lo, hi = rule["bounds"]
        candidates = [lo + 1, lo + 2, lo + 3, lo + 10, lo + 100]
    else:
        lo, hi = rule["bounds"]
        candidates = [lo + 0.5, lo + 0.25] if math.isinf(hi) else [(lo + hi) / 2, lo + (hi - lo) / 4]
    for value in candidates:
        if value not in avoid:
            try:
                make_config(data=data, **{name: value})
                return value
            except ConfigError:
                continue
    raise AssertionError(f"no other value of {name} fits {data}")


def out_of_bounds(name: str):
    lo, hi = rules(name)["bounds"]
    return lo if rules(name).get("lo_open") else lo - 1


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_declares_its_rules(name):
    rule = rules(name)
    assert rule["help"] and rule["label"] and isinstance(rule["structural"], bool)
    assert ("choices" in rule) != ("bounds" in rule)
    default = Config.__dataclass_fields__[name].default
    assert isinstance(default, FIELD_TYPES[name])
    if "bounds" in rule:
        assert rule["says"] and rule["bounds"][0] <= default <= rule["bounds"][1]
    else:
        assert default in rule["choices"]


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_reaches_the_cli_with_its_rules(name, tmp_path, capsys):
    flag = "--" + name.replace("_", "-")
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions
                 if flag in a.option_strings)
    assert train.dest == name and train.type is FIELD_TYPES[name] and train.help == config_help(name)
    assert allowed(name) in train.help
    assert f"default: {Config.__dataclass_fields__[name].default}" in train.help
    bad = bad_value(name)
    argv = ["train", "--steps", "1", "--quiet", "--out", str(tmp_path / "o.pt"), flag, bad]
    assert main(argv + ([] if name == "data" else ["--data", "ring"])) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err and not (tmp_path / "o.pt").exists()


@pytest.mark.parametrize("name", [n for n in FIELDS if n != "data"])
def test_every_field_reaches_the_url_with_its_rules(name):
    value = other_value(name)
    link = read_link({"data": base_data(name), "k": "2", name: str(value)})
    assert getattr(link.config, name) == value and not link.notes
    assert read_link(write_link(link.config, link.recipe)).config == link.config      # a link round-trips
    bad = bad_value(name)
    link = read_link({"data": "grid", "k": "2", name: bad} if name != "k" else {"data": "grid", name: bad})
    assert link.config.data == "grid" and getattr(link.config, name) == getattr(make_config(data="grid"), name)
    assert len(link.notes) == 1 and name in link.notes[0] and "\n" not in link.notes[0]


def test_the_in_place_split_is_the_structural_flag():
    trainers = {}
    for name in FIELDS:
        if name == "data":
            continue
        data = base_data(name)
        t = trainers.setdefault(data, Trainer(make_config(data=data), device="cpu"))
        value = other_value(name)
        if name in STRUCTURAL:
            with pytest.raises(ConfigError, match=f"changing {name} needs a new run"):
                t.update(**{name: value})
        else:
            t.update(**{name: value})
            assert getattr(t.config, name) == value


def test_the_guide_lists_every_field_as_the_rules_say():
    assert fields_table() in (ROOT / "docs" / "guide.md").read_text()


def test_every_model_has_a_builder_and_a_default_recipe_and_recipes_set_only_fields():
    assert set(BUILDERS) == set(MODELS) == set(DEFAULT_RECIPE)
    assert set(DEFAULT_RECIPE.values()) <= set(RECIPES)
    for name, recipe in RECIPES.items():
        assert set(recipe.settings) <= set(FIELDS) and recipe.summary
        assert not {"data", "model"} & set(recipe.settings), f"recipe {name} must not pick the network or data"
        make_config(recipe=name, data="mnist")                     # valid on its own


def test_picking_a_network_with_a_named_recipe_changes_no_training_setting():
    base = asdict(make_config(data="mnist", recipe="pytorch"))
    for model in ("paper", "dcgan", "dcgan-deep"):
        cfg = asdict(make_config(data="mnist", model=model, recipe="pytorch"))
        assert {k for k in cfg if cfg[k] != base[k]} == {"model"}, model
    fast = make_config(data="mnist", model="dcgan", recipe="fast-mnist")
    assert (fast.model, fast.lr_g, fast.lr_d, fast.beta1, fast.beta2, fast.r1_every, fast.ema) == \
        ("dcgan", 2e-3, 1e-3, 0.0, 0.9, 16, 0.995)
    with pytest.raises(ConfigError, match="unknown recipe 'adam'; choose one of: toy, pytorch, paper, fast-mnist"):
        make_config(recipe="adam")


@pytest.mark.slow
def test_the_old_model_name_seed_is_an_alias_everywhere(tmp_path, capsys):
    assert make_config(data="mnist", model="seed") == make_config(data="mnist", model="pytorch-mlp")
    assert Config(data="digits", model="seed").model == "pytorch-mlp"
    assert read_link({"data": "digits", "model": "seed"}).config.model == "pytorch-mlp"
    # a checkpoint written before the rename
    t = Trainer(make_config(data="digits", model="pytorch-mlp", batch_size=16), device="cpu")
    t.step(2)
    sd = t.state_dict()
    sd["config"]["model"] = "seed"
    torch.save(sd, tmp_path / "old.pt")
    old = Trainer.load(tmp_path / "old.pt", device="cpu")
    assert old.config.model == "pytorch-mlp" and old.step_count == 2
    assert torch.equal(old.sample(4, seed=0), t.sample(4, seed=0))
    # and on the command line, for a new run and against a resumed one
    out = tmp_path / "cli.pt"
    assert main(["train", "--data", "digits", "--model", "seed", "--batch-size", "16", "--steps", "1",
                 "--quiet", "--out", str(out)]) == 0
    assert main(["train", "--resume", str(tmp_path / "old.pt"), "--model", "seed", "--steps", "1", "--quiet",
                 "--out", str(out)]) == 0
    assert Trainer.load(out, device="cpu").config.model == "pytorch-mlp"


@pytest.mark.slow
def test_the_shipped_checkpoints_load_under_the_current_names():
    for path in sorted((ROOT / "checkpoints").glob("*.pt")):
        if path.name.startswith("classifier-"):
            continue
        cfg = Trainer.load(path, device="cpu").config
        assert cfg.model in MODELS, path.name


def test_the_readme_link_to_the_recommended_recipe_still_trains_that_recipe():
    readme = (ROOT / "README.md").read_text()
    assert "?data=mnist&model=dcgan-deep&precision=bf16" in readme
    link = read_link({"data": "mnist", "model": "dcgan-deep", "precision": "bf16"})
    assert link.recipe == "fast-mnist" and not link.notes
    assert link.config == make_config(data="mnist", model="dcgan-deep", recipe="fast-mnist", precision="bf16")
    # the recipe that reaches a good generator soonest (docs/performance.md, "Two minutes: not met")
    assert (link.config.lr_g, link.config.lr_d, link.config.beta1, link.config.beta2, link.config.r1,
            link.config.r1_every, link.config.ema) == (2e-3, 1e-3, 0.0, 0.9, 5.0, 16, 0.995)
    # a link to another recipe for that network says so, and reads back the same
    other = make_config(data="mnist", model="dcgan-deep", recipe="pytorch")
    query = write_link(other, "pytorch")
    assert query["recipe"] == "pytorch" and read_link(query).config == other


def test_the_cli_takes_a_recipe_for_new_runs_only(tmp_path, capsys):
    out = tmp_path / "p.pt"
    assert main(["train", "--data", "digits", "--model", "pytorch-mlp", "--recipe", "paper", "--batch-size", "16",
                 "--steps", "1", "--quiet", "--out", str(out)]) == 0
    cfg = Trainer.load(out, device="cpu").config
    assert (cfg.model, cfg.optimizer, cfg.lr_g, cfg.prior) == ("pytorch-mlp", "sgd", 0.1, "uniform")
    assert "recipe paper" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--recipe", "pytorch", "--steps", "1", "--out", str(out)]) == 1
    assert "--recipe starts a new run" in capsys.readouterr().err


def test_config_fields_are_in_one_declaration_each():
    """No list of field names beside the dataclass: the derived tables cover every field."""
    names = [f.name for f in fields(Config)]
    assert list(FIELDS) == names and set(FIELD_TYPES) == set(names)
    assert set(STRUCTURAL) == {n for n in names if rules(n)["structural"]}


def test_a_link_to_uploaded_points_starts_on_ring_with_rings_settings_and_says_so():
    link = read_link({"data": "points", "k": "3"})
    ring = make_config(data="ring", k=3)
    assert link.config == ring and link.config.latent_dim == 2             # ring's own 2-D z, and the link's k
    assert len(link.notes) == 1 and "cannot carry your own points: starting on 'ring'" in link.notes[0]
    assert read_link({"data": "points", "model": "dcgan"}).config == make_config()    # nothing fits: the defaults
