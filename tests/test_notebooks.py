"""Every notebook runs headless top to bottom (papermill, kernel ``analysis``), as `make run` does.

Each notebook is executed once per module with its default parameters (figures
into a temporary folder), and notebook 01 once more with other inputs (a
translation, and a tiny article that mentions no actor) to prove the
parameters work; notebook 03 also runs once with NewsMTSC missing. A failing
cell raises ``papermill.PapermillExecutionError`` and fails the test.

Checks: no error output, the expected figures exist in PNG, SVG and PDF (and
are not empty), and the outputs show no machine path (the checkout, /work/,
/tmp/ or the home folder) — notebooks use paths relative to the repository
root. About 2.5 minutes in total on a 2-core machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from notebook_utils import notebook_text

from analysis.paths import NOTEBOOKS_DIR, PROJECT_ROOT, default_newsmtsc_dir

FORMATS = ("png", "svg", "pdf")
NOTEBOOKS = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
HAVE_NEWSMTSC = all((default_newsmtsc_dir() / f"{s}.jsonl").is_file() for s in ("dev_rw", "dev_mt"))


def machine_paths() -> list[str]:
    """Strings that must not appear in executed outputs."""
    paths = [str(PROJECT_ROOT), "/work/", "/tmp/", str(Path.home()) + "/"]
    return [p for p in paths if p not in ("/", "")]


def outputs_json(nb: nbformat.NotebookNode) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)


def assert_ran_cleanly(nb: nbformat.NotebookNode, forbidden=None) -> None:
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, "\n".join("\n".join(o.get("traceback", [])) for o in errors)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    stderr = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert not stderr, f"notebook wrote to stderr (warnings or progress bars leak into the report): {stderr}"
    text = outputs_json(nb)
    for path in machine_paths() if forbidden is None else forbidden:
        assert path not in text, f"executed notebook shows the machine path {path!r}"


def assert_figures(folder: Path, names) -> None:
    for name in names:
        for fmt in FORMATS:
            f = folder / f"{name}.{fmt}"
            assert f.is_file() and f.stat().st_size > 1000, f"missing or empty figure {f.name}"


def run(notebook_runner, name, tmp, **parameters):
    figures = tmp / "figures"
    nb = notebook_runner(name, tmp, parameters={"figures_dir": str(figures), **parameters})
    return nb, figures


def test_every_numbered_notebook_is_covered():
    assert NOTEBOOKS == [
        "01-article-stance.ipynb", "02-languages-and-corpus.ipynb", "03-classifier-validation.ipynb",
        "04-validate-on-your-corpus.ipynb",
    ]
    for name in NOTEBOOKS:
        nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "analysis"


# --------------------------------------------------------------------------- 01
@pytest.fixture(scope="module")
def nb01(notebook_runner, tmp_path_factory):
    return run(notebook_runner, "01-article-stance.ipynb", tmp_path_factory.mktemp("nb01"))


def test_01_article_stance_defaults(nb01):
    nb, figures = nb01
    assert_ran_cleanly(nb)
    text = notebook_text(nb)
    assert "14 paragraphs in 1 document(s); languages: fr" in text
    assert "model: embedded:" in text and "libraries:" in text
    assert "Nous sommes prêts" in text  # the evidence column / HTML view quotes the article
    assert 'class="ev-doc"' in text  # evidence HTML view rendered
    assert_figures(figures, [f"ttn-fr-56_{k}" for k in ("stance_heatmap", "actor_summary", "stance_trajectory",
                                                          "sentiment", "voice_matrix", "voice_comparison")])
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 6


def test_01_with_a_translation_as_input(notebook_runner, tmp_path):
    nb, figures = run(notebook_runner, "01-article-stance.ipynb", tmp_path,
                      input_path="data/translations/ttn-fr-56.en.txt")
    assert_ran_cleanly(nb)
    assert "14 paragraphs in 1 document(s); languages: en" in notebook_text(nb)
    assert_figures(figures, [f"ttn-fr-56.en_{k}" for k in
                             ("stance_heatmap", "actor_summary", "stance_trajectory", "sentiment")])
    assert not (figures / "ttn-fr-56_stance_heatmap.png").exists()


def test_01_article_without_mentions_says_so_and_skips_stance(notebook_runner, tmp_path):
    article = tmp_path / "weather-note.txt"
    article.write_text(
        "A mild week ahead\n\nTemperatures will stay above the seasonal average until Sunday.\n\n"
        "Light rain is expected on Thursday afternoon in the north.\n",
        encoding="utf-8",
    )
    nb, figures = run(notebook_runner, "01-article-stance.ipynb", tmp_path, input_path=str(article))
    # the user-given input path is echoed (source column); nothing else may show a machine path
    assert_ran_cleanly(nb, forbidden=[str(PROJECT_ROOT), "/work/"])
    text = notebook_text(nb)
    assert "3 paragraphs in 1 document(s)" in text
    assert "No actor is mentioned in this text" in text
    assert "Heatmap skipped" in text
    assert_figures(figures, ["weather-note_sentiment"])
    assert sorted(p.name for p in figures.iterdir()) == [f"weather-note_sentiment.{f}" for f in sorted(FORMATS)]


# --------------------------------------------------------------------------- 02
def test_02_languages_and_corpus(notebook_runner, tmp_path):
    nb, figures = run(notebook_runner, "02-languages-and-corpus.ipynb", tmp_path)
    assert_ran_cleanly(nb)
    text = notebook_text(nb)
    assert "6 documents, 84 paragraphs; languages: fr, en, de, es, ru, zh" in text
    assert "pearson_r" in text and "n_pairs" in text
    for lang in ("en", "de", "es", "ru", "zh"):
        assert f"ttn-fr-56.{lang}" in text
    assert_figures(figures, ["ttn-fr-56_language_comparison", "ttn-fr-56_actor_summary_by_lang"])


# --------------------------------------------------------------------------- 03
def test_03_classifier_validation(notebook_runner, tmp_path):
    nb, figures = run(notebook_runner, "03-classifier-validation.ipynb", tmp_path)
    assert_ran_cleanly(nb)
    text = notebook_text(nb)
    assert "exact_agreement" in text and "sign_agreement" in text and "spearman" in text
    assert "gold: 31 labelled pairs" in text
    assert_figures(figures, ["ttn-fr-56_confusion_matrix"])
    assert "macro_f1_pn" in text and "ece" in text  # the dev-set report
    for lang in ("fr", "de", "es", "zh"):  # the translated dev sets are in the repository
        assert f"\n{lang} " in text
    if HAVE_NEWSMTSC:
        assert "dev_rw" in text and "dev_mt" in text
    else:
        assert "NewsMTSC is not available here" in text
    assert_figures(figures, ["dev_confusion_matrix", "dev_reliability"])


def test_03_skips_newsmtsc_when_absent(notebook_runner, tmp_path):
    empty = tmp_path / "no-newsmtsc"
    empty.mkdir()
    nb, figures = run(notebook_runner, "03-classifier-validation.ipynb", tmp_path,
                      newsmtsc_dir=os.path.relpath(empty, PROJECT_ROOT), translation_paths=[])
    assert_ran_cleanly(nb, forbidden=[str(PROJECT_ROOT), "/work/"])
    text = notebook_text(nb)
    assert "NewsMTSC is not available here" in text
    assert "dev_rw" not in text.split("NewsMTSC is not available here")[1]  # only the translated sets
    assert_figures(figures, ["ttn-fr-56_confusion_matrix", "dev_confusion_matrix", "dev_reliability"])


# --------------------------------------------------------------------------- 04
def test_04_validate_on_your_corpus(notebook_runner, tmp_path):
    nb, figures = run(notebook_runner, "04-validate-on-your-corpus.ipynb", tmp_path, n_pairs=36, n_resamples=200)
    assert_ran_cleanly(nb)
    text = notebook_text(nb)
    assert "6 documents, 84 paragraphs, 186 paragraph × actor pairs" in text
    assert "36 coded rows, 0 blank rows (skipped) from 1 sheet(s); coders: team gold" in text
    assert "Does the model agree with your coders?" in text and "Agreement between coders is unknown" in text
    out = figures / "validation"
    assert_figures(out, ["confusion_matrix", "agreement_by_lang", "agreement_by_actor"])
    assert {"annotation_sheet.csv", "annotation_sheet.xlsx", "agreement.csv", "codings.csv", "report.md"} <= {
        p.name for p in out.iterdir()}
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3
