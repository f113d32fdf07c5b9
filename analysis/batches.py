"""Document batches of a corpus: listed where the work is planned, read where it is done.

A corpus too large for one process is never read whole by the process that plans
the work.  :func:`plan_batches` only lists the input files and counts the rows of
tables (Parquet from its footer; CSV and JSON Lines by one streaming pass over
the bytes); :func:`read_batch` reads one batch into the paragraph table, with
the rules of :func:`analysis.read_articles`, wherever it runs (a Dask worker).

Batches
-------
- Text articles (one document per file): ``documents`` consecutive files.
- A table (``.csv``, ``.jsonl``, ``.parquet``): ``documents`` consecutive rows
  (one document per row); a table of up to ``documents`` rows is one batch.  The
  last batch of a table runs to its end.  A row keeps its place in the whole
  file: its default ``doc_id`` is ``<file stem>-<row number in the file>`` and
  errors name that row.  Each batch of a table parses the whole file (Parquet:
  the whole file too), so a very large CSV or JSONL file is best split into
  files of a few thousand rows.
- A folder stands for its ``.txt`` articles (recursively, hidden files and
  folders skipped, sorted) or, in a folder without any, for its tables.

Batches depend only on the inputs and ``documents``, never on where or how many
times they run, so every process scores the same batches of the same documents.
Paths are used as given: on a cluster they must name the same files on every
worker (a shared file system, absolute paths).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .io import TABLE_SUFFIXES

__all__ = ["BATCH_DOCUMENTS", "Batch", "count_rows", "list_inputs", "plan_batches", "read_batch"]

#: Documents per batch (files of text articles, rows of a table).
BATCH_DOCUMENTS = 50

_BLOCK = 1 << 20  # bytes read at a time when counting rows


@dataclass(frozen=True)
class Batch:
    """Whole documents of a corpus, named without reading them.

    Attributes
    ----------
    index : int
        Position in the plan (0-based); batches are numbered in input order.
    files : tuple of str
        Text articles (one document each), or the one table the rows come from.
    rows : (int, int or None) or None
        For a table: the rows ``[start, stop)`` (0-based, ``stop`` None: to the
        end of the file); None for text articles.
    n_documents : int
        Documents planned: exact for text articles and Parquet tables, counted
        lines for CSV and JSON Lines (a blank line counts, a quoted line break does not).
    stamps : tuple of (int, int)
        ``(size, mtime_ns)`` of each file when planned, so a changed input is
        never taken for the one an earlier run scored.
    """

    index: int
    files: tuple[str, ...]
    rows: tuple[int, int | None] | None
    n_documents: int
    stamps: tuple[tuple[int, int], ...]

    def describe(self) -> dict[str, Any]:
        """What the batch holds, as JSON-able values (its identity for resuming a run)."""
        return {"files": list(self.files), "rows": list(self.rows) if self.rows else None,
                "stamps": [list(s) for s in self.stamps]}

    def __str__(self) -> str:
        if self.rows is not None:
            start, stop = self.rows
            return f"batch {self.index} ({self.files[0]}, rows {start + 1}-{'end' if stop is None else stop})"
        shown = self.files[0] if len(self.files) == 1 else f"{self.files[0]} ... {self.files[-1]}"
        return f"batch {self.index} ({shown})"


def list_inputs(inputs: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """The files that ``inputs`` stand for, in order, each once (as given: relative stays relative).

    Raises
    ------
    InputError
        No input, a missing path, or a folder without ``.txt`` articles or tables.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    given = list(inputs)
    if not given:
        raise InputError("no input given: pass at least one file or folder")
    files: list[str] = []
    seen: set[Path] = set()
    for path in given:
        for file in _expand(path):
            key = Path(file).resolve()
            if key not in seen:  # the same file reached twice (file and its folder)
                seen.add(key)
                files.append(file)
    return files


def _expand(given: str | os.PathLike) -> list[str]:
    """The files one given path stands for: read_articles' own rule, then a folder's tables."""
    from .corpus import article_files

    try:
        return article_files(given)
    except InputError:
        if not Path(given).is_dir():
            raise
    folder = Path(given)
    tables = sorted(f for f in folder.rglob("*") if f.suffix.lower() in TABLE_SUFFIXES and f.is_file()
                    and not any(part.startswith(".") for part in f.relative_to(folder).parts))
    if not tables:
        raise InputError(
            f"{os.fspath(given)}: folder contains no .txt articles and no tables ({', '.join(TABLE_SUFFIXES)})"
        )
    return [os.fspath(f) for f in tables]


def plan_batches(
    inputs: str | os.PathLike | Iterable[str | os.PathLike], documents: int = BATCH_DOCUMENTS
) -> list[Batch]:
    """Split a corpus into batches of whole documents, reading no article.

    Parameters
    ----------
    inputs : path or iterable of paths
        Article files, folders and tables, as :func:`analysis.read_articles` takes
        them (a folder without ``.txt`` articles stands for its tables).
    documents : int
        Documents per batch (a positive integer).

    Returns
    -------
    list of Batch
        In input order; consecutive text articles share batches, a table is cut
        into ranges of rows.

    Raises
    ------
    InputError
        As :func:`list_inputs`, or ``documents`` not a positive integer.
    """
    if isinstance(documents, bool) or not isinstance(documents, int) or documents < 1:
        raise InputError(f"documents per batch must be a positive integer, got {documents!r}")
    groups: list[tuple[tuple[str, ...], tuple[int, int | None] | None, int]] = []
    texts: list[str] = []
    for file in list_inputs(inputs):
        if Path(file).suffix.lower() not in TABLE_SUFFIXES:
            texts.append(file)
            if len(texts) == documents:
                groups.append((tuple(texts), None, len(texts)))
                texts = []
            continue
        if texts:
            groups.append((tuple(texts), None, len(texts)))
            texts = []
        n_rows = count_rows(file)
        starts = range(0, max(n_rows, 1), documents)
        for start in starts:
            stop = start + documents if start + documents < n_rows else None
            groups.append(((file,), (start, stop) if n_rows > documents else None,
                           min(documents, max(n_rows - start, 0))))
    if texts:
        groups.append((tuple(texts), None, len(texts)))
    return [Batch(i, files, rows, n, tuple(_stamp(f) for f in files)) for i, (files, rows, n) in enumerate(groups)]


def _stamp(file: str) -> tuple[int, int]:
    info = os.stat(file)
    return info.st_size, info.st_mtime_ns


def count_rows(path: str | os.PathLike) -> int:
    """Rows of a table without loading it (0 when it cannot be read: reading it says why).

    Parquet: from its footer.  CSV: line breaks outside double quotes, less the
    header.  JSON Lines: line breaks.  A trailing line without a line break counts.
    """
    if Path(path).suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # pyarrow raises several unrelated types; read_batch reports the file
            return 0
    quoted = Path(path).suffix.lower() == ".csv"
    lines, in_quote, last = 0, False, b"\n"
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            pieces = block.split(b'"') if quoted else [block]
            for i, piece in enumerate(pieces):
                in_quote ^= i > 0
                if not in_quote:
                    lines += piece.count(b"\n")
            last = block[-1:]
    lines += last != b"\n"
    return max(lines - quoted, 0)


def read_batch(batch: Batch):
    """The paragraph table of one batch (see :func:`analysis.read_articles`).

    Returns
    -------
    DataFrame
        The columns of :func:`analysis.read_articles`; ``source`` is the file as
        given.  A range of rows past the end of its table gives an empty table.

    Raises
    ------
    InputError
        As :func:`analysis.read_articles`, naming the file and, for a table, the
        row's number in the whole file.
    """
    from .corpus import read_articles

    if batch.rows is None:
        return read_articles(list(batch.files))
    return _read_rows(batch.files[0], *batch.rows)


def _read_rows(source: str, start: int, stop: int | None):
    """Rows ``[start, stop)`` of table ``source`` as paragraphs, by way of a temporary table
    holding only them (their default doc_id filled in from their row numbers in ``source``)."""
    from .corpus import read_articles
    from .io import read_table
    from .schema import PARAGRAPHS, conform, empty

    table = read_table(source, dtype_str=True)
    part = table.iloc[start:stop]
    if part.empty:
        return conform(empty(PARAGRAPHS), PARAGRAPHS)
    stem = Path(source).stem
    ids = part["doc_id"].tolist() if "doc_id" in part.columns else [None] * len(part)
    if any(_blank(v) for v in ids):
        part = part.assign(doc_id=[
            f"{stem}-{start + n}" if _blank(v) else _whole_number_text(v) for n, v in enumerate(ids, start=1)
        ])
    suffix = Path(source).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="analysis-rows-") as folder:
        tmp = os.path.join(folder, Path(source).name)
        _write_like(part, tmp, suffix, source)
        try:
            paragraphs = read_articles([tmp])
        except InputError as exc:
            message = re.sub(re.escape(tmp) + r" \(row (\d+)\)",
                             lambda m: f"{source} (row {int(m.group(1)) + start})", str(exc))
            raise InputError(message.replace(tmp, source)) from None
    return conform(paragraphs.assign(source=source), PARAGRAPHS, extra=True)


def _blank(value: Any) -> bool:
    """Whether a doc_id cell is missing (None, NaN or only whitespace), so the default id applies."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and value != value


def _whole_number_text(value: Any) -> Any:
    """A whole-number doc_id as text, as read_articles takes it (``7.0`` -> ``"7"``); others unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return value


def _write_like(part, path: str, suffix: str, source: str) -> None:
    """Write ``part`` in the format of ``source`` (CSV cells are all text; JSON values keep their type)."""
    import json

    if suffix == ".csv":
        part.to_csv(path, index=False, encoding="utf-8")
    elif suffix == ".jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for record in part.to_dict(orient="records"):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        try:
            part.to_parquet(path, index=False)
        except Exception as exc:  # pyarrow: a doc_id column mixing kinds of values
            raise InputError(f"{source}: column 'doc_id' cannot be read ({exc})") from exc
