"""Measuring a mention-level classifier against labelled sets, and the target-dependence checks.

The labelled sets (NewsMTSC, RuSentNE, a user's CSV) are read by :mod:`analysis.labelled`
into one target table; :func:`evaluate_labelled` scores a classifier on it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .io import read_table
from .labelled import read_newsmtsc
from .schema import CLASSES, check_columns, sentiment_labels, table_labels


def predicted_classes(proba: np.ndarray) -> np.ndarray:
    """Class index (0 negative, 1 neutral, 2 positive) of each probability row, by the label rule."""
    return np.array([CLASSES.index(label) for label in sentiment_labels(proba)], dtype=int)


def classification_report(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Macro-F1, ``macro_f1_pn``, accuracy, n and per-class F1 for labels 0/1/2
    (negative/neutral/positive).

    ``macro_f1_pn`` is the mean F1 of the negative and positive classes alone (from the
    same 3-class predictions: a polar target read as neutral, or the reverse, still
    counts as an error), RuSentNE-2023's official measure.
    """
    from sklearn.metrics import accuracy_score, f1_score

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    per_class = f1_score(y_true, y_pred, labels=[0, 1, 2], average=None, zero_division=0)
    return {
        "macro_f1": round(float(np.mean(per_class)), 4),
        "macro_f1_pn": round(float(np.mean(per_class[[0, 2]])), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "n": int(len(y_true)),
        "f1": {name: round(float(v), 4) for name, v in zip(CLASSES, per_class)},
    }


def evaluate_labelled(classifier, targets: pd.DataFrame) -> dict:
    """Score ``classifier`` (a mention-level classifier) on a target table of :mod:`analysis.labelled`.

    Returns the :func:`classification_report` dict plus ``model``, and ``by_lang`` (the
    report per language) when the table holds several languages.
    """
    scored = predict_labelled(classifier, targets)
    report = {**classification_report(scored["label"], scored["pred"]), "model": getattr(classifier, "model_id", "?")}
    if scored["lang"].nunique() > 1:
        report["by_lang"] = {lang: classification_report(part["label"], part["pred"]) for lang, part in scored.groupby("lang")}
    return report


# --------------------------------------------------------------------------- target dependence
CONTRAST_COLUMNS = ("lang", "sentence", "target_a", "target_b", "stance_a", "stance_b")


def read_contrast(path: str | os.PathLike) -> pd.DataFrame:
    """Contrast sentences: one sentence, two targets, a stance for each (``data/contrast/README.md``).

    Returns
    -------
    DataFrame
        The file's columns (at least ``lang, sentence, target_a, target_b, stance_a,
        stance_b``; stances -1/0/1) plus ``start_a, end_a, start_b, end_b``: the
        character span of each target's first occurrence in ``sentence``.
    """
    table = read_table(path, columns=CONTRAST_COLUMNS)
    for side in ("a", "b"):
        if not table[f"stance_{side}"].isin([-1, 0, 1]).all():
            raise InputError(f"{path}: stance_{side} must be -1, 0 or 1")
        starts = [sentence.find(target) for sentence, target in zip(table["sentence"], table[f"target_{side}"])]
        absent = [i + 2 for i, start in enumerate(starts) if start < 0]
        if absent:
            raise InputError(f"{path}, line {absent[0]}: target_{side} is not in the sentence")
        table[f"start_{side}"] = starts
        table[f"end_{side}"] = table[f"start_{side}"] + table[f"target_{side}"].str.len()
    return table


def score_contrast(classifier, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (:func:`read_contrast`) plus ``score_a``, ``score_b`` (p_favor - p_against) from one call."""
    sentences = [s for s in table["sentence"] for _ in range(2)]
    spans = [span for a in zip(table["start_a"], table["end_a"], table["start_b"], table["end_b"]) for span in (a[:2], a[2:])]
    proba = np.asarray(classifier.predict_proba(sentences, spans), dtype=float)
    score = proba[:, 2] - proba[:, 0]
    return table.assign(score_a=score[0::2], score_b=score[1::2])


def contrast_report(scores: pd.DataFrame) -> dict:
    """Target dependence on the rows of :func:`score_contrast` whose stances are +1/-1 or -1/+1.

    ``right_signs``: share of sentences where both scores have the sign of their stance
    (the two actors get opposite signs); ``ranked``: share where the favoured target
    scores higher. Overall and per ``lang``.
    """
    rows = scores[scores["stance_a"] * scores["stance_b"] == -1]

    def shares(part):
        right = (np.sign(part["score_a"]) == part["stance_a"]) & (np.sign(part["score_b"]) == part["stance_b"])
        ranked = (part["score_a"] - part["score_b"]) * part["stance_a"] > 0
        return {"n": int(len(part)), "right_signs": round(float(right.mean()), 4), "ranked": round(float(ranked.mean()), 4)}

    return {**shares(rows), "by_lang": {lang: shares(part) for lang, part in rows.groupby("lang")}}


def read_name_swap(path: str | os.PathLike, names_path: str | os.PathLike | None = None):
    """Templates (``id, lang, template, polarity``; one ``{}`` slot each) and the names to put
    in them (``lang, name, actor``; default: the ``<stem>_names.csv`` beside ``path``)."""
    path = Path(path)
    names_path = Path(names_path) if names_path else path.with_name(f"{path.stem}_names.csv")
    templates = read_table(path, columns=("id", "lang", "template", "polarity"))
    bad = [i + 2 for i, t in enumerate(templates["template"]) if str(t).count("{}") != 1]
    if bad:
        raise InputError(f"{path}, line {bad[0]}: a template needs exactly one {{}} slot")
    return templates, read_table(names_path, columns=("lang", "name", "actor"))


def score_name_swap(classifier, templates: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Every name of a language in the ``{}`` slot of every template of that language.

    Parameters
    ----------
    templates : DataFrame
        ``id, lang, template, polarity`` (``data/contrast/name_swap.csv``).
    names : DataFrame
        ``lang, name, actor`` (empty actor: another actor; ``data/contrast/name_swap_names.csv``).

    Returns
    -------
    DataFrame
        ``lang, name, actor`` (``"other"`` when empty), ``id, polarity, score``.
    """
    rows = []
    for template in templates.itertuples():
        group = names[names["lang"] == template.lang]
        start = template.template.index("{}")
        proba = np.asarray(classifier.predict_proba(
            [template.template.format(name) for name in group["name"]],
            [(start, start + len(name)) for name in group["name"]],
        ), dtype=float)
        rows.append(group.assign(id=template.id, polarity=template.polarity, score=proba[:, 2] - proba[:, 0]))
    return pd.concat(rows, ignore_index=True).fillna({"actor": "other"})


def name_swap_report(scores: pd.DataFrame) -> dict:
    """``right_sign``: share of (template, name) pairs scored with the template's sign;
    ``actor_gap``: per actor, the mean over templates of |actor's mean score - other names' mean|."""
    by_actor = scores.groupby(["id", "actor"])["score"].mean().unstack()
    actors = [a for a in by_actor.columns if a != "other"]
    gaps = by_actor[actors].sub(by_actor["other"], axis=0).abs().mean()
    return {
        "n": int(len(scores)),
        "right_sign": round(float((np.sign(scores["score"]) == scores["polarity"]).mean()), 4),
        "actor_gap": {actor: round(float(gap), 4) for actor, gap in gaps.items()},
    }


# --------------------------------------------------------------------------- probabilities
PROBA_COLUMNS = ("p_negative", "p_neutral", "p_positive")


def predict_labelled(classifier, targets: pd.DataFrame) -> pd.DataFrame:
    """A target table of :mod:`analysis.labelled` with the classifier's probabilities.

    Returns
    -------
    DataFrame
        The columns of ``targets`` plus ``p_negative``, ``p_neutral``, ``p_positive``
        (float) and ``pred`` (0/1/2: the label rule of :mod:`analysis.schema`, ties going
        to neutral); ``label`` is the gold class (0 negative, 1 neutral, 2 positive).
        Feed ``label``/``pred`` to :func:`classification_report` and the probabilities
        to :func:`calibration_table`.
    """
    proba = np.asarray(
        classifier.predict_proba(targets["sentence"].tolist(), list(zip(targets["start"], targets["end"]))),
        dtype=float,
    )
    if proba.shape != (len(targets), 3):
        raise ValueError(f"predict_proba returned shape {proba.shape}, expected {(len(targets), 3)}")
    out = targets.copy()
    for j, col in enumerate(PROBA_COLUMNS):
        out[col] = proba[:, j]
    out["pred"] = predicted_classes(proba)
    return out


def predict_newsmtsc(classifier, path: str | os.PathLike) -> pd.DataFrame:
    """:func:`predict_labelled` on the targets of a NewsMTSC file (:func:`~analysis.labelled.read_newsmtsc`)."""
    return predict_labelled(classifier, read_newsmtsc(path))


def _class_index(y_true, classes: Sequence[str]) -> np.ndarray:
    """Gold labels as indices into ``classes`` (each may be an index or a class name)."""
    lookup = {c: i for i, c in enumerate(classes)}
    out = []
    for v in list(y_true):
        if isinstance(v, str):
            if v not in lookup:
                raise InputError(f"unknown label {v!r}; expected one of {list(classes)}")
            out.append(lookup[v])
        else:
            out.append(int(v))
    return np.asarray(out, dtype=int)


def calibration_table(
    y_true: Sequence, proba: np.ndarray, *, n_bins: int = 10, classes: Sequence[str] = CLASSES
) -> pd.DataFrame:
    """Top-label calibration: predicted confidence vs observed accuracy per bin.

    The confidence of a prediction is its largest class probability; the
    prediction is correct when that class is the gold one. Predictions are
    binned by confidence into ``n_bins`` equal-width bins on [0, 1] (a
    confidence of exactly 1 falls in the last bin).

    Parameters
    ----------
    y_true : sequence of int or str
        Gold class, as an index into ``classes`` or as the class name.
    proba : array of shape (n, k)
        Predicted probabilities, columns in ``classes`` order.
    n_bins : int, default 10
    classes : sequence of str

    Returns
    -------
    DataFrame
        One row per bin (empty bins included): ``bin`` (0-based), ``lower``,
        ``upper`` (edges), ``n`` (predictions in the bin), ``confidence``
        (their mean confidence) and ``accuracy`` (share correct); both NaN
        for an empty bin.
    """
    proba = np.asarray(proba, dtype=float)
    y = _class_index(y_true, classes)
    if proba.ndim != 2 or proba.shape[0] != len(y):
        raise InputError(f"proba has shape {proba.shape}; expected ({len(y)}, {len(classes)})")
    if n_bins < 1:
        raise InputError(f"n_bins must be at least 1, got {n_bins}")
    conf = proba.max(axis=1) if len(y) else np.zeros(0)
    correct = (proba.argmax(axis=1) == y) if len(y) else np.zeros(0, dtype=bool)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=False), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = which == b
        n = int(sel.sum())
        rows.append({
            "bin": b, "lower": float(edges[b]), "upper": float(edges[b + 1]), "n": n,
            "confidence": float(conf[sel].mean()) if n else float("nan"),
            "accuracy": float(correct[sel].mean()) if n else float("nan"),
        })
    return pd.DataFrame(rows)


def expected_calibration_error(
    y_true: Sequence, proba: np.ndarray, *, n_bins: int = 10, classes: Sequence[str] = CLASSES
) -> float:
    """Expected calibration error (top-label, equal-width bins).

    ``ECE = sum_b n_b / n * |accuracy_b - confidence_b|`` over the bins of
    :func:`calibration_table`: 0 for a perfectly calibrated classifier; 0.1
    means its confidence is off by 10 percentage points on average. NaN for
    an empty sample.
    """
    table = calibration_table(y_true, proba, n_bins=n_bins, classes=classes)
    total = table["n"].sum()
    if total == 0:
        return float("nan")
    used = table[table["n"] > 0]
    return float((used["n"] / total * (used["accuracy"] - used["confidence"]).abs()).sum())


# --------------------------------------------------------------------------- seed gold
STANCE_VALUE_TO_LABEL = {-1: "against", 0: "neutral", 1: "favor"}


def read_gold_stance(path: str | os.PathLike) -> pd.DataFrame:
    """Read a gold stance file such as ``data/gold/ttn-fr-56.stance.csv``.

    Returns
    -------
    DataFrame
        ``doc_id`` (str), ``para_id`` (int), ``actor`` (str), ``stance``
        (nullable Int64: -1, 0, 1, or <NA> = actor not referred to),
        ``clarity`` ("clear" | "ambiguous"), ``rationale`` (str), and
        ``label`` ("against" | "neutral" | "favor", None where ``stance`` is NA).

    Raises
    ------
    InputError
        Missing file, missing columns or a stance outside -1/0/1/NA.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such gold file")
    gold = pd.read_csv(path, dtype={"doc_id": str, "actor": str, "clarity": str})
    missing = [c for c in ("doc_id", "para_id", "actor", "stance", "clarity") if c not in gold.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    stance = pd.to_numeric(gold["stance"], errors="coerce")
    bad = gold["stance"].notna() & ~stance.isin([-1, 0, 1])
    if bad.any():
        raise InputError(f"{path}: stance must be -1, 0, 1 or NA (row {int(bad.idxmax()) + 2})")
    gold["para_id"] = gold["para_id"].astype("int64")
    gold["stance"] = stance.astype("Int64")
    gold["label"] = [None if pd.isna(v) else STANCE_VALUE_TO_LABEL[int(v)] for v in gold["stance"]]
    return gold


def seed_agreement(
    stance: pd.DataFrame,
    gold: pd.DataFrame,
    *,
    on: Sequence[str] = ("doc_id", "para_id", "actor"),
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Agreement of a stance table with hand-made gold judgements.

    Parameters
    ----------
    stance : DataFrame
        Stance table (``score_stance``): the ``on`` columns, ``score`` and
        ``label`` (or the three probabilities).
    gold : DataFrame
        Gold table (:func:`read_gold_stance`): the ``on`` columns, ``stance``
        (-1/0/1/NA) and ``clarity``.
    on : sequence of str, default ("doc_id", "para_id", "actor")
        Columns matching a model row to a gold row. Use
        ``("para_id", "actor")`` with ``by="lang"`` to check aligned
        translations against the original's gold.
    by : str or list of str, optional
        Columns of ``stance`` to report separately (e.g. ``"lang"``).

    Returns
    -------
    DataFrame
        Two rows per group, ``judgements`` = ``"all"`` (every gold pair with a
        label) and ``"clear"`` (only those the annotator marked clear), with

        - ``n_gold``: gold pairs with a label (-1/0/1);
        - ``n_pairs``: of those, pairs the model scored (the sample below);
        - ``n_unscored``: gold pairs the model did not score (actor not found);
        - ``n_extra``: model rows the gold marks as not referred to (NA) or
          lacks (same value in both rows of a group);
        - ``exact_agreement``: share of ``n_pairs`` whose model ``label``
          equals the gold label (against / neutral / favor);
        - ``n_signed``: scored pairs whose gold is -1 or +1;
        - ``sign_agreement``: share of those where the sign of the model
          ``score`` matches the gold sign (the direction is right; gold
          neutral pairs do not count);
        - ``spearman``: Spearman rank correlation between gold stance and
          model score (NaN with fewer than 3 pairs or a constant side).
    """
    from scipy.stats import spearmanr

    on = list(on)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for what, table, cols in (("stance table", stance, [*on, *by_cols, "score"]),
                              ("gold table", gold, [*on, "stance", "clarity"])):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise InputError(f"{what} is missing column(s) {', '.join(missing)}")
    g = gold[[*on, "stance", "clarity"]].copy()
    g["stance"] = pd.to_numeric(g["stance"], errors="coerce")
    if g.duplicated(on).any():
        raise InputError(f"gold table has several rows for the same {', '.join(on)}")
    s = stance[[*on, *by_cols, "score"]].copy()
    s["model_label"] = table_labels(stance).to_numpy()
    for frame in (g, s):
        if "doc_id" in on:
            frame["doc_id"] = frame["doc_id"].astype(str)
        if "para_id" in on:
            frame["para_id"] = frame["para_id"].astype("int64")
    groups = s.groupby(by_cols, sort=True, dropna=False) if by_cols else [((), s)]
    labelled = g[g["stance"].notna()]
    rows = []
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        if sub.duplicated(on).any():
            raise InputError(
                f"stance table has several rows for the same {', '.join(on)}"
                + (f" within {dict(zip(by_cols, key))}" if by_cols else "")
                + "; pass by= or filter the table"
            )
        merged_all = sub.merge(g, on=on, how="left")
        n_extra = int(merged_all["stance"].isna().sum())
        for judgements in ("all", "clear"):
            gl = labelled if judgements == "all" else labelled[labelled["clarity"] == "clear"]
            m = gl.merge(sub, on=on, how="left")
            scored = m[m["score"].notna()]
            gold_v = scored["stance"].to_numpy(dtype=float)
            score = scored["score"].to_numpy(dtype=float)
            gold_lab = np.array([STANCE_VALUE_TO_LABEL[int(v)] for v in gold_v], dtype=object)
            signed = gold_v != 0
            n = len(scored)
            rho = float("nan")
            if n >= 3 and np.ptp(gold_v) > 0 and np.ptp(score) > 0:
                rho = float(spearmanr(gold_v, score).statistic)
            rows.append({
                **dict(zip(by_cols, key)),
                "judgements": judgements,
                "n_gold": int(len(gl)),
                "n_pairs": n,
                "n_unscored": int(len(gl) - n),
                "n_extra": n_extra,
                "exact_agreement": float(np.mean(scored["model_label"].to_numpy() == gold_lab)) if n else float("nan"),
                "n_signed": int(signed.sum()),
                "sign_agreement": float(np.mean(np.sign(score[signed]) == gold_v[signed])) if signed.any() else float("nan"),
                "spearman": rho,
            })
    cols = [*by_cols, "judgements", "n_gold", "n_pairs", "n_unscored", "n_extra", "exact_agreement",
            "n_signed", "sign_agreement", "spearman"]
    return pd.DataFrame(rows, columns=cols)


def gold_pairs(stance: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """The labelled gold pairs the model scored, side by side with the model's reading.

    Parameters
    ----------
    stance : DataFrame
        Stance table of the annotated document(s): ``doc_id``, ``para_id``, ``actor``,
        ``score``, ``label`` (or the three probabilities), ``evidence`` when present.
    gold : DataFrame
        Gold table (:func:`read_gold_stance`).

    Returns
    -------
    DataFrame
        One row per gold pair with a label that the model scored: ``doc_id``, ``para_id``,
        ``actor``, ``label`` (gold: against / neutral / favor), ``pred`` (the model's label),
        ``score``, ``clarity``, ``rationale`` and ``evidence`` (when the tables have them),
        in gold order. Feed ``label``/``pred`` to
        :func:`analysis.confusion_matrix_plot`; rows with ``label != pred`` are the
        disagreements.
    """
    keys = ["doc_id", "para_id", "actor"]
    check_columns(stance, [*keys, "score"], "stance table")
    check_columns(gold, [*keys, "label"], "gold table")
    model = stance[[*keys, "score", *(["evidence"] if "evidence" in stance.columns else [])]].assign(
        pred=table_labels(stance).to_numpy()
    )
    extra = [c for c in ("clarity", "rationale") if c in gold.columns]
    paired = gold.dropna(subset=["label"])[[*keys, "label", *extra]].merge(model, on=keys, how="inner")
    order = [*keys, "label", "pred", "score", *extra, *(["evidence"] if "evidence" in paired.columns else [])]
    return paired[order].reset_index(drop=True)


def dev_set_report(predictions: pd.DataFrame, *, by: str = "split") -> pd.DataFrame:
    """Macro-F1, accuracy, per-class F1 and calibration error of predictions, per dev set.

    Parameters
    ----------
    predictions : DataFrame
        Output of :func:`predict_labelled` / :func:`predict_newsmtsc` (``label``, ``pred``,
        ``p_negative``, ``p_neutral``, ``p_positive``) with a ``by`` column naming the set.
    by : str, default "split"
        Column that names the dev set of each row.

    Returns
    -------
    DataFrame
        One row per dev set (index ``by``, in order of appearance): ``targets`` (int),
        ``macro_f1``, ``macro_f1_pn``, ``accuracy``, ``F1 negative``, ``F1 neutral``,
        ``F1 positive`` and ``ece`` (:func:`expected_calibration_error`).
    """
    check_columns(predictions, [by, "label", "pred", *PROBA_COLUMNS], "predictions table")
    rows = {}
    for name, sub in predictions.groupby(by, sort=False):
        report = classification_report(sub["label"], sub["pred"])
        rows[name] = {
            "targets": report["n"], "macro_f1": report["macro_f1"], "macro_f1_pn": report["macro_f1_pn"],
            "accuracy": report["accuracy"], **{f"F1 {c}": v for c, v in report["f1"].items()},
            "ece": expected_calibration_error(sub["label"], sub[list(PROBA_COLUMNS)].to_numpy()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").astype({"targets": "int64"}).rename_axis(by)
