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
"""

from __future__ import annotations

import os
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

__all__ = ["score_stance", "score_sentiment", "STANCE_COLUMNS", "SENTIMENT_COLUMNS"]

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


def _get_classifier(model: Any, batch_size: int, device: str, kw: dict) -> MentionClassifier:
    if isinstance(model, MentionClassifier) or (
        not isinstance(model, (str, os.PathLike)) and hasattr(model, "predict_proba")
    ):
        return model
    from .classifiers import load_classifier

    return load_classifier(model, batch_size=batch_size, device=device, **kw)


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
    clf = _get_classifier(model, batch_size, device, kw)
    pairs = clf.score_pairs(work)
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"{type(clf).__name__}.score_pairs did not return columns {missing}")
    if len(pairs) == 0:
        return _empty(_STANCE_DTYPES)
    probs = pairs[["p_against", "p_neutral", "p_favor"]].to_numpy(dtype=np.float64)
    out = pd.DataFrame(
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
    out = out.sort_values(["doc_id", "para_id", "actor"], kind="mergesort").reset_index(drop=True)
    return out.astype(dict(_STANCE_DTYPES))[list(STANCE_COLUMNS)]


def score_sentiment(
    paragraphs: pd.DataFrame,
    model: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    **kw: Any,
) -> pd.DataFrame:
    """Overall sentiment of each paragraph.

    Parameters
    ----------
    paragraphs : DataFrame
        Paragraphs table with doc_id, para_id, text.
    model, batch_size, device, **kw
        As in :func:`score_stance`; the classifier's ``predict_sentiment`` is used.

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
    clf = _get_classifier(model, batch_size, device, kw)
    probs = np.asarray(clf.predict_sentiment(table["text"].tolist()), dtype=np.float64)
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
