"""The project's tables: their columns and dtypes, and the one label rule.

Every table the package produces is defined here once and used by the code that
builds it, the cache that decodes it and the checks that read it back:

========== ==================================================================
paragraphs ``doc_id, para_id, text, is_title, lang, source`` (+ metadata columns)
mentions   ``doc_id, para_id, actor, surface, start, end, sentence_id,
           sentence, sentence_start, holder, holder_start, holder_end,
           holder_actor``
pairs      what a classifier's ``score_pairs`` returns: ``doc_id, para_id,
           actor, n_mentions, p_against, p_neutral, p_favor, evidence``
stance     ``doc_id, para_id, actor, n_mentions, p_against, p_neutral, p_favor,
           score, label, model, evidence`` (+ the paragraphs' metadata)
sentiment  ``doc_id, para_id, p_negative, p_neutral, p_positive, score, label,
           model`` (+ the paragraphs' metadata)
voices     ``doc_id, para_id, holder, holder_actor, target_actor, n_mentions,
           p_against, p_neutral, p_favor, score, label, model, evidence``
           (+ the paragraphs' metadata)
========== ==================================================================

Label rule
----------
A probability vector (against/negative, neutral, favor/positive) is labelled by
its largest value, **ties going to neutral**: "favor" or "against" only when that
probability beats both others by more than :data:`TIE_TOLERANCE` (a favor/against
tie is neutral too). :func:`stance_labels` and :func:`sentiment_labels` are the
only implementations; scorers, aggregates and evaluation all use them.

This module imports only numpy and pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "CLASSES",
    "STANCE_LABELS",
    "TIE_TOLERANCE",
    "PARAGRAPHS",
    "MENTIONS",
    "PAIRS",
    "STANCE",
    "SENTIMENT",
    "VOICES",
    "STANCE_PROBA",
    "SENTIMENT_PROBA",
    "check_columns",
    "conform",
    "empty",
    "metadata_columns",
    "stance_labels",
    "sentiment_labels",
    "table_labels",
    "FLOAT_DECIMALS",
    "rounded_for_file",
]

#: Mention-level class order used everywhere (columns of every probability matrix).
CLASSES: tuple[str, str, str] = ("negative", "neutral", "positive")

#: Paragraph-level stance labels, in the order of :data:`CLASSES`.
STANCE_LABELS: tuple[str, str, str] = ("against", "neutral", "favor")

#: A polar class must beat the others by more than this to be chosen.
TIE_TOLERANCE = 1e-12

#: Probability columns of the stance and pair tables, in :data:`CLASSES` order.
STANCE_PROBA: tuple[str, str, str] = ("p_against", "p_neutral", "p_favor")
#: Probability columns of the sentiment table, in :data:`CLASSES` order.
SENTIMENT_PROBA: tuple[str, str, str] = ("p_negative", "p_neutral", "p_positive")

_STR = object  # text columns hold Python str objects

#: Paragraph table (``read_articles``); metadata columns of table inputs follow these.
PARAGRAPHS: Mapping[str, Any] = {
    "doc_id": _STR,
    "para_id": np.int64,
    "text": _STR,
    "is_title": bool,
    "lang": _STR,
    "source": _STR,
}

#: Mentions table (``find_mentions``); offsets are characters of the paragraph text.
MENTIONS: Mapping[str, Any] = {
    "doc_id": _STR,
    "para_id": np.int64,
    "actor": _STR,
    "surface": _STR,
    "start": np.int64,
    "end": np.int64,
    "sentence_id": np.int64,
    "sentence": _STR,
    "sentence_start": np.int64,
    # whose words the mention sits in (analysis.voices): "narrator" or the holder as written,
    # its offsets in the paragraph (missing for the narrator) and the actor it names ("" if none)
    "holder": _STR,
    "holder_start": pd.Int64Dtype(),
    "holder_end": pd.Int64Dtype(),
    "holder_actor": _STR,
}

#: What ``MentionClassifier.score_pairs`` returns: one row per paragraph x actor.
PAIRS: Mapping[str, Any] = {
    "doc_id": _STR,
    "para_id": np.int64,
    "actor": _STR,
    "n_mentions": np.int64,
    "p_against": np.float64,
    "p_neutral": np.float64,
    "p_favor": np.float64,
    "evidence": _STR,
}

#: Stance table (``score_stance``): one row per paragraph x *mentioned* actor.
STANCE: Mapping[str, Any] = {
    **{column: dtype for column, dtype in PAIRS.items() if column != "evidence"},
    "score": np.float64,
    "label": _STR,
    "model": _STR,
    "evidence": _STR,
}

#: Voices table (``score_voices``): one row per paragraph x holder x target actor; after the
#: holder and target, the stance table's columns.
VOICES: Mapping[str, Any] = {
    "doc_id": _STR,
    "para_id": np.int64,
    "holder": _STR,
    "holder_actor": _STR,
    "target_actor": _STR,
    **{col: dtype for col, dtype in STANCE.items() if col not in ("doc_id", "para_id", "actor")},
}

#: Sentiment table (``score_sentiment``): one row per paragraph.
SENTIMENT: Mapping[str, Any] = {
    "doc_id": _STR,
    "para_id": np.int64,
    "p_negative": np.float64,
    "p_neutral": np.float64,
    "p_positive": np.float64,
    "score": np.float64,
    "label": _STR,
    "model": _STR,
}

#: Paragraph columns that are not metadata (never copied onto score tables).
_PARAGRAPH_OWN = frozenset(PARAGRAPHS) - {"lang"}


def empty(schema: Mapping[str, Any]) -> pd.DataFrame:
    """An empty table with the columns and dtypes of ``schema``."""
    return pd.DataFrame({col: pd.Series([], dtype=dt) for col, dt in schema.items()})


def conform(table: pd.DataFrame, schema: Mapping[str, Any], *, extra: bool = False) -> pd.DataFrame:
    """``table`` with the schema's columns first, in order, cast to their dtypes.

    Parameters
    ----------
    table : DataFrame
        Holds at least the schema's columns.
    schema : mapping
        One of the schemas of this module.
    extra : bool
        Keep the table's other columns after the schema's (default: drop them).
    """
    cols = list(schema)
    if extra:
        cols += [c for c in table.columns if c not in schema]
    return table.astype(dict(schema))[cols]


def check_columns(table: Any, required: Iterable[str], what: str) -> None:
    """Raise :class:`InputError` unless ``table`` is a DataFrame holding ``required``.

    The message names ``what`` (e.g. ``"mentions table"`` or a file name), the
    missing columns and the columns present.
    """
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(
            f"{what} is missing column(s) {', '.join(missing)}; "
            f"it has: {', '.join(map(str, table.columns)) or '(none)'}"
        )


def metadata_columns(paragraphs: pd.DataFrame) -> list[str]:
    """Columns of a paragraph table that describe the document: ``lang`` and metadata.

    These travel from the paragraphs onto the stance and sentiment tables.
    """
    return [c for c in paragraphs.columns if c not in _PARAGRAPH_OWN]


def stance_labels(probs: Sequence | np.ndarray) -> np.ndarray:
    """Label of each row of an (n, 3) probability array (against, neutral, favor).

    Argmax, ties toward neutral: "favor" / "against" only when strictly larger
    (by more than :data:`TIE_TOLERANCE`) than both other values.

    Returns
    -------
    ndarray of object
        "against", "neutral" or "favor" per row.
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1, 3)
    neg, neu, pos = probs[:, 0], probs[:, 1], probs[:, 2]
    out = np.full(len(probs), STANCE_LABELS[1], dtype=object)
    out[(pos > neu + TIE_TOLERANCE) & (pos > neg + TIE_TOLERANCE)] = STANCE_LABELS[2]
    out[(neg > neu + TIE_TOLERANCE) & (neg > pos + TIE_TOLERANCE)] = STANCE_LABELS[0]
    return out


def table_labels(stance: pd.DataFrame) -> pd.Series:
    """Stance labels of a table: its ``label`` column, else the label rule on its probabilities.

    Raises
    ------
    InputError
        When the table has neither ``label`` nor ``p_against, p_neutral, p_favor``.
    """
    if "label" in stance.columns:
        return stance["label"].astype(object)
    if all(c in stance.columns for c in STANCE_PROBA):
        probs = stance[list(STANCE_PROBA)].to_numpy(dtype=np.float64)
        return pd.Series(stance_labels(probs), index=stance.index, dtype=object)
    raise InputError("stance table needs a 'label' column (or p_against, p_neutral, p_favor)")


def sentiment_labels(probs: Sequence | np.ndarray) -> np.ndarray:
    """:func:`stance_labels` with the class names negative / neutral / positive."""
    names = dict(zip(STANCE_LABELS, CLASSES))
    return np.array([names[x] for x in stance_labels(probs)], dtype=object)


#: Decimals of probabilities and scores in written tables: byte-identical files across runs and machines.
FLOAT_DECIMALS = 6


def rounded_for_file(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its probabilities rounded to :data:`FLOAT_DECIMALS` and ``score`` recomputed
    from the rounded ones (so ``score == p_favor - p_against`` still holds in the file)."""
    cols = [c for c in table.columns if c.startswith("p_")]
    if not cols:
        return table
    out = table.round({c: FLOAT_DECIMALS for c in cols})
    for pos, neg in (("p_favor", "p_against"), ("p_positive", "p_negative")):
        if "score" in out.columns and pos in out.columns and neg in out.columns:
            out["score"] = (out[pos] - out[neg]).round(FLOAT_DECIMALS)
    return out
