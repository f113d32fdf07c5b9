"""What a Hugging Face sequence classifier's labels mean: NLI or sentiment, and which class each is.

The *kind* of a model is read from its config's ``id2label``
(:func:`detect_kind`):

NLI models (zero-shot stance)
    A label starting with "entail" (any case; e.g. entailment / neutral /
    contradiction).

Sentiment classifiers
    Labels naming sentiment: negative / neutral / positive in any case or
    abbreviated (neg / neu / pos, "very negative" ...), star ratings ("1 star"
    ... "5 stars": 1-2 negative, 3 neutral, 4-5 positive, probabilities
    summed), two-label negative/positive models (neutral probability 0).
    Generic ``LABEL_0, LABEL_1, LABEL_2`` labels are **assumed** to mean
    negative, neutral, positive (the convention of the cardiffnlp sentiment
    models) -- only when there are exactly three of them; a warning is issued.
    Any other label set raises :class:`~analysis.errors.InputError` listing the
    labels found (``label_map={"LABEL_0": "negative", ...}`` says what they mean).

This module imports only numpy.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..schema import CLASSES

__all__ = ["SUPPORTED_CONVENTIONS", "config_labels", "detect_kind"]

#: The label conventions :func:`detect_kind` understands (quoted in its errors).
SUPPORTED_CONVENTIONS = (
    "NLI: a label starting with 'entail' (entailment/neutral/contradiction); "
    "sentiment: negative/neutral/positive (any case, or neg/neu/pos, 'very negative'...), "
    "'1 star'..'5 stars', negative/positive only, or exactly LABEL_0/LABEL_1/LABEL_2 "
    "(assumed negative/neutral/positive)"
)

_HOW_TO_FIX = (
    f". Supported conventions: {SUPPORTED_CONVENTIONS}. Pass label_map={{label: "
    "'negative'|'neutral'|'positive'}} or fix id2label in the model's config.json"
)


def _norm_label(label: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(label).strip().lower()).strip()


def _sentiment_class(label: Any) -> str | None:
    """Map one label to negative/neutral/positive, or None when unknown."""
    norm = _norm_label(label)
    words = norm.split()
    if not words:
        return None
    star = re.fullmatch(r"([1-5])(?:\.0)? ?stars?", norm)
    if star:
        n = int(star.group(1))
        return "negative" if n <= 2 else ("neutral" if n == 3 else "positive")
    last = words[-1]
    if last in ("negative", "neg"):
        return "negative"
    if last in ("neutral", "neu"):
        return "neutral"
    if last in ("positive", "pos"):
        return "positive"
    return None


def config_labels(config: Any) -> list[str]:
    """The ``id2label`` values of a transformers config, in id order."""
    mapping = getattr(config, "id2label", None) or {}
    items = sorted(((int(k), str(v)) for k, v in dict(mapping).items()), key=lambda kv: kv[0])
    return [v for _, v in items]


def _explicit_mapping(labels: list[str], label_map: Mapping[str, str], found: str) -> dict[str, str]:
    mapping = {}
    for lab in labels:
        cls = label_map.get(lab)
        if cls not in CLASSES:
            raise InputError(
                f"label_map does not map model label {lab!r} to one of {list(CLASSES)} "
                f"(model labels: {found})"
            )
        mapping[lab] = cls
    return mapping


def _generic_mapping(labels: list[str], found: str) -> dict[str, str]:
    ids = sorted(int(_norm_label(x).split()[1]) for x in labels)
    if ids != [0, 1, 2]:
        raise InputError(f"cannot tell what the model's labels mean: found {found}{_HOW_TO_FIX}")
    warnings.warn(
        "model labels are LABEL_0/1/2; assuming 0=negative, 1=neutral, 2=positive",
        stacklevel=4,
    )
    return {lab: CLASSES[int(_norm_label(lab).split()[1])] for lab in labels}


def _named_mapping(labels: list[str], found: str) -> dict[str, str]:
    mapping = {lab: _sentiment_class(lab) for lab in labels}
    unknown = [lab for lab, cls in mapping.items() if cls is None]
    if unknown or not labels:
        raise InputError(
            f"cannot tell what the model's labels mean: found {found}"
            + (f" (unrecognised: {', '.join(map(repr, unknown))})" if unknown else "")
            + _HOW_TO_FIX
        )
    return mapping


def detect_kind(
    labels: Sequence[str], label_map: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """Decide how a sequence classifier's labels are used.

    Parameters
    ----------
    labels : sequence of str
        ``id2label`` values in id order.
    label_map : mapping, optional
        Explicit ``{label: "negative"|"neutral"|"positive"}`` for sentiment
        models whose labels follow no known convention (all labels needed).

    Returns
    -------
    (kind, info)
        ``("nli", {"entailment_id": int})`` or ``("sentiment", {"matrix":
        ndarray (num_labels, 3), "mapping": {label: class}, "assumed": bool})``.

    Raises
    ------
    InputError
        Unknown label convention (the message lists the labels found).
    """
    labels = [str(x) for x in labels]
    found = ", ".join(repr(x) for x in labels) or "(none)"
    generic = bool(labels) and all(re.fullmatch(r"label (\d+)", _norm_label(x)) for x in labels)
    if label_map is not None:
        mapping = _explicit_mapping(labels, label_map, found)
    else:
        for i, lab in enumerate(labels):
            if _norm_label(lab).startswith("entail"):
                return "nli", {"entailment_id": i}
        mapping = _generic_mapping(labels, found) if generic else _named_mapping(labels, found)
    if not {"negative", "positive"} <= set(mapping.values()):
        raise InputError(
            f"a sentiment model needs at least a negative and a positive label; found {found}. "
            f"Supported conventions: {SUPPORTED_CONVENTIONS}"
        )
    matrix = np.zeros((len(labels), 3), dtype=np.float64)
    for i, lab in enumerate(labels):
        matrix[i, CLASSES.index(mapping[lab])] = 1.0
    return "sentiment", {"matrix": matrix, "mapping": mapping, "assumed": label_map is None and generic}
