"""Stance from a Hugging Face sentiment classifier: a mention is scored from its sentence.

The model's label probabilities are summed into negative / neutral / positive
through the label mapping of :func:`~analysis.classifiers.labels.detect_kind`
(e.g. "1 star" + "2 stars" = negative); a paragraph's stance toward an actor is
the mean over the actor's mentions (the rule of :mod:`.base`).  A text longer
than the model's limit is read in overlapping windows whose probabilities are
averaged (:mod:`.batching`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .batching import HFClassifier

__all__ = ["HFSentimentClassifier"]


class HFSentimentClassifier(HFClassifier):
    """Sentiment sequence classifier; a mention is scored from its sentence.

    Parameters
    ----------
    model, tokenizer, **kwargs
        See :class:`~analysis.classifiers.batching.HFClassifier`.
    matrix : ndarray, shape (num_labels, 3)
        1 where a model label counts as negative / neutral / positive.
    mapping : mapping
        ``{model label: class}`` (recorded in ``metadata["label_mapping"]``).
    assumed : bool
        Whether the mapping was assumed from generic ``LABEL_0/1/2`` labels.
    """

    kind = "sentiment"

    def __init__(self, model: Any, tokenizer: Any, *, matrix: np.ndarray, mapping: Mapping[str, str],
                 assumed: bool = False, **kwargs: Any):
        super().__init__(model, tokenizer, **kwargs)
        self.matrix = np.asarray(matrix, dtype=np.float64)
        self.metadata["kind"] = "sentiment"
        self.metadata["label_mapping"] = dict(mapping)
        self.metadata["label_mapping_assumed"] = bool(assumed)
        self.metadata["aggregation"] = (
            "each mention = class probabilities of its sentence (model labels summed into "
            "negative/neutral/positive); paragraph = mean over mentions; long texts: mean over windows"
        )

    def classify_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) negative/neutral/positive probabilities of whole texts."""
        n = len(texts)
        if n == 0:
            return np.zeros((0, 3), dtype=np.float64)
        budget = self.max_length - self._n_special_single
        chunks: list[str] = []
        owner: list[int] = []
        cache: dict = {}
        for i, windows in enumerate(self._windows(texts, [budget] * n, cache)):
            chunks.extend(windows)
            owner.extend([i] * len(windows))
        return self._softmax_mean(self._forward(chunks, None, cache), owner, n) @ self.matrix

    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Sentence-context sentiment of each mention (each unique sentence run once)."""
        sentences = [str(s) for s in sentences]
        unique = list(dict.fromkeys(sentences))
        probs = self.classify_texts(unique)
        index = {s: i for i, s in enumerate(unique)}
        return probs[[index[s] for s in sentences]] if sentences else probs

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Sentiment of whole texts (paragraphs)."""
        return self.classify_texts([str(t) for t in texts])
