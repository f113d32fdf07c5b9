"""Synthetic stance, paragraph and sentiment tables of the seed article, for the figure tests.

Test-only, shared by tests/test_plots.py, tests/test_plot_style.py and
tests/test_figures.py. The scores are made up (stable, with gaps: paragraphs 11
and 13 mention no actor, West is absent from most paragraphs).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

DOC = "ttn-fr-56"
TEXTS = [
    "Pékin se pose en médiateur entre Moscou et l'Occident",
    "La Chine a présenté mardi un plan de paix en douze points, salué par le Kremlin.",
    "Pékin a fourni une bouée de sauvetage économique à la Russie depuis le début de la guerre.",
    "Les pays occidentaux accusent la Chine de livrer des composants à double usage.",
    "Washington menace de nouvelles sanctions contre les entreprises chinoises.",
    "Vladimir Poutine a remercié son « cher ami » Xi Jinping.",
    "Selon un diplomate européen, « la neutralité chinoise est une fiction ».",
    "Le commerce sino-russe a atteint un record.",
    "Pékin évite de violer ouvertement les sanctions.",
    "L'OTAN a qualifié la Chine de « facilitateur décisif ».",
    "Moscou dénonce l'hypocrisie des Occidentaux.",
    "La météo était clémente ce jour-là.",
    "Kiev appelle Pékin à user de son influence sur la Russie.",
    "Les négociations devraient reprendre le mois prochain.",
]
SCORES = {
    0: {"China": 0.35, "Russia": 0.05, "West": -0.10},
    1: {"China": 0.62, "Russia": 0.41},
    2: {"China": 0.18, "Russia": -0.22},
    3: {"China": -0.71, "West": 0.05},
    4: {"China": -0.55, "West": -0.12},
    5: {"Russia": 0.48, "China": 0.74},
    6: {"China": -0.64, "West": 0.10},
    7: {"China": 0.22, "Russia": 0.22},
    8: {"China": 0.31},
    9: {"China": -0.83, "Russia": -0.77, "West": 0.12},
    10: {"Russia": -0.05, "West": -0.81, "China": 0.02},
    12: {"China": 0.15, "Russia": -0.58},
}
MODEL = "embedded:e5-small-newsmtsc@0123456789ab"
SENTIMENT_SCORES = [0.1, 0.45, 0.05, -0.6, -0.5, 0.55, -0.35, 0.3, -0.05, -0.7, -0.45, 0.6, -0.2, 0.1]


def make_stance(doc=DOC, lang="fr", shift=0.0) -> pd.DataFrame:
    """Stance table of one document: the scores of :data:`SCORES` moved by ``shift`` (clipped to [-1, 1])."""
    rows = []
    for pid, d in SCORES.items():
        for actor, s in d.items():
            s = float(np.clip(s + shift, -1, 1))
            pf = max(s, 0) + 0.1
            rows.append(dict(doc_id=doc, para_id=pid, actor=actor, n_mentions=1, p_against=pf - s,
                             p_neutral=1 - 2 * pf + s, p_favor=pf, score=s,
                             label="favor" if s > 0.33 else "against" if s < -0.33 else "neutral",
                             model=MODEL, evidence=TEXTS[pid], lang=lang))
    return pd.DataFrame(rows)


def make_paragraphs(doc=DOC) -> pd.DataFrame:
    """Paragraph table of one document holding :data:`TEXTS`."""
    return pd.DataFrame({"doc_id": doc, "para_id": range(len(TEXTS)), "text": TEXTS,
                         "is_title": [True] + [False] * (len(TEXTS) - 1), "lang": "fr"})


def make_sentiment(doc=DOC, shift=0.0) -> pd.DataFrame:
    """Sentiment table of one document (scores of :data:`SENTIMENT_SCORES` moved by ``shift``)."""
    return pd.DataFrame({"doc_id": doc, "para_id": range(len(TEXTS)),
                         "score": np.clip(np.array(SENTIMENT_SCORES) + shift, -1, 1), "model": "hf:s@1"})


@pytest.fixture(autouse=True)
def no_show_and_close(monkeypatch):
    """Fail any ``plt.show()`` (the package must never call it); close all figures after the test.

    Autouse in every test module that imports it.
    """
    def fail(*a, **k):
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", fail)
    yield
    plt.close("all")
