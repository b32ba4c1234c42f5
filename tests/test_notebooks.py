"""The example notebooks execute top to bottom (on a tiny model, so in about a minute each).

They use the public API and the CLI as a new user would, so an API change that breaks them
fails here, not in a user's first hour.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_new_disease.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("RARESUPPORT_NOTEBOOK_FULL", raising=False)
    src = str(EXAMPLES.parent / "src")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    )
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, errors
    if path.stem == "01_quickstart":  # the report's plots are shown inline
        images = [
            o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
        ]
        assert images, "the quickstart shows no plot"
