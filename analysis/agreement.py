"""Agreement of the model with human coders: filled annotation sheets in, statistics with bootstrap CIs out.

Workflow: :func:`read_annotations` reads the sheets coders filled (one or more
files, one or more coders; sheets from :mod:`analysis.sampling`),
:func:`validate_against_coders` matches every coded paragraph × actor pair with
the model's label in a stance table and computes, overall and per group
(language, actor...), the statistics of :func:`agreement_table`.

Measures
--------
*Model vs coders.* Every coding (one coder's label of one pair) is compared
with the model's label of that pair; a pair coded by three coders counts three
times.

- ``accuracy``: share of codings where the model's label equals the coder's;
- ``macro_f1``: the mean over labels of the F1 score (the coders' labels as
  truth), over the labels that occur in the group (as scikit-learn's default),
  so the rarer "favor" counts as much as the frequent "neutral";
- ``alpha``: Krippendorff's alpha (the ``krippendorff`` package) with each
  coding as a unit judged by two "coders", the human and the model: 1 is
  perfect agreement, 0 agreement at chance level, below 0 systematic
  disagreement.

*Coder vs coder*, on the pairs coded by at least two coders (the ceiling a
model can be expected to reach): ``alpha`` over all their codes, and
``percent_agreement``, the share of pairs of coders that agree on a pair.

Confidence intervals are percentile bootstrap intervals
(:func:`scipy.stats.bootstrap`) that resample **pairs**, with all their
codings, so the several codes of one pair are never treated as independent.
Each group draws from its own generator, seeded from ``random_state`` and the
group (as :mod:`analysis.aggregate` seeds its bootstrap), so a group's interval
does not depend on the other groups. With one pair, the interval is the
estimate itself (zero width); resamples in which alpha is undefined (every
label the same) are left out of its interval. Each resample calls
``krippendorff.alpha``, hence 1,000 resamples by default (enough for a
percentile interval; more only move its bounds in the second decimal).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate import group_seed
from .errors import InputError
from .io import read_table
from .sampling import KEY_COLUMNS, SHEET_SUFFIXES, merge_many_to_one
from .schema import STANCE_LABELS, STANCE_PROBA, check_columns, table_labels

__all__ = [
    "AGREEMENT_COLUMNS",
    "CODE_COLUMNS",
    "LEVELS",
    "Validation",
    "agreement_table",
    "read_annotations",
    "validate_against_coders",
]

#: Columns of the codes table (:func:`read_annotations`); the sheets' other columns follow.
CODE_COLUMNS: tuple[str, ...] = ("sheet", "row", *KEY_COLUMNS, "coder", "stance", "label")
#: Columns of the tidy agreement table (:func:`agreement_table`).
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "comparison", "group_by", "group", "metric", "estimate", "ci_low", "ci_high",
    "n_items", "n_codings", "n_coders",
)
#: Krippendorff's levels of measurement for alpha (stance -1 < 0 < 1 can be read as ordinal).
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
#: The two comparisons of the agreement table.
MODEL_VS_CODERS, CODER_VS_CODER = "model vs coders", "coder vs coder"

_N_LABELS = len(STANCE_LABELS)
# value counts of a coding judged by the coder (row // 3) and the model (row % 3): one unit, two values
_CODING_UNITS = np.array([np.eye(_N_LABELS, dtype=int)[h] + np.eye(_N_LABELS, dtype=int)[m]
                          for h in range(_N_LABELS) for m in range(_N_LABELS)])
_STANCE_HELP = ("use -1 (against), 0 (neutral), 1 (favor) or the words against / neutral / favor, "
                "or leave the cell blank to skip the row")


@dataclass(frozen=True)
class Validation:
    """The result of :func:`validate_against_coders`.

    Attributes
    ----------
    agreement : pandas.DataFrame
        The tidy table of :func:`agreement_table`.
    codings : pandas.DataFrame
        One row per coding matched with the model: ``doc_id``, ``para_id``,
        ``actor``, ``coder``, ``coder_label``, ``model_label``, ``score`` (when
        the scores have it), the grouping columns, ``sheet`` and ``row``.
    sheets : pandas.DataFrame
        One row per sheet: ``sheet``, ``n_rows``, ``n_coded``, ``n_blank``
        (rows with a blank stance, skipped).
    model : str or None
        The ``model`` of the scores table, when it has one.
    by : tuple of str
        The grouping columns.
    level : str
        Level of measurement of alpha.
    confidence_level : float
    n_resamples : int
    """

    agreement: pd.DataFrame
    codings: pd.DataFrame
    sheets: pd.DataFrame
    model: str | None
    by: tuple[str, ...]
    level: str
    confidence_level: float
    n_resamples: int


# --------------------------------------------------------------------------- reading sheets
def read_annotations(
    sources: str | os.PathLike[str] | pd.DataFrame | Iterable[str | os.PathLike[str] | pd.DataFrame]
    | Mapping[str, pd.DataFrame],
) -> pd.DataFrame:
    """Read filled annotation sheets into one codes table.

    Parameters
    ----------
    sources : path, DataFrame, a list of them, or a mapping of names to DataFrames
        Sheets (``.csv``, ``.jsonl``, ``.parquet`` or ``.xlsx``, first tab)
        with at least ``doc_id``, ``para_id``, ``actor``, ``stance`` (-1, 0, 1,
        ``+1``, the words against / neutral / favor in any case, or blank) and
        ``coder``. Several sheets may come from several coders, or split one
        coder's work. A DataFrame is named by its key in a mapping, else
        "table <i>" (its position), in messages and in the ``sheet`` column.

    Returns
    -------
    pandas.DataFrame
        One row per sheet row: ``sheet`` (the file as given), ``row`` (its row
        number as a spreadsheet shows it, header = row 1; the line for JSONL),
        ``doc_id`` (str), ``para_id`` (int), ``actor``, ``coder`` (str, None
        where the stance is blank), ``stance`` (Int64 -1/0/1, <NA> = blank:
        skipped in the validation and counted), ``label`` (against / neutral /
        favor, None where blank), then the sheets' other columns but ``text``
        and ``note`` (e.g. ``lang``).

    Raises
    ------
    analysis.errors.InputError
        A missing or unreadable file, a missing column (coder included), an
        unknown stance, a coded row without coder, a ``para_id`` that is not a
        whole number, or one coder coding one pair twice. Messages name the
        file and the row(s).
    """
    if isinstance(sources, (str, os.PathLike, pd.DataFrame)):
        sources = [sources]
    named = list(sources.items()) if isinstance(sources, Mapping) else [
        (f"table {i}" if isinstance(source, pd.DataFrame) else os.fspath(source), source)
        for i, source in enumerate(sources, start=1)
    ]
    if not named:
        raise InputError("no annotation sheet given")
    tables = [_codes(*_load_sheet(name, source)) for name, source in named]
    codes = pd.concat(tables, ignore_index=True)
    coded = codes[codes["stance"].notna()]
    twice = coded[coded.duplicated([*KEY_COLUMNS, "coder"], keep=False)]
    if len(twice):
        first = twice.iloc[0]
        same = twice[(twice[list(KEY_COLUMNS)] == first[list(KEY_COLUMNS)]).all(axis=1)
                     & (twice["coder"] == first["coder"])]
        where = " and ".join(f"{r.sheet}, {_row_word(r.sheet)} {r.row}" for r in same.itertuples())
        raise InputError(
            f"coder {first['coder']!r} coded the pair (doc_id {first['doc_id']!r}, para_id {first['para_id']}, "
            f"actor {first['actor']!r}) more than once: {where}; keep one code per coder and pair"
        )
    return codes


def _load_sheet(name: str, source) -> tuple[pd.DataFrame, str, int]:
    """``(table, name, number of the first data row)`` of one sheet."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), str(name), 1
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise InputError(f"{source}: unknown sheet format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SHEET_SUFFIXES)}")
    if suffix == ".xlsx":
        if not path.is_file():
            raise InputError(f"{source}: no such file" if not path.exists() else f"{source}: is a folder, expected a file")
        try:
            table = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
        except Exception as exc:  # openpyxl and zipfile raise several unrelated types
            raise InputError(f"{source}: cannot read as an Excel workbook ({exc})") from exc
        return table, name, 2
    return read_table(path, dtype_str=True), name, 2 if suffix == ".csv" else 1


def _codes(table: pd.DataFrame, name: str, first_row: int) -> pd.DataFrame:
    """The codes of one sheet (see :func:`read_annotations`), every row checked."""
    check_columns(table, (*KEY_COLUMNS, "stance", "coder"), name)
    rows = np.arange(len(table)) + first_row
    where = _row_word(name)
    stance, bad_stance = [], []
    for value, row in zip(table["stance"], rows):
        code = _stance_code(value)
        if code == "bad":
            bad_stance.append((row, value))
            code = None
        stance.append(code)
    if bad_stance:
        row, value = bad_stance[0]
        raise InputError(f"{name}, {where} {row}: unknown stance {value!r}; {_STANCE_HELP}"
                         + _more(bad_stance, where))
    coded = np.array([code is not None for code in stance], dtype=bool)
    coder = [None if _blank(v) else str(v).strip() for v in table["coder"]]
    no_coder = [(row, None) for row, c, is_coded in zip(rows, coder, coded) if is_coded and not c]
    if no_coder:
        raise InputError(f"{name}, {where} {no_coder[0][0]}: a stance without a coder; write the coder's name "
                         "or initials in the 'coder' column of every coded row" + _more(no_coder, where))
    para_id = [_whole_number(v) for v in table["para_id"]]
    bad_para = [(row, v) for row, p, v, is_coded in zip(rows, para_id, table["para_id"], coded)
                if is_coded and p is None]
    if bad_para:
        raise InputError(f"{name}, {where} {bad_para[0][0]}: para_id {bad_para[0][1]!r} is not a whole number"
                         + _more(bad_para, where))
    missing_key = [(row, None) for row, d, a, is_coded in zip(rows, table["doc_id"], table["actor"], coded)
                   if is_coded and (_blank(d) or _blank(a))]
    if missing_key:
        raise InputError(f"{name}, {where} {missing_key[0][0]}: a coded row without doc_id or actor"
                         + _more(missing_key, where))
    codes = pd.DataFrame({
        "sheet": name,
        "row": rows.astype(np.int64),
        "doc_id": [None if _blank(v) else str(v) for v in table["doc_id"]],
        "para_id": pd.array(para_id, dtype="Int64"),
        "actor": [None if _blank(v) else str(v) for v in table["actor"]],
        "coder": [c if is_coded else None for c, is_coded in zip(coder, coded)],
        "stance": pd.array(stance, dtype="Int64"),
        "label": [None if s is None else STANCE_LABELS[s + 1] for s in stance],
    })
    other = [c for c in table.columns if c not in (*CODE_COLUMNS, "text", "note", "item_id")]
    return pd.concat([codes, table[other].reset_index(drop=True)], axis=1)


def _row_word(sheet: str) -> str:
    """How a sheet's rows are numbered in messages: lines of a JSONL file, rows otherwise."""
    return "line" if sheet.lower().endswith(".jsonl") else "row"


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip()


def _stance_code(value) -> int | None | str:
    """-1, 0 or 1; None for a blank cell; ``"bad"`` for anything else."""
    if _blank(value):
        return None
    text = str(value).strip().lower()
    if text in STANCE_LABELS:
        return STANCE_LABELS.index(text) - 1
    try:
        number = float(text)
    except ValueError:
        return "bad"
    return int(number) if number in (-1.0, 0.0, 1.0) else "bad"


def _whole_number(value) -> int | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if np.isfinite(number) and number == int(number) else None


def _more(found: list, where: str) -> str:
    """" (3 more rows like this: 7, 9, 12)" for the problems after the first one."""
    rest = [str(row) for row, _ in found[1:]]
    if not rest:
        return ""
    shown = ", ".join(rest[:8]) + (", …" if len(rest) > 8 else "")
    return f" ({len(rest)} more {where}s like this: {shown})"


# --------------------------------------------------------------------------- matching
def validate_against_coders(
    codes: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = ("lang", "actor"),
    level: str = "nominal",
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    random_state: int | None = 0,
    scores_name: str = "scores table",
) -> Validation:
    """Compare the model's labels with the coders', overall and per group.

    Parameters
    ----------
    codes : pandas.DataFrame
        Codes table (:func:`read_annotations`). Rows with a blank stance are
        skipped and counted per sheet.
    scores : pandas.DataFrame
        Stance table of the model (:func:`analysis.score_stance`, or the file
        ``analysis score`` writes): ``doc_id``, ``para_id``, ``actor`` and
        ``label`` (or ``p_against, p_neutral, p_favor``, labelled by the rule
        of :mod:`analysis.schema`); one model only.
    by : str, sequence of str or None, default ("lang", "actor")
        Grouping columns, taken from the sheets or else from the scores (e.g.
        ``lang``, ``actor``, ``coder``, ``outlet``).
    level : {"nominal", "ordinal", "interval"}, default "nominal"
        Level of measurement of Krippendorff's alpha.
    confidence_level : float, default 0.95
    n_resamples : int, default 1000
        Bootstrap resamples per group.
    random_state : int or None, default 0
        Seed; results are deterministic for a fixed seed.
    scores_name : str
        How messages name the scores (e.g. its file).

    Returns
    -------
    Validation

    Raises
    ------
    analysis.errors.InputError
        Missing columns, no coded row, a coded pair the scores do not hold
        (message: sheet, row and pair), several scores for one pair, several
        models, a label outside against / neutral / favor, or a ``by`` column
        found in neither table.
    """
    check_columns(codes, CODE_COLUMNS, "codes table")
    check_columns(scores, KEY_COLUMNS, scores_name)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    sheets = (codes.assign(_coded=codes["stance"].notna())
              .groupby("sheet", sort=False)["_coded"].agg(n_rows="size", n_coded="sum").reset_index())
    sheets["n_blank"] = sheets["n_rows"] - sheets["n_coded"]
    coded = codes[codes["stance"].notna()]
    if coded.empty:
        raise InputError(f"no coded row in {', '.join(sheets['sheet'])}: every stance cell is blank")
    model_rows, model = _model_labels(scores, scores_name)
    unknown = [c for c in by_cols if c not in coded.columns and c not in model_rows.columns]
    if unknown:
        raise InputError(
            f"cannot group by {', '.join(unknown)}: a column of neither the sheets nor {scores_name}; "
            f"sheet columns: {', '.join(map(str, coded.columns))}"
        )
    left = coded.astype({"doc_id": str, "para_id": np.int64})
    from_scores = [c for c in model_rows.columns if c not in left.columns or c in KEY_COLUMNS]
    matched, lost = merge_many_to_one(left, model_rows[from_scores], list(KEY_COLUMNS))
    if len(lost):
        first = lost.iloc[0]
        raise InputError(
            f"{first['sheet']}, {_row_word(first['sheet'])} {first['row']}: the pair (doc_id {first['doc_id']!r}, para_id "
            f"{first['para_id']}, actor {first['actor']!r}) is not in {scores_name}: the model did not score "
            "it (the scores come from other articles, or the actor is not mentioned there)"
            + (f"; {len(lost) - 1} more coded row(s) like this" if len(lost) > 1 else "")
        )
    keep = [*KEY_COLUMNS, "coder", "coder_label", "model_label",
            *(["score"] if "score" in matched.columns else []),
            *[c for c in dict.fromkeys(by_cols) if c not in (*KEY_COLUMNS, "coder")], "sheet", "row"]
    codings = matched.rename(columns={"label": "coder_label"})[keep].reset_index(drop=True)
    agreement = agreement_table(codings, by=by_cols, level=level, confidence_level=confidence_level,
                                n_resamples=n_resamples, random_state=random_state)
    return Validation(agreement=agreement, codings=codings, sheets=sheets, model=model, by=tuple(by_cols),
                      level=level, confidence_level=confidence_level, n_resamples=n_resamples)


def _model_labels(scores: pd.DataFrame, name: str) -> tuple[pd.DataFrame, str | None]:
    """The scores' rows with ``model_label``, checked: one model, one row per pair, known labels."""
    table = scores.copy()
    for col in STANCE_PROBA:
        if col in table.columns and "label" not in table.columns:
            table[col] = pd.to_numeric(table[col], errors="coerce")
    table["model_label"] = table_labels(table).to_numpy()
    bad = ~table["model_label"].isin(STANCE_LABELS)
    if bad.any():
        raise InputError(f"{name}: label {table.loc[bad, 'model_label'].iloc[0]!r} is not one of "
                         f"{', '.join(STANCE_LABELS)}")
    models = table["model"].dropna().unique() if "model" in table.columns else []
    if len(models) > 1:
        raise InputError(f"{name} mixes {len(models)} models ({', '.join(map(str, models))}); "
                         "validate one model at a time")
    table = table.drop(columns=["label", "model"], errors="ignore")
    para_id = [_whole_number(v) for v in table["para_id"]]
    if None in para_id:
        row = para_id.index(None)
        raise InputError(f"{name}: para_id {table['para_id'].iloc[row]!r} (data row {row + 1}) is not a whole number")
    table = table.assign(para_id=np.array(para_id, dtype=np.int64)).astype({"doc_id": str})
    if "score" in table.columns:
        table["score"] = pd.to_numeric(table["score"], errors="coerce")
    twice = table[table.duplicated(list(KEY_COLUMNS))]
    if len(twice):
        first = twice.iloc[0]
        raise InputError(f"{name} has several rows for the pair (doc_id {first['doc_id']!r}, para_id "
                         f"{first['para_id']}, actor {first['actor']!r})")
    return table, (str(models[0]) if len(models) else None)


# --------------------------------------------------------------------------- statistics
def agreement_table(
    codings: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = ("lang", "actor"),
    level: str = "nominal",
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Agreement statistics with bootstrap confidence intervals, overall and per group.

    Parameters
    ----------
    codings : pandas.DataFrame
        One row per coding: ``doc_id``, ``para_id``, ``actor`` (the pair),
        ``coder``, ``coder_label`` and ``model_label`` (against / neutral /
        favor), and the ``by`` columns.
    by, level, confidence_level, n_resamples, random_state
        As in :func:`validate_against_coders`.

    Returns
    -------
    pandas.DataFrame
        Tidy, columns :data:`AGREEMENT_COLUMNS`: ``comparison`` ("model vs
        coders" or "coder vs coder"), ``group_by`` ("all" or the column) and
        ``group`` ("all" or the value, as text), ``metric`` (model vs coders:
        ``macro_f1``, ``accuracy``, ``alpha``; coder vs coder: ``alpha``,
        ``percent_agreement``), ``estimate``, ``ci_low``, ``ci_high``,
        ``n_items`` (pairs), ``n_codings``, ``n_coders``. Coder vs coder rows
        exist only for groups with pairs coded by two coders or more.
        ``estimate`` is NaN where undefined (alpha when every label is the same).

    Raises
    ------
    analysis.errors.InputError
        Missing columns, a label outside against / neutral / favor, an unknown
        ``level`` or a ``confidence_level`` outside (0, 1).
    """
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    check_columns(codings, [*KEY_COLUMNS, "coder", "coder_label", "model_label", *by_cols], "codings table")
    if level not in LEVELS:
        raise InputError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    if not 0 < confidence_level < 1:
        raise InputError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")
    for col in ("coder_label", "model_label"):
        bad = ~codings[col].isin(STANCE_LABELS)
        if bad.any():
            raise InputError(f"codings table: {col} {codings.loc[bad, col].iloc[0]!r} is not one of "
                             f"{', '.join(STANCE_LABELS)}")
    boot = dict(confidence_level=confidence_level, n_resamples=n_resamples, random_state=random_state)
    groups = [("all", "all", codings)] + [
        (col, str(value), part) for col in by_cols
        for value, part in codings.groupby(col, sort=True, dropna=False)
    ]
    rows = []
    for group_by, group, part in groups:
        rows += _model_rows(part, group_by, group, level, boot)
        rows += _coder_rows(part, group_by, group, level, boot)
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


def _label_index(labels: pd.Series) -> np.ndarray:
    return labels.map({label: i for i, label in enumerate(STANCE_LABELS)}).to_numpy(dtype=int)


def _model_rows(part: pd.DataFrame, group_by: str, group: str, level: str, boot: dict) -> list[dict]:
    """macro-F1, accuracy and alpha of the model against the codings of one group."""
    items = part.groupby(list(KEY_COLUMNS), sort=False).ngroup().to_numpy()
    cells = _label_index(part["coder_label"]) * _N_LABELS + _label_index(part["model_label"])
    per_item = np.zeros((items.max() + 1, _N_LABELS * _N_LABELS))
    np.add.at(per_item, (items, cells), 1)

    def statistic(sample):
        return _model_metrics(per_item[sample].sum(axis=0), level)

    common = dict(comparison=MODEL_VS_CODERS, group_by=group_by, group=group, n_items=len(per_item),
                  n_codings=len(part), n_coders=int(part["coder"].nunique()))
    estimates, lows, highs = _with_ci(statistic, len(per_item), (MODEL_VS_CODERS, group_by, group), **boot)
    return [dict(common, metric=metric, estimate=e, ci_low=lo, ci_high=hi)
            for metric, e, lo, hi in zip(("macro_f1", "accuracy", "alpha"), estimates, lows, highs)]


def _model_metrics(cells: np.ndarray, level: str) -> np.ndarray:
    """``[macro_f1, accuracy, alpha]`` from the 9 counts of (coder label, model label) cells."""
    confusion = cells.reshape(_N_LABELS, _N_LABELS)
    hits = np.diag(confusion)
    either = confusion.sum(axis=0) + confusion.sum(axis=1)  # 2 TP + FP + FN per label
    present = either > 0
    macro_f1 = float(np.mean(2 * hits[present] / either[present]))
    accuracy = float(hits.sum() / confusion.sum())
    units = np.repeat(_CODING_UNITS, cells.astype(int), axis=0)
    return np.array([macro_f1, accuracy, _alpha(units, level)])


def _coder_rows(part: pd.DataFrame, group_by: str, group: str, level: str, boot: dict) -> list[dict]:
    """Krippendorff's alpha and percent agreement among coders, on pairs coded by two or more."""
    counts = (part.assign(_label=_label_index(part["coder_label"]))
              .groupby([*KEY_COLUMNS, "_label"], sort=False).size().unstack("_label", fill_value=0)
              .reindex(columns=range(_N_LABELS), fill_value=0))
    counts = counts[counts.sum(axis=1) >= 2]
    if counts.empty:
        return []
    value_counts = counts.to_numpy()

    def statistic(sample):
        chosen = value_counts[sample]
        coded = chosen.sum(axis=1)
        agreeing = (chosen * (chosen - 1)).sum() / (coded * (coded - 1)).sum()
        return np.array([_alpha(chosen, level), agreeing])

    overlap = part.set_index(list(KEY_COLUMNS)).index.isin(counts.index)
    common = dict(comparison=CODER_VS_CODER, group_by=group_by, group=group, n_items=len(counts),
                  n_codings=int(value_counts.sum()), n_coders=int(part.loc[overlap, "coder"].nunique()))
    estimates, lows, highs = _with_ci(statistic, len(counts), (CODER_VS_CODER, group_by, group), **boot)
    return [dict(common, metric=metric, estimate=e, ci_low=lo, ci_high=hi)
            for metric, e, lo, hi in zip(("alpha", "percent_agreement"), estimates, lows, highs)]


def _alpha(value_counts: np.ndarray, level: str) -> float:
    """Krippendorff's alpha of a units × labels count matrix; NaN when fewer than two labels occur."""
    import krippendorff

    if np.count_nonzero(value_counts.sum(axis=0)) < 2:
        return float("nan")
    return float(krippendorff.alpha(value_counts=value_counts, value_domain=[-1, 0, 1],
                                    level_of_measurement=level))


def _with_ci(statistic, n_items: int, key: tuple, *, confidence_level: float, n_resamples: int,
             random_state: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates of ``statistic`` on all items and their percentile bootstrap bounds (items resampled)."""
    everything = np.arange(n_items)
    estimates = statistic(everything)
    if n_items < 2:
        return estimates, estimates.copy(), estimates.copy()
    from scipy import stats  # local import: keeps `import analysis.agreement` light

    with warnings.catch_warnings():  # a NaN bound (undefined alpha) is handled below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (everything,), statistic, vectorized=False, n_resamples=n_resamples,
            confidence_level=confidence_level, method="percentile",
            rng=np.random.default_rng(group_seed(random_state, key)),
        )
    lows = np.asarray(result.confidence_interval.low, dtype=float)
    highs = np.asarray(result.confidence_interval.high, dtype=float)
    undefined = np.isnan(lows) | np.isnan(highs)
    if undefined.any():  # leave out the resamples where a measure is undefined
        tail = (1 - confidence_level) / 2
        spread = result.bootstrap_distribution[undefined]
        defined = np.isfinite(spread).any(axis=-1) & np.isfinite(estimates[undefined])
        lows[undefined] = np.where(defined, _nanquantile(spread, tail), np.nan)
        highs[undefined] = np.where(defined, _nanquantile(spread, 1 - tail), np.nan)
    return estimates, lows, highs


def _nanquantile(values: np.ndarray, q: float) -> np.ndarray:
    """Quantile of each row over its finite values (NaN for a row without any)."""
    out = np.full(len(values), np.nan)
    for i, row in enumerate(values):
        finite = row[np.isfinite(row)]
        if finite.size:
            out[i] = np.quantile(finite, q)
    return out
