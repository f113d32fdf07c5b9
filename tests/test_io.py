"""analysis.io: output checks before work, file modes, strict text and table reading."""

from __future__ import annotations

import codecs
import contextlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.io import (
    atomic_write_table,
    atomic_write_text,
    check_output_dir,
    check_output_path,
    read_table,
    read_text_file,
)

# /proc accepts no new files, even for root (chmod-based read-only folders do not stop root)
UNWRITABLE = Path("/proc")
needs_proc = pytest.mark.skipif(not (UNWRITABLE / "self").is_dir(), reason="needs Linux /proc")


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- output checks -------------------------------------------------------------------


@needs_proc
def test_unwritable_output_folder_is_refused():
    with pytest.raises(InputError, match=r"/proc/x\.csv: cannot write to folder '/proc'"):
        check_output_path(UNWRITABLE / "x.csv", (".csv",))


def test_output_check_leaves_nothing_behind(tmp_path):
    check_output_path(tmp_path / "p.csv", (".csv",))
    assert list(tmp_path.iterdir()) == []


def test_output_that_is_an_input_is_refused(tmp_path, monkeypatch):
    source = tmp_path / "t.csv"
    source.write_text("text\nMoscou\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(source)
    monkeypatch.chdir(tmp_path)
    for out in ("t.csv", tmp_path / "t.csv", "link.csv", "../" + tmp_path.name + "/t.csv"):
        with pytest.raises(InputError, match="is also an input"):
            check_output_path(out, inputs=[None, str(source)])
    check_output_path("other.csv", inputs=[str(source)])  # a new file is never an input
    assert source.read_text(encoding="utf-8") == "text\nMoscou\n"


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    afile = tmp_path / "figures"
    afile.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="figures: is a file, expected a folder"):
        check_output_dir(afile)
    with pytest.raises(InputError, match="'.*figures' is a file"):
        check_output_dir(afile / "sub")


@needs_proc
def test_output_dir_in_unwritable_place_is_refused():
    with pytest.raises(InputError, match=r"/proc/x: cannot write to folder '/proc'"):
        check_output_dir(UNWRITABLE / "x")


def test_missing_output_dir_is_accepted_but_not_created(tmp_path):
    check_output_dir(tmp_path / "a" / "b")
    check_output_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- file modes ----------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077], ids=oct)
def test_new_file_gets_the_umask_mode(tmp_path, mask):
    with umask(mask):
        atomic_write_text("x", tmp_path / "a.txt")
        atomic_write_table(pd.DataFrame({"a": [1]}), tmp_path / "a.parquet")
        with open(tmp_path / "plain.txt", "w", encoding="utf-8") as fh:
            fh.write("x")
    expected = mode(tmp_path / "plain.txt")
    assert expected == 0o666 & ~mask
    assert mode(tmp_path / "a.txt") == expected
    assert mode(tmp_path / "a.parquet") == expected


def test_replaced_file_keeps_its_mode(tmp_path):
    out = tmp_path / "a.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    with umask(0o022):
        atomic_write_table(pd.DataFrame({"a": [1]}), out)
    assert mode(out) == 0o640 and out.read_text(encoding="utf-8") == "a\n1\n"


# --- text files ----------------------------------------------------------------------


TEXT = "Moscou et Pékin"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(TEXT.encode("utf-16"), "is UTF-16, not UTF-8"),
     (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "is UTF-16, not UTF-8"),
     (TEXT.encode("utf-16-le"), "is UTF-16 (little-endian, no byte-order mark)"),
     (TEXT.encode("utf-16-be"), "is UTF-16 (big-endian, no byte-order mark)"),
     (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "is UTF-32, not UTF-8"),
     (codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"), "is UTF-32, not UTF-8")],
    ids=["utf16-bom-le", "utf16-bom-be", "utf16le", "utf16be", "utf32-bom-le", "utf32-bom-be"],
)
def test_wide_encodings_are_named_with_the_conversion(tmp_path, raw, expected):
    path = tmp_path / "a b.txt"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        read_text_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {expected}"), message
    assert f"-t UTF-8 '{path}' > '{tmp_path / 'a b-utf8.txt'}'`" in message  # quoted for the shell
    assert "binary" not in message
    if shutil.which("iconv"):  # the suggested command does convert the file
        subprocess.run(message.split("`")[1], shell=True, check=True, cwd=tmp_path)
        assert read_text_file(tmp_path / "a b-utf8.txt") == TEXT


def test_binary_is_still_binary(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02")
    with pytest.raises(InputError, match="binary file"):
        read_text_file(path)


# --- tables --------------------------------------------------------------------------


def test_csv_keeps_na_like_words_and_empty_cells_are_missing(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\nNA,None,\nnan,null,3\n", encoding="utf-8")
    table = read_table(path, dtype_str=True)
    assert table["a"].tolist() == ["NA", "nan"] and table["b"].tolist() == ["None", "null"]
    assert table["c"].isna().tolist() == [True, False]


def test_jsonl_keeps_na_strings_and_json_types(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": "NA", "n": 1}\n\n{"a": null, "n": 2.5, "extra": "x"}\n', encoding="utf-8")
    table = read_table(path, dtype_str=True)
    assert list(table.columns) == ["a", "n", "extra"]
    assert table["a"].tolist()[0] == "NA" and table["a"].isna().tolist() == [False, True]
    assert table["n"].tolist() == [1.0, 2.5]


@pytest.mark.parametrize(
    ("content", "fragments"),
    [('{"a": 1}\n{"a": 2,}\n', ("line 2", "not valid JSON")),
     ('\n\n{"a": 1}\n"text"\n', ("line 4", "expected a JSON object", "str")),
     ('{"a": 1}\r\n{oops\r\n', ("line 2", "column 2"))],
)
def test_jsonl_errors_name_the_line(tmp_path, content, fragments):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content.encode("utf-8"))
    with pytest.raises(InputError) as info:
        read_table(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, message
