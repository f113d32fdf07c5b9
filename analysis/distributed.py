"""Running corpus scoring on Dask, and writing it as a partitioned Parquet dataset.

:func:`analysis.score_corpus` cuts a corpus into batches of whole documents
(:mod:`analysis.batches`) and hands them with its job (a
:class:`~analysis.scoring.CorpusScorer`) to :func:`run_batches`, which runs
them in this process or, given a ``dask.distributed`` client, as one task per
batch on the cluster's workers.  ``analysis score --workers N`` starts a local
cluster of N single-threaded worker processes, ``--scheduler ADDRESS`` joins a
running one (:func:`dask_client`).

Workers
    The job goes to each worker once, as a worker plugin (a worker that joins
    or is restarted gets it too), so each worker process loads the classifier
    once, on its first batch, and keeps it for the others.  Dask starts worker
    processes with ``OMP_NUM_THREADS=1``: one model thread per worker.  With
    ``device="cuda"`` every worker puts its model on its GPU: run one worker
    per GPU.

Output cache on a cluster
    ``cache=True`` is resolved on each worker: ``$ANALYSIS_CACHE_DIR`` (or the
    user cache folder) of the machine it runs on.  Workers of one machine share
    that store safely (SQLite in WAL mode, one transaction per model call,
    30 s busy timeout); workers of different machines each have their own.  Never
    point the cache at a network file system (SQLite's locks are not reliable
    there); ``cache=False`` switches it off.

Output folder (``out=``)
    ``part-00000.parquet``, ... one per batch, written atomically by the worker
    that scored it (a hidden temporary file renamed into place, so a killed
    worker leaves no half-written part), holding the table's rows for that batch
    with probabilities rounded as ``analysis score`` writes every table; each
    part's metadata names the batch's inputs (paths, sizes, times) and the job
    (model identity, chunk size, lexicon).  ``_SUCCESS`` (JSON: the counts) is
    written last, once every part is there.  A run first removes ``_SUCCESS``;
    a re-run skips every part whose stored identity matches its batch, so a
    stopped job resumes where it stopped.  :func:`read_scores` reads the folder
    back as the table :func:`~analysis.score_corpus` returns.  On a cluster the
    folder must be on a file system every worker writes to.

Failures
    Bad input raises :class:`~analysis.errors.InputError` from the worker
    (the remaining tasks are cancelled).  A worker that dies (killed, out of
    memory) has its batch run again elsewhere; a batch that takes down
    ``distributed.scheduler.allowed-failures`` + 1 workers (4 by default) stops
    the job with :class:`ClusterError`, keeping the parts already written.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["SUCCESS", "ClusterError", "check_output_folder", "dask_client", "read_scores", "run_batches"]

#: Completion marker of an output folder, written last.
SUCCESS = "_SUCCESS"
#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 10
_PART = re.compile(r"part-(\d{5,})\.parquet")
_STALE = ".part-*.tmp.parquet"  # temporary parts (io.atomic_path) left by a killed worker
_META_KEY = b"analysis"
_SORT = ["doc_id", "para_id", "actor"]


#: Dask settings of the local cluster's workers (``dask_client(workers=N)``).  Dask starts
#: workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's adaptive mmap
#: threshold: every tensor of the model's forward pass over 128 KiB is then mapped and
#: unmapped again, page by page (40 % more CPU seconds per sentence, mostly in the kernel;
#: ``benchmarks/run.py dask``); unset, freed blocks are reused.  The statistical profiler
#: samples every thread's stack many times a second (about 7 % of the workers' CPU seconds on
#: 2 cores) for a dashboard tab.  Workers of a cluster you start yourself take the same
#: settings from a Dask config file (README, "Scoring a large corpus").
LOCAL_WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}


class ClusterError(RuntimeError):
    """The cluster could not finish the job (workers kept dying on a batch)."""


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                timeout: float = CONNECT_TIMEOUT) -> Iterator[Any]:
    """A ``dask.distributed`` client for ``with``: a local cluster, a running one, or None.

    Parameters
    ----------
    workers : int, optional
        Start a local cluster of this many worker processes, one thread each
        (closed when the block ends).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    timeout : float
        Seconds to wait for that scheduler.

    Yields
    ------
    Client or None
        None when neither ``workers`` nor ``scheduler`` is given.

    Raises
    ------
    InputError
        Both given, ``workers`` not a positive integer, or no scheduler answering
        at ``scheduler`` within ``timeout`` seconds.
    """
    if workers is not None and scheduler is not None:
        raise InputError("give either a number of local workers or a scheduler address, not both")
    if workers is None and scheduler is None:
        yield None
        return
    if scheduler is None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise InputError(
                f"scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s ({exc}); "
                "check the address (tcp://HOST:8786) and that dask-scheduler runs there"
            ) from None
        with client:
            yield client
        return
    import dask

    with dask.config.set(LOCAL_WORKER_CONFIG), contextlib.ExitStack() as stack:
        with _spawn_environment():
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       silence_logs=logging.ERROR))
        yield stack.enter_context(Client(cluster, set_as_default=False))


@contextlib.contextmanager
def _spawn_environment() -> Iterator[None]:
    """``os.environ`` without ``MALLOC_TRIM_THRESHOLD_`` while local workers start, as it was after.

    Dask's nanny writes its worker settings (``OMP_NUM_THREADS=1``, Dask's default
    ``MALLOC_TRIM_THRESHOLD_``) into this process's environment before it starts a worker,
    and keeps them there: a cluster started earlier in the process would pass the trim
    setting on to these workers, and after the block this process would run ONNX Runtime
    with one thread.
    """
    saved = dict(os.environ)
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check_output_folder(out: str | os.PathLike) -> None:
    """Fail early, before any work, if ``out`` cannot take a partitioned dataset.

    Raises
    ------
    InputError
        ``out`` is a file, cannot be created or written to, or is a folder
        holding files other than a dataset's parts and marker.
    """
    from .io import check_output_dir

    folder = Path(out)
    check_output_dir(folder)
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir()
                        if p.name != SUCCESS and not _PART.fullmatch(p.name) and not p.match(_STALE))
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise InputError(f"{out}: folder holds other files ({shown}); write the dataset to a new or empty folder")


def run_batches(batches: Sequence[Any], job: Any, *, client: Any = None, out: str | os.PathLike | None = None,
                progress: bool = True) -> Any:
    """Run ``job`` on every batch, here or on a Dask cluster, and gather the stance table.

    Parameters
    ----------
    batches : sequence of Batch
        From :func:`analysis.batches.plan_batches`.
    job : CorpusScorer
        Called on each batch: ``job(batch) -> (stance table, counts)``; it has
        ``fingerprint()`` and ``model_id``.
    client : dask.distributed.Client, optional
        Run the batches as tasks on this cluster (None: in this process, in order).
    out : folder, optional
        Write one Parquet part per batch there and the ``_SUCCESS`` marker last
        (skipping the parts an earlier run wrote for the same batch and job).
    progress : bool
        A progress bar (stderr) over documents and, with a client, the dashboard link.

    Returns
    -------
    DataFrame or None
        The batches' tables in one, sorted by (doc_id, para_id, actor), ``attrs``
        holding ``n_documents``, ``n_paragraphs``, ``n_mentions`` and ``model``;
        None when ``out`` is given.

    Raises
    ------
    InputError
        Bad input in a batch, or the same doc_id in two batches.
    ClusterError
        Workers kept dying on a batch.
    """
    from .progress import enabled, progress_bar
    from .progress import progress as _progress

    job_print = job.fingerprint()
    prints = {b.index: _batch_print(job_print, b) for b in batches}
    folder = _open_folder(out) if out is not None else None
    results: dict[int, dict] = {}
    if folder is not None:
        for batch in batches:
            done = _written(folder, batch.index, prints[batch.index])
            if done is not None:
                results[batch.index] = done
    todo = [b for b in batches if b.index not in results]
    total = sum(b.n_documents for b in batches)
    owners: dict[str, int] = {}
    with _progress(progress):
        if client is not None and enabled():
            _note_dashboard(client)
        bar = progress_bar(total, "scoring", unit="doc", min_total=1 if len(batches) > 1 else total + 1, leave=True)
        for index in sorted(results):
            _check_unique(results[index], owners, batches)
            bar.update(results[index]["n_documents"])
        runs = _run_here(todo, job, prints, folder) if client is None else _run_on(client, todo, job, prints, folder)
        with contextlib.closing(runs):
            for result in runs:
                _check_unique(result, owners, batches)
                results[result["index"]] = result
                bar.update(result["n_documents"])
        bar.close()
    summary = {key: sum(r[key] for r in results.values()) for key in ("n_documents", "n_paragraphs", "n_mentions")}
    summary["model"] = job.model_id
    if folder is not None:
        _finish(folder, len(batches), {**summary, "n_parts": len(batches)})
        return None
    return _combine([results[b.index]["table"] for b in batches], summary)


def read_scores(folder: str | os.PathLike) -> Any:
    """The stance table of a dataset written by ``score_corpus(out=...)`` / ``analysis score --out DIR/``.

    Returns
    -------
    DataFrame
        The parts in one, sorted by (doc_id, para_id, actor); ``attrs`` holds the
        marker's counts.

    Raises
    ------
    InputError
        No ``_SUCCESS`` marker (the run did not finish: run it again to resume).
    """
    import pandas as pd

    folder = Path(folder)
    marker = folder / SUCCESS
    if not marker.is_file():
        raise InputError(
            f"{folder}: no {SUCCESS} marker, the dataset is incomplete; run the same command again to finish it"
        )
    parts = sorted(p for p in folder.iterdir() if _PART.fullmatch(p.name))
    return _combine([_read_part(p) for p in parts], json.loads(marker.read_text(encoding="utf-8")))


# --- running ------------------------------------------------------------------------


def _run_here(todo: Sequence[Any], job: Any, prints: dict, folder: Path | None) -> Iterator[dict]:
    for batch in todo:
        yield _run_one(job, batch, prints[batch.index], folder)


def _run_on(client: Any, todo: Sequence[Any], job: Any, prints: dict, folder: Path | None) -> Iterator[dict]:
    """Run the batches as tasks on ``client``'s cluster; results in order of completion."""
    from distributed import KilledWorker, as_completed

    name = f"analysis-job-{uuid.uuid4().hex[:12]}"
    client.register_plugin(_job_plugin(job), name=name)
    futures = [client.submit(_task, name, batch, prints[batch.index], folder, key=f"{name}-{batch.index}")
               for batch in todo]
    by_key = {f.key: batch for f, batch in zip(futures, todo)}
    try:
        for future in as_completed(futures, loop=client.loop):
            try:
                result = future.result()
            except KilledWorker as exc:
                allowed = _allowed_failures()
                raise ClusterError(
                    f"{by_key[future.key]}: {allowed + 1} workers died while scoring it (killed, or out of memory: "
                    f"see the worker logs); the job stopped, the parts already written are kept: run it again to "
                    f"resume"
                ) from exc
            future.release()
            yield result
    finally:
        client.cancel(futures)
        with contextlib.suppress(Exception):  # the cluster may be gone already
            client.unregister_worker_plugin(name)


def _allowed_failures() -> int:
    import dask

    return int(dask.config.get("distributed.scheduler.allowed-failures"))


def _job_plugin(job: Any) -> Any:
    """A worker plugin holding ``job``: sent to every worker once (and to workers that join later)."""
    from distributed import WorkerPlugin

    class JobPlugin(WorkerPlugin):
        def __init__(self, job: Any):
            self.job = job

    return JobPlugin(job)


def _task(name: str, batch: Any, fingerprint: str, folder: Path | None) -> dict:
    """One batch on a worker, with the job of the worker plugin ``name``."""
    from distributed import get_worker

    return _run_one(get_worker().plugins[name].job, batch, fingerprint, folder)


def _run_one(job: Any, batch: Any, fingerprint: str, folder: Path | None) -> dict:
    """Score one batch; with a ``folder`` write its part and return only the counts."""
    stance, counts = job(batch)
    result = {"index": batch.index, **counts}
    if folder is None:
        return {**result, "table": stance}
    _write_part(folder, batch.index, stance, {**counts, "fingerprint": fingerprint, "model": job.model_id})
    return result


def _note_dashboard(client: Any) -> None:
    import importlib.util

    link = client.dashboard_link
    hint = "" if importlib.util.find_spec("bokeh") else " (the page needs bokeh installed where the scheduler runs)"
    print(f"Dask dashboard: {link}{hint}", file=sys.stderr)


def _check_unique(result: dict, owners: dict[str, int], batches: Sequence[Any]) -> None:
    for doc_id in result["doc_ids"]:
        first = owners.setdefault(doc_id, result["index"])
        if first != result["index"]:
            raise InputError(f"duplicate doc_id {doc_id!r}: in {batches[first]} and in {batches[result['index']]}")


def _combine(tables: list, summary: dict) -> Any:
    """Tables of batches (in batch order) as one, sorted; columns in order of first appearance."""
    import pandas as pd

    columns = list(dict.fromkeys(c for t in tables for c in t.columns))
    filled = [t for t in tables if len(t)] or tables[:1]
    out = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    out = out.reindex(columns=columns).sort_values(_SORT, kind="mergesort").reset_index(drop=True)
    out.attrs = dict(summary)
    return out


# --- output folder -------------------------------------------------------------------


def _batch_print(job_print: str, batch: Any) -> str:
    import hashlib

    text = json.dumps([job_print, batch.describe()], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _part_path(folder: Path, index: int) -> Path:
    return folder / f"part-{index:05d}.parquet"


def _open_folder(out: str | os.PathLike) -> Path:
    """Create the output folder; remove its marker and temporary parts left by killed workers."""
    check_output_folder(out)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUCCESS).unlink(missing_ok=True)
    for stale in folder.glob(_STALE):
        stale.unlink(missing_ok=True)
    return folder


def _written(folder: Path, index: int, fingerprint: str) -> dict | None:
    """The counts of part ``index`` if an earlier run wrote it for this very batch and job."""
    import pyarrow.parquet as pq

    path = _part_path(folder, index)
    if not path.is_file():
        return None
    try:
        info = json.loads((pq.read_schema(path).metadata or {})[_META_KEY])
    except Exception:  # unreadable or foreign file: score the batch again
        return None
    if info.get("fingerprint") != fingerprint:
        return None
    return {"index": index, **{k: info[k] for k in ("n_documents", "n_paragraphs", "n_mentions", "doc_ids")}}


def _write_part(folder: Path, index: int, stance: Any, info: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .schema import rounded_for_file
    from .io import atomic_path

    table = pa.Table.from_pandas(rounded_for_file(stance), preserve_index=False)
    meta = {**(table.schema.metadata or {}), _META_KEY: json.dumps(info, ensure_ascii=True).encode("ascii")}
    with atomic_path(_part_path(folder, index)) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp)


def _read_part(path: Path) -> Any:
    """A part as the table it was written from: text columns that were Python objects stay objects
    (pandas would read every text column as its string dtype)."""
    import pandas as pd
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    written = {c["name"]: c["numpy_type"] for c in (table.schema.pandas_metadata or {}).get("columns", [])}
    out = table.to_pandas()
    return out.astype({c: object for c in out.columns if written.get(c) == "object"
                       and isinstance(out[c].dtype, pd.StringDtype)})


def _finish(folder: Path, n_parts: int, summary: dict) -> None:
    """Remove parts of an earlier, larger plan and temporary leftovers, then write the marker."""
    from .io import atomic_write_text

    for path in folder.iterdir():
        match = _PART.fullmatch(path.name)
        if (match and int(match.group(1)) >= n_parts) or path.match(_STALE):
            path.unlink(missing_ok=True)
    atomic_write_text(json.dumps(summary, indent=1) + "\n", folder / SUCCESS)
