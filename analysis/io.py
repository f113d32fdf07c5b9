"""Reading and atomically writing tables and files.

Writers never leave a half-written file behind: they write to a temporary file
in the destination folder and ``os.replace`` it onto the destination only once
the content is complete. The file gets the permissions a plain
``open(path, "w")`` would give it (the current umask; an existing file keeps
its mode). :func:`check_output_path` and :func:`check_output_dir` let a command
refuse an unusable destination before doing any work.

Readers take user files as they are: text must be UTF-8 (UTF-16/UTF-32 files
are named as such), and table cells are never guessed into missing values
(``NA`` stays the text ``"NA"``; only empty CSV cells and JSON ``null`` are
missing).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import json
import os
import secrets
import shlex
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TABLE_SUFFIXES",
    "atomic_path",
    "check_output_dir",
    "check_output_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_table",
    "read_text_file",
    "read_table",
    "sha256_file",
]

#: Table formats understood by :func:`read_table` and :func:`atomic_write_table`.
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".jsonl", ".parquet")

# byte-order marks of the wide Unicode encodings; UTF-32 first (its LE mark starts with UTF-16's)
_WIDE_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
# bytes looked at to recognise UTF-16 without a byte-order mark
_SNIFF_BYTES = 4096


def check_output_path(
    path: str | os.PathLike[str],
    suffixes: tuple[str, ...] | None = None,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> None:
    """Fail early, before any heavy work, if ``path`` cannot be written to.

    The folder is tested by creating and removing a hidden probe file in it,
    so read-only folders, pseudo file systems (``/proc``) and missing
    permissions are all caught. Nothing is left behind.

    Parameters
    ----------
    path : path
        The output file.
    suffixes : tuple of str, optional
        Allowed suffixes (lower case, with the dot).
    inputs : iterable of paths
        Files the run reads (``None`` entries are ignored); ``path`` must not be
        one of them.

    Raises
    ------
    InputError
        The destination folder does not exist or cannot be written to,
        ``path`` is a folder, its suffix is not one of ``suffixes`` (when
        given), or it is one of ``inputs``.
    """
    _check_destination(path, suffixes)
    dest = Path(path)
    if dest.exists():
        for given in inputs:
            if given is not None and Path(given).exists() and os.path.samefile(given, dest):
                raise InputError(f"{path}: is also an input ({os.fspath(given)}); write the output elsewhere")
    _probe_folder(dest.parent, path)


def check_output_dir(path: str | os.PathLike[str]) -> None:
    """Fail early if figures or other files cannot be written into folder ``path``.

    A missing folder is fine (the writer creates it) when its nearest existing
    parent is a writable folder; nothing is created here.

    Raises
    ------
    InputError
        ``path`` (or one of its parents) is a file, or the folder that would
        hold the files cannot be written to.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{path}: is a file, expected a folder for the output")
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise InputError(f"{path}: cannot create the output folder, {os.fspath(existing)!r} is a file")
    _probe_folder(existing, path)


def _check_destination(path: str | os.PathLike[str], suffixes: tuple[str, ...] | None = None) -> None:
    """The checks that need no writing: the folder exists, ``path`` is no folder, a known suffix."""
    dest = Path(path)
    if not dest.parent.is_dir():
        raise InputError(f"{path}: output folder {os.fspath(dest.parent)!r} does not exist")
    if dest.is_dir():
        raise InputError(f"{path}: output path is a folder, expected a file name")
    if suffixes is not None and dest.suffix.lower() not in suffixes:
        shown = dest.suffix or "(no suffix)"
        raise InputError(f"{path}: unknown output format {shown!r}; use one of {', '.join(suffixes)}")


def _probe_folder(folder: Path, path: str | os.PathLike[str]) -> None:
    """Create and remove a probe file in ``folder``; an InputError naming ``path`` if that fails."""
    _new_file(folder / f".analysis-probe-{secrets.token_hex(6)}", path).unlink()


def _new_file(new: Path, path: str | os.PathLike[str]) -> Path:
    """Create the empty file ``new`` as ``open(new, "w")`` would (mode 0o666 less the umask).

    Raises
    ------
    InputError
        Naming ``path`` (the output the file is for) when its folder takes no new file.
    """
    try:
        os.close(os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise InputError(
            f"{path}: cannot write to folder {os.fspath(new.parent)!r} ({exc.strerror or exc})"
        ) from exc
    return new


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``.

    The temporary file sits in the destination folder and keeps the
    destination's suffix (so libraries that pick a format from the suffix,
    such as ``savefig``, still work). It is created with mode ``0o666`` less
    the umask, as ``open(path, "w")`` would, and takes the mode of the file it
    replaces. If the block raises, the temporary file is removed and ``path``
    is left untouched.

    Raises
    ------
    InputError
        If the destination folder does not exist or cannot be written to, or
        ``path`` is a folder.
    """
    _check_destination(path)
    dest = Path(path)
    tmp = _new_file(dest.parent / f".{dest.name}.{secrets.token_hex(6)}.tmp{dest.suffix}", path)
    try:
        yield tmp
        with contextlib.suppress(FileNotFoundError):  # replacing a file: keep its mode
            os.chmod(tmp, stat.S_IMODE(dest.stat().st_mode))
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
    _check_destination(path, TABLE_SUFFIXES)
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
        Missing file, folder given, empty file (no bytes), UTF-16 or UTF-32
        file (by its byte-order mark, or the NUL bytes of UTF-16 text; the
        message gives the ``iconv`` command that converts it), binary file
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
    wide = _wide_encoding(raw)
    if wide is not None:
        shown, encoding = wide
        new = p.with_name(f"{p.stem}-utf8{p.suffix}")
        raise InputError(
            f"{path}: is {shown}, not UTF-8; convert it with "
            f"`iconv -f {encoding} -t UTF-8 {shlex.quote(os.fspath(path))} > {shlex.quote(os.fspath(new))}`"
        )
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


def _wide_encoding(raw: bytes) -> tuple[str, str] | None:
    """``(description, iconv encoding name)`` if ``raw`` is UTF-16/UTF-32 text, else None.

    A byte-order mark decides; without one, UTF-16 is recognised by its NUL
    bytes: text in Latin script has a NUL in (nearly) every other byte, on one
    side only.
    """
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            return name, name
    sample = raw[:_SNIFF_BYTES]
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 2:
        return None
    if even.count(0) == 0 and odd.count(0) * 2 >= len(odd):
        return "UTF-16 (little-endian, no byte-order mark)", "UTF-16LE"
    if odd.count(0) == 0 and even.count(0) * 2 >= len(even):
        return "UTF-16 (big-endian, no byte-order mark)", "UTF-16BE"
    return None


def read_table(
    path: str | os.PathLike[str], *, dtype_str: bool = False, columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a CSV, JSON Lines or Parquet table, chosen by the suffix of ``path``.

    CSV and JSONL go through :func:`read_text_file` (strict UTF-8, BOM and
    CRLF handled). No cell is guessed to be missing: ``NA``, ``None`` or
    ``null`` written as text stay text; only empty CSV cells and JSON
    ``null`` are missing values. With ``dtype_str`` CSV cells are all read as
    strings (ids such as ``007`` keep their zeros); JSONL values keep their
    JSON types either way. ``columns`` are required: a table without one of
    them is refused.

    Raises
    ------
    InputError
        Missing, empty, binary or non-UTF-8 file, unknown suffix, a file that
        does not parse as its format (for JSONL the message names the line), a
        required column missing.
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
    if suffix == ".jsonl":
        return pd.DataFrame(_json_lines(text, path))
    try:
        return pd.read_csv(
            io.StringIO(text), dtype=str if dtype_str else None, keep_default_na=False, na_values=[""]
        )
    except Exception as exc:  # pandas parser errors vary by engine
        raise InputError(f"{path}: cannot parse as CSV ({exc})") from exc


def _json_lines(text: str, path: str | os.PathLike[str]) -> list[dict]:
    """The JSON objects of a JSON Lines text, one per non-blank line."""
    records = []
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}: line {line_no}: not valid JSON Lines ({exc.msg}, column {exc.colno})"
            ) from exc
        if not isinstance(record, dict):
            raise InputError(
                f"{path}: line {line_no}: expected a JSON object {{...}}, got {type(record).__name__}"
            )
        records.append(record)
    return records


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
