"""Annotation sheets: a stratified, seeded sample of paragraph × actor pairs for human coders.

A sheet is the first step of validating the model on one's own corpus: draw a
sample of the pairs the model scores, let coders fill in the stance, then
compare (:mod:`analysis.agreement`). The sample is

* **stratified** by any columns of the pairs (default ``lang`` and ``actor``):
  with ``allocation="equal"`` every stratum gets the same number of pairs (all
  of a stratum's pairs when it has fewer, the rest shared among the others), so
  each language and actor can be judged with comparable precision;
  ``"proportional"`` mirrors the corpus instead;
* **seeded**: each stratum draws from its own generator, seeded from
  ``random_state`` and the stratum's values (as :mod:`analysis.aggregate`
  seeds its bootstrap), so the same corpus and seed always give the same sheet
  and a stratum's pairs do not change when another stratum changes;
* **blind**: the sheet holds no model output, only the text.

Sheet columns (:data:`SHEET_COLUMNS`): ``item_id`` (1..n, the sheet's random
order), ``doc_id``, ``para_id``, ``actor``, the stratification columns and
``lang``, ``text`` (the paragraph, or only the sentences that mention the
actor, each mention of the actor marked ``[[like this]]``), and the empty
columns coders fill: ``stance`` (-1 against, 0 neutral, 1 favor), ``coder``
(their name or initials) and ``note``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate import group_seed
from .errors import InputError
from .io import TABLE_SUFFIXES, atomic_path, atomic_write_table
from .schema import check_columns

__all__ = [
    "HIGHLIGHT",
    "KEY_COLUMNS",
    "SHEET_COLUMNS",
    "SHEET_SUFFIXES",
    "annotation_sheet",
    "merge_many_to_one",
    "write_annotation_sheet",
]

#: Columns identifying a paragraph × actor pair (an item) in sheets and score tables.
KEY_COLUMNS: tuple[str, str, str] = ("doc_id", "para_id", "actor")
#: Columns of an annotation sheet; stratification and metadata columns follow ``actor``.
SHEET_COLUMNS: tuple[str, ...] = ("item_id", *KEY_COLUMNS, "text", "stance", "coder", "note")
#: Marks put around each mention of the pair's actor in the ``text`` column.
HIGHLIGHT: tuple[str, str] = ("[[", "]]")
#: Formats an annotation sheet can be written in (and read back from).
SHEET_SUFFIXES: tuple[str, ...] = (*TABLE_SUFFIXES, ".xlsx")

_TEXT_KINDS = ("paragraph", "sentences")
_ALLOCATIONS = ("equal", "proportional")
# between two sentences of one paragraph in a "sentences" text
_SENTENCE_GAP = " … "

_INSTRUCTIONS = (
    "How to code this sheet",
    "",
    "Each row is one paragraph (or its sentences) and one actor; the actor's mentions are marked [[like this]].",
    "In the 'stance' column, say how the text portrays that actor:",
    "  -1  against: the actor is portrayed unfavourably (criticised, accused, shown failing or threatening)",
    "   0  neutral: factual, balanced or no evaluation of the actor",
    "   1  favor: the actor is portrayed favourably (praised, shown succeeding or helping)",
    "Judge how the text portrays the actor, not your own view of the actor. Quoted praise or criticism counts.",
    "Leave 'stance' blank when you cannot decide: blank rows are skipped (and counted) in the validation.",
    "Write your name or initials in 'coder' on every row you code; use 'note' for remarks",
    "(e.g. when the marked words do not refer to the actor).",
    "Do not change doc_id, para_id or actor: they link your codes to the model's scores.",
)


def annotation_sheet(
    paragraphs: pd.DataFrame,
    mentions: pd.DataFrame,
    *,
    n: int = 200,
    by: str | Sequence[str] | None = ("lang", "actor"),
    text: str = "paragraph",
    allocation: str = "equal",
    random_state: int = 0,
) -> pd.DataFrame:
    """A stratified random sample of the paragraph × actor pairs, as an empty annotation sheet.

    Parameters
    ----------
    paragraphs : pandas.DataFrame
        Paragraph table (:func:`analysis.read_articles`): ``doc_id``,
        ``para_id``, ``text``, and ``lang`` / metadata columns to stratify by.
    mentions : pandas.DataFrame
        Mentions table (:func:`analysis.find_mentions`): ``doc_id``,
        ``para_id``, ``actor``, ``start``, ``end``, ``sentence_id``,
        ``sentence``, ``sentence_start``. Every paragraph × actor pair with a
        mention can be drawn (the pairs the model scores).
    n : int, default 200
        Pairs to draw; all pairs when the corpus has fewer.
    by : str, sequence of str or None, default ("lang", "actor")
        Stratification columns: ``actor``, ``doc_id`` or any paragraph column
        (``lang``, ``outlet``...). ``None`` or ``()``: a simple random sample.
    text : {"paragraph", "sentences"}, default "paragraph"
        What the ``text`` column shows: the whole paragraph, or only the
        sentences mentioning the actor (what the embedded model reads), joined
        by " … ". Either way each mention of the actor is marked ``[[...]]``.
    allocation : {"equal", "proportional"}, default "equal"
        How ``n`` is shared among strata (see the module docstring).
    random_state : int, default 0
        Seed; the same inputs and seed give the same sheet.

    Returns
    -------
    pandas.DataFrame
        One row per drawn pair, in random order, columns ``item_id`` (1..n),
        ``doc_id``, ``para_id``, ``actor``, the ``by`` columns and ``lang``
        (when the paragraphs have it), ``text``, and the empty ``stance``,
        ``coder``, ``note``.

    Raises
    ------
    analysis.errors.InputError
        A missing column, a ``by`` column in neither table, no mention at all,
        mentions of paragraphs not in ``paragraphs``, or an invalid ``n``,
        ``text`` or ``allocation`` (the message lists the valid options).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive whole number of pairs, got {n!r}")
    if text not in _TEXT_KINDS:
        raise InputError(f"text must be one of {', '.join(_TEXT_KINDS)}; got {text!r}")
    if allocation not in _ALLOCATIONS:
        raise InputError(f"allocation must be one of {', '.join(_ALLOCATIONS)}; got {allocation!r}")
    check_columns(paragraphs, ("doc_id", "para_id", "text"), "paragraphs table")
    check_columns(mentions, (*KEY_COLUMNS, "start", "end", "sentence_id", "sentence", "sentence_start"),
                  "mentions table")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    unknown = [c for c in by_cols if c not in KEY_COLUMNS and c not in paragraphs.columns]
    if unknown:
        raise InputError(
            f"cannot stratify by {', '.join(unknown)}: not a column of the pairs; "
            f"valid options: actor, doc_id, {', '.join(c for c in paragraphs.columns if c not in KEY_COLUMNS)}"
        )
    if mentions.empty:
        raise InputError("no actor is mentioned in the inputs: there is no paragraph × actor pair to sample")
    pairs = _pairs(paragraphs, mentions, by_cols)
    drawn = _draw(pairs, by_cols, n, allocation, random_state)
    order = np.random.default_rng(group_seed(random_state, ("sheet order",))).permutation(len(drawn))
    drawn = drawn.iloc[order].reset_index(drop=True)
    keys = list(zip(*(drawn[c] for c in KEY_COLUMNS)))
    paragraph_text = dict(zip(keys, drawn["text"]))
    spans = mentions.astype({"doc_id": str, "para_id": np.int64}).merge(drawn[list(KEY_COLUMNS)], on=list(KEY_COLUMNS))
    texts = {key: _marked_text(paragraph_text[key], part, text)
             for key, part in spans.groupby(list(KEY_COLUMNS), sort=False)}
    meta = [c for c in dict.fromkeys([*by_cols, *(["lang"] if "lang" in pairs.columns else [])])
            if c not in KEY_COLUMNS]
    sheet = drawn[list(KEY_COLUMNS) + meta].copy()
    sheet.insert(0, "item_id", np.arange(1, len(sheet) + 1, dtype=np.int64))
    sheet["text"] = [texts[key] for key in keys]
    for col in ("stance", "coder", "note"):
        sheet[col] = pd.Series([None] * len(sheet), dtype=object)
    return sheet


def _pairs(paragraphs: pd.DataFrame, mentions: pd.DataFrame, by_cols: list[str]) -> pd.DataFrame:
    """The distinct paragraph × actor pairs with their paragraph's text and the stratification columns."""
    keys = mentions[list(KEY_COLUMNS)].drop_duplicates()
    keys = keys.astype({"doc_id": str, "para_id": np.int64})
    extra = [c for c in dict.fromkeys([*by_cols, "lang"]) if c in paragraphs.columns and c not in KEY_COLUMNS]
    para = paragraphs[["doc_id", "para_id", "text", *extra]].astype({"doc_id": str, "para_id": np.int64})
    pairs, lost = merge_many_to_one(keys, para, ["doc_id", "para_id"])
    if len(lost):
        first = lost.iloc[0]
        raise InputError(
            f"mentions table refers to {len(lost)} paragraph(s) not in the paragraphs table "
            f"(first: doc_id {first['doc_id']!r}, para_id {first['para_id']})"
        )
    return pairs.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


def merge_many_to_one(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``left`` with the columns of the one row of ``right`` it matches on ``on``, and the rows matching none.

    Returns
    -------
    (merged, unmatched) : tuple of DataFrame
        ``merged`` has every row of ``left`` (in order; missing values where
        ``right`` has no match); ``unmatched`` holds those rows of ``merged``.
    """
    merged = left.merge(right, on=on, how="left", validate="many_to_one", indicator=True)
    unmatched = merged["_merge"] == "left_only"
    merged = merged.drop(columns="_merge")
    return merged, merged[unmatched]


def _draw(pairs: pd.DataFrame, by_cols: list[str], n: int, allocation: str, random_state: int) -> pd.DataFrame:
    """``n`` pairs drawn without replacement within strata (all pairs when there are no more)."""
    strata = [((), pairs)] if not by_cols else list(pairs.groupby(by_cols, sort=True, dropna=False))
    sizes = np.array([len(part) for _, part in strata])
    takes = _allocate(sizes, n, allocation, random_state)
    drawn = []
    for (key, part), take in zip(strata, takes):
        key = key if isinstance(key, tuple) else (key,)
        rng = np.random.default_rng(group_seed(random_state, key))
        drawn.append(part.iloc[np.sort(rng.choice(len(part), size=int(take), replace=False))])
    return pd.concat(drawn, ignore_index=True)


def _allocate(sizes: np.ndarray, n: int, allocation: str, random_state: int) -> np.ndarray:
    """How many pairs each stratum gives (at most its size; ``min(n, sizes.sum())`` in all)."""
    total = int(sizes.sum())
    if n >= total:
        return sizes.copy()
    if allocation == "proportional":
        exact = n * sizes / total
        takes = np.floor(exact).astype(int)
        remainder = exact - takes
    else:  # equal: strata smaller than their share are taken whole, the others share what is left
        left, open_strata = n, len(sizes)
        for i in np.argsort(sizes, kind="stable"):
            if sizes[i] * open_strata > left:
                break
            left -= sizes[i]
            open_strata -= 1
        takes = np.minimum(sizes, left // open_strata)
        remainder = (takes < sizes).astype(float)
    # the last few pairs go to strata with room, largest remainder first, ties in seeded random order
    tiebreak = np.random.default_rng(group_seed(random_state, ("allocation",))).random(len(sizes))
    for i in np.lexsort((tiebreak, -remainder))[: n - int(takes.sum())]:
        takes[i] += 1
    return takes


def _marked_text(paragraph: str, mentions: pd.DataFrame, kind: str) -> str:
    """The paragraph (or the sentences holding ``mentions``) with each mention marked ``[[...]]``."""
    spans = _merged(zip(mentions["start"].astype(int), mentions["end"].astype(int)))
    if kind == "paragraph":
        return _mark(paragraph, spans)
    pieces = []
    for (sentence, offset), _ in mentions.groupby(["sentence", "sentence_start"], sort=False):
        offset = int(offset)
        inside = [(max(s, offset) - offset, min(e, offset + len(sentence)) - offset)
                  for s, e in spans if s < offset + len(sentence) and e > offset]
        pieces.append((offset, _mark(sentence, inside)))
    return _SENTENCE_GAP.join(piece for _, piece in sorted(pieces))


def _merged(spans) -> list[tuple[int, int]]:
    """Sorted spans with overlapping or touching ones joined."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def _mark(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of the (sorted, disjoint) ``spans`` wrapped in :data:`HIGHLIGHT`."""
    open_, close = HIGHLIGHT
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], open_, text[start:end], close]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def write_annotation_sheet(
    sheet: pd.DataFrame, path: str | os.PathLike[str], *, xlsx: bool = True
) -> list[Path]:
    """Write an annotation sheet; with ``xlsx`` also a spreadsheet copy beside it.

    The ``.xlsx`` version has the instructions on a second tab, and its
    ``stance`` column accepts only -1, 0, 1 or blank (a drop-down list, through
    Excel / LibreOffice data validation); mentions are marked ``[[...]]`` and
    shown in bold. Each file is written to a temporary file and renamed into
    place; the copy is written first, so a failure leaves neither file.

    Parameters
    ----------
    sheet : pandas.DataFrame
        An annotation sheet (:func:`annotation_sheet`).
    path : path
        ``.csv``, ``.jsonl``, ``.parquet`` or ``.xlsx``.
    xlsx : bool, default True
        Also write ``<path without suffix>.xlsx`` (nothing more when ``path``
        is already ``.xlsx``).

    Returns
    -------
    list of pathlib.Path
        The files written: ``path``, then the ``.xlsx`` copy.

    Raises
    ------
    analysis.errors.InputError
        An unknown suffix, a missing column, or a folder that cannot be written to.
    """
    check_columns(sheet, SHEET_COLUMNS, "annotation sheet")
    path = Path(path)
    if path.suffix.lower() not in SHEET_SUFFIXES:
        raise InputError(f"{path}: unknown sheet format {path.suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SHEET_SUFFIXES)}")
    if path.suffix.lower() == ".xlsx":
        with atomic_path(path) as tmp:
            _write_xlsx(sheet, tmp)
        return [path]
    if not xlsx:
        atomic_write_table(sheet, path)
        return [path]
    copy = path.with_suffix(".xlsx")
    with atomic_path(copy) as tmp:  # the copy is renamed into place only once the table is written
        _write_xlsx(sheet, tmp)
        atomic_write_table(sheet, path)
    return [path, copy]


def _write_xlsx(sheet: pd.DataFrame, tmp: Path) -> None:
    """The sheet as a workbook: an "annotation" tab with a validated stance column, and the instructions."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    ws = book.active
    ws.title = "annotation"
    columns = list(sheet.columns)
    ws.append(columns)
    for record in sheet.itertuples(index=False):
        row = []
        for col, value in zip(columns, record):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                row.append(None)
            elif isinstance(value, (np.integer, int)) and not isinstance(value, bool):
                row.append(int(value))
            elif col == "text":
                row.append(_bold_marks(ILLEGAL_CHARACTERS_RE.sub("", str(value))))
            else:
                row.append(ILLEGAL_CHARACTERS_RE.sub("", str(value)))
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if cell.data_type == "f":  # text starting with "=" is text, not a formula
                cell.data_type = "s"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = {"text": 100, "note": 30, "coder": 12, "actor": 12}
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = widths.get(col, 10)
        if col == "text":
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    stance_col = get_column_letter(columns.index("stance") + 1)
    check = DataValidation(
        type="list", formula1='"-1,0,1"', allow_blank=True, showErrorMessage=True, showInputMessage=True,
        errorTitle="stance", error="Enter -1 (against), 0 (neutral) or 1 (favor), or leave the cell blank.",
        promptTitle="stance", prompt="-1 against, 0 neutral, 1 favor; blank = cannot decide",
    )
    check.add(f"{stance_col}2:{stance_col}{max(2, len(sheet) + 1)}")
    ws.add_data_validation(check)
    ws.freeze_panes = "A2"
    notes = book.create_sheet("instructions")
    for line in _INSTRUCTIONS:
        notes.append([line])
    notes["A1"].font = Font(bold=True)
    notes.column_dimensions["A"].width = 110
    book.save(tmp)


def _bold_marks(text: str):
    """``text`` as rich text with each ``[[...]]`` in bold (a plain ``str`` when it has none)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    open_, close = HIGHLIGHT
    bold = InlineFont(b=True)
    parts: list = []
    rest = text
    while open_ in rest and close in rest[rest.index(open_):]:
        start = rest.index(open_)
        end = rest.index(close, start) + len(close)
        parts += [rest[:start], TextBlock(bold, rest[start:end])]
        rest = rest[end:]
    if not parts:
        return text
    return CellRichText([p for p in [*parts, rest] if not isinstance(p, str) or p])
