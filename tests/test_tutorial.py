"""docs/tutorial.ipynb runs from top to bottom (nbclient), so it never goes stale."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

pytestmark = pytest.mark.slow  # about 20 s


def test_the_tutorial_notebook_runs():
    nb = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # committed without outputs
    where = {"metadata": {"path": str(ROOT / "docs")}}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources=where).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "simulations" in text and "kazakhstan-2019" in text
