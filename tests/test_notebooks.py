"""The notebooks run: each executes top to bottom in a fresh kernel, and none is stored run.

``notebooks/*.ipynb`` are documentation that calls the library; a change to the API they
call must not leave them broken, so each is executed here with nbclient in the venv's own
ipykernel (the interpreter running the tests), in a temporary working directory, and any
cell's error fails the test. They are stored without outputs or execution counts, so a diff
shows code and prose only: a notebook committed after running fails the second test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300
"""Per cell; each notebook takes under half a minute on a 2-core machine."""
KERNEL = "python3"
"""ipykernel's own kernel: jupyter_client starts it with this interpreter, the venv's."""


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_session_patterns.ipynb",
        "02_capacity_planning.ipynb",
        "03_replay_analysis.ipynb",
    ]


@pytest.mark.notebooks  # a CI step of its own (make test-notebooks), about 45 s
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert not list(tmp_path.iterdir())  # no files of their own: the API keeps none


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {number}: outputs stored"
            assert cell.execution_count is None, f"{path.name} cell {number}: execution count"
