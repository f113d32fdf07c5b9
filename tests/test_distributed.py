"""Scoring a corpus by document batches, on a Dask cluster and into a partitioned Parquet dataset."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import score_corpus
from analysis.batches import Batch, count_rows, plan_batches, read_batch
from analysis.classifiers.base import MentionClassifier
from analysis.cli import main
from analysis.schema import rounded_for_file
from analysis.distributed import SUCCESS, ClusterError, read_scores
from analysis.errors import InputError
from analysis.paths import DATA_DIR

SEED_AND_TRANSLATIONS = [str(DATA_DIR / "ttn-fr-56.txt"), str(DATA_DIR / "translations")]


class HashClassifier(MentionClassifier):
    """A stand-in model: probabilities from a hash of each sentence and span (the same in every process).

    ``log``: a file to which each process that unpickles it appends its pid.  ``kill``: a word;
    the first call on a sentence holding it kills its own process (``"always"``: every such call),
    or, with ``at_write``, makes the next Parquet write die half-way.  ``marker``: the file that
    says the kill happened.
    """

    def __init__(self, log=None, kill=None, marker=None, always=False, at_write=False):
        super().__init__("test:hash")
        self.log, self.kill, self.marker, self.always, self.at_write = log, kill, marker, always, at_write
        self.calls = 0

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\n")

    def predict_proba(self, sentences, spans):
        self.calls += 1
        if self.kill and any(self.kill in s for s in sentences) and (self.always or not Path(self.marker).exists()):
            Path(self.marker).touch()
            if self.at_write:
                _die_in_next_parquet_write()
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        rows = []
        for sentence, (a, b) in zip(sentences, spans):
            digest = hashlib.sha256(f"{sentence}|{a}|{b}".encode("utf-8", "surrogatepass")).digest()
            raw = np.frombuffer(digest[:12], dtype=np.uint32).astype(np.float64) + 1.0
            rows.append(raw / raw.sum())
        return np.array(rows, dtype=np.float64).reshape(len(sentences), 3)


def _die_in_next_parquet_write():
    """Make pyarrow's next Parquet write in this process stop half-way and kill the process."""
    import pyarrow.parquet as pq

    def half_then_die(table, where, **kw):
        Path(where).write_bytes(b"PAR1" + b"\0" * 100)  # a truncated file, then the worker is gone
        os.kill(os.getpid(), signal.SIGKILL)

    pq.write_table = half_then_die


def _articles(folder: Path, n: int = 5) -> Path:
    """A JSON Lines table of ``n`` articles from the translations, with date and outlet metadata."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((DATA_DIR / "translations").glob("*.txt"))]
    path = folder / "wire.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            lines = texts[i % len(texts)].strip().split("\n\n")
            body = "\n\n".join(lines[1:-1][: 4 + i])  # no title line, no id line
            fh.write(json.dumps({"text": body, "date": f"2024-03-{i + 1:02d}", "outlet": f"Outlet {i % 2}"},
                                ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module", autouse=True)
def no_leaked_workers():
    """After the module (clusters are closed by their fixtures first), no Dask worker process is left."""
    yield
    deadline = time.monotonic() + 10
    while [p for p in multiprocessing.active_children() if "Dask" in p.name] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p.name for p in multiprocessing.active_children() if "Dask" in p.name] == []


@pytest.fixture(scope="module")
def cluster():
    """A local Dask cluster of 2 single-threaded worker processes, closed after the module."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            Client(lc, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def tiny_nli(tiny_hf_model):
    return str(tiny_hf_model())


# --- batches: planned without reading, read with read_articles' rules -------------------------------


def test_plan_reads_no_article(tmp_path, monkeypatch):
    (tmp_path / "texts").mkdir()
    for i in range(5):
        (tmp_path / "texts" / f"a{i}.txt").write_text(f"Title {i}\n\nLa Russie {i}.\n", encoding="utf-8")
    table = _articles(tmp_path, 7)
    csv = tmp_path / "t.csv"
    csv.write_text('text,outlet\n"one\n\ntwo",A\nthree,B\n"fo""ur",C\n', encoding="utf-8")
    pd.DataFrame({"text": [f"t{i}" for i in range(9)]}).to_parquet(tmp_path / "t.parquet")

    def refuse(*args, **kw):
        raise AssertionError("the planner read an article")

    monkeypatch.setattr("analysis.corpus.read_articles", refuse)
    monkeypatch.setattr("analysis.io.read_table", refuse)
    monkeypatch.setattr("pandas.read_parquet", refuse)
    batches = plan_batches([tmp_path / "texts", table, csv, tmp_path / "t.parquet"], documents=2)
    shown = [(len(b.files), b.rows, b.n_documents) for b in batches]
    assert shown == [
        (2, None, 2), (2, None, 2), (1, None, 1),  # 5 text articles
        (1, (0, 2), 2), (1, (2, 4), 2), (1, (4, 6), 2), (1, (6, None), 1),  # 7 JSONL rows
        (1, (0, 2), 2), (1, (2, None), 1),  # 3 CSV rows, one with quoted line breaks
        (1, (0, 2), 2), (1, (2, 4), 2), (1, (4, 6), 2), (1, (6, 8), 2), (1, (8, None), 1),  # 9 Parquet rows
    ]
    assert [b.index for b in batches] == list(range(len(batches)))
    assert count_rows(csv) == 3


def test_row_batches_keep_their_place_in_the_file(tmp_path):
    from analysis.corpus import read_articles

    table = _articles(tmp_path, 5)
    whole = read_articles([table])
    parts = [read_batch(b) for b in plan_batches([table], documents=2)]
    assert [p["doc_id"].unique().tolist() for p in parts] == [["wire-1", "wire-2"], ["wire-3", "wire-4"], ["wire-5"]]
    joined = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole, check_exact=True)  # metadata and source included

    with open(table, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "  ", "outlet": "x"}) + "\n")
    last = plan_batches([table], documents=2)[-1]
    with pytest.raises(InputError, match=r"wire\.jsonl \(row 6\): empty 'text'") as err:
        read_batch(last)
    assert "analysis-rows" not in str(err.value)  # names the user's file, not the temporary one


def test_a_range_past_the_end_is_empty(tmp_path):
    table = _articles(tmp_path, 2)
    stamps = ((table.stat().st_size, table.stat().st_mtime_ns),)
    assert read_batch(Batch(0, (str(table),), (5, None), 0, stamps)).empty


def test_folder_of_tables(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    _articles(folder, 3)
    assert [b.files for b in plan_batches([folder], documents=2)] == [(str(folder / "wire.jsonl"),)] * 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .txt articles and no tables"):
        plan_batches([tmp_path / "empty"])


# --- one process: parts, marker, resume ------------------------------------------------------------


def test_out_folder_parts_marker_and_resume(tmp_path):
    table = _articles(tmp_path, 5)
    inputs = [SEED_AND_TRANSLATIONS[0], table]
    model = HashClassifier()
    whole = score_corpus(inputs, model, cache=False, progress=False, batch_documents=2)
    assert {"date", "outlet", "lang"} <= set(whole.columns)
    out = tmp_path / "scores"
    assert score_corpus(inputs, model, cache=False, progress=False, batch_documents=2, out=out) is None
    names = sorted(p.name for p in out.iterdir())
    assert names == [SUCCESS, "part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "part-00003.parquet"]
    pd.testing.assert_frame_equal(read_scores(out), rounded_for_file(whole), check_exact=True)
    assert json.loads((out / SUCCESS).read_text())["n_documents"] == 6

    calls = model.calls
    score_corpus(inputs, model, cache=False, progress=False, batch_documents=2, out=out)
    assert model.calls == calls  # every part was there: nothing scored again

    (out / "part-00002.parquet").unlink()
    (out / SUCCESS).unlink()
    score_corpus(inputs, model, cache=False, progress=False, batch_documents=2, out=out)
    assert model.calls == calls + 1  # only the missing batch
    pd.testing.assert_frame_equal(read_scores(out), rounded_for_file(whole), check_exact=True)

    time.sleep(0.01)
    with open(table, "a", encoding="utf-8") as fh:  # a changed input: its batches are scored again
        fh.write(json.dumps({"text": "La Chine et la Russie.", "outlet": "Outlet 9"}) + "\n")
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    score_corpus(inputs, model, cache=False, progress=False, batch_documents=2, out=out)
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    assert after["part-00000.parquet"] == before["part-00000.parquet"]  # the seed's batch is kept
    assert after["part-00001.parquet"] != before["part-00001.parquet"]
    assert len(read_scores(out)) > len(whole)


def test_a_process_keeps_its_model_for_the_next_job(tiny_nli, monkeypatch):
    import analysis.classifiers as classifiers
    import analysis.scoring as scoring

    loads = []
    load = classifiers.load_classifier

    def counting(name, **kw):
        if not kw.get("lazy"):
            loads.append(name)
        return load(name, **kw)

    monkeypatch.setattr(classifiers, "load_classifier", counting)
    monkeypatch.setattr(scoring, "_HELD_MODEL", {})
    first = score_corpus(SEED_AND_TRANSLATIONS[:1], tiny_nli, cache=False, progress=False)
    again = score_corpus(SEED_AND_TRANSLATIONS[:1], tiny_nli, cache=False, progress=False)
    assert loads == [tiny_nli]
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    score_corpus(SEED_AND_TRANSLATIONS[:1], tiny_nli, batch_size=4, cache=False, progress=False)
    assert loads == [tiny_nli, tiny_nli]  # other settings: loaded anew (one model held at a time)


def test_incomplete_folder_is_not_read(tmp_path):
    out = tmp_path / "scores"
    score_corpus(SEED_AND_TRANSLATIONS[:1], HashClassifier(), cache=False, progress=False, out=out)
    (out / SUCCESS).unlink()
    with pytest.raises(InputError, match="incomplete"):
        read_scores(out)


def test_same_doc_id_in_two_batches_is_refused(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"doc_id": "d1", "text": "La Russie."}\n', encoding="utf-8")
    b.write_text('{"doc_id": "d1", "text": "La Chine."}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"duplicate doc_id 'd1': in batch 0 \(.*a\.jsonl\) and in batch 1"):
        score_corpus([a, b], HashClassifier(), cache=False, progress=False)


# --- a cluster of 2 worker processes: the single-process table, row for row, float for float ----------


def test_tiny_model_on_the_cluster_is_the_single_process_table(cluster, tiny_nli, tmp_path):
    inputs = [*SEED_AND_TRANSLATIONS, _articles(tmp_path, 5)]
    single = score_corpus(inputs, tiny_nli, cache=False, progress=False, batch_documents=2)
    spread = score_corpus(inputs, tiny_nli, cache=False, progress=False, batch_documents=2, client=cluster)
    assert len(single) > 100 and single["outlet"].notna().any() and single["date"].notna().any()
    pd.testing.assert_frame_equal(spread, single, check_exact=True)
    assert spread.attrs == single.attrs


def test_embedded_model_on_the_cluster_is_the_single_process_table(cluster):
    single = score_corpus(SEED_AND_TRANSLATIONS, cache=False, progress=False, batch_documents=2)
    spread = score_corpus(SEED_AND_TRANSLATIONS, cache=False, progress=False, batch_documents=2, client=cluster)
    assert set(single["lang"]) == {"fr", "de", "en", "es", "ru", "zh"}
    pd.testing.assert_frame_equal(spread, single, check_exact=True)


def test_each_worker_unpacks_the_job_once(cluster, tmp_path):
    log = tmp_path / "unpickled.txt"
    spread = score_corpus(SEED_AND_TRANSLATIONS, HashClassifier(log=str(log)), cache=False, progress=False,
                          batch_documents=1, client=cluster)  # 6 batches on 2 workers
    pids = log.read_text().split()
    assert len(pids) == len(set(pids)) <= 2, pids
    single = score_corpus(SEED_AND_TRANSLATIONS, HashClassifier(), cache=False, progress=False, batch_documents=1)
    pd.testing.assert_frame_equal(spread, single, check_exact=True)


def test_shared_cache_with_concurrent_workers(cluster, tiny_nli, tmp_path):
    cache = tmp_path / "cache"
    fresh = score_corpus(SEED_AND_TRANSLATIONS, tiny_nli, cache=False, progress=False, batch_documents=1)
    spread = score_corpus(SEED_AND_TRANSLATIONS, tiny_nli, cache=cache, progress=False, batch_documents=1,
                          client=cluster)
    stores = list(cache.glob("*.sqlite"))
    assert len(stores) == 1
    import sqlite3

    with sqlite3.connect(stores[0]) as conn:
        assert conn.execute("SELECT count(*) FROM outputs").fetchone()[0] == 6  # one model call per batch
    again = score_corpus(SEED_AND_TRANSLATIONS, tiny_nli, cache=cache, progress=False, batch_documents=1)
    pd.testing.assert_frame_equal(spread, fresh, check_exact=True)
    pd.testing.assert_frame_equal(again, fresh, check_exact=True)


def _put_many(root, worker, n):
    from analysis.cache import OutputCache

    store = OutputCache(root, "identity")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a locked store would disable the cache with a warning
        for i in range(n):
            store.put(f"{worker}-{i}".encode(), os.urandom(2048))


def test_output_cache_takes_concurrent_writers(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_put_many, args=(tmp_path, w, 300)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    from analysis.cache import OutputCache

    assert len(OutputCache(tmp_path, "identity")) == 900


# --- workers that die ---------------------------------------------------------------------------------


@pytest.fixture
def fragile_cluster(request):
    """A fresh 2-worker cluster (workers get killed here); ``allowed-failures`` from the test's param."""
    import dask
    from distributed import Client, LocalCluster

    allowed = getattr(request, "param", 3)
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            Client(lc, set_as_default=False) as client:
        yield client


@pytest.mark.parametrize("at_write", [False, True], ids=["while-scoring", "while-writing"])
def test_a_killed_worker_does_not_stop_the_job(fragile_cluster, tmp_path, at_write):
    out = tmp_path / "scores"
    marker = tmp_path / "killed"
    model = HashClassifier(kill="Peking", marker=str(marker), at_write=at_write)
    score_corpus(SEED_AND_TRANSLATIONS, model, cache=False, progress=False, batch_documents=1,
                 client=fragile_cluster, out=out)
    assert marker.exists()  # a worker did die
    assert sorted(p.name for p in out.iterdir()) == [SUCCESS, *(f"part-0000{i}.parquet" for i in range(6))]
    single = score_corpus(SEED_AND_TRANSLATIONS, HashClassifier(), cache=False, progress=False, batch_documents=1)
    pd.testing.assert_frame_equal(read_scores(out), rounded_for_file(single), check_exact=True)


@pytest.mark.parametrize("fragile_cluster", [0], indirect=True)
def test_a_batch_that_kills_its_workers_stops_the_job_clearly(fragile_cluster, tmp_path):
    out = tmp_path / "scores"
    model = HashClassifier(kill="Peking", marker=str(tmp_path / "killed"), always=True)
    with pytest.raises(ClusterError, match=r"batch \d \(.*\): 1 workers died while scoring it"):
        score_corpus(SEED_AND_TRANSLATIONS, model, cache=False, progress=False, batch_documents=1,
                     client=fragile_cluster, out=out)
    assert not (out / SUCCESS).exists()
    for part in out.glob("part-*.parquet"):  # what is there is whole
        assert len(pd.read_parquet(part)) > 0
    assert not list(out.glob(".*"))


# --- the command line ---------------------------------------------------------------------------------


def test_cli_on_a_cluster_writes_the_single_process_table(cluster, tiny_nli, tmp_path, capsys):
    common = [*SEED_AND_TRANSLATIONS, "--model", tiny_nli, "--no-cache", "--batch-documents", "2"]
    assert main(["score", *common, "--out", str(tmp_path / "single.parquet")]) == 0
    code = main(["score", *common, "--scheduler", cluster.scheduler.address, "--out", f"{tmp_path / 'spread'}/"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Dask dashboard: http" in err and "wrote 3 part(s)" in err
    single = pd.read_parquet(tmp_path / "single.parquet")
    spread = read_scores(tmp_path / "spread")
    assert list(spread.columns) == list(single.columns)
    pd.testing.assert_frame_equal(spread, single, check_exact=True, check_dtype=False)  # object vs str text


def test_local_workers_are_single_threaded_processes(monkeypatch):
    from analysis.distributed import dask_client

    # what an earlier default LocalCluster leaves in this process's environment
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = dict(os.environ)
    with dask_client(workers=2) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        assert [w["nthreads"] for w in workers] == [1, 1]
        pids = client.run(os.getpid)
        assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
        settings = client.run(lambda: {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")})
        # glibc's trim setting would make every large tensor of a forward pass an mmap + munmap
        assert all(s == {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"} for s in settings.values()), settings
        assert dict(os.environ) == before, "the nanny's worker settings stay out of this process"
    assert client.status == "closed"


def test_cli_unreachable_scheduler_fails_fast(seed_path, tmp_path, capsys):
    t0 = time.monotonic()
    code = main(["score", str(seed_path), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - t0 < 30
    assert err.startswith("error: scheduler tcp://127.0.0.1:9: no Dask scheduler answered"), err
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_folder_holding_other_files(seed_path, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code = main(["score", str(seed_path), "--out", f"{tmp_path}/"])
    err = capsys.readouterr().err
    assert code == 2 and "holds other files (notes.txt)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_cuda_workers(cluster, tiny_nli):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    single = score_corpus(SEED_AND_TRANSLATIONS, tiny_nli, device="cuda", cache=False, progress=False)
    spread = score_corpus(SEED_AND_TRANSLATIONS, tiny_nli, device="cuda", cache=False, progress=False,
                          client=cluster)
    pd.testing.assert_frame_equal(spread, single, check_exact=True)
