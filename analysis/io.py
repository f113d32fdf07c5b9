"""Reading and atomically writing tables and files.

Writers never leave a half-written file behind: they write to a temporary file
in the destination folder and ``os.replace`` it onto the destination only once
the content is complete. A destination whose folder does not exist is an
:class:`~analysis.errors.InputError` naming that folder.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TABLE_SUFFIXES",
    "atomic_path",
    "check_output_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_table",
    "read_text_file",
    "read_table",
]

#: Table formats understood by :func:`read_table` and :func:`atomic_write_table`.
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".jsonl", ".parquet")


def check_output_path(path: str | os.PathLike[str], suffixes: tuple[str, ...] | None = None) -> None:
    """Fail early, before any heavy work, if ``path`` cannot be written to.

    Raises
    ------
    InputError
        The destination folder does not exist, ``path`` is a folder, or its
        suffix is not one of ``suffixes`` (when given).
    """
    dest = Path(path)
    if not dest.parent.is_dir():
        raise InputError(f"{path}: output folder {os.fspath(dest.parent)!r} does not exist")
    if dest.is_dir():
        raise InputError(f"{path}: output path is a folder, expected a file name")
    if suffixes is not None and dest.suffix.lower() not in suffixes:
        shown = dest.suffix or "(no suffix)"
        raise InputError(f"{path}: unknown output format {shown!r}; use one of {', '.join(suffixes)}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``.

    The temporary file sits in the destination folder and keeps the
    destination's suffix (so libraries that pick a format from the suffix,
    such as ``savefig``, still work). If the block raises, the temporary file
    is removed and ``path`` is left untouched.

    Raises
    ------
    InputError
        If the destination folder does not exist or ``path`` is a folder.
    """
    check_output_path(path)
    dest = Path(path)
    parent = dest.parent
    fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{dest.name}.", suffix=f".tmp{dest.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(data: bytes, path: str | os.PathLike[str]) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(text: str, path: str | os.PathLike[str], encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    atomic_write_bytes(text.encode(encoding), path)


def atomic_write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a DataFrame as CSV, JSON Lines or Parquet, chosen by the suffix of ``path``.

    CSV is UTF-8 without the index; JSONL has one JSON object per row
    (non-ASCII kept as is); Parquet goes through pyarrow.

    Raises
    ------
    InputError
        Unknown suffix, or the destination folder does not exist.
    """
    check_output_path(path, TABLE_SUFFIXES)
    suffix = Path(path).suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False, encoding="utf-8")
        elif suffix == ".jsonl":
            df.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            df.to_parquet(tmp, index=False)


def read_text_file(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file strictly: the BOM is dropped, CRLF/CR become LF.

    Raises
    ------
    InputError
        Missing file, folder given, empty file (no bytes), binary file
        (contains a NUL byte) or bytes that are not valid UTF-8 (the message
        gives the byte offset).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or folder")
    if p.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if not raw:
        raise InputError(f"{path}: file is empty")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{path}: binary file (NUL byte at offset {nul}); expected UTF-8 text")
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        raise InputError(
            f"{path}: not valid UTF-8 (byte 0x{raw[offset]:02x} at offset {offset}); save the file as UTF-8"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_table(
    path: str | os.PathLike[str], *, dtype_str: bool = False, columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a CSV, JSON Lines or Parquet table, chosen by the suffix of ``path``.

    CSV and JSONL go through :func:`read_text_file` (strict UTF-8, BOM and
    CRLF handled). With ``dtype_str`` CSV cells are read as strings (ids such
    as ``007`` keep their zeros); empty cells are missing values either way.
    ``columns`` are required: a table without one of them is refused.

    Raises
    ------
    InputError
        Missing, empty, binary or non-UTF-8 file, unknown suffix, a file that
        does not parse as its format, a required column missing.
    """
    table = _read_table(path, dtype_str)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        found = ", ".join(map(str, table.columns)) or "(none)"
        raise InputError(f"{path}: missing columns {', '.join(missing)} (found: {found})")
    return table


def _read_table(path: str | os.PathLike[str], dtype_str: bool) -> pd.DataFrame:
    import pandas as pd

    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(
            f"{path}: unknown table format {suffix or '(no suffix)'!r}; use one of {', '.join(TABLE_SUFFIXES)}"
        )
    if suffix == ".parquet":
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{path}: no such file" if not p.exists() else f"{path}: is a folder, expected a file")
        if p.stat().st_size == 0:
            raise InputError(f"{path}: file is empty")
        try:
            return pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputError(f"{path}: cannot read as Parquet ({exc})") from exc
    text = read_text_file(path)
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    try:
        if suffix == ".csv":
            return pd.read_csv(io.StringIO(text), dtype=str if dtype_str else None)
        return pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except Exception as exc:  # pandas parser errors vary by engine
        kind = "CSV" if suffix == ".csv" else "JSON Lines"
        raise InputError(f"{path}: cannot parse as {kind} ({exc})") from exc


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
