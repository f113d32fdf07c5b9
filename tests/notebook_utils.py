"""Execute notebooks headless in tests (papermill, kernel ``analysis``).

Usage in a test (or through the ``notebook_runner`` fixture of conftest.py)::

    from notebook_utils import run_notebook, notebook_text
    nb = run_notebook(NOTEBOOKS_DIR / "01-article-stance.ipynb", tmp_path,
                      parameters={"input_path": "data/ttn-fr-56.txt"})
    assert "14 paragraphs" in notebook_text(nb)

The kernel runs with the repository root as its working folder, as in
``make run``, so notebooks use paths relative to the root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from analysis.paths import PROJECT_ROOT

KERNEL_NAME = "analysis"


def ensure_kernel(name: str = KERNEL_NAME) -> Path:
    """Register kernel ``name`` for this interpreter inside ``sys.prefix`` if it is missing.

    A spec that points at another interpreter is replaced. Returns the
    Jupyter data folder holding the spec (``<sys.prefix>/share/jupyter``).
    """
    data_dir = Path(sys.prefix) / "share" / "jupyter"
    spec = data_dir / "kernels" / name / "kernel.json"
    try:
        current = json.loads(spec.read_text(encoding="utf-8")).get("argv", [None])[0]
    except (OSError, ValueError, IndexError):
        current = None
    if current != sys.executable:
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix",
             "--name", name, "--display-name", "Python (analysis)"],
            check=True, capture_output=True, text=True,
        )
    return data_dir


def run_notebook(
    notebook: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout: int = 900,
    cwd: str | os.PathLike[str] = PROJECT_ROOT,
) -> nbformat.NotebookNode:
    """Execute ``notebook`` top to bottom into ``out_dir`` and return the executed notebook.

    ``parameters`` are injected by papermill after the cell tagged
    ``parameters``. A failing cell raises ``papermill.PapermillExecutionError``
    (the executed copy with the traceback stays in ``out_dir``).
    """
    import papermill as pm

    data_dir = ensure_kernel()
    out = Path(out_dir) / Path(notebook).name
    saved = os.environ.get("JUPYTER_PATH")
    # this interpreter's spec wins over any user-level kernel of the same name
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(data_dir), *([saved] if saved else [])])
    try:
        pm.execute_notebook(
            os.fspath(notebook), os.fspath(out),
            parameters=dict(parameters or {}),
            kernel_name=KERNEL_NAME, cwd=os.fspath(cwd),
            progress_bar=False, execution_timeout=timeout,
        )
    finally:
        if saved is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = saved
    return nbformat.read(out, as_version=4)


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """All text a reader sees in the outputs: streams, plain text, HTML and errors."""
    parts: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif output.get("output_type") == "error":
                parts.append("\n".join(output.get("traceback", [])))
            else:
                data = output.get("data", {})
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if mime in data:
                        value = data[mime]
                        parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts)
