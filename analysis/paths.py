"""Well-known locations of the project.

Paths here are absolute and meant for locating files; tables written by the
project store paths as the user gave them (relative), never these.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "DATA_DIR",
    "GOLD_DIR",
    "REPORTS_DIR",
    "FIGURES_DIR",
    "NOTEBOOKS_DIR",
    "default_newsmtsc_dir",
    "cache_dir",
]

#: The checkout root (the folder holding ``pyproject.toml``).
PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
#: Input articles shipped with the project (the seed article lives here).
DATA_DIR: Path = PROJECT_ROOT / "data"
#: Hand-labelled gold annotations used by ``analysis evaluate``.
GOLD_DIR: Path = DATA_DIR / "gold"
#: Generated outputs (executed notebooks, figures); git-ignored.
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
#: Figures written by the notebooks and ``analysis plot``.
FIGURES_DIR: Path = REPORTS_DIR / "figures"
#: The analysis notebooks, executed in order by ``make run``.
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"


def default_newsmtsc_dir() -> Path:
    """Folder holding the NewsMTSC ``*.jsonl`` splits.

    ``$ANALYSIS_NEWSMTSC_DIR`` when set, else ``../shared/datasets/newsmtsc``
    beside the checkout. The folder is not checked for existence here.
    """
    env = os.environ.get("ANALYSIS_NEWSMTSC_DIR")
    if env:
        return Path(env)
    return PROJECT_ROOT.parent / "shared" / "datasets" / "newsmtsc"


def cache_dir() -> Path:
    """Folder for caches (embeddings, downloaded artefacts); not created here.

    ``$ANALYSIS_CACHE_DIR`` when set, else the platform's user cache folder
    for ``analysis-stance``.
    """
    env = os.environ.get("ANALYSIS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("analysis-stance"))
