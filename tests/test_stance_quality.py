"""What the shipped embedded model gets right: target dependence and the seed's gold stance.

These tests run the committed artefact (offline, on the CPU) against data the team wrote
by hand: ``data/contrast/contrast_test.csv`` (sentences that praise one actor and condemn
another, in fr, en, de, es, ru and zh; disjoint from ``contrast_train.csv``) and
``data/gold/ttn-fr-56.stance.csv`` (a careful reader's paragraph x actor stance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from analysis.evaluation import (
    name_swap_report,
    read_contrast,
    read_name_swap,
    score_contrast,
    score_name_swap,
)
from analysis.paths import DATA_DIR

CONTRAST = read_contrast(DATA_DIR / "contrast" / "contrast_test.csv")


@pytest.fixture(scope="module")
def contrast_scores(embedded_classifier):
    return score_contrast(embedded_classifier, CONTRAST)


def test_contrast_set_covers_every_language_and_several_shapes():
    counts = CONTRAST.groupby("lang").size()
    assert set(counts.index) >= {"fr", "en", "de", "es", "ru", "zh"}
    assert counts.min() >= 5
    assert CONTRAST["shape"].nunique() >= 4
    assert len(CONTRAST) >= 30


def _wrong_signs(rows):
    return rows[(np.sign(rows["score_a"]) != rows["stance_a"]) | (np.sign(rows["score_b"]) != rows["stance_b"])]


@pytest.mark.parametrize("lang", sorted(CONTRAST["lang"].unique()))
def test_praised_actor_scores_above_the_condemned_one(contrast_scores, lang):
    rows = contrast_scores[contrast_scores["lang"] == lang]
    ranked = ((rows["score_a"] - rows["score_b"]) * rows["stance_a"] > 0).mean()
    assert ranked >= 0.85, "\n" + rows[["id", "sentence", "score_a", "score_b"]].to_string()


@pytest.mark.parametrize("lang", sorted(CONTRAST["lang"].unique()))
def test_praised_and_condemned_actors_get_opposite_signs(contrast_scores, lang):
    rows = contrast_scores[contrast_scores["lang"] == lang]
    wrong = _wrong_signs(rows)
    # at most one sentence in nine per language (the model before the issue-4 rework: 4 of 9 in English)
    assert len(wrong) <= 0.15 * len(rows), "\n" + wrong[["id", "sentence", "score_a", "score_b"]].to_string()


def test_opposite_signs_in_nine_contrast_sentences_out_of_ten(contrast_scores):
    wrong = _wrong_signs(contrast_scores)
    assert len(wrong) <= 0.1 * len(contrast_scores), "\n" + wrong[["id", "sentence", "score_a", "score_b"]].to_string()


def test_seed_stance_agrees_with_the_careful_reader(seed_stance):
    gold = pd.read_csv(DATA_DIR / "gold" / "ttn-fr-56.stance.csv").dropna(subset=["stance"])
    merged = gold.merge(seed_stance, on=["doc_id", "para_id", "actor"], how="left")
    assert merged["score"].notna().all(), "every gold pair must be scored"
    clear = merged[merged["clarity"] == "clear"]
    predicted = clear["label"].map({"against": -1, "neutral": 0, "favor": 1})
    agreement = float((predicted == clear["stance"]).mean())
    # the rough probe of the issue agreed on 7 of 12 clear-cut judgements (0.58)
    assert agreement >= 0.6, clear.assign(predicted=predicted)[["para_id", "actor", "stance", "predicted", "score"]]
    assert spearmanr(merged["stance"], merged["score"]).statistic > 0.3
    # on every judged pair, unfavourable judgements score below favourable ones on average
    by_stance = merged.groupby("stance")["score"].mean()
    assert by_stance.loc[-1] < by_stance.loc[0] < by_stance.loc[1]


NAME_SWAP, SWAP_NAMES = read_name_swap(DATA_DIR / "contrast" / "name_swap.csv")


@pytest.fixture(scope="module")
def name_swap_scores(embedded_classifier):
    return score_name_swap(embedded_classifier, NAME_SWAP, SWAP_NAMES)


def test_name_swap_set_covers_every_language_and_actor():
    assert set(NAME_SWAP["lang"]) == set(SWAP_NAMES["lang"]) >= {"fr", "en", "de", "es", "ru", "zh"}
    assert set(NAME_SWAP["polarity"]) == {-1, 1}
    assert set(SWAP_NAMES["actor"].dropna()) == {"Russia", "China", "West"}
    assert SWAP_NAMES["actor"].isna().groupby(SWAP_NAMES["lang"]).sum().min() >= 2


def test_the_text_not_the_name_sets_the_sign(name_swap_scores):
    """One sentence about different actors: the sign follows the sentence (the model has no
    favourite actor). NewsMTSC mentions Russia mostly in negative sentences, so without the
    name substitution of training, "Moscow generously forgave the debts" read as unfavourable."""
    scores = name_swap_scores
    right = np.sign(scores["score"]) == scores["polarity"]
    assert right.mean() >= 0.9, "\n" + scores[~right].to_string()
    # per actor, mean over templates of |actor mean - other names' mean|
    gaps = name_swap_report(scores)["actor_gap"]
    assert set(gaps) == {"Russia", "China", "West"}
    assert all(gap <= 0.15 for gap in gaps.values()), gaps
