"""Reading NewsMTSC and measuring a mention-level classifier against it.

NewsMTSC (Hamborg & Donnay, EACL 2021, MIT licence) is English news: one JSON
object per sentence with ``sentence_normalized`` and ``targets``, each target
having ``from``/``to`` character offsets and a ``polarity`` of 2.0 (negative),
4.0 (neutral) or 6.0 (positive).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

CLASSES = ("negative", "neutral", "positive")
POLARITY_TO_LABEL = {2.0: 0, 4.0: 1, 6.0: 2}


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_newsmtsc(path: str | os.PathLike) -> pd.DataFrame:
    """One row per target of a NewsMTSC ``.jsonl`` file.

    Returns
    -------
    DataFrame
        ``sentence_index`` (line number, 0-based), ``sentence``, ``start``, ``end``
        (offsets of the target in ``sentence``), ``mention``, ``label`` (0 negative,
        1 neutral, 2 positive).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such NewsMTSC file")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                sentence = record["sentence_normalized"]
                for target in record["targets"]:
                    rows.append(
                        {
                            "sentence_index": line_no - 1,
                            "sentence": sentence,
                            "start": int(target["from"]),
                            "end": int(target["to"]),
                            "mention": target.get("mention", sentence[target["from"] : target["to"]]),
                            "label": POLARITY_TO_LABEL[float(target["polarity"])],
                        }
                    )
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}, line {line_no}: not a NewsMTSC record ({exc!r})") from exc
    if not rows:
        raise InputError(f"{path}: no targets found")
    return pd.DataFrame(rows)


def classification_report(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Macro-F1, accuracy, n and per-class F1 for labels 0/1/2 (negative/neutral/positive)."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    per_class = f1_score(y_true, y_pred, labels=[0, 1, 2], average=None, zero_division=0)
    return {
        "macro_f1": round(float(np.mean(per_class)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "n": int(len(y_true)),
        "f1": {name: round(float(v), 4) for name, v in zip(CLASSES, per_class)},
    }


def evaluate_newsmtsc(classifier, path: str | os.PathLike) -> dict:
    """Score ``classifier`` (a mention-level classifier) on a NewsMTSC file.

    Returns the :func:`classification_report` dict plus ``file`` and ``model``.
    """
    data = read_newsmtsc(path)
    proba = classifier.predict_proba(data["sentence"].tolist(), list(zip(data["start"], data["end"])))
    report = classification_report(data["label"], proba.argmax(1))
    return {**report, "file": Path(path).name, "model": getattr(classifier, "model_id", "?")}
