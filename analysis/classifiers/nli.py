"""Zero-shot stance with a Hugging Face NLI model: premises, hypothesis templates, entailment softmax.

For each paragraph x mentioned actor the **premise** is the paragraph's
sentences that mention the actor (unique, in order, joined by a space) and the
three **hypotheses** come from templates (:data:`DEFAULT_TEMPLATES`; placeholders
``{actor}`` = display name of the actor (:func:`actor_display_name`),
``{surface}`` = first surface form in the paragraph).  The probabilities are
the softmax over the three *entailment* logits -- exactly what
``pipeline("zero-shot-classification", multi_label=False)`` computes for the
same premise and hypotheses.  A premise longer than the model's limit is read
in overlapping windows whose probabilities are averaged (:mod:`.batching`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema import PAIRS, conform, empty
from .base import check_mentions, sorted_mentions
from .batching import HFClassifier

__all__ = [
    "DEFAULT_ACTOR_NAMES",
    "DEFAULT_SENTIMENT_TEMPLATES",
    "DEFAULT_TEMPLATES",
    "SENTIMENT_KEYS",
    "STANCE_KEYS",
    "HFNLIClassifier",
    "actor_display_name",
    "checked_templates",
]

#: Default NLI hypotheses for stance toward ``{actor}`` (English; multilingual
#: NLI models handle a premise in another language).
DEFAULT_TEMPLATES: dict[str, str] = {
    "favor": "This text is favourable to {actor}.",
    "neutral": "This text is neutral about {actor}.",
    "against": "This text is unfavourable to {actor}.",
}

#: Default NLI hypotheses for paragraph sentiment.
DEFAULT_SENTIMENT_TEMPLATES: dict[str, str] = {
    "positive": "This text is positive.",
    "neutral": "This text is neutral.",
    "negative": "This text is negative.",
}

#: Template keys in the order of the probability columns (against, neutral, favor).
STANCE_KEYS = ("against", "neutral", "favor")
#: Sentiment template keys in the order of the probability columns.
SENTIMENT_KEYS = ("negative", "neutral", "positive")

#: Names used in hypotheses for the default actors when ``actor_names`` says nothing.
DEFAULT_ACTOR_NAMES: dict[str, str] = {"West": "the West"}


def actor_display_name(actor: str) -> str:
    """Readable actor name for hypotheses.

    :data:`DEFAULT_ACTOR_NAMES` first (``"West"`` -> ``"the West"``); otherwise
    underscores become spaces and an all-lowercase id is title-cased
    (``"united_states"`` -> ``"United States"``).
    """
    if actor in DEFAULT_ACTOR_NAMES:
        return DEFAULT_ACTOR_NAMES[actor]
    text = str(actor).replace("_", " ").strip()
    return text.title() if text == text.lower() else text


def checked_templates(templates: Mapping[str, str] | None, *, sentiment: bool = False) -> dict[str, str]:
    """Hypothesis templates with their keys normalised, in column order; InputError when invalid.

    Parameters
    ----------
    templates : mapping or None
        Stance: ``{"favor"|"favour"|"positive", "neutral", "against"|"negative": template}``
        (each naming the actor with ``{actor}`` or ``{surface}``); sentiment:
        ``{"positive", "neutral", "negative": hypothesis}``.  None: the defaults.
    sentiment : bool
        Check sentiment templates instead of stance templates.

    Returns
    -------
    dict
        ``{key: template}`` in :data:`STANCE_KEYS` (or :data:`SENTIMENT_KEYS`) order.
    """
    what, keys = ("sentiment_templates", SENTIMENT_KEYS) if sentiment else ("templates", STANCE_KEYS)
    given = templates or (DEFAULT_SENTIMENT_TEMPLATES if sentiment else DEFAULT_TEMPLATES)
    aliases = {} if sentiment else {"positive": "favor", "negative": "against", "favour": "favor"}
    out = {aliases.get(str(key).lower(), str(key).lower()): str(value) for key, value in dict(given).items()}
    if sorted(out) != sorted(keys) or len(out) != len(given):
        raise InputError(f"{what} must have exactly the keys {list(keys)}; got {sorted(given)}")
    for key, value in out.items():
        try:
            value.format(actor="X", surface="X")
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(
                f"{what}[{key!r}] = {value!r} is not a valid template "
                f"(placeholders allowed: {{actor}}, {{surface}}): {exc}"
            ) from None
        if not sentiment and "{actor}" not in value and "{surface}" not in value:
            raise InputError(f"{what}[{key!r}] = {value!r} must name the actor with {{actor}} or {{surface}}")
    return {k: out[k] for k in keys}


class HFNLIClassifier(HFClassifier):
    """Zero-shot stance with an NLI model (see module docstring).

    Parameters
    ----------
    model, tokenizer, **kwargs
        See :class:`~analysis.classifiers.batching.HFClassifier`.
    entailment_id : int
        Index of the entailment label among the model's logits.
    templates : mapping, optional
        ``{"favor": ..., "neutral": ..., "against": ...}`` hypothesis
        templates with ``{actor}`` (display name) / ``{surface}``.
    sentiment_templates : mapping, optional
        ``{"positive": ..., "neutral": ..., "negative": ...}`` hypotheses for
        :meth:`predict_sentiment`.
    actor_names : mapping, optional
        ``{actor id: name used in hypotheses}``; default
        :func:`actor_display_name`.
    evidence : bool
        When a premise has several sentences, also score each sentence on its
        own to pick the evidence sentence (largest ``|p_favor - p_against|``);
        False uses the first mentioning sentence.
    """

    kind = "nli"
    pair_level = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        entailment_id: int,
        templates: Mapping[str, str] | None = None,
        sentiment_templates: Mapping[str, str] | None = None,
        actor_names: Mapping[str, str] | None = None,
        evidence: bool = True,
        **kwargs: Any,
    ):
        super().__init__(model, tokenizer, **kwargs)
        self.entailment_id = int(entailment_id)
        self.templates = checked_templates(templates)
        self.sentiment_templates = checked_templates(sentiment_templates, sentiment=True)
        self.actor_names = dict(actor_names or {})
        self.evidence = bool(evidence)
        self.metadata["kind"] = "nli"
        self.metadata["templates"] = dict(self.templates)
        self.metadata["sentiment_templates"] = dict(self.sentiment_templates)
        self.metadata["entailment_id"] = self.entailment_id
        self.metadata["aggregation"] = (
            "premise = mentioning sentences of the paragraph joined; probabilities = softmax over "
            "the entailment logits of the against/neutral/favor hypotheses; long premises: mean "
            "over overlapping token windows"
        )

    def hypotheses(self, actor: str, surface: str | None = None) -> list[str]:
        """The against / neutral / favor hypotheses for one actor."""
        name = self.actor_names.get(actor, actor_display_name(actor))
        fill = {"actor": name, "surface": surface if surface is not None else name}
        return [self.templates[k].format(**fill) for k in STANCE_KEYS]

    def nli_probs(self, premises: Sequence[str], hypotheses: Sequence[Sequence[str]]) -> np.ndarray:
        """Softmax over entailment logits of each premise's hypotheses.

        Parameters
        ----------
        premises : sequence of str
        hypotheses : sequence of sequence of str
            The same number ``k`` of hypotheses for every premise.

        Returns
        -------
        ndarray, shape (n, k)
            Mean over the premise's token windows of the per-window softmax.
        """
        n = len(premises)
        k = len(hypotheses[0]) if n else 3
        if n == 0:
            return np.zeros((0, k), dtype=np.float64)
        unique_hyps = list(dict.fromkeys(h for hyps in hypotheses for h in hyps))
        hyp_len = dict(zip(unique_hyps, self._n_tokens(unique_hyps)))
        budgets = []
        for hyps in hypotheses:
            if len(hyps) != k:
                raise ValueError("every premise needs the same number of hypotheses")
            budget = self.max_length - self._n_special_pair - max(hyp_len[h] for h in hyps)
            if budget < 1:
                raise InputError(
                    f"hypotheses {list(hyps)!r} leave no room for the text within the model's "
                    f"{self.max_length} tokens; use shorter templates"
                )
            budgets.append(budget)
        firsts: list[str] = []
        seconds: list[str] = []
        owner: list[int] = []
        cache: dict = {}
        for i, (windows, hyps) in enumerate(zip(self._windows(premises, budgets, cache), hypotheses)):
            for window in windows:
                firsts.extend([window] * k)
                seconds.extend(hyps)
                owner.append(i)
        logits = self._forward(firsts, seconds, cache)[:, self.entailment_id].reshape(-1, k)
        return self._softmax_mean(logits, owner, n)

    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Mention-level stance: premise = sentence, actor = the span's text."""
        hyps = []
        for sentence, (a, b) in zip(sentences, spans):
            target = str(sentence)[int(a) : int(b)]
            fill = {"actor": target, "surface": target}
            hyps.append([self.templates[k].format(**fill) for k in STANCE_KEYS])
        return self.nli_probs([str(s) for s in sentences], hyps)

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Paragraph sentiment via the sentiment hypotheses (negative, neutral, positive)."""
        hyps = [self.sentiment_templates[k] for k in SENTIMENT_KEYS]
        return self.nli_probs([str(t) for t in texts], [hyps] * len(texts))

    def score_pairs(self, mentions: pd.DataFrame) -> pd.DataFrame:
        """One NLI judgement per paragraph x actor (premise = its mentioning sentences).

        Parameters
        ----------
        mentions : DataFrame
            Mentions table (columns of ``analysis.find_mentions``; ``surface``
            optional, used for the ``{surface}`` placeholder).

        Returns
        -------
        DataFrame
            :data:`analysis.schema.PAIRS` sorted by (doc_id, para_id, actor); evidence =
            the mentioning sentence judged most polar on its own (``evidence=True``).
        """
        check_mentions(mentions)
        if len(mentions) == 0:
            return empty(PAIRS)
        ordered = sorted_mentions(
            mentions.assign(
                doc_id=mentions["doc_id"].astype(str),
                para_id=mentions["para_id"].astype(np.int64),
                actor=mentions["actor"].astype(str),
            )
        )
        groups = self._premise_groups(ordered)
        premises = [" ".join(g["sentences"]) for g in groups]
        hyps = [self.hypotheses(g["actor"], g["surface"]) for g in groups]
        n_main = len(premises)
        # evidence: each sentence of a several-sentence premise judged on its own
        extra = [(r, g["sentences"]) for r, g in enumerate(groups) if self.evidence and len(g["sentences"]) > 1]
        for row, sents in extra:
            premises.extend(sents)
            hyps.extend([hyps[row]] * len(sents))
        probs = self.nli_probs(premises, hyps)
        evidence = [g["sentences"][0] for g in groups]
        pos = n_main
        for row, sents in extra:
            sub = probs[pos : pos + len(sents)]
            pos += len(sents)
            evidence[row] = sents[int(np.argmax(np.abs(sub[:, 2] - sub[:, 0])))]
        main = probs[:n_main]
        out = pd.DataFrame(
            {
                "doc_id": [g["doc_id"] for g in groups],
                "para_id": [g["para_id"] for g in groups],
                "actor": [g["actor"] for g in groups],
                "n_mentions": [g["n_mentions"] for g in groups],
                "p_against": main[:, 0],
                "p_neutral": main[:, 1],
                "p_favor": main[:, 2],
                "evidence": evidence,
            }
        )
        return conform(out, PAIRS)

    @staticmethod
    def _premise_groups(ordered: pd.DataFrame) -> list[dict[str, Any]]:
        """One dict per (doc_id, para_id, actor) of sorted mentions: keys, n_mentions,
        first surface (or None) and the distinct mentioning sentences in order."""
        surfaces = ordered["surface"].astype(str).tolist() if "surface" in ordered.columns else [None] * len(ordered)
        groups: list[dict[str, Any]] = []
        last_key = last_sid = None
        rows = zip(ordered["doc_id"], ordered["para_id"], ordered["actor"], ordered["sentence_id"],
                   ordered["sentence"].astype(str), surfaces)
        for doc_id, para_id, actor, sentence_id, sentence, surface in rows:
            if (doc_id, para_id, actor) != last_key:
                groups.append({"doc_id": doc_id, "para_id": int(para_id), "actor": actor, "n_mentions": 0,
                               "surface": surface, "sentences": []})
                last_key, last_sid = (doc_id, para_id, actor), None
            group = groups[-1]
            group["n_mentions"] += 1
            if sentence_id != last_sid:  # sorted by sentence_id within the group
                group["sentences"].append(sentence)
                last_sid = sentence_id
        return groups
