"""The README's Python example is a specification: it must run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README lost its Python example"
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("200 ") and out[-1] == "torch.Size([5, 2])"
    assert (tmp_path / "ring.pt").is_file()


def test_readme_starts_with_the_two_commands():
    head = README.read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in head.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert "pip install -r requirements.txt" in commands[0] and "streamlit run app.py" in commands[0]
    assert "pip install -r requirements-dev.txt" in commands[1] and "python -m pytest" in commands[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "pip install -q -r requirements-dev.txt" in ci and "python -m pytest" in ci
