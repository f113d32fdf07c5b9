"""analysis.voice_plots: the who-judges-whom matrix and the narrator / all-voices summaries."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_voice_scores import paragraphs, voices  # noqa: F401 - fixtures

from test_classifiers_base import FakeClassifier

from analysis import find_mentions, score_stance
from analysis.errors import InputError
from analysis.voice_plots import narrator_summary, voice_comparison, voice_matrix


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_matrix_rows_columns_and_gaps(voices):  # noqa: F811
    ax = voice_matrix(voices)  # two documents: the corpus matrix
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["narrator (the outlet)", "Russia", "West", "other sources"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["China", "Russia", "West"]
    mesh = ax.collections[0].get_array()
    assert mesh.shape == (4, 3)
    # Western diplomats judge China only: the other cells of their row are gaps, not 0
    assert mesh.mask[2].tolist() == [False, True, True] and mesh[2, 0] < 0
    assert mesh[1, 2] < 0 < mesh[1, 1]  # Russia's voices: the West "bad", Russia "good"
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("\u22120.") and "n=2" in t and "[" in t for t in texts)  # mean, n and CI


def test_matrix_of_one_document(voices):  # noqa: F811
    ax = voice_matrix(voices, doc_id="b")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["narrator (the outlet)", "Russia"]
    assert "b" in ax.get_title(loc="left")
    with pytest.raises(InputError, match="doc_id"):
        voice_matrix(voices, doc_id="zzz")


def test_narrator_summary_and_comparison(paragraphs, voices):  # noqa: F811
    ax = narrator_summary(voices, doc_id="a")  # China is only judged in the analyst's quotation
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Russia", "West"]
    stance = score_stance(paragraphs, find_mentions(paragraphs), FakeClassifier(), cache=False, progress=False)
    ax = voice_comparison(stance, voices, doc_id="a")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "West · all voices" in labels and "West · narrator only" in labels
    bars = {label: patch.get_width() for label, patch in zip(labels, ax.patches)}
    # the West is only judged "bad" by the Kremlin: unfavourable with all voices, 0 in the outlet's own
    assert bars["West · all voices"] < 0 and np.isclose(bars["West · narrator only"], 0.0)


def test_document_figures_include_the_voice_figures_when_a_voices_table_is_given(tmp_path, paragraphs, voices):  # noqa: F811
    from analysis.figures import write_document_figures

    stance = score_stance(paragraphs, find_mentions(paragraphs), FakeClassifier(), cache=False, progress=False)
    names = write_document_figures(stance, tmp_path, voices=voices, kinds=["voice_matrix", "voice_comparison"],
                                   formats="svg")
    assert names == [f"{doc}_{kind}" for doc in ("a", "b") for kind in ("voice_matrix", "voice_comparison")]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.svg" for n in names)
    every = write_document_figures(stance, tmp_path / "all", voices=voices, formats="svg")
    assert [n for n in every if "voice" in n] == names, "drawn by default when a voices table is given"
    assert not any("voice" in n for n in write_document_figures(stance, tmp_path / "none", formats="svg"))
    with pytest.raises(InputError, match="voice_matrix need a voices table"):
        write_document_figures(stance, tmp_path / "x", kinds=["voice_matrix"])
