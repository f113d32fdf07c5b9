"""score_stance / score_sentiment: the stance and sentiment tables, generic over classifiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_classifiers_base import BAD, FLAT, GOOD, FakeClassifier

from analysis.schema import SENTIMENT as SENTIMENT_COLUMNS
from analysis.schema import STANCE as STANCE_COLUMNS
from analysis.errors import InputError
from analysis.scoring import score_sentiment, score_stance


@pytest.fixture
def mentions(make_mentions):
    return make_mentions(
        {
            ("b", 2): [("China bad, Russia good.", [("china", "China"), ("russia", "Russia")])],
            ("a", 1): [
                ("Russia good.", [("russia", "Russia")]),
                ("Russia good again and the West bad.", [("russia", "Russia"), ("west", "West")]),
            ],
            ("a", 0): [("Nothing about China here.", [("china", "China")])],
        }
    )


@pytest.fixture
def paragraphs(mentions):
    keys = mentions[["doc_id", "para_id"]].drop_duplicates()
    text = {
        (d, p): " ".join(mentions[(mentions.doc_id == d) & (mentions.para_id == p)].sentence.unique())
        for d, p in keys.itertuples(index=False)
    }
    rows = [dict(doc_id=d, para_id=p, text=t, is_title=p == 0, lang="en", source="x.txt") for (d, p), t in text.items()]
    rows.append(dict(doc_id="c", para_id=0, text="No actor at all, good.", is_title=True, lang="en", source="y.txt"))
    return pd.DataFrame(rows)


def test_stance_table_columns_order_dtypes(paragraphs, mentions):
    out = score_stance(paragraphs, mentions, FakeClassifier())
    assert list(out.columns) == [*STANCE_COLUMNS, "lang"]
    keys = list(zip(out.doc_id, out.para_id, out.actor))
    assert keys == sorted(keys)
    assert keys == [("a", 0, "china"), ("a", 1, "russia"), ("a", 1, "west"), ("b", 2, "china"), ("b", 2, "russia")]
    for col in ("p_against", "p_neutral", "p_favor", "score"):
        assert out[col].dtype == np.float64
    assert out.para_id.dtype == np.int64 and out.n_mentions.dtype == np.int64
    np.testing.assert_allclose(out.score, out.p_favor - out.p_against)
    assert set(out.model) == {"fake:words@1"}
    assert dict(zip(zip(out.doc_id, out.para_id, out.actor), out.label)) == {
        ("a", 0, "china"): "neutral",
        ("a", 1, "russia"): "favor",
        ("a", 1, "west"): "against",
        ("b", 2, "china"): "against",
        ("b", 2, "russia"): "favor",
    }
    russia = out[(out.doc_id == "a") & (out.actor == "russia")].iloc[0]
    assert russia.n_mentions == 2
    np.testing.assert_allclose([russia.p_against, russia.p_neutral, russia.p_favor], GOOD)


def test_score_tables_carry_paragraph_metadata(paragraphs, mentions):
    meta = paragraphs.assign(outlet=[f"outlet-{d}" for d in paragraphs.doc_id], date="2024-02-24")
    stance = score_stance(meta, mentions, FakeClassifier())
    assert list(stance.columns) == [*STANCE_COLUMNS, "lang", "outlet", "date"]
    assert (stance.outlet == "outlet-" + stance.doc_id).all() and (stance.date == "2024-02-24").all()
    plain = score_stance(paragraphs, mentions, FakeClassifier())
    pd.testing.assert_frame_equal(stance[plain.columns], plain)  # metadata never changes a score
    sent = score_sentiment(meta, FakeClassifier())
    assert list(sent.columns) == [*SENTIMENT_COLUMNS, "lang", "outlet", "date"]
    assert (sent.outlet == "outlet-" + sent.doc_id).all()
    assert list(score_stance(None, mentions, FakeClassifier()).columns) == list(STANCE_COLUMNS)


def test_unmentioned_actor_has_no_row(paragraphs, mentions):
    out = score_stance(paragraphs, mentions, FakeClassifier())
    assert "c" not in set(out.doc_id)  # paragraph without mentions: no row at all
    assert not ((out.doc_id == "a") & (out.para_id == 0) & (out.actor == "russia")).any()


def test_adding_an_actor_never_changes_another(paragraphs, mentions):
    clf = FakeClassifier()
    without_west = score_stance(paragraphs, mentions[mentions.actor != "west"], clf)
    full = score_stance(paragraphs, mentions, clf)
    pd.testing.assert_frame_equal(full[full.actor != "west"].reset_index(drop=True), without_west)


def test_paragraph_subset_restricts_rows(paragraphs, mentions):
    out = score_stance(paragraphs[paragraphs.doc_id == "b"], mentions, FakeClassifier())
    assert set(out.doc_id) == {"b"}
    assert len(score_stance(None, mentions, FakeClassifier())) == 5


def test_empty_inputs_give_empty_tables(paragraphs, mentions):
    clf = FakeClassifier()
    out = score_stance(paragraphs, mentions.iloc[:0], clf)
    assert list(out.columns) == [*STANCE_COLUMNS, "lang"] and len(out) == 0
    assert out.p_favor.dtype == np.float64
    assert clf.calls == 0
    out = score_stance(paragraphs.iloc[:0], mentions, clf)
    assert list(out.columns) == [*STANCE_COLUMNS, "lang"] and len(out) == 0
    sent = score_sentiment(paragraphs.iloc[:0], clf)
    assert list(sent.columns) == [*SENTIMENT_COLUMNS, "lang"] and len(sent) == 0


def test_bad_tables_raise_input_error(paragraphs, mentions):
    with pytest.raises(InputError, match="start"):
        score_stance(paragraphs, mentions.drop(columns=["start"]), FakeClassifier())
    with pytest.raises(InputError, match="para_id"):
        score_stance(paragraphs.drop(columns=["para_id"]), mentions, FakeClassifier())
    with pytest.raises(InputError, match="text"):
        score_sentiment(paragraphs.drop(columns=["text"]), FakeClassifier())


def test_sentiment_table(paragraphs):
    out = score_sentiment(paragraphs, FakeClassifier())
    assert list(out.columns) == [*SENTIMENT_COLUMNS, "lang"]
    assert list(zip(out.doc_id, out.para_id)) == sorted(zip(paragraphs.doc_id, paragraphs.para_id))
    np.testing.assert_allclose(out.score, out.p_positive - out.p_negative)
    row = out[out.doc_id == "c"].iloc[0]
    np.testing.assert_allclose([row.p_negative, row.p_neutral, row.p_positive], GOOD)
    assert row.label == "positive"
    assert out[(out.doc_id == "a") & (out.para_id == 0)].label.item() == "neutral"
    assert FLAT[1] > 0.5 and BAD[0] > 0.5


def test_model_by_path(paragraphs, mentions, tiny_hf_model):
    folder = tiny_hf_model()
    out = score_stance(paragraphs, mentions, str(folder), batch_size=4, device="cpu")
    assert list(out.columns) == [*STANCE_COLUMNS, "lang"]
    assert len(out) == 5
    assert out.model.str.match(r"^hf:[^/]+@local-[0-9a-f]{12}$").all()
    np.testing.assert_allclose(out[["p_against", "p_neutral", "p_favor"]].sum(axis=1), 1.0)
    sent = score_sentiment(paragraphs, folder, device="cpu")
    assert list(sent.columns) == [*SENTIMENT_COLUMNS, "lang"] and len(sent) == len(paragraphs)


# --------------------------------------------------------------------------- voices


@pytest.fixture
def voiced():
    """Paragraphs whose mentions carry holders (analysis.find_mentions), for the fake word-reading classifier."""
    from analysis import find_mentions

    paragraphs = pd.DataFrame({
        "doc_id": "v", "para_id": [1, 2, 3], "lang": "en",
        "text": [
            "Western diplomats said that China bad.",
            'The Kremlin said: "Russia good and the West bad."',
            "China bad and Russia good.",
        ],
    })
    return paragraphs, find_mentions(paragraphs)


def _keys(table):
    return list(zip(table.doc_id, table.para_id, table.actor))


def test_a_speaker_is_not_scored_as_the_target_of_what_it_says(voiced):
    paragraphs, mentions = voiced
    out = score_stance(paragraphs, mentions, FakeClassifier(), cache=False, progress=False)
    rows = out.set_index(["para_id", "actor"])
    # "Western diplomats" only speak in paragraph 1: mentioned, not judged
    west = rows.loc[(1, "West")]
    assert west.n_mentions == 0 and west.score == 0.0 and west.label == "neutral" and west.p_neutral == 1.0
    assert west.evidence == "Western diplomats said that China bad."
    # the Kremlin speaks: Russia's row in paragraph 2 is its target mention alone
    assert rows.loc[(2, "Russia")].n_mentions == 1 and rows.loc[(2, "Russia")].label == "favor"
    # every pair with a target mention keeps exactly the score it gets from its target mentions alone
    from analysis.speakers import HOLDER_COLUMNS, speaker_mask

    plain = mentions[~speaker_mask(mentions)].drop(columns=list(HOLDER_COLUMNS))
    alone = score_stance(paragraphs, plain, FakeClassifier(), cache=False, progress=False)
    pd.testing.assert_frame_equal(out[out.n_mentions > 0].reset_index(drop=True), alone)


def test_voices_split_the_target_mentions(voiced):
    paragraphs, mentions = voiced
    clf = FakeClassifier()
    narrator = score_stance(paragraphs, mentions, clf, voice="narrator", cache=False, progress=False)
    sources = score_stance(paragraphs, mentions, clf, voice="sources", cache=False, progress=False)
    assert list(narrator.columns) == list(sources.columns) == [*STANCE_COLUMNS, "lang"]
    assert _keys(sources) == [("v", 1, "China"), ("v", 2, "Russia"), ("v", 2, "West")]
    # the outlet's own words: paragraph 3, and neutral rows where an actor only speaks
    assert _keys(narrator) == [("v", 1, "West"), ("v", 2, "Russia"), ("v", 3, "China"), ("v", 3, "Russia")]
    assert (narrator[narrator.para_id < 3].n_mentions == 0).all()
    assert sources.n_mentions.sum() + narrator.n_mentions.sum() == 5  # the 7 mentions less the 2 speakers


def test_a_mentions_table_without_holders_is_scored_whole(paragraphs, mentions):
    clf = FakeClassifier()
    pd.testing.assert_frame_equal(score_stance(paragraphs, mentions, clf, voice="all"),
                                  score_stance(paragraphs, mentions, clf))
    with pytest.raises(InputError, match="holder"):
        score_stance(paragraphs, mentions, clf, voice="narrator")
    with pytest.raises(InputError, match="all, narrator, sources"):
        score_stance(paragraphs, mentions, clf, voice="quoted")
