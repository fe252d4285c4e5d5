"""The README and the guide are specifications: their code runs as written, their commands exist."""

import re
from pathlib import Path

import pytest

from ganlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "guide.md"


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


def test_every_python_block_of_the_readme_and_the_guide_runs(tmp_path, monkeypatch, capsys):
    runs = [(path, block) for path in (README, GUIDE) for block in blocks(path, "python")]
    assert runs, "neither the README nor the guide has a Python example"
    monkeypatch.chdir(tmp_path)
    for path, block in runs:
        exec(compile(block, str(path.relative_to(ROOT)), "exec"), {})
    out = capsys.readouterr().out.splitlines()
    # the guide's example: 200 iterations, then a checkpoint saved, loaded and sampled
    assert any(line.startswith("200 ") for line in out) and "torch.Size([5, 2])" in out
    assert (tmp_path / "ring.pt").is_file()


def test_the_readme_starts_with_the_two_commands_install_and_start_the_app():
    first = blocks(README, "bash")[0]
    commands = [line for line in first.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert "pip install -r requirements.txt" in commands[0]
    assert commands[1] == "streamlit run app.py"


def test_the_readme_fits_on_a_page_and_links_only_to_files_that_exist():
    text = README.read_text()
    assert len(text.splitlines()) <= 150, "the README is a front page: the manual is docs/guide.md"
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (ROOT / target).exists(), f"the README links to {target}, which is not in the repository"


def test_the_readme_tests_section_gives_the_two_tiers_and_ci_runs_the_fast_one():
    tests = README.read_text().split("## Tests\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", tests, flags=re.S)
    assert block.splitlines() == ["python -m pytest", "python -m pytest -m slow"]
    assert "pip install -r requirements-dev.txt" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -r requirements-dev.txt" in ci and "python -m pytest" in ci


def documented_commands() -> list[tuple[str, str, tuple[str, ...]]]:
    """Every `python -m ganlab COMMAND ...` in the README and the guide, with the flags it names."""
    found = []
    for path in (README, GUIDE):
        for line in path.read_text().splitlines():
            for match in re.finditer(r"python -m ganlab ([a-z][a-z-]*)([^`\n]*)", line):
                flags = tuple(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", match.group(2)))
                found.append((path.name, match.group(1), flags))
    return found


@pytest.mark.parametrize("command", sorted({c for _, c, _ in documented_commands()}))
def test_every_command_the_readme_and_the_guide_name_exists_with_the_flags_they_give(command, capsys):
    try:
        code = main([command, "--help"])
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr().out
    assert code in (0, None), f"`python -m ganlab {command} --help` failed"
    out += "".join(help_text([command, sub], capsys) for sub in subcommands(command))   # e.g. study run, study show
    flags = {f for _, c, fs in documented_commands() if c == command for f in fs}
    missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", out))
    assert not missing, f"the docs give `{command}` flags its --help does not list: {missing}"


def subcommands(command: str) -> list[str]:
    import argparse

    from ganlab.cli import build_parser

    parser = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    return [name for a in parser._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices]


def help_text(argv: list[str], capsys) -> str:
    try:
        main([*argv, "--help"])
    except SystemExit:
        pass
    return capsys.readouterr().out
