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
    row's paragraphs.

Text is normalised only in whitespace: UTF-8 BOM dropped, CRLF/CR to LF,
each line stripped at both ends. Everything else is kept byte for byte
(single line breaks inside a paragraph included).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Union

import pandas as pd

from .errors import InputError
from .io import TABLE_SUFFIXES, read_table, read_text_file

__all__ = ["PARAGRAPH_COLUMNS", "read_articles", "split_paragraphs", "detect_language"]

PathLike = Union[str, os.PathLike]

#: Columns every paragraph table starts with (metadata columns follow).
PARAGRAPH_COLUMNS: tuple[str, ...] = ("doc_id", "para_id", "text", "is_title", "lang", "source")

#: Language code stored when the text gives no usable evidence (digits only...).
UNDETERMINED = "und"

_ID_TOKEN = re.compile(r"(?=[^\s]*\d)[A-Za-z0-9](?:[A-Za-z0-9_.:-]*[A-Za-z0-9])?")
# table columns with a meaning of their own; any other column is metadata
_TABLE_FIELDS = {"text", "title", "doc_id", "lang"}
_RESERVED = {"para_id", "is_title", "source"}


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
        articles, table without a ``text`` column or with an empty article,
        the same ``doc_id`` twice, or no input at all. The message names the
        file and the problem.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise InputError("no input given: pass at least one file or folder")

    docs: list[dict[str, Any]] = []
    seen_files: set[Path] = set()
    for given in paths:
        for source in _expand(given):
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
    df = pd.DataFrame(rows, columns=[*PARAGRAPH_COLUMNS, *meta_columns])
    return df.astype({"doc_id": "str", "para_id": "int64", "text": "str", "is_title": "bool",
                      "lang": "str", "source": "str"})


def split_paragraphs(text: str) -> list[str]:
    """Split text on blank lines into stripped paragraphs (empty ones dropped).

    Lines holding only whitespace count as blank; each line is stripped at
    both ends and lines of one paragraph are joined with ``\\n``.
    """
    paras: list[str] = []
    block: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if line:
            block.append(line)
        elif block:
            paras.append("\n".join(block))
            block = []
    if block:
        paras.append("\n".join(block))
    return paras


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` by py3langid (model shipped in the package).

    Returns ``"und"`` when the text carries no evidence (no letters, or no
    feature the model knows). Very short texts get py3langid's best guess.
    """
    if not any(ch.isalpha() for ch in text):
        return UNDETERMINED
    from py3langid import langid

    lang, score = langid.classify(text)
    if score <= langid.RAW_FLOOR:  # no feature the model knows
        return UNDETERMINED
    return str(lang)


def _expand(given: PathLike) -> list[str]:
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
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise InputError(f"{source}: file is empty (only whitespace)")
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
        title = _cell_text(record.get("title"))
        body = split_paragraphs(_cell_text(record.get("text")))
        if not title and not body:
            raise InputError(f"{where}: empty 'text'" + (" and 'title'" if "title" in columns else ""))
        paras: list[tuple[int, str]] = []
        if title:
            paras.append((0, " ".join(title.split("\n"))))
        paras.extend(enumerate(body, start=1))
        doc_id = _cell_text(record.get("doc_id")) or f"{stem}-{n}"
        docs.append(
            {
                "doc_id": doc_id,
                "paras": paras,
                "lang": _cell_text(record.get("lang")) or None,
                "source": source,
                "where": where,
                "meta": {c: record[c] for c in meta_cols},
            }
        )
    return docs


def _cell_text(value: Any) -> str:
    """A table cell as stripped text; missing values become ``""``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            if pd.isna(value):
                return ""
        except (TypeError, ValueError):  # lists and other non-scalars
            pass
        value = str(value)
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()
