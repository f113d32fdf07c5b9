"""Messy input end to end through the command line, interrupted runs, reproducible outputs.

Reading details (BOM, CR line ends, tables...) are tested in test_corpus.py, lexicon
errors in test_actors.py, model loading in test_hf.py; here every bad input goes
through ``analysis score`` / ``analysis mentions`` and must give exit status 2, a
message naming the file or field, and no output file (nor a temporary one).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.mentions import MAX_SENTENCE_CHARS
from analysis.schema import STANCE as STANCE_COLUMNS
from analysis.cli import main
from analysis.errors import InputError
from analysis.paths import DATA_DIR, PROJECT_ROOT


@pytest.fixture
def cli(capsys, monkeypatch, embedded_classifier):
    """``run(*argv) -> (status, stdout, stderr)`` in-process, no cache, sharing the session's embedded model."""
    import analysis.classifiers as classifiers

    monkeypatch.setenv("ANALYSIS_NO_CACHE", "1")
    real = classifiers.load_classifier

    def load(name="embedded", *, lazy=False, **kw):
        if lazy and str(name) == "embedded" and kw.get("batch_size", 32) == 32:
            handle = classifiers.LazyClassifier(name, **kw)
            object.__setattr__(handle, "_real", embedded_classifier)
            return handle
        return real(name, lazy=lazy, **kw)

    monkeypatch.setattr(classifiers, "load_classifier", load)

    def run(*argv):
        capsys.readouterr()
        status = main([os.fspath(a) for a in argv])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _article(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _assert_nothing_written(out_dir: Path):
    assert list(out_dir.iterdir()) == [], "neither the output nor a temporary file may be left"


# --- bad files ------------------------------------------------------------------------

BAD_FILES = {
    "empty.txt": (b"", "file is empty"),
    "blank.txt": (b"  \r\n\t\n", "empty"),
    "image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    "latin1.txt": ("La Russie à Pékin\n\nLa Chine répond.".encode("cp1252"), "not valid UTF-8"),
}


@pytest.mark.parametrize("command", ["score", "mentions"])
@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_exits_2_names_it_and_writes_nothing(tmp_path, cli, command, name):
    content, problem = BAD_FILES[name]
    path = _article(tmp_path, name, content)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, stdout, err = cli(command, path, "--out", out_dir / "table.csv")
    assert status == 2
    assert err.startswith("error: ") and os.fspath(path) in err and problem in err, err
    assert "Traceback" not in err and stdout == ""
    _assert_nothing_written(out_dir)


def test_one_bad_file_among_good_ones_stops_everything(tmp_path, cli, seed_path):
    bad = _article(tmp_path, "bad.txt", b"\xff\xfeR\x00u\x00")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, _, err = cli("score", seed_path, bad, "--out", out_dir / "stance.csv")
    assert status == 2 and "bad.txt" in err
    _assert_nothing_written(out_dir)


def test_malformed_actors_yaml(tmp_path, cli, seed_path):
    actors = _article(tmp_path, "my-actors.yaml", "actors:\n  Ukraine:\n    aliases: [Kyiv\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for command in ("score", "mentions"):
        status, _, err = cli(command, seed_path, "--actors", actors, "--out", out_dir / "t.csv")
        assert status == 2
        assert err.startswith("error: ") and "my-actors.yaml" in err and "invalid YAML" in err, err
    _assert_nothing_written(out_dir)


def test_actors_yaml_with_a_bad_field_names_the_field(tmp_path, cli, seed_path):
    actors = _article(tmp_path, "a.yaml", "actors:\n  Ukraine:\n    aliases:\n      - {text: Kyiv, case: upper}\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, _, err = cli("score", seed_path, "--actors", actors, "--out", out_dir / "t.csv")
    assert status == 2 and "a.yaml:4" in err and "'case'" in err
    _assert_nothing_written(out_dir)


def test_unknown_model_offline(tmp_path, cli, seed_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    start = time.monotonic()
    status, _, err = cli("score", seed_path, "--model", "example-org/no-such-model", "--out", out_dir / "s.csv")
    assert time.monotonic() - start < 30
    assert status == 2 and "example-org/no-such-model" in err and "not in the local Hugging Face cache" in err
    _assert_nothing_written(out_dir)


def test_output_in_a_missing_folder(tmp_path, cli, seed_path):
    out = tmp_path / "no" / "such" / "stance.csv"
    status, _, err = cli("score", seed_path, "--out", out)
    assert status == 2 and os.fspath(tmp_path / "no" / "such") in err and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_bad_chunk_size(tmp_path, cli, seed_path):
    status, _, err = cli("score", seed_path, "--chunk-size", "0", "--out", tmp_path / "s.csv")
    assert status == 2 and "chunk_size must be a positive integer, got 0" in err
    assert not (tmp_path / "s.csv").exists()


# --- unusual but valid input ---------------------------------------------------------------


def test_crlf_article_gives_the_same_table_as_lf(tmp_path, cli, seed_path):
    text = seed_path.read_text(encoding="utf-8")
    lf = _article(tmp_path, "lf.txt", text)
    crlf = _article(tmp_path, "crlf.txt", text.replace("\n", "\r\n").encode("utf-8"))
    assert cli("score", lf, "--out", tmp_path / "lf.csv")[0] == 0
    assert cli("score", crlf, "--out", tmp_path / "crlf.csv")[0] == 0
    assert (tmp_path / "lf.csv").read_bytes() == (tmp_path / "crlf.csv").read_bytes()


def test_title_without_body(tmp_path, cli):
    path = _article(tmp_path, "title-only.txt", "La Russie et la Chine signent un accord\n")
    status, stdout, err = cli("score", path, "--out", tmp_path / "s.csv")
    assert status == 0 and stdout == ""  # stdout stays clean: notes and progress go to stderr
    assert os.fspath(PROJECT_ROOT) not in err
    table = pd.read_csv(tmp_path / "s.csv")
    assert set(table.para_id) == {0} and set(table.actor) == {"China", "Russia"}


def test_article_without_any_actor_gives_a_header_only_table(tmp_path, cli):
    path = _article(tmp_path, "weather.txt", "Il pleut sur Lyon\n\nDemain, du soleil sur les Alpes.\n")
    status, _, err = cli("score", path, "--out", tmp_path / "s.csv")
    assert status == 0 and "wrote 0 stance row(s)" in err
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == ",".join([*STANCE_COLUMNS, "lang"]) + "\n"
    status, _, _ = cli("mentions", path, "--out", tmp_path / "m.csv")
    assert status == 0 and len(pd.read_csv(tmp_path / "m.csv")) == 0


def test_50000_character_paragraph_is_scored_in_windows(tmp_path, cli):
    filler = "et ainsi de suite sans jamais finir la phrase "
    body = filler * (25_100 // len(filler)) + "la Russie " + filler * (25_100 // len(filler)) + "la Chine"
    assert len(body) >= 50_000
    path = _article(tmp_path, "long.txt", "Un titre sans acteur\n\n" + body + "\n")
    status, _, err = cli("score", path, "--out", tmp_path / "s.csv")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "s.csv")
    assert sorted(table.actor) == ["China", "Russia"]
    # the model reads a window of the sentence around each mention (mentions.MAX_SENTENCE_CHARS)
    assert (table.evidence.str.len() <= MAX_SENTENCE_CHARS).all()
    assert table.evidence.str.contains("la Russie").any() and table.evidence.str.contains("la Chine").any()
    assert table.evidence.map(lambda window: window in body).all()  # a piece of the text, never altered
    assert ((table.p_against + table.p_neutral + table.p_favor - 1).abs() < 1e-5).all()


def test_unknown_language_still_works(tmp_path, cli):
    # Toki Pona (no language model knows it) and an explicit 'und' / unknown code in a table
    path = _article(tmp_path, "tp.txt", "jan lawa pi ma Russia li toki\n\nma Russia en ma China li pona ala.\n")
    status, _, err = cli("score", path, "--out", tmp_path / "tp.csv")
    assert status == 0, err
    assert {"Russia", "China"} <= set(pd.read_csv(tmp_path / "tp.csv").actor)
    table = tmp_path / "t.jsonl"
    rows = [{"doc_id": "u1", "lang": "und", "text": "Russia and China, 2024."},
            {"doc_id": "u2", "lang": "qaa", "text": "sina sona ala e ma Russia."}]
    table.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    status, _, err = cli("score", table, "--out", tmp_path / "u.csv")
    assert status == 0, err
    assert set(pd.read_csv(tmp_path / "u.csv").doc_id) == {"u1", "u2"}


# --- property tests: reading arbitrary Unicode -------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=300)
_LINES = st.lists(st.one_of(_TEXT, st.sampled_from(["", " ", "\r", "\t", "Russie", "ttn-x-1"])), max_size=12)


def _visible(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=_LINES, crlf=st.booleans(), bom=st.booleans())
def test_property_reading_any_unicode_text_file(tmp_path, lines, crlf, bom):
    from analysis.corpus import read_articles

    text = ("\r\n" if crlf else "\n").join(lines)
    path = tmp_path / "article.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    try:
        paragraphs = read_articles([path])
    except InputError as exc:
        assert "article.txt" in str(exc)
        assert not _visible(text.replace("\ufeff", ""))  # only a file with nothing to read is refused
        return
    assert list(paragraphs.para_id) == list(range(len(paragraphs)))
    for para in paragraphs.text:
        assert para and "\r" not in para and para == para.strip()
        assert all(line == line.strip() and line for line in para.split("\n"))
    doc_id = paragraphs.doc_id.iloc[0]
    kept = "".join(paragraphs.text) + ("" if doc_id == "article" else doc_id)
    assert _visible(kept) == _visible(text.replace("\r", "\n"))  # nothing lost, nothing invented


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT, min_size=1, max_size=4))
def test_property_reading_and_finding_mentions_in_any_unicode_table(tmp_path, texts):
    from analysis.mentions import find_mentions
    from analysis.corpus import read_articles

    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps({"text": t + " Russie"}) for t in texts) + "\n", encoding="utf-8")
    paragraphs = read_articles([path])
    assert paragraphs.doc_id.nunique() == len(texts)
    mentions = find_mentions(paragraphs)
    by_key = paragraphs.set_index(["doc_id", "para_id"]).text
    for row in mentions.itertuples(index=False):
        text = by_key[(row.doc_id, row.para_id)]
        assert text[row.start:row.end] == row.surface
        assert text[row.sentence_start:row.sentence_start + len(row.sentence)] == row.sentence


# --- real processes: reproducible bytes, interrupted runs ---------------------------------


def _env(cache: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", ANALYSIS_CACHE_DIR=os.fspath(cache), ANALYSIS_NO_PROGRESS="1")
    env.pop("ANALYSIS_NO_CACHE", None)
    env["PYTHONPATH"] = os.pathsep.join([os.fspath(PROJECT_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _score_cmd(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "analysis", "score", os.fspath(corpus), "--out", os.fspath(out),
            "--chunk-size", "40", *extra]


@pytest.fixture(scope="module")
def corpus_and_cache(tmp_path_factory):
    """A 30-article JSONL corpus (the seed and its translations, paragraphs rotated) and a cache
    folder that shares the already-derived e5 base (so only model outputs start empty)."""
    from analysis.classifiers.e5 import derive_base
    from analysis.corpus import read_articles

    root = tmp_path_factory.mktemp("interrupt")
    cache = root / "cache"
    cache.mkdir()
    base = derive_base()
    (cache / base.name).symlink_to(base, target_is_directory=True)
    files = [DATA_DIR / "ttn-fr-56.txt", *sorted((DATA_DIR / "translations").glob("*.txt"))]
    source = read_articles([os.fspath(f) for f in files])
    docs = [list(g.text) for _, g in source.groupby("doc_id", sort=True)]
    corpus = root / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for i in range(30):
            paras = docs[i % len(docs)]
            k = 1 + (i // len(docs)) % (len(paras) - 1)
            fh.write(json.dumps({"doc_id": f"a{i:02d}", "text": "\n\n".join(paras[k:] + paras[:k])}) + "\n")
    return corpus, cache


def _stored_calls(cache: Path) -> int:
    total = 0
    for path in (cache / "outputs").glob("*.sqlite"):
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'outputs'").fetchone():
                total += con.execute("SELECT count(*) FROM outputs").fetchone()[0]
        finally:
            con.close()
    return total


def _interrupt(cmd, env, sig, after_calls, cache, timeout=240):
    # Ctrl-C's default action in the child, even when this run inherited SIGINT ignored (a shell's
    # background job): Python then turns it into KeyboardInterrupt
    child = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + timeout
    try:
        while child.poll() is None and time.monotonic() < deadline:
            if (cache / "outputs").is_dir() and _stored_calls(cache) >= after_calls:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the run ended before it could be interrupted; make the corpus bigger"
        child.send_signal(sig)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return child.returncode, err.decode(errors="replace")


def test_interrupted_runs_leave_no_output_and_a_sound_cache(tmp_path, corpus_and_cache):
    corpus, cache = corpus_and_cache
    env = _env(cache)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    reference = tmp_path / "reference.csv"
    done = subprocess.run(_score_cmd(corpus, reference, "--no-cache"), cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not (cache / "outputs").exists() or _stored_calls(cache) == 0  # --no-cache wrote nothing
    out = out_dir / "stance.csv"

    status, err = _interrupt(_score_cmd(corpus, out), env, signal.SIGINT, 2, cache)
    assert status == 130 and "error: interrupted" in err and "Traceback" not in err, (status, err[-2000:])
    _assert_nothing_written(out_dir)
    kept = _stored_calls(cache)
    assert kept >= 2

    status, _ = _interrupt(_score_cmd(corpus, out), env, signal.SIGKILL, kept + 2, cache)
    assert status == -signal.SIGKILL
    _assert_nothing_written(out_dir)
    kept_after_kill = _stored_calls(cache)  # opens, passes the integrity check
    assert kept_after_kill >= kept + 2

    done = subprocess.run(_score_cmd(corpus, out), cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert [p.name for p in out_dir.iterdir()] == ["stance.csv"]

    again = out_dir / "again.csv"
    done = subprocess.run(_score_cmd(corpus, again), cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == reference.read_bytes()  # fully cached run: the same bytes
    assert str(tmp_path) not in again.read_text(encoding="utf-8")
    table = pd.read_csv(again)
    assert list(table.columns) == [*STANCE_COLUMNS, "lang"] and table.doc_id.nunique() == 30
