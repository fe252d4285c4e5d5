"""The package's layers (pyproject.toml's import-linter contracts, drawn in docs/architecture.md):
imports run one way, from the front ends down to errors, with no circle inside a layer, and only the
UI imports Streamlit. A new import that runs back up fails here with the line that broke it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def lint(root: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first, so the copy under `root` is the one analysed, not the installed package.
    return subprocess.run([LINT, "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=120)


def test_the_package_keeps_its_layers():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_is_in_a_layer_and_kept_from_streamlit():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    in_layers = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    kept_from_streamlit = next(c for c in contracts if c["type"] == "forbidden")["source_modules"]
    modules = {p.stem if p.is_file() else p.name for p in (ROOT / "ganlab").iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert modules - in_layers == set(), "modules in no layer of pyproject.toml's contract"
    assert modules - {m.removeprefix("ganlab.") for m in kept_from_streamlit} == {"ui"}


@pytest.mark.parametrize("module, line, broken", [
    ("losses.py", "from . import trainer", "ganlab.losses is not allowed to import ganlab.trainer"),
    ("config.py", "from . import data", "ganlab.config is not allowed to import ganlab.data"),
    ("data.py", "from . import labels", "No cycles are allowed in ganlab"),
    ("trainer.py", "import streamlit", "ganlab.trainer is not allowed to import streamlit"),
])
def test_an_import_against_the_layers_fails(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "ganlab", tmp_path / "ganlab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / "ganlab" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout
