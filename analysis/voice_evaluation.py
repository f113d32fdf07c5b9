"""Measuring holder attribution: a labelled voice set, and agreement with a gold holder annotation.

A **voice set** (``data/voices/voices_dev.csv``, ``voices_heldout.csv``; see
their README) holds one row per actor mention of short news paragraphs:
``id, lang, kind, text, target`` (the mention as written; ``nth`` picks a later
occurrence), ``role`` (``target`` or ``speaker``), ``holder_actor`` (the gold
voice: an actor, ``narrator``, or ``-`` for a source that is no actor),
``sign`` (-1, 0, 1: the holder's judgement of the target; empty for speakers)
and ``holder`` (the gold holder's words, for readers).

:func:`evaluate_voice_set` finds the mentions (:func:`analysis.find_mentions`)
and scores the voices (:func:`analysis.score_voices`) of every paragraph, and
reports:

* ``holder_accuracy``: share of labelled mentions whose role and voice are
  right (a target in the right voice; a speaker recognised as the speaker, with
  the right actor); a mention the lexicon misses counts as wrong;
* ``sign_accuracy``: over the gold (paragraph, voice, target actor) groups
  with a sign of -1 or +1, share whose voices-table score has that sign (a
  group without a row in that voice counts as wrong); ``label_accuracy`` over
  every group (label against / neutral / favor vs -1 / 0 / 1);
* the same per language and per kind.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .errors import InputError
from .io import read_table
from .voices import NARRATOR_WORDS

__all__ = ["VOICE_SET_COLUMNS", "evaluate_voice_set", "holder_agreement", "mention_voices", "read_voice_set", "voice_triples"]

#: Required columns of a voice set.
VOICE_SET_COLUMNS = ("id", "lang", "kind", "text", "target", "role", "holder_actor", "sign")
_ROLES = ("target", "speaker")
_LABELS = {"against": -1, "neutral": 0, "favor": 1}


def read_voice_set(path: str | os.PathLike) -> pd.DataFrame:
    """A voice set, checked: required columns, roles, signs, targets present in their text.

    Raises
    ------
    InputError
        A missing column, an unknown role, a sign other than -1/0/1 on a target,
        or a target (its ``nth`` occurrence) not in its text; the message names
        the file and the row.
    """
    table = read_table(path, dtype_str=True, columns=VOICE_SET_COLUMNS)
    nth = table["nth"].fillna("1") if "nth" in table.columns else pd.Series("1", index=table.index)
    for i, row in enumerate(table.itertuples(index=False), start=2):
        where = f"{path}, line {i} ({row.id})"
        if row.role not in _ROLES:
            raise InputError(f"{where}: role must be one of {', '.join(_ROLES)}, got {row.role!r}")
        if row.role == "target" and str(row.sign) not in ("-1", "0", "1"):
            raise InputError(f"{where}: a target's sign must be -1, 0 or 1, got {row.sign!r}")
        if _locate(str(row.text), str(row.target), nth.iloc[i - 2]) is None:
            raise InputError(f"{where}: target {row.target!r} (occurrence {nth.iloc[i - 2]}) is not in the text")
    out = table.assign(nth=nth.astype(int))
    out["start"] = [_locate(t, g, n) for t, g, n in zip(out["text"], out["target"], out["nth"])]
    return out


def _locate(text: str, target: str, nth) -> int | None:
    try:
        n = int(nth)
    except (TypeError, ValueError):
        return None
    at = -1
    for _ in range(max(n, 1)):
        at = text.find(target, at + 1)
        if at < 0:
            return None
    return at


def mention_voices(mentions: pd.DataFrame) -> pd.DataFrame:
    """``mentions`` with ``role`` (``speaker`` / ``target``) and ``voice`` (actor, ``narrator`` or ``-``)."""
    from .speakers import speaker_mask

    voice = np.where(mentions["holder"] == NARRATOR_WORDS, NARRATOR_WORDS, mentions["holder_actor"].replace("", "-"))
    return mentions.assign(role=np.where(speaker_mask(mentions), "speaker", "target"), voice=voice)


def evaluate_voice_set(table: pd.DataFrame, classifier) -> tuple[dict, pd.DataFrame]:
    """Score holder attribution and signs on a voice set (:func:`read_voice_set`).

    Returns
    -------
    (dict, DataFrame)
        The report (``holder_accuracy``, ``sign_accuracy``, ``label_accuracy``,
        their ``n_*``, ``n_sentences``, ``missed_mentions``, ``by_lang``,
        ``by_kind``) and the labelled rows with ``pred_role``, ``pred_voice``,
        ``actor``, ``holder_right``.
    """
    from .mentions import find_mentions
    from .voice_scores import score_voices

    docs = table.drop_duplicates("id")
    paragraphs = pd.DataFrame({"doc_id": docs["id"], "para_id": 1, "text": docs["text"], "lang": docs["lang"]})
    found = mention_voices(find_mentions(paragraphs))
    rows = table.merge(
        found[["doc_id", "start", "actor", "role", "voice"]].rename(
            columns={"doc_id": "id", "role": "pred_role", "voice": "pred_voice"}).drop_duplicates(["id", "start"]),
        on=["id", "start"], how="left",
    )
    rows["holder_right"] = (rows["pred_role"] == rows["role"]) & (rows["pred_voice"] == rows["holder_actor"])
    voices = score_voices(paragraphs, found, classifier, progress=False)
    voices = voices.assign(voice=np.where(voices["holder"] == NARRATOR_WORDS, NARRATOR_WORDS,
                                          voices["holder_actor"].replace("", "-")))
    scores = voices.groupby(["doc_id", "voice", "target_actor"])["score"].mean()
    labels = voices.groupby(["doc_id", "voice", "target_actor"])["label"].first()
    groups = rows[rows["role"] == "target"].dropna(subset=["actor"]).drop_duplicates(["id", "holder_actor", "actor"])
    keys = list(zip(groups["id"], groups["holder_actor"], groups["actor"]))
    groups = groups.assign(
        gold=groups["sign"].astype(int),
        score=[scores.get(k, np.nan) for k in keys],
        label=[_LABELS.get(labels.get(k), np.nan) for k in keys],
    )
    groups["sign_right"] = np.sign(groups["score"]) == groups["gold"]
    groups["label_right"] = groups["label"] == groups["gold"]
    missing_groups = rows[(rows["role"] == "target") & rows["actor"].isna()].drop_duplicates(["id", "holder_actor"])

    def summary(part_rows, part_groups, part_missing) -> dict:
        polar = part_groups[part_groups["gold"] != 0]
        n_polar = len(polar) + int((part_missing["sign"].astype(int) != 0).sum())
        n_groups = len(part_groups) + len(part_missing)
        return {
            "holder_accuracy": round(float(part_rows["holder_right"].mean()), 4) if len(part_rows) else float("nan"),
            "n_mentions": int(len(part_rows)),
            "sign_accuracy": round(float(polar["sign_right"].sum() / n_polar), 4) if n_polar else float("nan"),
            "n_polar_groups": n_polar,
            "label_accuracy": round(float(part_groups["label_right"].sum() / n_groups), 4) if n_groups else float("nan"),
            "n_groups": n_groups,
        }

    report = {
        **summary(rows, groups, missing_groups),
        "n_sentences": int(table["id"].nunique()),
        "missed_mentions": int(rows["actor"].isna().sum()),
        "model": str(getattr(classifier, "model_id", type(classifier).__name__)),
    }
    for by in ("lang", "kind"):
        report[f"by_{by}"] = {
            key: summary(rows[rows[by] == key], groups[groups[by] == key], missing_groups[missing_groups[by] == key])
            for key in sorted(rows[by].unique())
        }
    return report, rows.merge(groups[["id", "holder_actor", "actor", "score", "label", "sign_right"]],
                              on=["id", "holder_actor", "actor"], how="left")


def holder_agreement(gold: pd.DataFrame, mentions: pd.DataFrame) -> dict:
    """Agreement of found holders with a gold annotation of the same text's mentions.

    Parameters
    ----------
    gold : DataFrame
        ``doc_id, para_id, actor, start, end, role, holder_actor`` (``narrator`` / actor / ``-``),
        e.g. ``data/gold/ttn-fr-56.holders.csv``.
    mentions : DataFrame
        :func:`analysis.find_mentions` of the same text.

    Returns
    -------
    dict
        ``mention_agreement`` (share of gold mentions found with the same role and
        voice), ``n_mentions``, ``disagreements`` (list of ``para_id, actor, start,
        gold, found``) and the (paragraph, voice, target actor) ``triples``
        precision and recall (:func:`voice_triples`).
    """
    found = mention_voices(mentions).assign(doc_id=lambda d: d["doc_id"].astype(str))
    key = ["doc_id", "para_id", "actor", "start", "end"]
    g = gold.assign(doc_id=gold["doc_id"].astype(str))
    both = g.merge(found[[*key, "role", "voice"]], on=key, how="left", suffixes=("", "_found"))
    same = (both["role"] == both["role_found"]) & (both["holder_actor"] == both["voice"])
    wrong = both[~same]
    gold_triples = voice_triples(g.rename(columns={"holder_actor": "voice"}))
    found_triples = voice_triples(found)
    hit = len(gold_triples & found_triples)
    return {
        "mention_agreement": round(float(same.mean()), 4),
        "n_mentions": int(len(both)),
        "disagreements": [
            [int(r.para_id), r.actor, int(r.start), f"{r.role}/{r.holder_actor}", f"{r.role_found}/{r.voice}"]
            for r in wrong.itertuples(index=False)
        ],
        "triples_precision": round(hit / len(found_triples), 4) if found_triples else float("nan"),
        "triples_recall": round(hit / len(gold_triples), 4) if gold_triples else float("nan"),
        "n_triples": len(gold_triples),
    }


def voice_triples(mentions: pd.DataFrame) -> set[tuple[int, str, str]]:
    """``{(para_id, voice, target actor)}`` of the target mentions of a table with ``role`` and ``voice``.

    Comparable across translations of one article (aligned paragraphs), whose
    mentions differ in number and place.
    """
    targets = mentions[mentions["role"] == "target"]
    return set(zip(targets["para_id"].astype(int), targets["voice"], targets["actor"]))
