"""The notebook helper runs notebook 01 headless, as `make run` does."""

from __future__ import annotations

import json

from notebook_utils import notebook_text

from analysis.paths import PROJECT_ROOT


def test_notebook_01_executes_headless(tmp_path, notebook_runner):
    nb = notebook_runner("01-article-stance.ipynb", tmp_path,
                         parameters={"input_path": "data/ttn-fr-56.txt", "figures_dir": "reports/figures"})
    text = notebook_text(nb)
    assert "14 paragraphs in 1 document(s); languages: fr" in text
    assert "ttn-fr-56" in text and "La Russie et la Chine" in text
    # papermill injected the parameters; no cell failed
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    # relative paths only: outputs never show where the checkout lives
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert str(PROJECT_ROOT) not in outputs
