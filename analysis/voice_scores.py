"""Stance by voice: who judges whom (:func:`score_voices`), and the outlet's own voice beside all voices.

The split of mentions by voice, and the rules it follows (a speaker is not a target
of what it says), are in :mod:`analysis.speakers`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .classifiers.base import check_mentions
from .progress import progress as _progress
from .schema import VOICES, conform, empty
from .scoring import (
    DEFAULT_CHUNK_MENTIONS,
    StanceScorer,
    in_paragraphs,
    resolve_classifier,
    stance_rows,
    with_paragraph_metadata,
)
from .speakers import HOLDER_COLUMNS, speaker_pairs, split_voice, voice_of
from .voices import NARRATOR_WORDS

__all__ = ["describe_voice_contrast", "score_voices", "voice_contrast"]

def score_voices(
    paragraphs: pd.DataFrame | None,
    mentions: pd.DataFrame,
    model: Any = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    cache: bool | str | os.PathLike = True,
    chunk_size: int | None = None,
    progress: bool = True,
    **kw: Any,
) -> pd.DataFrame:
    """Who judges whom: stance of each holder toward each target actor, paragraph by paragraph.

    Parameters
    ----------
    paragraphs : DataFrame or None
        Paragraphs table (``read_articles``); only its paragraphs are scored (None: all).
    mentions : DataFrame
        Mentions table of :func:`analysis.find_mentions`, with the holder columns
        (``holder, holder_start, holder_end, holder_actor``).
    model, batch_size, device, cache, chunk_size, progress, **kw
        As in :func:`analysis.score_stance` (``chunk_size`` None: its default).

    Returns
    -------
    DataFrame
        :data:`analysis.schema.VOICES`, one row per paragraph x holder x target actor:

        - doc_id (str), para_id (int64)
        - holder (str): ``"narrator"`` or the holder's words as written (a holder
          named by a pronoun: the named holder it stands for)
        - holder_actor (str): the holder's actor, "" for the narrator and for a
          source that is no actor
        - target_actor (str), n_mentions (int64): the target's mentions in the holder's words
        - p_against, p_neutral, p_favor, score, label, model, evidence: as in the stance table

        followed by the paragraphs' ``lang`` and metadata columns; sorted by
        (doc_id, para_id, narrator first, holder, holder_actor, target_actor).
        The narrator's rows equal ``score_stance(..., voice="narrator")`` (a
        model run in batches can differ in the last float digits: its batches
        differ), and an actor that only speaks in a paragraph has a neutral
        narrator row (see :mod:`analysis.speakers`).

    Raises
    ------
    InputError
        The mentions table lacks a required or a holder column.
    """
    check_mentions(mentions)
    if any(c not in mentions.columns for c in HOLDER_COLUMNS):
        split_voice(mentions, "narrator")  # raises, naming the missing columns
    work = in_paragraphs(mentions, paragraphs)
    work = work.assign(holder_actor=work["holder_actor"].fillna("").astype(str))  # "" is read back as missing
    targets, speakers = split_voice(work, "all")
    if len(targets) == 0 and len(speakers) == 0:
        return with_paragraph_metadata(empty(VOICES), paragraphs)
    clf = resolve_classifier(model, batch_size, device, kw, cache)
    # each holder of a paragraph becomes a paragraph of its own (para_id * n + holder code), so the
    # classifier's rule groups the mentions per holder; documents -- and hence chunks -- do not change
    codes, holders = pd.factorize(pd.MultiIndex.from_arrays([targets["holder"], targets["holder_actor"]]))
    n = max(len(holders), 1)
    keyed = targets.assign(para_id=targets["para_id"].astype(np.int64) * n + codes)
    scorer = StanceScorer(clf, DEFAULT_CHUNK_MENTIONS if chunk_size is None else chunk_size)
    with _progress(progress):
        scorer.add(keyed)
        rows = scorer.result()
    slot = rows["para_id"].to_numpy() % n
    rows = rows.assign(
        para_id=rows["para_id"].to_numpy() // n,
        holder=[holders[k][0] for k in slot] if len(holders) else [],
        holder_actor=[holders[k][1] for k in slot] if len(holders) else [],
    )
    narrator = rows[rows["holder"] == NARRATOR_WORDS]
    spoken = stance_rows(speaker_pairs(speakers, narrator), clf).assign(holder=NARRATOR_WORDS, holder_actor="")
    out = pd.concat([rows, spoken], ignore_index=True).rename(columns={"actor": "target_actor"})
    out = conform(out.assign(_source=out["holder"] != NARRATOR_WORDS), VOICES, extra=True)
    keys = ["doc_id", "para_id", "_source", "holder", "holder_actor", "target_actor"]
    out = out.sort_values(keys, kind="mergesort").drop(columns="_source").reset_index(drop=True)
    return with_paragraph_metadata(out, paragraphs)


def voice_contrast(stance: pd.DataFrame, voices: pd.DataFrame) -> pd.DataFrame:
    """Each actor's mean stance counting every voice, beside the outlet's own voice alone.

    Parameters
    ----------
    stance : DataFrame
        The all-voices stance table (``score_stance``).
    voices : DataFrame
        The voices table (:func:`score_voices`; its narrator rows are used) or
        ``score_stance(..., voice="narrator")``.

    Returns
    -------
    DataFrame
        One row per actor (sorted): ``all_voices`` and ``n_all`` (mean score and
        paragraphs over every voice), ``narrator`` and ``n_narrator`` (the outlet's
        own words; NaN and 0 when it never speaks of the actor), ``difference``
        (``all_voices - narrator``).
    """
    if "target_actor" in voices.columns:
        voices = voices[voices["holder"] == NARRATOR_WORDS].rename(columns={"target_actor": "actor"})

    def means(table: pd.DataFrame, mean: str, n: str) -> pd.DataFrame:
        grouped = pd.to_numeric(table["score"], errors="coerce").groupby(table["actor"].astype(str))
        return pd.DataFrame({mean: grouped.mean(), n: grouped.size()})

    out = means(stance, "all_voices", "n_all").join(means(voices, "narrator", "n_narrator"), how="outer")
    out = out.assign(n_all=out["n_all"].fillna(0).astype(np.int64), n_narrator=out["n_narrator"].fillna(0).astype(np.int64))
    out["difference"] = out["all_voices"] - out["narrator"]
    return out.rename_axis("actor").reset_index()[["actor", "all_voices", "n_all", "narrator", "n_narrator", "difference"]]


def describe_voice_contrast(contrast: pd.DataFrame, threshold: float = 0.1) -> str:
    """One Markdown line per actor of :func:`voice_contrast`, in words a reader without statistics follows.

    A difference smaller than ``threshold`` (on the -1..1 scale) is "about the same".
    """
    lines = []
    for r in contrast.itertuples(index=False):
        n_all = f"{r.n_all} paragraph{'s' * (r.n_all != 1)}"
        everyone = f"{r.all_voices:+.2f} counting every voice, the outlet's and those it quotes ({n_all})"
        if r.n_narrator == 0 or pd.isna(r.narrator):
            lines.append(f"- **{r.actor}**: {everyone}; the article never judges it in its own words - all of it is quoted.")
            continue
        own = f"{r.narrator:+.2f} in the outlet's own words ({r.n_narrator} paragraph{'s' * (r.n_narrator != 1)})"
        if abs(r.difference) < threshold:
            verdict = "about the same: the quotes do not change the picture"
        elif r.difference < 0:
            verdict = "the sources it quotes are harsher on it than the outlet itself"
        else:
            verdict = "the sources it quotes are kinder to it than the outlet itself"
        lines.append(f"- **{r.actor}**: {everyone}, {own} - {verdict}.")
    return "\n".join(lines)
