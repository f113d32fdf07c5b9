"""Speakers and voices of mentions: which mentions speak, whose voice each is in, which a voice scores.

Every mention carries its holder (:mod:`analysis.voices`): the narrator, or the
source whose words hold it. Scores by voice follow three rules:

* **A speaker is not a target of what it says.** A mention inside its holder's
  words (:func:`speaker_mask`: "les diplomates *occidentaux* sont sceptiques") is
  never scored. An actor that, in a paragraph, is *only* a speaker is mentioned
  but not judged: its row is neutral -- ``n_mentions`` 0, ``p_neutral`` 1,
  ``score`` 0, ``evidence`` the sentence where it speaks -- in the narrator's
  voice (the outlet reports that it spoke). This is the rule of the seed's gold
  stance ("the accuser is neutral unless the text itself evaluates it").
* **Every other mention is scored as before**, by the classifier's own rule
  (:meth:`~analysis.classifiers.base.MentionClassifier.score_pairs`), on the
  mentions of one voice at a time; a pair none of whose mentions speaks keeps
  exactly the score it had without voices.
* **Voices** (:data:`VOICE_OPTIONS`): ``"all"`` (every target mention, whoever
  holds it: the default stance table), ``"narrator"`` (the outlet's own words
  only) and ``"sources"`` (quoted and reported words only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .schema import PAIRS, conform, empty
from .voices import NARRATOR_WORDS

__all__ = ["HOLDER_COLUMNS", "OTHER_SOURCES", "VOICE_OPTIONS", "check_voice", "speaker_mask", "speaker_pairs", "split_voice", "voice_of"]

#: The readings of ``score_stance(voice=...)`` and ``analysis score --voice``.
VOICE_OPTIONS = ("all", "narrator", "sources")
#: Mention columns written by :func:`analysis.find_mentions` that say whose words a mention is in.
HOLDER_COLUMNS = ("holder", "holder_start", "holder_end", "holder_actor")
#: How :func:`voice_of` names a holder that is no actor.
OTHER_SOURCES = "other sources"


def voice_of(table: pd.DataFrame) -> pd.Series:
    """Whose voice each row is in: its ``holder_actor``, ``"narrator"``, or :data:`OTHER_SOURCES`.

    The grouping of holders in aggregates and the "who judges whom" matrix: the
    outlet's own voice, each actor, and every quoted source that is no actor.
    """
    names = table["holder_actor"].fillna("").astype(str)
    names = names.where(names != "", OTHER_SOURCES)
    return names.where(table["holder"] != NARRATOR_WORDS, NARRATOR_WORDS)


def speaker_mask(mentions: pd.DataFrame) -> pd.Series:
    """Which rows of a mentions table are the speaker of their own holder (boolean Series).

    Needs ``start``, ``end``, ``holder_start`` and ``holder_end``: a mention
    overlapping its holder's words is the one who speaks.
    """
    inside = (mentions["start"] < mentions["holder_end"]) & (mentions["end"] > mentions["holder_start"])
    return inside.fillna(False).astype(bool)


def check_voice(voice: Any) -> str:
    """``voice`` if it is one of :data:`VOICE_OPTIONS`.

    Raises
    ------
    InputError
        Any other value, listing the valid ones.
    """
    if voice not in VOICE_OPTIONS:
        raise InputError(f"voice must be one of {', '.join(VOICE_OPTIONS)}, got {voice!r}")
    return voice


def split_voice(mentions: pd.DataFrame, voice: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(targets, speakers)``: the mentions scored in ``voice`` and those that only speak there.

    A mentions table without the holder columns (made before voices existed, or
    by hand) has no speakers: with ``voice="all"`` every mention is a target.

    Raises
    ------
    InputError
        An unknown voice, or ``"narrator"``/``"sources"`` on a table without holder columns.
    """
    check_voice(voice)
    missing = [c for c in HOLDER_COLUMNS if c not in mentions.columns]
    if missing:
        if voice != "all":
            raise InputError(
                f"voice={voice!r} needs the mentions table's holder columns ({', '.join(missing)} missing); "
                "find the mentions with analysis.find_mentions"
            )
        return mentions, mentions.iloc[:0]
    speaking = speaker_mask(mentions)
    narrator = (mentions["holder"] == NARRATOR_WORDS).to_numpy()
    keep = {"all": ~speaking, "narrator": ~speaking & narrator, "sources": ~speaking & ~narrator}[voice]
    return mentions[keep], mentions[speaking] if voice != "sources" else mentions.iloc[:0]


def speaker_pairs(speakers: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Neutral pair rows (:data:`analysis.schema.PAIRS`) of the actors that only speak in a paragraph.

    Parameters
    ----------
    speakers : DataFrame
        Speaker mentions (:func:`split_voice`): doc_id, para_id, actor, sentence_id, start, sentence.
    scored : DataFrame
        Rows already scored (doc_id, para_id, actor): those pairs get no neutral row.

    Returns
    -------
    DataFrame
        One row per (doc_id, para_id, actor) of ``speakers`` not in ``scored``:
        ``n_mentions`` 0, probabilities (0, 1, 0), ``evidence`` the first sentence where it speaks.
    """
    keys = ["doc_id", "para_id", "actor"]
    if len(speakers) == 0:
        return empty(PAIRS)
    first = speakers.assign(doc_id=speakers["doc_id"].astype(str), para_id=speakers["para_id"].astype(np.int64))
    first = first.sort_values([*keys, "sentence_id", "start"], kind="mergesort").drop_duplicates(keys)
    done = set(zip(scored["doc_id"].astype(str), scored["para_id"].astype(np.int64), scored["actor"]))
    first = first[[key not in done for key in zip(first["doc_id"], first["para_id"], first["actor"])]]
    rows = first[keys].assign(n_mentions=0, p_against=0.0, p_neutral=1.0, p_favor=0.0, evidence=first["sentence"])
    return conform(rows, PAIRS)
