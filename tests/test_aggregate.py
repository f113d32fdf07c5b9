"""Tests of analysis.aggregate: per-document and corpus summaries with bootstrap CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.aggregate import aggregate_corpus, aggregate_documents, bootstrap_ci
from analysis.errors import InputError

N = 999  # resamples: enough for the checks, fast on a shared machine

DOC_COLUMNS = [
    "doc_id", "actor", "n_paragraphs", "mean_score", "ci_low", "ci_high",
    "share_favourable", "share_unfavourable", "model",
]


def _label(s: float) -> str:
    return "favor" if s > 0.33 else "against" if s < -0.33 else "neutral"


def make_stance(spec: dict, *, model: str = "embedded:test@000000000000", **extra) -> pd.DataFrame:
    """spec: {doc_id: {actor: [scores by paragraph, None = not mentioned]}}."""
    rows = []
    for doc, actors in spec.items():
        for actor, scores in actors.items():
            for pid, s in enumerate(scores):
                if s is None:
                    continue
                pf = max(s, 0) + 0.1
                pa = pf - s
                rows.append(dict(
                    doc_id=doc, para_id=pid, actor=actor, n_mentions=1, p_against=pa,
                    p_neutral=1 - pf - pa, p_favor=pf, score=s, label=_label(s), model=model,
                    evidence=f"sentence {pid}", **extra,
                ))
    return pd.DataFrame(rows)


SPEC = {
    "d1": {"China": [0.6, None, -0.5, 0.2, 0.9], "Russia": [-0.4, -0.8, None, None, 0.1]},
    "d2": {"China": [0.3, 0.3, 0.3], "West": [None, -0.7, None]},
}


def test_document_table_shape_and_statistics():
    stance = make_stance(SPEC)
    out = aggregate_documents(stance, n_resamples=N)
    assert list(out.columns) == DOC_COLUMNS
    assert list(zip(out.doc_id, out.actor)) == [
        ("d1", "China"), ("d1", "Russia"), ("d2", "China"), ("d2", "West")
    ]
    row = out.set_index(["doc_id", "actor"]).loc[("d1", "China")]
    scores = np.array([0.6, -0.5, 0.2, 0.9])
    assert row.n_paragraphs == 4
    assert row.mean_score == pytest.approx(scores.mean())
    assert row.share_favourable == pytest.approx(2 / 4)  # 0.6, 0.9
    assert row.share_unfavourable == pytest.approx(1 / 4)  # -0.5
    # percentile interval of a mean lies inside the data range and around the mean
    assert scores.min() <= row.ci_low < row.mean_score < row.ci_high <= scores.max()
    assert row.model == "embedded:test@000000000000"


def test_degenerate_groups_give_zero_width_interval():
    out = aggregate_documents(make_stance(SPEC), n_resamples=N).set_index(["doc_id", "actor"])
    single = out.loc[("d2", "West")]  # n = 1
    assert single.n_paragraphs == 1
    assert single.ci_low == single.ci_high == single.mean_score == pytest.approx(-0.7)
    constant = out.loc[("d2", "China")]  # zero variance
    assert constant.ci_low == constant.ci_high == constant.mean_score == pytest.approx(0.3)
    assert all(np.isnan(bootstrap_ci([])))  # empty sample
    assert bootstrap_ci([0.4, np.nan]) == (0.4, 0.4)  # NaN dropped, then n = 1


def test_bootstrap_is_seeded_and_independent_of_other_groups():
    stance = make_stance(SPEC)
    a = aggregate_documents(stance, n_resamples=N, random_state=0)
    b = aggregate_documents(stance, n_resamples=N, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    c = aggregate_documents(stance, n_resamples=N, random_state=1)
    assert not np.allclose(a.ci_low, c.ci_low, equal_nan=True)
    # removing another document does not change this document's interval
    only_d1 = aggregate_documents(stance[stance.doc_id == "d1"], n_resamples=N, random_state=0)
    pd.testing.assert_frame_equal(only_d1, a[a.doc_id == "d1"].reset_index(drop=True))


def test_bootstrap_ci_matches_normal_theory_on_large_sample():
    rng = np.random.default_rng(42)
    x = np.clip(rng.normal(0.2, 0.3, size=400), -1, 1)
    low, high = bootstrap_ci(x, n_resamples=N, random_state=3)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert low == pytest.approx(x.mean() - half, abs=0.01)
    assert high == pytest.approx(x.mean() + half, abs=0.01)
    low90, high90 = bootstrap_ci(x, n_resamples=N, random_state=3, confidence_level=0.90)
    assert low < low90 < high90 < high


def test_models_are_never_pooled():
    stance = pd.concat([make_stance(SPEC, model="m1"), make_stance(SPEC, model="m2")])
    out = aggregate_documents(stance, n_resamples=N)
    assert len(out) == 8
    assert set(out.model) == {"m1", "m2"}
    assert (out.groupby(["doc_id", "actor"]).size() == 2).all()


def test_labels_derived_from_probabilities_when_label_column_absent():
    stance = make_stance(SPEC)
    with_label = aggregate_documents(stance, n_resamples=N)
    without = aggregate_documents(stance.drop(columns=["label"]), n_resamples=N)
    assert without.share_favourable.between(0, 1).all()
    bare = stance[["doc_id", "para_id", "actor", "score"]]
    with pytest.raises(InputError, match="label"):
        aggregate_documents(bare, n_resamples=N)
    assert "model" not in aggregate_documents(stance.drop(columns=["model"]), n_resamples=N).columns
    assert len(with_label) == len(without)


def test_missing_columns_are_named():
    with pytest.raises(InputError, match="score"):
        aggregate_documents(pd.DataFrame({"doc_id": ["a"], "para_id": [0], "actor": ["China"]}))


def test_corpus_by_column_of_stance_table():
    fr = make_stance({"a-fr": SPEC["d1"]}, lang="fr")
    en = make_stance({"a-en": {"China": [0.1, 0.2, None, 0.3, 0.4]}}, lang="en")
    out = aggregate_corpus(pd.concat([fr, en]), by="lang", n_resamples=N)
    assert list(out.columns) == ["lang", "actor", "n_documents", "n_paragraphs", "mean_score",
                                 "ci_low", "ci_high", "share_favourable", "share_unfavourable", "model"]
    assert list(zip(out.lang, out.actor)) == [("en", "China"), ("fr", "China"), ("fr", "Russia")]
    en_china = out.iloc[0]
    assert en_china.mean_score == pytest.approx(0.25)
    assert en_china.n_paragraphs == 4 and en_china.n_documents == 1


def test_corpus_by_metadata_joined_from_documents_and_paragraphs():
    stance = make_stance(SPEC)
    docs = pd.DataFrame({"doc_id": ["d1", "d2"], "outlet": ["Le Monde", "RT"]})
    out = aggregate_corpus(stance, by="outlet", paragraphs=docs, n_resamples=N)
    assert set(out.outlet) == {"Le Monde", "RT"}
    lm = out[(out.outlet == "Le Monde") & (out.actor == "China")].iloc[0]
    assert lm.mean_score == pytest.approx(np.mean([0.6, -0.5, 0.2, 0.9]))
    # paragraph-level metadata (joined on doc_id + para_id)
    paras = pd.DataFrame({"doc_id": ["d1"] * 5 + ["d2"] * 3, "para_id": [*range(5), *range(3)]})
    paras["section"] = np.where(paras.para_id == 0, "title", "body")
    out2 = aggregate_corpus(stance, by=["section"], paragraphs=paras, n_resamples=N)
    title_china = out2[(out2.section == "title") & (out2.actor == "China")].iloc[0]
    assert title_china.mean_score == pytest.approx(np.mean([0.6, 0.3]))
    assert title_china.n_documents == 2
    with pytest.raises(InputError, match="outlet"):
        aggregate_corpus(stance, by="outlet")


def test_corpus_whole_and_document_unit():
    stance = make_stance(SPEC)
    whole = aggregate_corpus(stance, by=None, n_resamples=N)
    assert list(whole.actor) == ["China", "Russia", "West"]
    china = whole.iloc[0]
    assert china.n_paragraphs == 7 and china.n_documents == 2
    by_doc = aggregate_corpus(stance, by=None, unit="document", n_resamples=N)
    china_doc = by_doc.iloc[0]
    assert china_doc.mean_score == pytest.approx(np.mean([np.mean([0.6, -0.5, 0.2, 0.9]), 0.3]))
    assert china_doc.n_paragraphs == 7  # shares and counts stay paragraph-based
    assert china_doc.share_favourable == pytest.approx(china.share_favourable)
    with pytest.raises(InputError, match="unit"):
        aggregate_corpus(stance, by=None, unit="sentence")
