"""Readers of labelled mention sets (NewsMTSC, RuSentNE, a user's CSV) as one target table.

Every reader returns one row per target, with the columns of :data:`LABELLED_COLUMNS`:

``sentence_index`` (int)
    the sentence: the 0-based line (NewsMTSC) or data row (RuSentNE, CSV) of its
    first target, so that the targets of one sentence share it;
``sentence`` (str), ``start``, ``end`` (int)
    the sentence and the target's character offsets in it (end exclusive);
``mention`` (str)
    ``sentence[start:end]`` (NewsMTSC: its ``mention`` field when present);
``label`` (int)
    0 negative, 1 neutral, 2 positive;
``lang`` (str)
    the sentence's language: the file's ``lang`` field or column, else the
    format's language (``en`` NewsMTSC, ``ru`` RuSentNE, ``und`` a CSV);
``gid`` (str)
    the source's sentence id (NewsMTSC ``primary_gid``), else ``""``.

A bad file raises :class:`~analysis.errors.InputError` naming the file, the line
and the problem: missing columns, offsets outside the sentence, a target that is
not in its sentence, an unknown label.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from .errors import InputError
from .io import read_table, read_text_file

__all__ = ["LABELLED_COLUMNS", "POLARITY_TO_LABEL", "READERS", "read_labels", "read_newsmtsc", "read_rusentne"]

LABELLED_COLUMNS = ("sentence_index", "sentence", "start", "end", "mention", "label", "lang", "gid")

#: NewsMTSC polarity -> class index (0 negative, 1 neutral, 2 positive).
POLARITY_TO_LABEL = {2.0: 0, 4.0: 1, 6.0: 2}

#: Label spellings of RuSentNE and of a user's CSV -> class index.
_LABEL_VALUES = {"negative": 0, "neutral": 1, "positive": 2, "-1": 0, "0": 1, "1": 2, "+1": 2}


def _label(value, where: str) -> int:
    """Class index of a label cell (negative/neutral/positive or -1/0/1; any case, ``-1.0`` too)."""
    key = str(value).strip().lower()
    key = key[:-2] if key.endswith(".0") else key
    if key not in _LABEL_VALUES:
        raise InputError(f"{where}: unknown label {value!r}; expected negative, neutral, positive or -1, 0, 1")
    return _LABEL_VALUES[key]


def _whole_numbers(start, end, where: str) -> tuple[int, int]:
    """The offset cells ``start``, ``end`` as ints."""
    try:
        return int(str(start).strip()), int(str(end).strip())
    except ValueError:
        raise InputError(f"{where}: offsets must be whole numbers, got start={start!r}, end={end!r}") from None


def _offsets(sentence: str, start, end, where: str) -> tuple[int, int]:
    """``(start, end)`` as ints, checked to be a non-empty span inside ``sentence``."""
    start, end = _whole_numbers(start, end, where)
    if not 0 <= start < end <= len(sentence):
        raise InputError(
            f"{where}: offsets {start}-{end} are outside the sentence ({len(sentence)} characters) or empty"
        )
    return start, end


def _table(rows: list[dict], path) -> pd.DataFrame:
    if not rows:
        raise InputError(f"{path}: no targets found")
    return pd.DataFrame(rows, columns=list(LABELLED_COLUMNS))


def read_newsmtsc(path: str | os.PathLike) -> pd.DataFrame:
    """One row per target of a NewsMTSC ``.jsonl`` file (also ``data/newsmtsc-translated/``).

    A line is ``{"primary_gid", "sentence_normalized", "targets": [{"from", "to",
    "polarity", "mention"?}], "lang"?}``; polarity 2.0 negative, 4.0 neutral, 6.0 positive.

    Returns
    -------
    DataFrame
        :data:`LABELLED_COLUMNS`; ``sentence_index`` is the 0-based line number,
        ``lang`` the line's ``lang`` (default ``en``), ``gid`` its ``primary_gid``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such NewsMTSC file")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}, line {line_no}"
            try:
                record = json.loads(line)
                sentence = record["sentence_normalized"]
                targets = [(t["from"], t["to"], t.get("mention"), float(t["polarity"])) for t in record["targets"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{where}: not a NewsMTSC record ({exc!r})") from exc
            for start, end, mention, polarity in targets:
                if polarity not in POLARITY_TO_LABEL:
                    raise InputError(f"{where}: unknown polarity {polarity}; expected 2.0, 4.0 or 6.0")
                start, end = _offsets(sentence, start, end, where)
                rows.append({
                    "sentence_index": line_no - 1, "sentence": sentence, "start": start, "end": end,
                    "mention": sentence[start:end] if mention is None else mention,
                    "label": POLARITY_TO_LABEL[polarity], "lang": record.get("lang", "en"),
                    "gid": str(record.get("primary_gid", "")),
                })
    return _table(rows, path)


#: Columns of a RuSentNE file that :func:`read_rusentne` needs (``entity_tag`` is optional).
RUSENTNE_COLUMNS = ("sentence", "entity", "entity_pos_start_rel", "entity_pos_end_rel", "label")


def _csv_unquoted(field: str) -> str | None:
    """``field`` decoded as a CSV writer's quoted cell (outer quotes dropped, doubled quotes
    made single), or None when it is not such a cell."""
    inner = field[1:-1]
    if len(field) >= 2 and field[0] == field[-1] == '"' and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return None


def read_rusentne(path: str | os.PathLike) -> pd.DataFrame:
    """One row per target of a RuSentNE-2023 file (tab-separated, one target a line).

    Columns ``sentence, entity, entity_tag, entity_pos_start_rel, entity_pos_end_rel,
    label``: the entity's character offsets in ``sentence`` (end exclusive) and its label
    -1/0/1. A sentence recurs once per target. Lines are read as they are (no quoting: one
    line is one target); a cell written CSV-quoted (in double quotes, inner quotes doubled), as
    about 3 % of the training file's are, is decoded when that puts ``entity`` at its
    offsets.

    Returns
    -------
    DataFrame
        :data:`LABELLED_COLUMNS`; ``sentence_index`` is the 0-based data row of the
        sentence's first target, ``lang`` ``ru``, ``gid`` empty.
    """
    path = Path(path)
    reader = csv.reader(read_text_file(path).splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, [])
    missing = [c for c in RUSENTNE_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)} (found: {', '.join(header) or '(none)'})")
    col = {name: header.index(name) for name in RUSENTNE_COLUMNS}
    rows, first_row = [], {}
    for row_no, cells in enumerate(reader):
        where = f"{path}, line {row_no + 2}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise InputError(f"{where}: {len(cells)} tab-separated fields, expected {len(header)}")
        raw_sentence, raw_entity = cells[col["sentence"]], cells[col["entity"]]
        label = _label(cells[col["label"]], where)
        decoded = (_csv_unquoted(raw_sentence) or raw_sentence, _csv_unquoted(raw_entity) or raw_entity)
        start, end = _whole_numbers(cells[col["entity_pos_start_rel"]], cells[col["entity_pos_end_rel"]], where)
        for sentence, entity in (decoded, (raw_sentence, raw_entity)):
            if 0 <= start < end <= len(sentence) and sentence[start:end] == entity:
                break
        else:
            sentence, entity = decoded
            _offsets(sentence, start, end, where)
            raise InputError(
                f"{where}: entity {entity!r} is not at characters {start}-{end} of the sentence "
                f"(found {sentence[start:end]!r})"
            )
        rows.append({
            "sentence_index": first_row.setdefault(sentence, row_no), "sentence": sentence,
            "start": start, "end": end, "mention": entity, "label": label, "lang": "ru", "gid": "",
        })
    return _table(rows, path)


def read_labels(path: str | os.PathLike) -> pd.DataFrame:
    """One row per line of a user's labelled CSV (or JSONL/Parquet) table.

    Columns: ``sentence``; the target as ``target`` (its first occurrence in the
    sentence) or as ``start, end`` (character offsets, end exclusive; a ``target``
    given as well must be the text there); ``label`` (negative/neutral/positive or
    -1/0/1); optionally ``lang``.

    Returns
    -------
    DataFrame
        :data:`LABELLED_COLUMNS`; ``sentence_index`` is the 0-based data row of the
        sentence's first line, ``lang`` the ``lang`` cell (``und`` when absent), ``gid``
        empty.
    """
    path = Path(path)
    table = read_table(path, dtype_str=True)
    has_offsets = {"start", "end"} <= set(table.columns)
    needed = ["sentence", "label"] + ([] if has_offsets else ["target"])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        found = ", ".join(map(str, table.columns)) or "(none)"
        raise InputError(
            f"{path}: missing columns {', '.join(missing)} (found: {found}); a labelled file needs "
            "sentence, label and either target or start, end"
        )
    first_line = 2 if path.suffix.lower() == ".csv" else 1
    rows, first_row = [], {}
    for i, record in enumerate(table.to_dict("records")):
        where = f"{path}, line {i + first_line}"
        sentence = record["sentence"]
        if not isinstance(sentence, str) or not sentence.strip():
            raise InputError(f"{where}: empty sentence")
        target = record.get("target")
        target = target if isinstance(target, str) and target else None
        if has_offsets:
            start, end = _offsets(sentence, record["start"], record["end"], where)
            if target is not None and sentence[start:end] != target:
                raise InputError(
                    f"{where}: target {target!r} is not at characters {start}-{end} (found {sentence[start:end]!r})"
                )
        elif target is None:
            raise InputError(f"{where}: empty target")
        else:
            start = sentence.find(target)
            if start < 0:
                raise InputError(f"{where}: target {target!r} is not in the sentence")
            end = start + len(target)
        lang = record.get("lang")
        rows.append({
            "sentence_index": first_row.setdefault(sentence, i), "sentence": sentence, "start": start, "end": end,
            "mention": sentence[start:end], "label": _label(record["label"], where),
            "lang": lang.strip() if isinstance(lang, str) and lang.strip() else "und", "gid": "",
        })
    return _table(rows, path)


#: ``analysis evaluate`` kind -> reader of that format.
READERS = {"newsmtsc": read_newsmtsc, "rusentne": read_rusentne, "labels": read_labels}
