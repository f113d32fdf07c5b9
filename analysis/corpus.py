"""Reading news articles into the paragraph table.

Input kinds
-----------
Text article (any file that is not a table, usually ``.txt``)
    UTF-8 text. The first non-empty line is the title (``para_id`` 0). The
    remaining lines are split on blank lines into body paragraphs 1..N. If the
    last paragraph is a lone id token (no spaces, letters/digits joined by
    ``-``, ``_``, ``.`` or ``:``, with at least one digit, e.g. ``ttn-fr-56``)
    it is the ``doc_id`` and not a paragraph; otherwise the ``doc_id`` is the
    file stem.
Folder
    Every ``*.txt`` file below it (recursively, hidden files and folders
    skipped), in sorted path order, read as text articles.
Table (``.csv``, ``.jsonl``, ``.parquet``)
    One article per row with a ``text`` column. Optional ``doc_id`` (default
    ``<file stem>-<row number>``, 1-based), ``title`` (becomes ``para_id`` 0;
    without it the article has no title row), ``lang`` (used instead of
    detection when filled). The ``text`` is split on blank lines into
    paragraphs 1..N. Every other column is metadata, copied onto each of the
    row's paragraphs. Cells are taken as written (``NA`` or ``None`` stay
    text; only empty CSV cells and JSON ``null`` are missing). ``text``,
    ``title`` and ``lang`` cells must hold text, ``doc_id`` cells text or a
    whole number: lists, bytes and other values are refused.

An article (file or row) with nothing visible in it (only whitespace,
zero-width and other format characters) is refused as empty.

Text is normalised only in whitespace: UTF-8 BOM dropped, CRLF/CR to LF,
each line stripped at both ends. Everything else is kept byte for byte
(single line breaks inside a paragraph included).
"""

from __future__ import annotations

import numbers
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Union

import pandas as pd

from .errors import InputError
from .io import TABLE_SUFFIXES, read_table, read_text_file
from .schema import PARAGRAPHS, check_columns, conform
from .text import detect_language, split_paragraphs

__all__ = ["corpus_overview", "read_articles", "split_paragraphs", "detect_language"]

PathLike = Union[str, os.PathLike]

_ID_TOKEN = re.compile(r"(?=[^\s]*\d)[A-Za-z0-9](?:[A-Za-z0-9_.:-]*[A-Za-z0-9])?")
# table columns with a meaning of their own; any other column is metadata
_TABLE_FIELDS = ("text", "title", "doc_id", "lang")
# paragraph-table columns a table input may not bring itself
_RESERVED = frozenset(PARAGRAPHS).difference(_TABLE_FIELDS)
# Unicode categories that show nothing: format characters (zero-width space, BOM...) and spaces
_INVISIBLE = frozenset({"Cf", "Zs"})


def read_articles(paths: PathLike | Iterable[PathLike]) -> pd.DataFrame:
    """Read articles into one row per paragraph.

    Parameters
    ----------
    paths : path or iterable of paths
        Text articles, folders of ``.txt`` articles (recursive) and
        CSV / JSONL / Parquet tables, in any mix (see the module docstring for
        each format).

    Returns
    -------
    pandas.DataFrame
        One row per paragraph, in input order, with columns

        doc_id : str
            Document id (from the id line, the ``doc_id`` column, or the file stem).
        para_id : int
            0 for the title, 1..N for body paragraphs.
        text : str
            Paragraph text.
        is_title : bool
            True for the title row (``para_id == 0``).
        lang : str
            ISO 639-1 code detected with py3langid on the whole document
            (title + body), the same on every row of a document; ``"und"`` when
            the text has nothing to detect from.
        source : str
            The file the paragraph came from, as given (relative paths stay
            relative).

        followed by any metadata columns of table inputs (e.g. date, outlet),
        missing where a document has no value.

    Raises
    ------
    InputError
        Missing path, empty/binary/non-UTF-8 file, folder without ``.txt``
        articles, table without a ``text`` column, with an empty article or
        with a non-text cell in a text column, the same ``doc_id`` twice, or
        no input at all. The message names the file and the problem.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise InputError("no input given: pass at least one file or folder")

    docs: list[dict[str, Any]] = []
    seen_files: set[Path] = set()
    for given in paths:
        for source in article_files(given):
            key = Path(source).resolve()
            if key in seen_files:  # the same file reached twice (file and its folder)
                continue
            seen_files.add(key)
            if Path(source).suffix.lower() in TABLE_SUFFIXES:
                docs.extend(_read_table_articles(source))
            else:
                docs.append(_read_text_article(source))

    rows: list[dict[str, Any]] = []
    first_source: dict[str, str] = {}
    meta_columns: list[str] = []
    for doc in docs:
        doc_id = doc["doc_id"]
        if doc_id in first_source:
            raise InputError(
                f"{doc['where']}: duplicate doc_id {doc_id!r} (already used by {first_source[doc_id]})"
            )
        first_source[doc_id] = doc["where"]
        lang = doc["lang"] or detect_language("\n\n".join(p for _, p in doc["paras"]))
        for col in doc["meta"]:
            if col not in meta_columns:
                meta_columns.append(col)
        for para_id, text in doc["paras"]:
            rows.append(
                {
                    "doc_id": doc_id,
                    "para_id": para_id,
                    "text": text,
                    "is_title": para_id == 0,
                    "lang": lang,
                    "source": doc["source"],
                    **doc["meta"],
                }
            )
    return conform(pd.DataFrame(rows, columns=[*PARAGRAPHS, *meta_columns]), PARAGRAPHS, extra=True)


def corpus_overview(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """One row per document: its language, paragraph count and length.

    Parameters
    ----------
    paragraphs : DataFrame
        Paragraph table (:func:`read_articles`): ``doc_id``, ``lang``, ``text``.

    Returns
    -------
    DataFrame
        ``doc_id``, ``lang``, ``paragraphs`` (title included, int), ``characters``
        (of all its paragraphs, int), documents in input order.
    """
    check_columns(paragraphs, ("doc_id", "lang", "text"), "paragraph table")
    return (
        paragraphs.assign(_chars=paragraphs["text"].str.len())
        .groupby(["doc_id", "lang"], sort=False)
        .agg(paragraphs=("text", "size"), characters=("_chars", "sum"))
        .astype("int64")
        .reset_index()
    )


def article_files(given: PathLike) -> list[str]:
    """Files (as display strings) that one user-given path stands for."""
    p = Path(given)
    if not p.exists():
        raise InputError(f"{os.fspath(given)}: no such file or folder")
    if not p.is_dir():
        return [os.fspath(given)]
    found = sorted(
        f for f in p.rglob("*.txt")
        if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
    )
    if not found:
        raise InputError(f"{os.fspath(given)}: folder contains no .txt articles")
    return [os.fspath(f) for f in found]


def _read_text_article(source: str) -> dict[str, Any]:
    text = read_text_file(source)
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _visible(line)), None)
    if start is None:
        raise InputError(f"{source}: file is empty (only whitespace or invisible characters)")
    title = lines[start].strip()
    body = split_paragraphs("\n".join(lines[start + 1:]))
    doc_id = Path(source).stem
    if body and _ID_TOKEN.fullmatch(body[-1]):
        doc_id = body.pop()
    paras = list(enumerate([title, *body]))
    return {"doc_id": doc_id, "paras": paras, "lang": None, "source": source, "where": source, "meta": {}}


def _read_table_articles(source: str) -> list[dict[str, Any]]:
    table = read_table(source, dtype_str=True)
    columns = [str(c) for c in table.columns]
    if "text" not in columns:
        raise InputError(
            f"{source}: table has no 'text' column (columns: {', '.join(columns) or 'none'})"
        )
    clash = sorted(_RESERVED.intersection(columns))
    if clash:
        raise InputError(f"{source}: column(s) {', '.join(clash)} are reserved for the paragraph table; rename them")
    if table.empty:
        raise InputError(f"{source}: table has no rows")
    meta_cols = [c for c in columns if c not in _TABLE_FIELDS]
    stem = Path(source).stem
    docs = []
    for n, record in enumerate(table.to_dict(orient="records"), start=1):
        where = f"{source} (row {n})"
        cells = {col: _cell_text(record.get(col), col, where) for col in _TABLE_FIELDS}
        title = cells["title"] if _visible(cells["title"]) else ""
        body = split_paragraphs(cells["text"]) if _visible(cells["text"]) else []
        if not title and not body:
            raise InputError(f"{where}: empty 'text'" + (" and 'title'" if "title" in columns else ""))
        paras: list[tuple[int, str]] = []
        if title:
            paras.append((0, " ".join(title.split("\n"))))
        paras.extend(enumerate(body, start=1))
        doc_id = cells["doc_id"] or f"{stem}-{n}"
        docs.append(
            {
                "doc_id": doc_id,
                "paras": paras,
                "lang": cells["lang"] or None,
                "source": source,
                "where": where,
                "meta": {c: record[c] for c in meta_cols},
            }
        )
    return docs


def _cell_text(value: Any, column: str, where: str) -> str:
    """A cell of text column ``column`` as stripped text; missing values become ``""``.

    A whole number is accepted as a ``doc_id`` (``7`` -> ``"7"``).

    Raises
    ------
    InputError
        Any other value that is not a string (a list, bytes, a dict...),
        naming ``where`` (file and row) and the column.
    """
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if column == "doc_id" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        if float(value).is_integer():
            value = str(int(value))
    if not isinstance(value, str):
        kind = type(value).__name__
        if isinstance(value, dict):
            kind = "mapping"
        elif pd.api.types.is_list_like(value):  # lists, tuples, Parquet list cells (arrays)
            kind, value = "list", list(value)
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise InputError(f"{where}: column {column!r} holds a {kind} ({shown}), expected text")
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _visible(text: str) -> bool:
    """Whether ``text`` holds a character other than whitespace and invisible ones (Cf, Zs)."""
    return any(not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE for ch in text)
