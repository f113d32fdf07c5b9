"""Aggregate paragraph-level stance scores with bootstrap uncertainty.

Both public functions take the tidy *stance* table produced by
:func:`analysis.score_stance` and return tidy tables with one row per group.
They also take the *voices* table of :func:`analysis.score_voices`: groups are
then holder x target (``holder_actor``: the holder's actor, ``"narrator"`` for
the outlet's own voice, ``"other sources"`` for holders that are no actor;
``target_actor``) instead of ``actor``.

Conventions
-----------
* The statistic is the arithmetic **mean of paragraph scores** (``score`` =
  ``p_favor - p_against``, in [-1, 1]).  Only paragraphs where the actor is
  mentioned have a row, so a mean is always over mentioning paragraphs; an
  actor never mentioned in a group has no row (it is never "neutral").
* The confidence interval is a **percentile bootstrap**
  (:func:`scipy.stats.bootstrap` with ``method="percentile"``).  It was chosen
  over BCa because groups are small (often a handful of paragraphs): BCa's
  jackknife acceleration is undefined on degenerate samples and unstable on
  tiny ones, while the percentile interval always lies inside the range of
  the observed scores, i.e. inside [-1, 1].  Pass ``method="BCa"`` or
  ``"basic"`` to change it.
* **Degenerate groups**: with ``n == 1`` or when every score in the group is
  identical, the bootstrap distribution has no spread; ``ci_low`` and
  ``ci_high`` are then set equal to ``mean_score`` (a zero-width interval,
  which the plots draw as a whisker of length 0 and label with ``n``).
  If the bootstrap itself returns a non-finite bound (possible with
  ``method="BCa"``), that bound is NaN.
* **Determinism**: each group gets its own random generator seeded from
  ``random_state`` and a CRC-32 of the group key, so a group's interval does
  not change when other documents are added to or removed from the table.
* Groups are also split by ``model`` when the table has a ``model`` column:
  scores of different classifiers are never pooled.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import InputError
from .schema import STANCE_LABELS, check_columns, table_labels

__all__ = [
    "AGGREGATE_COLUMNS",
    "aggregate_corpus",
    "aggregate_documents",
    "bootstrap_ci",
    "group_seed",
    "language_consistency",
]

#: Statistic columns shared by both aggregate tables, in output order.
AGGREGATE_COLUMNS = (
    "n_paragraphs",
    "mean_score",
    "ci_low",
    "ci_high",
    "share_favourable",
    "share_unfavourable",
)

_LABEL_AGAINST, _, _LABEL_FAVOR = STANCE_LABELS


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    random_state: int | np.random.SeedSequence | None = 0,
    method: str = "percentile",
) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean of ``values``.

    Parameters
    ----------
    values : array-like of float
        Sample; NaN values are dropped.
    confidence_level : float, default 0.95
    n_resamples : int, default 9999
    random_state : int, SeedSequence or None, default 0
        Seed of the resampling generator (deterministic for a fixed seed).
    method : {"percentile", "BCa", "basic"}, default "percentile"

    Returns
    -------
    (low, high) : tuple of float
        ``(nan, nan)`` for an empty sample; ``(mean, mean)`` when the sample
        has one value or zero variance (see module docstring).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (float("nan"), float("nan"))
    mean = float(x.mean())
    if x.size == 1 or np.ptp(x) == 0.0:
        return (mean, mean)
    from scipy import stats  # local import: keeps `import analysis.aggregate` light

    rng = np.random.default_rng(random_state)
    res = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method=method,
        vectorized=True,
        rng=rng,
    )
    low = float(res.confidence_interval.low)
    high = float(res.confidence_interval.high)
    return (low if np.isfinite(low) else float("nan"), high if np.isfinite(high) else float("nan"))


def group_seed(random_state: int | None, key: tuple) -> np.random.SeedSequence:
    """Seed of one group's resampling: the run's ``random_state`` and a hash of the group key.

    A group's interval then depends only on its own rows and the seed, never on which
    other groups the table holds (adding an actor never changes another's interval).
    """
    crc = zlib.crc32(repr(tuple(str(k) for k in key)).encode("utf-8"))
    entropy = [crc] if random_state is None else [int(random_state), crc]
    return np.random.SeedSequence(entropy)


def _aggregate(
    df: pd.DataFrame,
    keys: list[str],
    *,
    confidence_level: float,
    n_resamples: int,
    random_state: int | None,
    method: str,
    extra: dict | None = None,
) -> pd.DataFrame:
    """Group ``df`` (columns: keys, score, _label) and compute the statistics."""
    rows = []
    for key, g in df.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        scores = g["score"].to_numpy(dtype=float)
        low, high = bootstrap_ci(
            scores,
            confidence_level=confidence_level,
            n_resamples=n_resamples,
            random_state=group_seed(random_state, key),
            method=method,
        )
        n = int(np.count_nonzero(~np.isnan(scores)))
        row = dict(zip(keys, key))
        if extra:
            for name, fn in extra.items():
                row[name] = fn(g)
        row.update(
            n_paragraphs=n,
            mean_score=float(np.nanmean(scores)) if n else float("nan"),
            ci_low=low,
            ci_high=high,
            share_favourable=float((g["_label"] == _LABEL_FAVOR).mean()),
            share_unfavourable=float((g["_label"] == _LABEL_AGAINST).mean()),
        )
        rows.append(row)
    cols = keys + list(extra or {}) + list(AGGREGATE_COLUMNS)
    return pd.DataFrame(rows, columns=cols)


def _prepare(stance: pd.DataFrame, what: str = "stance table") -> tuple[pd.DataFrame, list[str]]:
    """The table ready to group, and its actor keys: ``["actor"]``, or ``["holder_actor",
    "target_actor"]`` for a voices table (holders named by :func:`analysis.speakers.voice_of`)."""
    if isinstance(stance, pd.DataFrame) and {"holder", "holder_actor", "target_actor"} <= set(stance.columns):
        from .speakers import voice_of

        check_columns(stance, ("doc_id", "para_id", "score"), "voices table")
        df = stance.assign(holder_actor=voice_of(stance))
        actor_keys = ["holder_actor", "target_actor"]
    else:
        check_columns(stance, ("doc_id", "para_id", "actor", "score"), what)
        df = stance.copy()
        actor_keys = ["actor"]
    df["score"] = pd.to_numeric(df["score"], errors="coerce")
    df["_label"] = table_labels(df)
    return df, actor_keys


def _finish(out: pd.DataFrame, keys: list[str], has_model: bool) -> pd.DataFrame:
    if has_model:
        # spec order: statistics first, model last
        cols = [k for k in keys if k != "model"] + [
            c for c in out.columns if c not in keys
        ] + ["model"]
        out = out[cols]
    return out.reset_index(drop=True)


def aggregate_documents(
    stance: pd.DataFrame,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    random_state: int | None = 0,
    method: str = "percentile",
) -> pd.DataFrame:
    """Per document x actor summary of paragraph stance scores.

    Parameters
    ----------
    stance : pandas.DataFrame
        Stance table, one row per mentioned paragraph x actor. Required
        columns: ``doc_id``, ``para_id``, ``actor``, ``score``. Used when
        present: ``label`` ("against" | "neutral" | "favor"; else derived from
        ``p_against``/``p_neutral``/``p_favor`` by the label rule of
        :mod:`analysis.schema`, ties going to neutral) and ``model``
        (groups are split by model).
    confidence_level : float, default 0.95
        Confidence level of the bootstrap interval.
    n_resamples : int, default 9999
        Bootstrap resamples per group.
    random_state : int or None, default 0
        Seed; results are deterministic for a fixed seed.
    method : {"percentile", "BCa", "basic"}, default "percentile"
        Bootstrap interval method (see module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per (doc_id, actor[, model]), sorted by those keys, columns:

        - ``doc_id``, ``actor`` (a voices table: ``holder_actor``, ``target_actor``)
        - ``n_paragraphs`` (int): paragraphs mentioning the actor
        - ``mean_score`` (float): mean paragraph score
        - ``ci_low``, ``ci_high`` (float): bootstrap CI of the mean
          (equal to ``mean_score`` when n == 1 or all scores are equal)
        - ``share_favourable``, ``share_unfavourable`` (float in [0, 1]):
          share of those paragraphs labelled "favor" / "against"
        - ``model`` (only if the input has it)

    Raises
    ------
    analysis.errors.InputError
        If required columns are missing.
    """
    df, actor_keys = _prepare(stance)
    has_model = "model" in df.columns
    keys = ["doc_id", *actor_keys] + (["model"] if has_model else [])
    out = _aggregate(
        df,
        keys,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        random_state=random_state,
        method=method,
    )
    return _finish(out, keys, has_model)


def aggregate_corpus(
    stance: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = "lang",
    paragraphs: pd.DataFrame | None = None,
    unit: str = "paragraph",
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    random_state: int | None = 0,
    method: str = "percentile",
) -> pd.DataFrame:
    """Corpus-level stance summary per actor, grouped by metadata columns.

    Parameters
    ----------
    stance : pandas.DataFrame
        Stance table (see :func:`aggregate_documents`).
    by : str, list of str or None, default "lang"
        Grouping column(s), e.g. ``"outlet"``, ``"lang"``, ``["outlet",
        "month"]``. Taken from ``stance`` when present there, otherwise from
        ``paragraphs``. ``None`` or ``[]`` summarises the whole corpus per
        actor. Derive coarser keys (e.g. month from a date) before calling.
    paragraphs : pandas.DataFrame, optional
        Metadata table joined onto ``stance``: the paragraphs table
        (``doc_id``, ``para_id``, metadata columns; joined on both) or a
        document table with ``doc_id`` and no ``para_id`` (joined on
        ``doc_id``). Only the ``by`` columns are taken from it.
    unit : {"paragraph", "document"}, default "paragraph"
        ``"paragraph"``: mean and bootstrap over all mentioning paragraphs of
        the group (each paragraph weighs the same; paragraphs of one article
        are treated as independent, so the CI is optimistic when a group has
        few, long articles). ``"document"``: first average per document, then
        mean and bootstrap over documents (each article weighs the same;
        the honest choice when comparing outlets with many articles).
    confidence_level, n_resamples, random_state, method
        As in :func:`aggregate_documents`.

    Returns
    -------
    pandas.DataFrame
        One row per (by..., actor[, model]), columns: the ``by`` columns,
        ``actor`` (a voices table: ``holder_actor``, ``target_actor``),
        ``n_documents``, ``n_paragraphs``, ``mean_score``,
        ``ci_low``, ``ci_high``, ``share_favourable``, ``share_unfavourable``,
        ``model`` (if present in the input). With ``unit="document"`` the
        mean and CI are over per-document mean scores (see Notes).

    Notes
    -----
    With ``unit="document"``, ``share_favourable`` / ``share_unfavourable``
    are still shares of *paragraphs* (pooled), so they stay comparable
    across units; only the mean and CI change.

    Raises
    ------
    analysis.errors.InputError
        Missing columns, a ``by`` column found in neither table, or an
        unknown ``unit``.
    """
    if unit not in ("paragraph", "document"):
        raise InputError(f"unit must be 'paragraph' or 'document', got {unit!r}")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    df, actor_keys = _prepare(stance)
    missing = [c for c in by_cols if c not in df.columns]
    if missing:
        if paragraphs is None:
            raise InputError(
                f"grouping column(s) {', '.join(missing)} not in the stance table; "
                "pass paragraphs= (a table with doc_id[, para_id] and those columns)"
            )
        check_columns(paragraphs, ["doc_id", *missing], "paragraphs table")
        on = ["doc_id", "para_id"] if "para_id" in paragraphs.columns else ["doc_id"]
        meta = paragraphs[on + missing].drop_duplicates(subset=on)
        df = df.merge(meta, on=on, how="left", validate="many_to_one")
    has_model = "model" in df.columns
    keys = by_cols + actor_keys + (["model"] if has_model else [])
    n_docs = {"n_documents": lambda g: int(g["doc_id"].nunique())}
    if unit == "paragraph":
        out = _aggregate(
            df, keys, confidence_level=confidence_level, n_resamples=n_resamples,
            random_state=random_state, method=method, extra=n_docs,
        )
    else:
        # mean per document first, then bootstrap over documents
        doc_keys = keys + ["doc_id"]
        per_doc = (
            df.groupby(doc_keys, sort=True, dropna=False)["score"].mean().rename("score").reset_index()
        )
        per_doc["_label"] = None
        out = _aggregate(
            per_doc, keys, confidence_level=confidence_level, n_resamples=n_resamples,
            random_state=random_state, method=method, extra=n_docs,
        )
        pooled = df.groupby(keys, sort=True, dropna=False).agg(
            n_paragraphs=("score", "count"),
            share_favourable=("_label", lambda s: float((s == _LABEL_FAVOR).mean())),
            share_unfavourable=("_label", lambda s: float((s == _LABEL_AGAINST).mean())),
        ).reset_index()
        out = out.drop(columns=["n_paragraphs", "share_favourable", "share_unfavourable"])
        out = out.merge(pooled, on=keys, how="left")
        out = out[keys + ["n_documents", *AGGREGATE_COLUMNS]]
    return _finish(out, keys, has_model)


def language_consistency(
    stance: pd.DataFrame,
    reference_lang: str = "fr",
    *,
    lang: str = "lang",
    paragraphs: pd.DataFrame | None = None,
    value: str = "score",
) -> pd.DataFrame:
    """How closely each translation's scores follow the reference language's.

    The table must hold one article per language, translated paragraph by
    paragraph (aligned ``para_id``). For every language other than
    ``reference_lang``, the paragraph x actor pairs scored in *both* that
    language and the reference are matched on (``para_id``, ``actor``) and
    compared.

    Parameters
    ----------
    stance : pandas.DataFrame
        Stance table (``doc_id``, ``para_id``, ``actor``, ``score``) with a
        language column, or without one when ``paragraphs`` gives it.
    reference_lang : str, default "fr"
        Language the others are compared with (the original).
    lang : str, default "lang"
        Language column.
    paragraphs : pandas.DataFrame, optional
        Paragraphs table (``doc_id``, ``para_id``, ``lang``) joined on to get
        the language when ``stance`` lacks it.
    value : str, default "score"
        Score column compared.

    Returns
    -------
    pandas.DataFrame
        One row per other language (sorted), columns:

        - ``lang``: the language;
        - ``n_pairs`` (int): pairs scored in both languages (the sample of r);
        - ``n_only_reference`` / ``n_only_lang`` (int): pairs scored in only
          one of the two (an actor found in one text but not the other);
        - ``pearson_r`` (float): Pearson correlation of the matched scores;
          NaN with fewer than 3 pairs or when either side is constant;
        - ``mean_abs_diff`` (float): mean absolute score difference;
        - ``sign_agreement`` (float): share of matched pairs whose scores have
          the same sign (both >= 0 or both < 0).

    Raises
    ------
    analysis.errors.InputError
        Missing columns, no rows in the reference language, several
        documents in one language, or several models in the table.
    """
    check_columns(stance, ("para_id", "actor", value), "stance table")
    df = stance.copy()
    if lang not in df.columns:
        if paragraphs is None:
            raise InputError(
                f"stance table has no {lang!r} column; pass paragraphs= (doc_id, para_id, {lang})"
            )
        check_columns(paragraphs, ["doc_id", "para_id", lang], "paragraphs table")
        check_columns(df, ["doc_id"], "stance table")
        meta = paragraphs[["doc_id", "para_id", lang]].drop_duplicates(subset=["doc_id", "para_id"])
        df = df.merge(meta, on=["doc_id", "para_id"], how="left", validate="many_to_one")
    if "model" in df.columns and df["model"].nunique() > 1:
        raise InputError("stance table mixes several models; compare one model at a time")
    if "doc_id" in df.columns:
        docs = df.groupby(lang)["doc_id"].nunique()
        several = docs[docs > 1]
        if len(several):
            raise InputError(
                "language_consistency needs one article per language; "
                f"several documents in: {', '.join(map(str, several.index))}"
            )
    df[value] = pd.to_numeric(df[value], errors="coerce")
    if df.duplicated([lang, "para_id", "actor"]).any():
        raise InputError("stance table has several rows for the same language, paragraph and actor")
    ref = df[df[lang] == reference_lang].set_index(["para_id", "actor"])[value]
    if ref.empty:
        raise InputError(
            f"no stance rows in the reference language {reference_lang!r}; "
            f"languages present: {', '.join(sorted(map(str, df[lang].dropna().unique()))) or 'none'}"
        )
    rows = []
    for lg in sorted((x for x in df[lang].dropna().unique() if x != reference_lang), key=str):
        other = df[df[lang] == lg].set_index(["para_id", "actor"])[value]
        both = pd.concat([ref.rename("ref"), other.rename("other")], axis=1, join="inner").dropna()
        a = both["ref"].to_numpy(dtype=float)
        b = both["other"].to_numpy(dtype=float)
        n = len(both)
        if n >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
            r = float(np.corrcoef(a, b)[0, 1])
        else:
            r = float("nan")
        rows.append(
            {
                lang: lg,
                "n_pairs": n,
                "n_only_reference": int(len(ref.index.difference(other.index))),
                "n_only_lang": int(len(other.index.difference(ref.index))),
                "pearson_r": r,
                "mean_abs_diff": float(np.mean(np.abs(a - b))) if n else float("nan"),
                "sign_agreement": float(np.mean((a >= 0) == (b >= 0))) if n else float("nan"),
            }
        )
    cols = [lang, "n_pairs", "n_only_reference", "n_only_lang", "pearson_r", "mean_abs_diff",
            "sign_agreement"]
    return pd.DataFrame(rows, columns=cols)
