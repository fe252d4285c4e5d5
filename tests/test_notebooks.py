"""Every notebook runs top to bottom, in QUICK mode, and its last cells assert its claim.

The cell tagged `parameters` (papermill's convention) sets QUICK = False; the test injects a cell
with QUICK = True after it, as papermill would, and runs the notebook with nbclient. A notebook whose
metadata says `ganlab.needs_real_data` runs only where the real MNIST is found (and skips otherwise)."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), path.name
        assert sum("parameters" in c.metadata.get("tags", []) for c in book.cells) == 1, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path, request, monkeypatch):
    from nbclient import NotebookClient

    book = nbformat.read(path, as_version=4)
    if book.metadata.get("ganlab", {}).get("needs_real_data"):
        # The kernel inherits this process's environment, so it finds MNIST where the tests do.
        monkeypatch.setenv("GANLAB_DATA", str(request.getfixturevalue("real_data_root")))
    i = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    book.cells.insert(i + 1, nbformat.v4.new_code_cell("QUICK = True"))
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
