"""The classifier interface, the mention aggregation rule and shared helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers import load_classifier
from analysis.classifiers.base import MentionClassifier, aggregate_mentions, library_versions, resolve_device
from analysis.schema import CLASSES, PAIRS, sentiment_labels, stance_labels, table_labels
from analysis.errors import InputError

GOOD = np.array([0.1, 0.2, 0.7])
BAD = np.array([0.7, 0.2, 0.1])
FLAT = np.array([0.2, 0.6, 0.2])


class FakeClassifier(MentionClassifier):
    """Deterministic: a mention is positive when "good" follows it, negative for "bad"."""

    def __init__(self):
        super().__init__(model_id="fake:words@1", metadata={"rule": "next word"})
        self.calls = 0

    def predict_proba(self, sentences, spans):
        self.calls += 1
        out = []
        for sentence, (a, b) in zip(sentences, spans):
            after = sentence[b:].split()
            word = after[0].strip(".,") if after else ""
            out.append(GOOD if word == "good" else BAD if word == "bad" else FLAT)
        return np.array(out, dtype=np.float64).reshape(-1, 3)

    def predict_sentiment(self, texts):
        return np.array([GOOD if "good" in t else BAD if "bad" in t else FLAT for t in texts]).reshape(-1, 3)


@pytest.fixture
def corpus(make_mentions):
    return make_mentions(
        {
            ("d1", 1): [
                ("Russia good and China bad.", [("russia", "Russia"), ("china", "China")]),
                ("Moscow bad today.", [("russia", "Moscow")]),
            ],
            ("d1", 0): [("China good.", [("china", "China")])],
            ("d0", 3): [("The West is fine.", [("west", "West")])],
        }
    )


def test_classes_order():
    assert CLASSES == ("negative", "neutral", "positive")
    assert FakeClassifier().classes_ == CLASSES


def test_score_pairs_mean_rule_and_evidence(corpus):
    pairs = FakeClassifier().score_pairs(corpus)
    assert list(pairs.columns) == list(PAIRS)
    keys = list(zip(pairs.doc_id, pairs.para_id, pairs.actor))
    assert keys == sorted(keys)
    row = pairs[(pairs.doc_id == "d1") & (pairs.para_id == 1) & (pairs.actor == "russia")].iloc[0]
    assert row.n_mentions == 2
    np.testing.assert_allclose([row.p_against, row.p_neutral, row.p_favor], (GOOD + BAD) / 2)
    # both mentions equally strong -> the first one (sentence order) is the evidence
    assert row.evidence == "Russia good and China bad."
    west = pairs[pairs.actor == "west"].iloc[0]
    np.testing.assert_allclose([west.p_against, west.p_neutral, west.p_favor], FLAT)
    for col in ("p_against", "p_neutral", "p_favor"):
        assert pairs[col].dtype == np.float64
    np.testing.assert_allclose(pairs[["p_against", "p_neutral", "p_favor"]].sum(axis=1), 1.0)


def test_evidence_is_strongest_mention(make_mentions):
    mentions = make_mentions(
        {("d", 1): [("Russia is here.", [("russia", "Russia")]), ("Russia bad.", [("russia", "Russia")])]}
    )
    pairs = FakeClassifier().score_pairs(mentions)
    assert pairs.evidence.tolist() == ["Russia bad."]


def test_each_actor_scored_on_its_own(corpus):
    clf = FakeClassifier()
    only_russia = clf.score_pairs(corpus[corpus.actor == "russia"])
    everything = clf.score_pairs(corpus)
    pd.testing.assert_frame_equal(
        everything[everything.actor == "russia"].reset_index(drop=True), only_russia.reset_index(drop=True)
    )
    # row order of the input does not matter either
    shuffled = clf.score_pairs(corpus.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(shuffled, everything)


@pytest.mark.parametrize(
    "probs, label",
    [
        ((0.7, 0.2, 0.1), "against"),
        ((0.1, 0.2, 0.7), "favor"),
        ((0.2, 0.6, 0.2), "neutral"),
        ((0.4, 0.2, 0.4), "neutral"),  # favor/against tie -> neutral
        ((0.4, 0.4, 0.2), "neutral"),  # against/neutral tie -> neutral
        ((0.2, 0.4, 0.4), "neutral"),  # favor/neutral tie -> neutral
        ((1 / 3, 1 / 3, 1 / 3), "neutral"),
        ((0.34, 0.33, 0.33), "against"),
    ],
)
def test_label_argmax_ties_toward_neutral(probs, label):
    assert stance_labels(np.array([probs]))[0] == label
    assert sentiment_labels([probs])[0] == {"against": "negative", "neutral": "neutral", "favor": "positive"}[label]
    # a table without a label column is labelled by the same rule (aggregates, evaluation)
    table = pd.DataFrame([probs], columns=["p_against", "p_neutral", "p_favor"])
    assert table_labels(table).tolist() == [label]


def test_aggregate_mentions_empty_and_mismatch(corpus):
    empty = aggregate_mentions(corpus.iloc[:0], np.zeros((0, 3)))
    assert list(empty.columns) == list(PAIRS) and len(empty) == 0
    with pytest.raises(ValueError):
        aggregate_mentions(corpus, np.zeros((1, 3)))


def test_score_pairs_rejects_missing_columns(corpus):
    with pytest.raises(InputError, match="sentence"):
        FakeClassifier().score_pairs(corpus.drop(columns=["sentence"]))


def test_predict_labels():
    labels = FakeClassifier().predict(["Russia good.", "Russia bad.", "Russia."], [(0, 6)] * 3)
    assert labels.tolist() == ["positive", "negative", "neutral"]


def test_resolve_device():
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == resolve_device("auto")
    with pytest.raises(InputError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA"):
            resolve_device("cuda")


def test_library_versions():
    versions = library_versions()
    assert {"python", "numpy", "torch", "transformers"} <= set(versions)
    assert library_versions("surely-not-installed-pkg")["surely-not-installed-pkg"] == "absent"


def test_load_classifier_passes_objects_through():
    clf = FakeClassifier()
    assert load_classifier(clf) is clf


def test_base_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, analysis.classifiers, analysis.classifiers.base, analysis.scoring;"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
