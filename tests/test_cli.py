"""The `analysis` command line: paragraphs sub-command, exit codes, no partial outputs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.paths import DATA_DIR


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_paragraphs_on_the_seed(tmp_path, seed_path, capsys, monkeypatch):
    monkeypatch.chdir(seed_path.parents[1])
    out = tmp_path / "p.csv"
    code, _, err = run(["paragraphs", "data/ttn-fr-56.txt", "--out", out], capsys)
    assert code == 0, err
    df = pd.read_csv(out)
    assert len(df) == 14
    assert list(df.columns[:6]) == ["doc_id", "para_id", "text", "is_title", "lang", "source"]
    assert df["para_id"].tolist() == list(range(14))
    assert df.loc[0, "is_title"] and not df.loc[1:, "is_title"].any()
    assert set(df["doc_id"]) == {"ttn-fr-56"} and set(df["lang"]) == {"fr"}
    assert set(df["source"]) == {"data/ttn-fr-56.txt"}  # relative, as given
    assert "wrote 14 paragraphs" in err
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]  # no temporary file left


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_paragraphs_output_formats(tmp_path, seed_path, capsys, suffix):
    out = tmp_path / f"p{suffix}"
    code, _, err = run(["paragraphs", seed_path, "-o", out], capsys)
    assert code == 0, err
    df = pd.read_json(out, lines=True) if suffix == ".jsonl" else pd.read_parquet(out)
    assert len(df) == 14 and df["text"].iloc[0].startswith("La Russie et la Chine")


def test_paragraphs_several_inputs_with_metadata(tmp_path, seed_path, capsys):
    table = tmp_path / "t.jsonl"
    table.write_text('{"doc_id": "w1", "text": "One.\\n\\nTwo.", "outlet": "Wire"}\n', encoding="utf-8")
    out = tmp_path / "p.csv"
    code, _, err = run(["paragraphs", seed_path, table, "--out", out], capsys)
    assert code == 0, err
    df = pd.read_csv(out)
    assert len(df) == 16 and df["outlet"].tolist()[-2:] == ["Wire", "Wire"]


BAD_INPUTS = {
    "missing": (None, "no such file or folder"),
    "empty.txt": (b"", "file is empty"),
    "binary.txt": (b"abc\x00def", "binary"),
    "latin1.txt": ("Moscou à Pékin".encode("latin-1"), "not valid UTF-8"),
    "notext.csv": (b"body,date\nx,2023\n", "no 'text' column"),
    "emptydir": ("dir", "no .txt articles"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_exits_2_names_file_and_writes_nothing(tmp_path, capsys, name):
    content, problem = BAD_INPUTS[name]
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
        (path / "notes.md").write_text("no article", encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "p.csv"
    code, stdout, err = run(["paragraphs", path, "--out", out], capsys)
    assert code == 2
    assert err.startswith("error: ") and name in err and problem in err, err
    assert stdout == ""
    assert list(out_dir.iterdir()) == []  # neither the output nor a temporary file


def test_failure_keeps_an_existing_output_untouched(tmp_path, seed_path, capsys):
    out = tmp_path / "p.csv"
    out.write_text("previous,content\n", encoding="utf-8")
    code, _, _ = run(["paragraphs", seed_path, tmp_path / "missing.txt", "--out", out], capsys)
    assert code == 2
    assert out.read_text(encoding="utf-8") == "previous,content\n"


def test_out_in_missing_folder_names_the_folder(tmp_path, seed_path, capsys):
    out = tmp_path / "no" / "such" / "p.csv"
    code, _, err = run(["paragraphs", seed_path, "--out", out], capsys)
    assert code == 2
    assert "error:" in err and str(tmp_path / "no" / "such") in err and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_out_with_unknown_suffix(tmp_path, seed_path, capsys):
    code, _, err = run(["paragraphs", seed_path, "--out", tmp_path / "p.xlsx"], capsys)
    assert code == 2 and "p.xlsx" in err and ".csv" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv", [[], ["paragraphs"], ["paragraphs", "data/ttn-fr-56.txt"], ["no-such-command"]]
)
def test_usage_errors_exit_2(argv, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and "usage:" in err


def test_help_lists_paragraphs(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "paragraphs" in out


def test_console_script(tmp_path, seed_path):
    """The installed `analysis` script (pyproject [project.scripts]) runs end to end."""
    script = Path(sys.executable).with_name("analysis")
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    out = tmp_path / "p.csv"
    ok = subprocess.run([script, "paragraphs", seed_path, "--out", out],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert len(pd.read_csv(out)) == 14
    bad = subprocess.run([script, "paragraphs", tmp_path / "gone.txt", "--out", tmp_path / "q.csv"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "error:" in bad.stderr and "gone.txt" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "q.csv").exists()


# --- outputs are checked before any work (issue 18) ----------------------------------

needs_proc = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (no new files, even for root)")


@needs_proc
@pytest.mark.parametrize("command", ["paragraphs", "mentions", "score"])
def test_unwritable_out_fails_before_any_work(tmp_path, capsys, command):
    # the input does not exist: the error about --out shows the output was checked first
    code, stdout, err = run([command, tmp_path / "unread.txt", "--out", "/proc/x.csv"], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("error: /proc/x.csv: cannot write to folder '/proc'"), err


@needs_proc
def test_plot_unwritable_out_dir_fails_before_any_work(tmp_path, capsys):
    code, _, err = run(["plot", tmp_path / "unread.csv", "--out-dir", "/proc/x"], capsys)
    assert code == 2 and err.startswith("error: /proc/x: cannot write to folder '/proc'"), err


def test_plot_out_dir_that_is_a_file(tmp_path, capsys):
    scores = tmp_path / "s.csv"
    scores.write_text("doc_id,para_id,actor,score\nd,1,Russia,0.5\n", encoding="utf-8")
    taken = tmp_path / "figures"
    taken.write_text("keep me", encoding="utf-8")
    code, _, err = run(["plot", scores, "--out-dir", taken], capsys)
    assert code == 2 and err.startswith(f"error: {taken}: is a file, expected a folder"), err
    assert taken.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("command", ["paragraphs", "mentions", "score"])
def test_out_that_is_an_input_is_refused(tmp_path, capsys, monkeypatch, command):
    table = tmp_path / "t.csv"
    table.write_text("doc_id,text\nd1,La Russie et la Chine.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for out in ("t.csv", "./t.csv", tmp_path / "t.csv"):
        code, _, err = run([command, "t.csv", "--out", out], capsys)
        assert code == 2 and f"error: {out}: is also an input" in err, err
    assert table.read_text(encoding="utf-8") == "doc_id,text\nd1,La Russie et la Chine.\n"


@pytest.mark.parametrize("mask", [0o022, 0o027], ids=oct)
def test_output_file_mode_follows_the_umask(tmp_path, seed_path, capsys, mask):
    old = os.umask(mask)
    try:
        code, _, err = run(["paragraphs", seed_path, "--out", tmp_path / "p.csv"], capsys)
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "p.csv").stat().st_mode) == 0o666 & ~mask


class _Stop(Exception):
    """Raised by the spies below once they have seen the classifier settings."""


@pytest.mark.parametrize("command", ["evaluate", "score", "voices"])
def test_runtime_option_reaches_the_classifier(command, tmp_path, seed_path, monkeypatch):
    """``--runtime onnx`` is a classifier setting of every command that loads a model (it was dropped)."""
    import analysis.classifiers
    import analysis.scoring

    seen = {}

    def spy(*args, **settings):
        seen.update(settings)
        raise _Stop

    monkeypatch.setattr(analysis.classifiers, "load_classifier", spy)
    monkeypatch.setattr(analysis.scoring, "score_corpus", spy)
    argv = {
        "evaluate": ["evaluate", "contrast", str(DATA_DIR / "contrast" / "contrast_test.csv")],
        "score": ["score", str(seed_path), "--out", str(tmp_path / "s.csv")],
        "voices": ["voices", str(seed_path), "--out", str(tmp_path / "v.csv")],
    }[command]
    with pytest.raises(_Stop):
        main([*argv, "--runtime", "onnx", "--batch-size", "7"])
    assert seen["runtime"] == "onnx" and seen["batch_size"] == 7
    seen.clear()
    with pytest.raises(_Stop):
        main(argv)
    assert "runtime" not in seen, "unset: the model's own default"


def test_runtime_option_with_a_hub_model_is_a_clear_error(tmp_path, seed_path, capsys):
    assert main(["score", str(seed_path), "--model", "some/model", "--runtime", "onnx",
                 "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert "--runtime applies to the embedded model only" in err and "Traceback" not in err
    assert not (tmp_path / "s.csv").exists()
