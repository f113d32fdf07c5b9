"""Paragraph-level stance toward actors and paragraph sentiment, for any classifier.

``score_stance`` turns a mentions table into the **stance table**: one row per
paragraph x *mentioned* actor (an actor that is not mentioned has no row --
never a "neutral" one).  How mention-level probabilities become the
paragraph's is the classifier's :meth:`~analysis.classifiers.base.MentionClassifier.score_pairs`;
the default rule (embedded and sentiment models) is the **mean of the mention
probability vectors**, ``label`` = argmax of the mean with ties broken toward
neutral (see :mod:`analysis.classifiers.base`).  NLI models judge the actor's
mentioning sentences of the paragraph together (see :mod:`analysis.classifiers.hf`).
Each actor is scored on its own: adding an actor never changes another's rows.

Large corpora and caching
-------------------------
Mentions are scored in chunks of whole documents (about ``chunk_size``
mentions each, documents in order of first appearance), so memory stays flat;
:class:`StanceScorer` does the same for mentions that arrive piece by piece
(``analysis score`` streams a corpus through it), with exactly the same chunks
and hence the same numbers.  Model outputs are cached on disk per chunk (see
:mod:`analysis.cache`; ``cache=False`` or ``$ANALYSIS_NO_CACHE=1`` to disable).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .classifiers.base import (
    PAIR_COLUMNS,
    SENTIMENT_COLUMNS,
    STANCE_COLUMNS,
    MentionClassifier,
    check_mentions,
    sentiment_labels,
    stance_labels,
)
from .errors import InputError

__all__ = ["score_stance", "score_sentiment", "StanceScorer", "STANCE_COLUMNS", "SENTIMENT_COLUMNS"]

#: Mentions per scoring call (whole documents; a longer document is one call).
DEFAULT_CHUNK_MENTIONS = 2000
#: Paragraphs per sentiment call (whole documents).
DEFAULT_CHUNK_PARAGRAPHS = 1000

_STANCE_DTYPES: Mapping[str, Any] = {
    "doc_id": object,
    "para_id": np.int64,
    "actor": object,
    "n_mentions": np.int64,
    "p_against": np.float64,
    "p_neutral": np.float64,
    "p_favor": np.float64,
    "score": np.float64,
    "label": object,
    "model": object,
    "evidence": object,
}

_SENTIMENT_DTYPES: Mapping[str, Any] = {
    "doc_id": object,
    "para_id": np.int64,
    "p_negative": np.float64,
    "p_neutral": np.float64,
    "p_positive": np.float64,
    "score": np.float64,
    "label": object,
    "model": object,
}


def _empty(dtypes: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series([], dtype=dt) for col, dt in dtypes.items()})


def _get_classifier(model: Any, batch_size: int, device: str, kw: dict, cache: Any = False) -> MentionClassifier:
    if isinstance(model, MentionClassifier) or (
        not isinstance(model, (str, os.PathLike)) and hasattr(model, "predict_proba")
    ):
        clf = model
    else:
        from .classifiers import load_classifier

        # lazy: when every output is cached the weights are never loaded
        clf = load_classifier(model, batch_size=batch_size, device=device, lazy=True, **kw)
    if cache is False or cache is None:
        return clf
    from .cache import with_cache

    return with_cache(clf, cache)


def _chunk_bounds(codes: np.ndarray, n_docs: int, budget: int, start: int = 0) -> list[tuple[int, int]]:
    """Greedy groups of consecutive document codes holding at least ``budget`` rows.

    ``codes`` are document codes in order of first appearance (``pd.factorize``);
    returns ``(first_code, last_code_exclusive)`` pairs; the last group may be
    smaller.  ``start`` rows are already pending before the first document.
    """
    counts = np.bincount(codes, minlength=n_docs)
    bounds = []
    lo, pending = 0, start
    for doc in range(n_docs):
        pending += int(counts[doc])
        if pending >= budget:
            bounds.append((lo, doc + 1))
            lo, pending = doc + 1, 0
    if lo < n_docs:
        bounds.append((lo, n_docs))
    return bounds


def _release_memory() -> None:
    """Between chunks: collect garbage and give freed heap pages back to the OS (glibc),
    so a long run's memory does not creep up through fragmentation."""
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl...): nothing to do
            pass


def _stance_rows(pairs: pd.DataFrame, clf: Any) -> pd.DataFrame:
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"{type(clf).__name__}.score_pairs did not return columns {missing}")
    probs = pairs[["p_against", "p_neutral", "p_favor"]].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "doc_id": pairs["doc_id"].astype(str).astype(object).to_numpy(),
            "para_id": pairs["para_id"].to_numpy(dtype=np.int64),
            "actor": pairs["actor"].astype(str).astype(object).to_numpy(),
            "n_mentions": pairs["n_mentions"].to_numpy(dtype=np.int64),
            "p_against": probs[:, 0],
            "p_neutral": probs[:, 1],
            "p_favor": probs[:, 2],
            "score": probs[:, 2] - probs[:, 0],
            "label": stance_labels(probs),
            "model": str(getattr(clf, "model_id", type(clf).__name__)),
            "evidence": pairs["evidence"].astype(object).to_numpy(),
        }
    )


class StanceScorer:
    """Score mentions that arrive in pieces (whole documents) with flat memory.

    Mentions are buffered until about ``chunk_size`` have arrived (documents are
    never split), then scored in one classifier call; only the (small) stance
    rows are kept.  Feeding a corpus piece by piece gives exactly the chunks --
    and so the numbers -- of one :func:`score_stance` call on the whole mentions
    table.

    Parameters
    ----------
    classifier : MentionClassifier
        Already wrapped for caching if wanted (``score_stance`` does that).
    chunk_size : int
        Mentions per classifier call.
    """

    def __init__(self, classifier: Any, chunk_size: int = DEFAULT_CHUNK_MENTIONS):
        if int(chunk_size) < 1:
            raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
        self.classifier = classifier
        self.chunk_size = int(chunk_size)
        self._pending: list[pd.DataFrame] = []
        self._n_pending = 0
        self._rows: list[pd.DataFrame] = []
        self._released = time.monotonic()
        #: mentions scored so far
        self.n_scored = 0

    def add(self, mentions: pd.DataFrame) -> None:
        """Add the mentions of one or more whole documents (scoring full chunks)."""
        if len(mentions) == 0:
            return
        codes, uniques = pd.factorize(mentions["doc_id"].astype(str), sort=False)
        for lo, hi in _chunk_bounds(codes, len(uniques), self.chunk_size, self._n_pending):
            part = mentions[(codes >= lo) & (codes < hi)]
            self._pending.append(part)
            self._n_pending += len(part)
            if self._n_pending >= self.chunk_size:
                self._flush()
                # more chunks follow; a full collection costs ~0.2 s, so at most one per 10 s
                if time.monotonic() - self._released >= 10.0:
                    _release_memory()
                    self._released = time.monotonic()

    def _flush(self) -> None:
        if not self._pending:
            return
        chunk = pd.concat(self._pending, ignore_index=True) if len(self._pending) > 1 else self._pending[0]
        self._pending, self._n_pending = [], 0
        pairs = self.classifier.score_pairs(chunk)
        if len(pairs):
            self._rows.append(_stance_rows(pairs, self.classifier))
        self.n_scored += len(chunk)

    def result(self) -> pd.DataFrame:
        """Score what is left and return the stance table (sorted; see :func:`score_stance`)."""
        self._flush()
        if not self._rows:
            return _empty(_STANCE_DTYPES)
        out = pd.concat(self._rows, ignore_index=True) if len(self._rows) > 1 else self._rows[0]
        out = out.sort_values(["doc_id", "para_id", "actor"], kind="mergesort").reset_index(drop=True)
        return out.astype(dict(_STANCE_DTYPES))[list(STANCE_COLUMNS)]


def _paragraph_keys(paragraphs: pd.DataFrame | None) -> pd.DataFrame | None:
    if paragraphs is None:
        return None
    if not isinstance(paragraphs, pd.DataFrame):
        raise InputError(f"paragraphs must be a pandas DataFrame, got {type(paragraphs).__name__}")
    missing = [c for c in ("doc_id", "para_id") if c not in paragraphs.columns]
    if missing:
        raise InputError(f"paragraphs table is missing column(s) {missing}")
    return pd.DataFrame(
        {"doc_id": paragraphs["doc_id"].astype(str), "para_id": paragraphs["para_id"].astype(np.int64)}
    ).drop_duplicates()


def score_stance(
    paragraphs: pd.DataFrame | None,
    mentions: pd.DataFrame,
    model: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    cache: bool | str | os.PathLike = True,
    chunk_size: int = DEFAULT_CHUNK_MENTIONS,
    progress: bool = True,
    **kw: Any,
) -> pd.DataFrame:
    """Stance toward each mentioned actor, paragraph by paragraph.

    Parameters
    ----------
    paragraphs : DataFrame or None
        Paragraphs table (``read_articles``).  Only mentions of paragraphs in
        it are scored (None: all mentions).
    mentions : DataFrame
        Mentions table (``find_mentions``): doc_id, para_id, actor, surface,
        start, end, sentence_id, sentence, sentence_start.
    model : str, path or MentionClassifier
        "embedded", a Hugging Face model id, a local model directory, or an
        already-loaded classifier (then ``batch_size``/``device``/``kw`` are
        ignored).
    batch_size : int
        Sequences per forward pass.
    device : {"auto", "cpu", "cuda"}
        "auto" = CUDA when available.
    cache : bool or path
        Reuse model outputs stored on disk by earlier runs, and store new ones
        (default True: ``<cache dir>/outputs``, see :mod:`analysis.cache`); a path
        picks the folder; False (or ``$ANALYSIS_NO_CACHE=1``) disables it.  A
        cached run returns exactly the numbers of an uncached one.
    chunk_size : int
        Mentions per model call (whole documents); bounds memory on large corpora.
    progress : bool
        Show progress bars (stderr, or a widget in Jupyter) for long runs.
    **kw
        Passed to :func:`analysis.load_classifier` (e.g. ``templates=``).

    Returns
    -------
    DataFrame
        Columns, in this order:

        - doc_id (str), para_id (int64), actor (str)
        - n_mentions (int64): mentions of the actor in the paragraph
        - p_against, p_neutral, p_favor (float64): probabilities (sum to 1)
        - score (float64): ``p_favor - p_against`` in [-1, 1]
        - label (str): "against" | "neutral" | "favor" -- argmax, ties
          broken toward neutral
        - model (str): classifier identity, e.g. ``hf:<id>@<revision>``
        - evidence (str): the sentence that weighs most (mention with the
          largest ``|p_pos - p_neg|``)

        Sorted by (doc_id, para_id, actor); empty input gives an empty table
        with exactly these columns.
    """
    check_mentions(mentions)
    keys = _paragraph_keys(paragraphs)
    work = mentions
    if keys is not None and len(work):
        work = work.assign(doc_id=work["doc_id"].astype(str), para_id=work["para_id"].astype(np.int64))
        work = work.merge(keys, on=["doc_id", "para_id"], how="inner")
    if len(work) == 0:
        return _empty(_STANCE_DTYPES)
    from .cache import progress as _progress

    clf = _get_classifier(model, batch_size, device, kw, cache)
    scorer = StanceScorer(clf, chunk_size)
    with _progress(progress):
        scorer.add(work)
        return scorer.result()


def score_sentiment(
    paragraphs: pd.DataFrame,
    model: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    cache: bool | str | os.PathLike = True,
    chunk_size: int = DEFAULT_CHUNK_PARAGRAPHS,
    progress: bool = True,
    **kw: Any,
) -> pd.DataFrame:
    """Overall sentiment of each paragraph.

    Parameters
    ----------
    paragraphs : DataFrame
        Paragraphs table with doc_id, para_id, text.
    model, batch_size, device, cache, progress, **kw
        As in :func:`score_stance`; the classifier's ``predict_sentiment`` is used.
    chunk_size : int
        Paragraphs per model call (whole documents).

    Returns
    -------
    DataFrame
        doc_id (str), para_id (int64), p_negative, p_neutral, p_positive
        (float64), score (= p_positive - p_negative), label ("negative" |
        "neutral" | "positive", ties toward neutral), model (str); sorted by
        (doc_id, para_id).
    """
    if not isinstance(paragraphs, pd.DataFrame):
        raise InputError(f"paragraphs must be a pandas DataFrame, got {type(paragraphs).__name__}")
    missing = [c for c in ("doc_id", "para_id", "text") if c not in paragraphs.columns]
    if missing:
        raise InputError(f"paragraphs table is missing column(s) {missing}")
    if len(paragraphs) == 0:
        return _empty(_SENTIMENT_DTYPES)
    table = pd.DataFrame(
        {
            "doc_id": paragraphs["doc_id"].astype(str).to_numpy(),
            "para_id": paragraphs["para_id"].to_numpy(dtype=np.int64),
            "text": paragraphs["text"].astype(str).to_numpy(),
        }
    ).sort_values(["doc_id", "para_id"], kind="mergesort").reset_index(drop=True)
    from .cache import progress as _progress

    if int(chunk_size) < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
    clf = _get_classifier(model, batch_size, device, kw, cache)
    codes, uniques = pd.factorize(table["doc_id"], sort=False)
    texts = table["text"].tolist()
    parts = []
    with _progress(progress):
        for lo, hi in _chunk_bounds(codes, len(uniques), int(chunk_size)):
            rows = np.flatnonzero((codes >= lo) & (codes < hi))
            parts.append(np.asarray(clf.predict_sentiment([texts[i] for i in rows]), dtype=np.float64).reshape(len(rows), -1))
    probs = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if probs.shape != (len(table), 3):
        raise ValueError(f"{type(clf).__name__}.predict_sentiment returned shape {probs.shape}")
    out = pd.DataFrame(
        {
            "doc_id": table["doc_id"].astype(object),
            "para_id": table["para_id"],
            "p_negative": probs[:, 0],
            "p_neutral": probs[:, 1],
            "p_positive": probs[:, 2],
            "score": probs[:, 2] - probs[:, 0],
            "label": sentiment_labels(probs),
            "model": str(getattr(clf, "model_id", type(clf).__name__)),
        }
    )
    return out.astype(dict(_SENTIMENT_DTYPES))[list(SENTIMENT_COLUMNS)]
