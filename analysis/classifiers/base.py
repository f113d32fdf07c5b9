"""Classifier interface shared by every stance / sentiment model.

A :class:`MentionClassifier` turns *mentions* of an actor (a sentence plus
the character span of the actor inside it) into probability vectors over
``classes_ = ("negative", "neutral", "positive")``.  Paragraph-level stance
towards an actor is obtained by :meth:`MentionClassifier.score_pairs`, whose
default implementation applies the **aggregation rule** documented below.

Aggregation rule (paragraph x actor)
------------------------------------
1. Every mention of the actor in the paragraph is classified on its own,
   giving a probability vector ``(p_negative, p_neutral, p_positive)``.
2. The paragraph's vector is the **arithmetic mean** of those vectors
   (``p_against = mean p_negative``, ``p_neutral = mean p_neutral``,
   ``p_favor = mean p_positive``), so it still sums to one.
3. ``score = p_favor - p_against`` (in [-1, 1]).
4. ``label`` is the argmax of the mean vector, **ties broken toward
   neutral**: "favor" or "against" is chosen only when that probability is
   strictly larger than both others; otherwise the label is "neutral" (this
   includes a favor/against tie): :func:`analysis.schema.stance_labels`.
5. ``evidence`` is the sentence of the mention with the largest
   ``|p_positive - p_negative|`` (the first such mention on ties, in
   ``(sentence_id, start)`` order).

Each (paragraph, actor) group is computed from that actor's own mentions
only; adding or removing another actor never changes its rows.

Identity
--------
Every classifier states its own :class:`Identity`: the ``model_id`` written to
the ``model`` column and the settings that shape its outputs. The loaders compute
it from the model's files and the settings *before* loading weights, so a lazy
handle (:class:`analysis.classifiers.LazyClassifier`) and the loaded classifier
have the same identity by construction, and the output cache
(:mod:`analysis.cache`) keys its stores on :meth:`MentionClassifier.cache_identity`.
A classifier built by hand has no identity and is never cached.

This module must stay importable without torch / transformers.
"""

from __future__ import annotations

import abc
import importlib.metadata
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import CLASSES, PAIRS, check_columns, conform, empty, sentiment_labels

#: Mention columns that :meth:`MentionClassifier.score_pairs` needs.
REQUIRED_MENTION_COLUMNS: tuple[str, ...] = (
    "doc_id", "para_id", "actor", "start", "end", "sentence_id", "sentence", "sentence_start",
)


@dataclass(frozen=True)
class Identity:
    """What a classifier is, as far as its outputs go.

    Attributes
    ----------
    model_id : str
        Written to the ``model`` column: ``"embedded:<name>@<sha12>"``,
        ``"hf:<id>@<revision>"`` or ``"hf:<folder>@local-<hash12>"``.
    content : str
        The weights' content identity (full artefact hash, hub commit or local hash).
    settings : mapping
        Every setting that changes outputs, normalised (device resolved, defaults filled).
    pair_level : bool
        Whether the classifier judges paragraph x actor pairs as a whole (NLI).
    """

    model_id: str
    content: str
    settings: Mapping[str, Any]
    pair_level: bool = False

    @property
    def key(self) -> str:
        """One string naming the weights and every output-shaping setting."""
        return f"{self.content}|{json.dumps(dict(self.settings), sort_keys=True, default=repr)}"


# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------


def resolve_device(device: str | None = "auto") -> str:
    """Resolve a device request to a concrete torch device string.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or None
        ``"auto"`` (or None) picks ``"cuda"`` when ``torch.cuda.is_available()``
        and ``"cpu"`` otherwise.

    Returns
    -------
    str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises
    ------
    InputError
        Unknown device name, or CUDA requested but not available.
    """
    request = "auto" if device is None else str(device).strip().lower()
    if request == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if request == "cpu":
        return "cpu"
    if request == "cuda" or request.startswith("cuda:"):
        import torch

        if not torch.cuda.is_available():
            raise InputError(
                f"device {device!r} was requested but CUDA is not available "
                "on this machine; use --device cpu or --device auto"
            )
        return request
    raise InputError(f"unknown device {device!r}; expected 'auto', 'cpu' or 'cuda'")


def library_versions(*names: str) -> dict[str, str]:
    """Versions of the libraries that shape model outputs (for ``metadata``).

    Parameters
    ----------
    *names : str
        Distribution names; default: python, numpy, torch, transformers,
        tokenizers.  Missing libraries are reported as ``"absent"``.

    Returns
    -------
    dict
        ``{name: version}``.
    """
    if not names:
        names = ("numpy", "torch", "transformers", "tokenizers")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def check_mentions(mentions: pd.DataFrame) -> None:
    """Raise InputError when ``mentions`` lacks a column that scoring needs."""
    check_columns(mentions, REQUIRED_MENTION_COLUMNS, "mentions table (see analysis.find_mentions)")


def mention_spans(mentions: pd.DataFrame) -> list[tuple[int, int]]:
    """Span of each mention inside its sentence (``start - sentence_start`` ...)."""
    base = mentions["sentence_start"].to_numpy(dtype=np.int64)
    start = mentions["start"].to_numpy(dtype=np.int64) - base
    end = mentions["end"].to_numpy(dtype=np.int64) - base
    return list(zip(start.tolist(), end.tolist()))


def sorted_mentions(mentions: pd.DataFrame) -> pd.DataFrame:
    """Mentions in canonical order (doc_id, para_id, actor, sentence_id, start)."""
    keys = [c for c in ("doc_id", "para_id", "actor", "sentence_id", "start") if c in mentions.columns]
    out = mentions.sort_values(keys, kind="mergesort").reset_index(drop=True)
    return out


def aggregate_mentions(mentions: pd.DataFrame, probs: np.ndarray) -> pd.DataFrame:
    """Apply the aggregation rule to per-mention probability vectors.

    Parameters
    ----------
    mentions : DataFrame
        Mentions table (needs doc_id, para_id, actor, sentence; rows aligned
        with ``probs``).
    probs : ndarray, shape (n_mentions, 3)
        Per-mention probabilities in :data:`CLASSES` order.

    Returns
    -------
    DataFrame
        :data:`analysis.schema.PAIRS`, one row per (doc_id, para_id, actor), sorted by
        those keys.  ``p_*`` are the means of the mention vectors; evidence is
        the sentence of the mention with the largest ``|p_pos - p_neg|``
        (first one on ties, in the row order of ``mentions``).
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1, 3)
    if len(mentions) != len(probs):
        raise ValueError(f"got {len(probs)} probability rows for {len(mentions)} mentions")
    if len(mentions) == 0:
        return empty(PAIRS)
    frame = pd.DataFrame(
        {
            "doc_id": mentions["doc_id"].astype(str).to_numpy(),
            "para_id": mentions["para_id"].to_numpy(dtype=np.int64),
            "actor": mentions["actor"].astype(str).to_numpy(),
            "_neg": probs[:, 0],
            "_neu": probs[:, 1],
            "_pos": probs[:, 2],
            "_strength": np.abs(probs[:, 2] - probs[:, 0]),
            "_order": np.arange(len(mentions)),
            "_sentence": mentions["sentence"].astype(str).to_numpy(),
        }
    )
    keys = ["doc_id", "para_id", "actor"]
    grouped = frame.groupby(keys, sort=True)
    agg = grouped.agg(
        n_mentions=("_order", "size"),
        p_against=("_neg", "mean"),
        p_neutral=("_neu", "mean"),
        p_favor=("_pos", "mean"),
    )
    # evidence: max strength, first in order on ties
    best = frame.sort_values(["_strength", "_order"], ascending=[False, True], kind="mergesort")
    evidence = best.drop_duplicates(keys, keep="first").set_index(keys)["_sentence"]
    agg["evidence"] = evidence.reindex(agg.index)
    return conform(agg.reset_index(), PAIRS)


# ---------------------------------------------------------------------------
# the interface
# ---------------------------------------------------------------------------


class MentionClassifier(abc.ABC):
    """Abstract stance classifier working on actor mentions.

    Attributes
    ----------
    model_id : str
        Model identity written to the ``model`` column, e.g.
        ``"hf:<id>@<revision>"`` or ``"embedded:<name>@<sha12>"``.
    classes_ : tuple of str
        Always ``("negative", "neutral", "positive")``.
    metadata : dict
        Free-form provenance: revision, templates, library versions, ...

    Subclasses implement :meth:`predict_proba` (and usually
    :meth:`predict_sentiment`); :meth:`score_pairs` has a default that
    classifies every mention and applies the aggregation rule of this module.
    """

    model_id: str = "unknown"
    classes_: tuple[str, str, str] = CLASSES
    metadata: dict[str, Any]
    #: Set by the loaders; None for a classifier built by hand (never cached).
    identity: Identity | None = None
    #: True when :meth:`score_pairs` judges a paragraph x actor pair as a whole (NLI).
    pair_level: bool = False

    def __init__(self, model_id: str | None = None, metadata: Mapping[str, Any] | None = None):
        if model_id is not None:
            self.model_id = model_id
        self.classes_ = CLASSES
        self.metadata = dict(metadata or {})

    @abc.abstractmethod
    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Probabilities of each mention, shape (n, 3), in ``classes_`` order.

        Parameters
        ----------
        sentences : sequence of str
            The sentence containing each mention.
        spans : sequence of (int, int)
            Character offsets of the target inside that sentence (end exclusive).
        """

    def predict(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Labels (from ``classes_``) of each mention; ties broken toward neutral."""
        return sentiment_labels(self.predict_proba(sentences, spans))

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Overall sentiment of whole texts, shape (n, 3) in ``classes_`` order."""
        raise NotImplementedError(f"{type(self).__name__} does not support paragraph sentiment")

    def score_pairs(self, mentions: pd.DataFrame) -> pd.DataFrame:
        """Score every (doc_id, para_id, actor) that has mentions.

        Parameters
        ----------
        mentions : DataFrame
            Mentions table (columns of ``analysis.find_mentions``).

        Returns
        -------
        DataFrame
            :data:`analysis.schema.PAIRS` sorted by (doc_id, para_id, actor): n_mentions,
            p_against, p_neutral, p_favor (means of the mention vectors) and
            evidence (see module docstring).
        """
        check_mentions(mentions)
        if len(mentions) == 0:
            return empty(PAIRS)
        ordered = sorted_mentions(mentions)
        sentences = ordered["sentence"].astype(str).tolist()
        probs = np.asarray(self.predict_proba(sentences, mention_spans(ordered)), dtype=np.float64)
        if probs.shape != (len(ordered), 3):
            raise ValueError(
                f"{type(self).__name__}.predict_proba returned shape {probs.shape}, "
                f"expected {(len(ordered), 3)}"
            )
        return aggregate_mentions(ordered, probs)

    def cache_identity(self) -> str | None:
        """The key of this classifier's output cache, or None (not cacheable).

        The :attr:`identity` the loader stated; a classifier without one is not cached.
        """
        return self.identity.key if self.identity is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r})"
