"""Folders derived once into the cache: built whole or not at all, checked on use, repaired once, leftovers removed."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from analysis.classifiers.derived import RECORD, derived_folder, folder_problem
from analysis.errors import InputError
from analysis.io import sha256_file

SOURCE = {"source": "test", "sha256": "0" * 64}


def write_two_files(calls):
    def build(folder):
        calls.append(folder)
        (folder / "weights.bin").write_bytes(bytes(range(256)) * 64)
        (folder / "config.json").write_text('{"layers": 2}\n')

    return build


def test_a_folder_is_built_once_with_its_record(tmp_path):
    calls = []
    folder = derived_folder(tmp_path, "thing-abc", write_two_files(calls), SOURCE)
    assert folder == tmp_path / "thing-abc" and len(calls) == 1
    record = json.loads((folder / RECORD).read_text())
    assert {k: record[k] for k in SOURCE} == SOURCE
    assert sorted(record["files"]) == ["config.json", "weights.bin"]
    assert record["files"]["weights.bin"]["sha256"] == sha256_file(folder / "weights.bin")
    assert derived_folder(tmp_path, "thing-abc", write_two_files(calls), SOURCE) == folder
    assert len(calls) == 1, "an intact folder is not built again"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["thing-abc"], "no temporary folder is left"


def test_a_changed_file_of_the_same_size_is_detected(tmp_path):
    folder = derived_folder(tmp_path, "thing", write_two_files([]), SOURCE)
    path = folder / "config.json"
    original = path.read_bytes()
    path.write_bytes(original.replace(b"2", b"3"))
    assert "config.json differs" in folder_problem(folder)
    path.write_bytes(original)
    assert folder_problem(folder) is None, "same bytes again: intact, though its modification time changed"


def test_a_record_without_checksums_or_a_missing_file_is_a_problem(tmp_path):
    (tmp_path / RECORD).write_text(json.dumps(SOURCE))
    assert "no checksums" in folder_problem(tmp_path)
    assert folder_problem(tmp_path / "absent") == f"{RECORD} is missing"


def test_a_damaged_folder_is_built_again_and_leftovers_of_killed_builds_go(tmp_path):
    calls = []
    folder = derived_folder(tmp_path, "thing", write_two_files(calls), SOURCE)
    weights = folder / "weights.bin"
    digest = sha256_file(weights)
    with open(weights, "r+b") as fh:
        fh.truncate(100)
    killed = tmp_path / "thing.tmp-killed"  # a build killed midway
    killed.mkdir()
    old_version = tmp_path / "thing.ab12cd34"  # an earlier version's temporary folder, untouched for 2 h
    old_version.mkdir()
    two_hours_ago = time.time() - 7200
    os.utime(old_version, (two_hours_ago, two_hours_ago))
    filling = tmp_path / "thing.zz98yy76"  # an earlier version's process filling its folder right now
    filling.mkdir()

    with pytest.warns(RuntimeWarning, match=r"weights\.bin has 100 bytes instead of \d+; rebuilding it again"):
        assert derived_folder(tmp_path, "thing", write_two_files(calls), SOURCE, verb="rebuilding") == folder
    assert len(calls) == 2 and sha256_file(weights) == digest and folder_problem(folder) is None
    assert not killed.exists() and not old_version.exists()
    assert filling.exists(), "a folder that may still be filled is kept"


def test_a_failing_build_leaves_nothing_behind(tmp_path):
    def fails(folder):
        (folder / "half.bin").write_bytes(b"x" * 10)
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        derived_folder(tmp_path, "thing", fails, SOURCE)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == []


def test_concurrent_first_uses_build_once(tmp_path):
    calls = []
    build = write_two_files(calls)

    def slow(folder):
        time.sleep(0.3)
        build(folder)

    results = []
    threads = [threading.Thread(target=lambda: results.append(derived_folder(tmp_path, "thing", slow, SOURCE)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and results == [tmp_path / "thing"] * 3


@pytest.mark.parametrize("where", ["a file", "inside a file"])
def test_an_unusable_root_is_one_clear_error(tmp_path, where):
    plain_file = tmp_path / "cache-file"
    plain_file.write_text("not a folder")
    root = plain_file if where == "a file" else plain_file / "cache"
    with pytest.raises(InputError, match=r"cache folder .* is not usable \(.*\); set ANALYSIS_CACHE_DIR"):
        derived_folder(root, "thing", write_two_files([]), SOURCE)
