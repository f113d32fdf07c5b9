"""Shared fixtures. Add yours additively (one block per owner)."""

from __future__ import annotations

from pathlib import Path

import pytest

# plots helper: headless, file-only matplotlib backend for every test (set before any pyplot import).
import os as _os

_os.environ.setdefault("MPLBACKEND", "Agg")

from analysis.paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_ROOT, default_newsmtsc_dir

#: The seed article shipped in data/ (French, 13 body paragraphs, id line ttn-fr-56).
SEED_PATH = DATA_DIR / "ttn-fr-56.txt"
#: ../shared beside the checkout (read-only material; present locally and in CI).
SHARED_DIR = PROJECT_ROOT.parent / "shared"

#: Mark for tests that need ../shared/ (skipped with a reason where it is absent).
requires_shared = pytest.mark.skipif(
    not SHARED_DIR.is_dir(), reason=f"needs the shared folder {SHARED_DIR} beside the checkout"
)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """Absolute path of data/ttn-fr-56.txt."""
    return SEED_PATH


@pytest.fixture(scope="session")
def newsmtsc_dir() -> Path:
    """The NewsMTSC folder (``ANALYSIS_NEWSMTSC_DIR`` or ../shared/datasets/newsmtsc); skips if absent."""
    path = default_newsmtsc_dir()
    if not (path / "train.jsonl").is_file():
        pytest.skip(f"NewsMTSC not found at {path} (set ANALYSIS_NEWSMTSC_DIR)")
    return path


@pytest.fixture(scope="session")
def notebook_runner():
    """``run(notebook, out_dir, parameters=None, **kw) -> executed NotebookNode``.

    Registers the ``analysis`` kernel for this interpreter once per session;
    see tests/notebook_utils.py. ``notebook`` may be a name inside notebooks/.
    """
    from notebook_utils import ensure_kernel, run_notebook

    ensure_kernel()

    def run(notebook, out_dir, parameters=None, **kwargs):
        path = Path(notebook)
        if not path.is_absolute() and not path.exists():
            path = NOTEBOOKS_DIR / path
        return run_notebook(path, out_dir, parameters, **kwargs)

    return run


# --- hf / scoring helper (owner: model-backend engineer) ---------------------------


@pytest.fixture(scope="session")
def tiny_hf_model(tmp_path_factory):
    """``make(labels=NLI labels, **kw) -> Path``: a tiny transformers classifier saved locally.

    Built with :func:`tiny_models.build_tiny_model` (random, seeded
    weights; no download); cached per argument set for the test session.
    """
    from tiny_models import NLI_LABELS, build_tiny_model

    built: dict = {}

    def make(labels=NLI_LABELS, **kw):
        key = (tuple(labels), tuple(sorted(kw.items())))
        if key not in built:
            folder = tmp_path_factory.mktemp("tiny-" + "-".join(str(x) for x in labels)[:40].replace(" ", "_"))
            built[key] = build_tiny_model(folder, labels, **kw)
        return built[key]

    return make


@pytest.fixture(scope="session")
def make_mentions():
    """``make({(doc_id, para_id): [(sentence, [(actor, surface), ...]), ...]})`` -> mentions table.

    Sentences of a paragraph are joined by one space; each mention is located
    with ``str.find(surface)`` in its sentence (first occurrence).
    """
    import pandas as pd

    def make(paragraphs):
        rows = []
        for (doc_id, para_id), sentences in paragraphs.items():
            offset = 0
            for sentence_id, (sentence, targets) in enumerate(sentences):
                for actor, surface in targets:
                    at = sentence.find(surface)
                    assert at >= 0, (surface, sentence)
                    rows.append(
                        dict(doc_id=doc_id, para_id=para_id, actor=actor, surface=surface,
                             start=offset + at, end=offset + at + len(surface),
                             sentence_id=sentence_id, sentence=sentence, sentence_start=offset)
                    )
                offset += len(sentence) + 1
        columns = ["doc_id", "para_id", "actor", "surface", "start", "end",
                   "sentence_id", "sentence", "sentence_start"]
        return pd.DataFrame(rows, columns=columns)

    return make


# lead: the shipped embedded classifier, loaded once per session, and the seed scored with it.
@pytest.fixture(scope="session")
def embedded_classifier():
    from analysis.classifiers import load_classifier

    return load_classifier("embedded")


@pytest.fixture(scope="session")
def seed_stance(embedded_classifier):
    """Stance table of the seed article (paragraph x mentioned actor) from the embedded model."""
    from analysis import find_mentions, read_articles, score_stance

    paragraphs = read_articles([SEED_PATH])
    return score_stance(paragraphs, find_mentions(paragraphs), embedded_classifier)
