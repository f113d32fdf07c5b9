"""The on-disk output cache, lazy classifiers, chunked scoring and progress bars."""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest
from test_classifiers_base import FakeClassifier

from analysis import find_mentions, read_articles
from analysis.cache import (
    CachedClassifier,
    OutputCache,
    cache_identity,
    resolve_cache_dir,
    with_cache,
)
from analysis.progress import progress, progress_bar
from analysis.classifiers import LazyClassifier, describe_classifier, load_classifier
from analysis.classifiers.base import Identity
from analysis.errors import InputError
from analysis.scoring import StanceScorer, score_sentiment, score_stance


class NoisyFake(FakeClassifier):
    """Cacheable fake whose outputs change on every call (so a hit is recognisable)."""

    def __init__(self, **settings):
        super().__init__()
        self.identity = Identity("fake:noisy@1", "fake-noisy-weights", {"batch_size": 32, **settings})
        self.rng = np.random.default_rng(0)

    def predict_proba(self, sentences, spans):
        self.calls += 1
        p = self.rng.random((len(sentences), 3)) + 0.1
        return p / p.sum(axis=1, keepdims=True)

    def predict_sentiment(self, texts):
        self.calls += 1
        p = self.rng.random((len(texts), 3)) + 0.1
        return p / p.sum(axis=1, keepdims=True)


@pytest.fixture
def seed_tables(seed_path):
    paragraphs = read_articles([seed_path])
    return paragraphs, find_mentions(paragraphs)


# --- the store -------------------------------------------------------------------


def test_store_round_trip_and_persistence(tmp_path):
    store = OutputCache(tmp_path / "outputs", "model-a")
    assert store.get(b"k") is None
    store.put(b"k", b"value")
    assert store.get(b"k") == b"value"
    store.close()
    again = OutputCache(tmp_path / "outputs", "model-a")
    assert again.get(b"k") == b"value" and len(again) == 1
    other = OutputCache(tmp_path / "outputs", "model-b")
    assert other.path != again.path and other.get(b"k") is None
    con = sqlite3.connect(again.path)  # a plain SQLite file in WAL mode
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_damaged_store_is_rebuilt_once(tmp_path, seed_tables):
    paragraphs, mentions = seed_tables
    root = tmp_path / "outputs"
    clf = NoisyFake()
    store_path = with_cache(clf, root).store.path
    root.mkdir()
    store_path.write_bytes(b"this is not a database" * 100)
    with pytest.warns(RuntimeWarning, match="damaged"):
        first = score_stance(paragraphs, mentions, clf, cache=root)
    assert len(first) > 0
    calls = clf.calls
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired: no warning on later runs
        again = score_stance(paragraphs, mentions, clf, cache=root)
    assert clf.calls == calls  # and it caches again
    pd.testing.assert_frame_equal(first, again, check_exact=True)


def test_unusable_cache_folder_only_warns(tmp_path, seed_tables):
    paragraphs, mentions = seed_tables
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match="cannot open the output cache"):
        out = score_stance(paragraphs, mentions, NoisyFake(), cache=blocker / "outputs")
    assert len(out) > 0


def test_cache_switches(tmp_path, monkeypatch):
    from analysis.paths import cache_dir

    monkeypatch.delenv("ANALYSIS_NO_CACHE", raising=False)
    assert resolve_cache_dir(True) == cache_dir() / "outputs"
    assert resolve_cache_dir(False) is None and resolve_cache_dir(None) is None
    assert resolve_cache_dir(tmp_path) == tmp_path
    monkeypatch.setenv("ANALYSIS_NO_CACHE", "1")
    assert resolve_cache_dir(True) is None and resolve_cache_dir(tmp_path) is None
    clf = NoisyFake()
    assert with_cache(clf, tmp_path) is clf


def test_ad_hoc_classifiers_are_never_cached(tmp_path):
    clf = FakeClassifier()  # no content identity: its model_id proves nothing
    assert cache_identity(clf) is None
    assert with_cache(clf, tmp_path) is clf
    assert not list(tmp_path.iterdir())


# --- exact hits -------------------------------------------------------------------


def test_hits_return_exactly_the_computed_floats(tmp_path, seed_tables):
    paragraphs, mentions = seed_tables
    clf = NoisyFake()
    first = score_stance(paragraphs, mentions, clf, cache=tmp_path)
    calls = clf.calls
    second = score_stance(paragraphs, mentions, clf, cache=tmp_path)
    assert clf.calls == calls  # answered from the cache
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    fresh = score_stance(paragraphs, mentions, clf, cache=False)  # the fake changes every call
    assert not np.array_equal(fresh.p_favor.to_numpy(), first.p_favor.to_numpy())
    s1 = score_sentiment(paragraphs, clf, cache=tmp_path)
    calls = clf.calls
    s2 = score_sentiment(paragraphs, clf, cache=tmp_path)
    assert clf.calls == calls
    pd.testing.assert_frame_equal(s1, s2, check_exact=True)


def test_identity_includes_settings(tmp_path):
    a, b = NoisyFake(), NoisyFake(batch_size=8)
    assert cache_identity(a) != cache_identity(b)
    assert with_cache(a, tmp_path).store.path != with_cache(b, tmp_path).store.path
    assert cache_identity(NoisyFake()) == cache_identity(a)


def test_lazy_embedded_int8_and_fp32_never_share_a_cache():
    fp32 = load_classifier("embedded", lazy=True)
    int8 = load_classifier("embedded", lazy=True, quantize=True)
    assert fp32.cache_identity() != int8.cache_identity()


EMBEDDED_SETTINGS = [{}, {"quantize": True}, {"batch_size": 8}, {"quantize": True, "batch_size": 8}]


def test_embedded_identities_lazy_equal_described_and_settings_differ():
    keys = []
    for settings in EMBEDDED_SETTINGS:
        described, meta = describe_classifier("embedded", **settings)
        lazy = load_classifier("embedded", lazy=True, **settings)
        assert lazy.identity == described and not lazy.is_loaded
        assert lazy.model_id == described.model_id and meta["quantized"] == bool(settings.get("quantize"))
        keys.append(lazy.cache_identity())
    assert len(set(keys)) == len(keys)  # different settings never share an identity


@pytest.mark.parametrize("settings", [{}, {"quantize": True}])
def test_embedded_eager_identity_equals_lazy(settings):
    eager = load_classifier("embedded", device="cpu", **settings)
    lazy = load_classifier("embedded", device="cpu", lazy=True, **settings)
    assert eager.identity == lazy.identity
    assert eager.cache_identity() == lazy.cache_identity() == describe_classifier("embedded", device="cpu", **settings)[0].key
    assert eager.quantized == bool(settings.get("quantize"))


def test_embedded_cached_equals_uncached(tmp_path, seed_tables, embedded_classifier):
    paragraphs, mentions = seed_tables
    uncached = score_stance(paragraphs, mentions, embedded_classifier, cache=False)
    cold = score_stance(paragraphs, mentions, embedded_classifier, cache=tmp_path)
    cached = score_stance(paragraphs, mentions, embedded_classifier, cache=tmp_path)
    pd.testing.assert_frame_equal(uncached, cold, check_exact=True)
    pd.testing.assert_frame_equal(cold, cached, check_exact=True)
    sent = score_sentiment(paragraphs, embedded_classifier, cache=False)
    score_sentiment(paragraphs, embedded_classifier, cache=tmp_path)
    pd.testing.assert_frame_equal(sent, score_sentiment(paragraphs, embedded_classifier, cache=tmp_path),
                                  check_exact=True)


def test_lazy_embedded_is_not_loaded_when_everything_is_cached(tmp_path, seed_tables, embedded_classifier):
    paragraphs, mentions = seed_tables
    lazy = load_classifier("embedded", lazy=True)
    assert isinstance(lazy, LazyClassifier) and not lazy.is_loaded
    assert lazy.model_id == embedded_classifier.model_id
    assert "hyperparameters" in lazy.metadata  # the artefact's metadata, read without loading
    object.__setattr__(lazy, "_real", embedded_classifier)  # same settings: reuse the session's model
    cold = score_stance(paragraphs, mentions, lazy, cache=tmp_path)
    sent = score_sentiment(paragraphs, lazy, cache=tmp_path)
    again = load_classifier("embedded", lazy=True)
    pd.testing.assert_frame_equal(cold, score_stance(paragraphs, mentions, again, cache=tmp_path), check_exact=True)
    pd.testing.assert_frame_equal(sent, score_sentiment(paragraphs, again, cache=tmp_path), check_exact=True)
    assert not again.is_loaded
    other = load_classifier("embedded", lazy=True, batch_size=8)  # another setting, another store
    assert other.cache_identity() != again.cache_identity()


def test_nli_pairs_are_cached(tmp_path, tiny_hf_model, make_mentions):
    mentions = make_mentions(
        {("d", 1): [("Russia helps China.", [("Russia", "Russia"), ("China", "China")]),
                    ("Russia again.", [("Russia", "Russia")])]}
    )
    folder = tiny_hf_model()
    lazy = load_classifier(folder, device="cpu", lazy=True)
    assert lazy.pair_level and not lazy.is_loaded
    first = score_stance(None, mentions, lazy, cache=tmp_path)
    assert lazy.is_loaded
    again = load_classifier(folder, device="cpu", lazy=True)
    second = score_stance(None, mentions, again, cache=tmp_path)
    assert not again.is_loaded
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    eager = load_classifier(folder, device="cpu")
    pd.testing.assert_frame_equal(first, score_stance(None, mentions, eager, cache=False), check_exact=True)
    other = load_classifier(folder, device="cpu", lazy=True,
                            templates={"favor": "{actor} good.", "neutral": "{actor} so-so.", "against": "{actor} bad."})
    assert other.cache_identity() != again.cache_identity()


def test_lazy_fails_early_and_forwards_attributes(tmp_path, tiny_hf_model, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="not in the local Hugging Face cache"):
        load_classifier("example-org/surely-not-cached-model", lazy=True)
    with pytest.raises(InputError):
        load_classifier(str(tmp_path / "missing"), lazy=True)
    lazy = load_classifier(tiny_hf_model(), device="cpu", lazy=True)
    lazy.dedupe = False  # forwarded to the real classifier (loads it)
    assert lazy.is_loaded and lazy.loaded.dedupe is False and lazy.dedupe is False
    assert lazy.hypotheses("West")[0].startswith("This text")


# --- chunks -------------------------------------------------------------------------


def _corpus(n_docs=7):
    rows = []
    for d in range(n_docs):
        for p in range(1, 4):
            rows.append(dict(doc_id=f"doc{d}", para_id=p,
                             text=f"Russia and China talk, paragraph {p}. The West listens {d}.", lang="en"))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("chunk_size", [1, 20, 10_000])
def test_chunks_hold_whole_documents_and_pieces_match_the_whole(chunk_size):
    mentions = find_mentions(_corpus())
    seen = []

    class Spy(FakeClassifier):
        def score_pairs(self, m):
            seen.append(sorted(set(m["doc_id"])))
            return super().score_pairs(m)

    whole = score_stance(None, mentions, Spy(), chunk_size=chunk_size)
    calls_whole = list(seen)
    assert sorted(d for call in calls_whole for d in call) == sorted(set(mentions.doc_id))  # no doc split
    seen.clear()
    scorer = StanceScorer(Spy(), chunk_size)
    for doc in dict.fromkeys(mentions.doc_id):  # one document at a time, as `analysis score` streams
        scorer.add(mentions[mentions.doc_id == doc])
    pd.testing.assert_frame_equal(whole, scorer.result(), check_exact=True)
    assert seen == calls_whole
    n_docs = mentions.doc_id.nunique()
    assert len(calls_whole) == {1: n_docs, 10_000: 1}.get(chunk_size, len(calls_whole))
    assert 1 < len(calls_whole) < n_docs or chunk_size in (1, 10_000)
    with pytest.raises(InputError, match="chunk_size"):
        score_stance(None, mentions, Spy(), chunk_size=0)


def test_sentiment_chunks_keep_row_order():
    paragraphs = _corpus()
    whole = score_sentiment(paragraphs, FakeClassifier())
    pd.testing.assert_frame_equal(whole, score_sentiment(paragraphs, FakeClassifier(), chunk_size=2))


# --- progress -------------------------------------------------------------------------


def test_progress_bars_go_to_stderr_and_hide_short_loops(capsys, monkeypatch):
    monkeypatch.delenv("ANALYSIS_NO_PROGRESS", raising=False)
    bar = progress_bar(10, "work")
    assert not bar.disable
    bar.update(10)
    bar.close()
    assert progress_bar(2, "short").disable
    with progress(False):
        assert progress_bar(100, "off").disable
    monkeypatch.setenv("ANALYSIS_NO_PROGRESS", "1")
    assert progress_bar(100, "env").disable
    out, _err = capsys.readouterr()
    assert out == ""


def test_cached_wrapper_is_transparent(tmp_path):
    clf = NoisyFake()
    wrapped = with_cache(clf, tmp_path)
    assert isinstance(wrapped, CachedClassifier)
    assert with_cache(wrapped, tmp_path) is wrapped
    assert wrapped.model_id == clf.model_id and wrapped.metadata == clf.metadata
    wrapped.batch_size = 4
    assert clf.batch_size == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wrapped.predict_proba([], []).shape == (0, 3)


class _InterruptedConnection:
    """A connection whose every statement is stopped as SQLite stops one on Ctrl-C."""

    def execute(self, *args):
        raise sqlite3.OperationalError("interrupted")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


@pytest.mark.parametrize("access", ["get", "put"])
def test_an_interrupted_statement_stops_the_run_instead_of_disabling_the_cache(tmp_path, access):
    store = OutputCache(tmp_path / "outputs", "model-a")
    store.put(b"k", b"v")
    store._conn = _InterruptedConnection()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "continuing without it" warning
        with pytest.raises(KeyboardInterrupt):
            store.get(b"k") if access == "get" else store.put(b"k2", b"v2")
    store._conn = None
    assert store.get(b"k") == b"v", "the store is still in use"
