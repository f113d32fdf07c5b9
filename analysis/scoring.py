"""Paragraph-level stance toward actors and paragraph sentiment, for any classifier.

``score_stance`` turns a mentions table into the **stance table**: one row per
paragraph x *mentioned* actor (an actor that is not mentioned has no row --
never a "neutral" one).  How mention-level probabilities become the
paragraph's is the classifier's :meth:`~analysis.classifiers.base.MentionClassifier.score_pairs`;
the default rule (embedded and sentiment models) is the **mean of the mention
probability vectors**, ``label`` = argmax of the mean with ties broken toward
neutral (see :mod:`analysis.classifiers.base` and :mod:`analysis.schema`).  NLI models judge the actor's
mentioning sentences of the paragraph together (see :mod:`analysis.classifiers.nli`).
Each actor is scored on its own: adding an actor never changes another's rows.

Both tables carry the paragraphs' ``lang`` and metadata columns (``date``,
``outlet``, any column of a table input) after their own, so no caller merges them
back.  :func:`score_corpus` does the whole path -- read, find mentions, score --
for a corpus of files, batch by batch of whole documents, in this process or on a
Dask cluster (:mod:`analysis.distributed`; ``analysis score`` is this function).

Large corpora and caching
-------------------------
Mentions are scored in chunks of whole documents (about ``chunk_size``
mentions each, documents in order of first appearance), so memory stays flat;
:class:`StanceScorer` does the same for mentions that arrive piece by piece
(each batch of a corpus goes through one), with exactly the same chunks
and hence the same numbers.  Model outputs are cached on disk per chunk (see
:mod:`analysis.cache`; ``cache=False`` or ``$ANALYSIS_NO_CACHE=1`` to disable).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from .classifiers.base import MentionClassifier, check_mentions
from .errors import InputError
from .schema import (
    PAIRS,
    SENTIMENT,
    STANCE,
    STANCE_PROBA,
    check_columns,
    conform,
    empty,
    metadata_columns,
    sentiment_labels,
    stance_labels,
)
from .speakers import check_voice, speaker_pairs, split_voice

__all__ = [
    "DEFAULT_CHUNK_MENTIONS",
    "CorpusScorer",
    "StanceScorer",
    "score_corpus",
    "score_sentiment",
    "score_stance",
    "in_paragraphs",
    "with_paragraph_metadata",
]

#: Mentions per scoring call (whole documents; a longer document is one call).
DEFAULT_CHUNK_MENTIONS = 2000
#: Paragraphs per sentiment call (whole documents).
DEFAULT_CHUNK_PARAGRAPHS = 1000


def resolve_classifier(model: Any, batch_size: int, device: str, kw: dict, cache: Any = False) -> MentionClassifier:
    """The classifier a ``model=`` argument names (loaded lazily), wrapped for the output cache.

    A classifier object is used as is; a name or path goes through
    ``load_classifier(..., lazy=True)`` with ``batch_size``, ``device`` and ``kw``;
    ``cache`` as in :func:`score_stance` (False: no cache).
    """
    if isinstance(model, MentionClassifier) or (
        not isinstance(model, (str, os.PathLike)) and hasattr(model, "predict_proba")
    ):
        clf = model
    else:
        from .classifiers import load_classifier

        # lazy: when every output is cached the weights are never loaded
        clf = load_classifier(model, batch_size=batch_size, device=device, lazy=True, **kw)
    if cache is False or cache is None:
        return clf
    from .cache import with_cache

    return with_cache(clf, cache)


def _check_chunk_size(chunk_size: Any) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return int(chunk_size)


def _chunk_bounds(codes: np.ndarray, n_docs: int, budget: int, start: int = 0) -> list[tuple[int, int]]:
    """Greedy groups of consecutive document codes holding at least ``budget`` rows.

    ``codes`` are document codes in order of first appearance (``pd.factorize``);
    returns ``(first_code, last_code_exclusive)`` pairs; the last group may be
    smaller.  ``start`` rows are already pending before the first document.
    """
    counts = np.bincount(codes, minlength=n_docs)
    bounds = []
    lo, pending = 0, start
    for doc in range(n_docs):
        pending += int(counts[doc])
        if pending >= budget:
            bounds.append((lo, doc + 1))
            lo, pending = doc + 1, 0
    if lo < n_docs:
        bounds.append((lo, n_docs))
    return bounds


def _release_memory() -> None:
    """Between chunks: collect garbage and give freed heap pages back to the OS (glibc),
    so a long run's memory does not creep up through fragmentation."""
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl...): nothing to do
            pass


def stance_rows(pairs: pd.DataFrame, clf: Any) -> pd.DataFrame:
    """Stance rows (:data:`analysis.schema.STANCE`) from a classifier's paragraph x actor pairs:
    ``score``, ``label`` (the label rule) and ``model`` (``clf.model_id``) added."""
    missing = [c for c in PAIRS if c not in pairs.columns]
    if missing:
        raise ValueError(f"{type(clf).__name__}.score_pairs did not return columns {missing}")
    probs = pairs[list(STANCE_PROBA)].to_numpy(dtype=np.float64)
    out = pairs[list(PAIRS)].assign(
        score=probs[:, 2] - probs[:, 0],
        label=stance_labels(probs),
        model=str(getattr(clf, "model_id", type(clf).__name__)),
    )
    return conform(out, STANCE)


def with_paragraph_metadata(table: pd.DataFrame, paragraphs: pd.DataFrame | None) -> pd.DataFrame:
    """``table`` (keyed by doc_id, para_id) with the paragraphs' ``lang`` and metadata columns appended.

    Parameters
    ----------
    table : DataFrame
        A stance or sentiment table.
    paragraphs : DataFrame or None
        Paragraph table (:func:`analysis.read_articles`); None returns ``table`` unchanged.

    Returns
    -------
    DataFrame
        The rows and order of ``table``, followed by the columns of
        :func:`analysis.schema.metadata_columns` that ``table`` does not have yet.
    """
    if paragraphs is None:
        return table
    extra = [c for c in metadata_columns(paragraphs) if c not in table.columns]
    if not extra:
        return table
    meta = paragraphs[["doc_id", "para_id", *extra]].drop_duplicates(["doc_id", "para_id"])
    meta = meta.astype({"doc_id": object, "para_id": np.int64})
    return table.merge(meta, on=["doc_id", "para_id"], how="left", sort=False, validate="many_to_one")


class StanceScorer:
    """Score mentions that arrive in pieces (whole documents) with flat memory.

    Mentions are buffered until about ``chunk_size`` have arrived (documents are
    never split), then scored in one classifier call; only the (small) stance
    rows are kept.  Feeding a corpus piece by piece gives exactly the chunks --
    and so the numbers -- of one :func:`score_stance` call on the whole mentions
    table.

    Parameters
    ----------
    classifier : MentionClassifier
        Already wrapped for caching if wanted (``score_stance`` does that).
    chunk_size : int
        Mentions per classifier call.
    """

    def __init__(self, classifier: Any, chunk_size: int = DEFAULT_CHUNK_MENTIONS):
        self.classifier = classifier
        self.chunk_size = _check_chunk_size(chunk_size)
        self._pending: list[pd.DataFrame] = []
        self._n_pending = 0
        self._rows: list[pd.DataFrame] = []
        self._released = time.monotonic()
        #: mentions scored so far
        self.n_scored = 0

    def add(self, mentions: pd.DataFrame) -> None:
        """Add the mentions of one or more whole documents (scoring full chunks)."""
        if len(mentions) == 0:
            return
        codes, uniques = pd.factorize(mentions["doc_id"].astype(str), sort=False)
        for lo, hi in _chunk_bounds(codes, len(uniques), self.chunk_size, self._n_pending):
            part = mentions[(codes >= lo) & (codes < hi)]
            self._pending.append(part)
            self._n_pending += len(part)
            if self._n_pending >= self.chunk_size:
                self._flush()
                # more chunks follow; a full collection costs ~0.2 s, so at most one per 10 s
                if time.monotonic() - self._released >= 10.0:
                    _release_memory()
                    self._released = time.monotonic()

    def _flush(self) -> None:
        if not self._pending:
            return
        chunk = pd.concat(self._pending, ignore_index=True) if len(self._pending) > 1 else self._pending[0]
        self._pending, self._n_pending = [], 0
        pairs = self.classifier.score_pairs(chunk)
        if len(pairs):
            self._rows.append(stance_rows(pairs, self.classifier))
        self.n_scored += len(chunk)

    def result(self) -> pd.DataFrame:
        """Score what is left and return the stance table (sorted; see :func:`score_stance`)."""
        self._flush()
        if not self._rows:
            return empty(STANCE)
        out = pd.concat(self._rows, ignore_index=True) if len(self._rows) > 1 else self._rows[0]
        return out.sort_values(["doc_id", "para_id", "actor"], kind="mergesort").reset_index(drop=True)


def in_paragraphs(mentions: pd.DataFrame, paragraphs: pd.DataFrame | None) -> pd.DataFrame:
    """The mentions of the paragraphs in ``paragraphs`` (all of them when it is None)."""
    if paragraphs is None or len(mentions) == 0:
        return mentions
    check_columns(paragraphs, ("doc_id", "para_id"), "paragraphs table")
    keys = pd.DataFrame(
        {"doc_id": paragraphs["doc_id"].astype(str), "para_id": paragraphs["para_id"].astype(np.int64)}
    ).drop_duplicates()
    work = mentions.assign(doc_id=mentions["doc_id"].astype(str), para_id=mentions["para_id"].astype(np.int64))
    return work.merge(keys, on=["doc_id", "para_id"], how="inner")


def score_stance(
    paragraphs: pd.DataFrame | None,
    mentions: pd.DataFrame,
    model: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    cache: bool | str | os.PathLike = True,
    chunk_size: int = DEFAULT_CHUNK_MENTIONS,
    progress: bool = True,
    voice: str = "all",
    **kw: Any,
) -> pd.DataFrame:
    """Stance toward each mentioned actor, paragraph by paragraph.

    Parameters
    ----------
    paragraphs : DataFrame or None
        Paragraphs table (``read_articles``).  Only mentions of paragraphs in
        it are scored (None: all mentions).
    mentions : DataFrame
        Mentions table (``find_mentions``): doc_id, para_id, actor, surface,
        start, end, sentence_id, sentence, sentence_start.
    model : str, path or MentionClassifier
        "embedded", a Hugging Face model id, a local model directory, or an
        already-loaded classifier (then ``batch_size``/``device``/``kw`` are
        ignored).
    batch_size : int
        Sequences per forward pass.
    device : {"auto", "cpu", "cuda"}
        "auto" = CUDA when available.
    cache : bool or path
        Reuse model outputs stored on disk by earlier runs, and store new ones
        (default True: ``<cache dir>/outputs``, see :mod:`analysis.cache`); a path
        picks the folder; False (or ``$ANALYSIS_NO_CACHE=1``) disables it.  A
        cached run returns exactly the numbers of an uncached one.
    chunk_size : int
        Mentions per model call (whole documents); bounds memory on large corpora.
    progress : bool
        Show progress bars (stderr, or a widget in Jupyter) for long runs.
    voice : {"all", "narrator", "sources"}
        Whose words are scored (:mod:`analysis.voice_scores`): every mention
        (default), the outlet's own words only, or quoted and reported words
        only. In every voice a mention that is the speaker of a judgement
        ("les diplomates *occidentaux* sont sceptiques") is not scored as its
        target, and an actor that only speaks in a paragraph gets a neutral row
        (``n_mentions`` 0; not in ``"sources"``). A mentions table without the
        holder columns is scored whole (``"all"`` only).
    **kw
        Passed to :func:`analysis.load_classifier` (e.g. ``templates=``).

    Returns
    -------
    DataFrame
        Columns, in this order:

        - doc_id (str), para_id (int64), actor (str)
        - n_mentions (int64): mentions of the actor scored in the paragraph
        - p_against, p_neutral, p_favor (float64): probabilities (sum to 1)
        - score (float64): ``p_favor - p_against`` in [-1, 1]
        - label (str): "against" | "neutral" | "favor" -- argmax, ties
          broken toward neutral
        - model (str): classifier identity, e.g. ``hf:<id>@<revision>``
        - evidence (str): the sentence that weighs most (mention with the
          largest ``|p_pos - p_neg|``)

        followed by the paragraphs' ``lang`` and metadata columns when
        ``paragraphs`` is given.  Sorted by (doc_id, para_id, actor); empty
        input gives an empty table with exactly these columns.
    """
    check_mentions(mentions)
    chunk_size = _check_chunk_size(chunk_size)
    work, speakers = split_voice(in_paragraphs(mentions, paragraphs), voice)
    if len(work) == 0 and len(speakers) == 0:
        return with_paragraph_metadata(empty(STANCE), paragraphs)
    from .progress import progress as _progress

    clf = resolve_classifier(model, batch_size, device, kw, cache)
    scorer = StanceScorer(clf, chunk_size)
    with _progress(progress):
        scorer.add(work)
        return with_paragraph_metadata(_with_speaker_rows(scorer.result(), speakers, clf), paragraphs)


def _with_speaker_rows(stance: pd.DataFrame, speakers: pd.DataFrame, classifier: Any) -> pd.DataFrame:
    """``stance`` with the neutral rows of actors that only speak (:func:`analysis.speakers.speaker_pairs`), sorted."""
    spoken = speaker_pairs(speakers, stance)
    if len(spoken) == 0:
        return stance
    out = pd.concat([stance, stance_rows(spoken, classifier)], ignore_index=True)
    return conform(out, STANCE).sort_values(["doc_id", "para_id", "actor"], kind="mergesort").reset_index(drop=True)


def score_sentiment(
    paragraphs: pd.DataFrame,
    model: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    cache: bool | str | os.PathLike = True,
    chunk_size: int = DEFAULT_CHUNK_PARAGRAPHS,
    progress: bool = True,
    **kw: Any,
) -> pd.DataFrame:
    """Overall sentiment of each paragraph.

    Parameters
    ----------
    paragraphs : DataFrame
        Paragraphs table with doc_id, para_id, text.
    model, batch_size, device, cache, progress, **kw
        As in :func:`score_stance`; the classifier's ``predict_sentiment`` is used.
    chunk_size : int
        Paragraphs per model call (whole documents).

    Returns
    -------
    DataFrame
        doc_id (str), para_id (int64), p_negative, p_neutral, p_positive
        (float64), score (= p_positive - p_negative), label ("negative" |
        "neutral" | "positive", ties toward neutral), model (str), then the
        paragraphs' ``lang`` and metadata columns; sorted by (doc_id, para_id).
    """
    check_columns(paragraphs, ("doc_id", "para_id", "text"), "paragraphs table")
    chunk_size = _check_chunk_size(chunk_size)
    if len(paragraphs) == 0:
        return with_paragraph_metadata(empty(SENTIMENT), paragraphs)
    table = pd.DataFrame(
        {
            "doc_id": paragraphs["doc_id"].astype(str).to_numpy(),
            "para_id": paragraphs["para_id"].to_numpy(dtype=np.int64),
            "text": paragraphs["text"].astype(str).to_numpy(),
        }
    ).sort_values(["doc_id", "para_id"], kind="mergesort").reset_index(drop=True)
    from .progress import progress as _progress

    clf = resolve_classifier(model, batch_size, device, kw, cache)
    codes, uniques = pd.factorize(table["doc_id"], sort=False)
    texts = table["text"].tolist()
    parts = []
    with _progress(progress):
        for lo, hi in _chunk_bounds(codes, len(uniques), chunk_size):
            rows = np.flatnonzero((codes >= lo) & (codes < hi))
            parts.append(np.asarray(clf.predict_sentiment([texts[i] for i in rows]), dtype=np.float64).reshape(len(rows), -1))
    probs = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if probs.shape != (len(table), 3):
        raise ValueError(f"{type(clf).__name__}.predict_sentiment returned shape {probs.shape}")
    out = table[["doc_id", "para_id"]].assign(
        p_negative=probs[:, 0],
        p_neutral=probs[:, 1],
        p_positive=probs[:, 2],
        score=probs[:, 2] - probs[:, 0],
        label=sentiment_labels(probs),
        model=str(getattr(clf, "model_id", type(clf).__name__)),
    )
    return with_paragraph_metadata(conform(out, SENTIMENT), paragraphs)


#: The model :class:`CorpusScorer` loaded last in this process, kept for the next job: {key: classifier}.
_HELD_MODEL: dict[str, Any] = {}


def _held_model(model: Any) -> Any:
    """The lazy classifier this process already holds for the same model, files and settings
    (loaded by an earlier job), else ``model``, now held for the next job; one model at a time.

    A classifier object given by the caller is used as it is.
    """
    from .classifiers import LazyClassifier

    if not isinstance(model, LazyClassifier):
        return model
    key = repr((os.fspath(model.name), sorted(model.kwargs.items(), key=repr), model.identity.key))
    if key not in _HELD_MODEL:
        _HELD_MODEL.clear()
        _HELD_MODEL[key] = model
    return _HELD_MODEL[key]


@contextlib.contextmanager
def _one_model_thread(load_torch: bool) -> Iterator[None]:
    """torch computes with one thread inside the block (as on a Dask worker), the former count after it.

    ``load_torch``: import torch if it is not yet (the model will); otherwise a process
    without torch (a classifier that does not use it) is left alone.
    """
    import sys

    if not load_torch and "torch" not in sys.modules:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _uses_torch(model: Any) -> bool:
    """Whether a lazy handle's model computes with torch once loaded (all but the embedded
    model's onnx runtime); a loaded model has imported torch already if it uses it."""
    from .classifiers import LazyClassifier

    return isinstance(model, LazyClassifier) and model.identity.settings.get("runtime") != "onnx"


class CorpusScorer:
    """Score one batch of a corpus: read it, find the actors' mentions, score them.

    What :func:`score_corpus` runs on every batch, in this process or on Dask
    workers (it pickles small: the model is located and described where it is
    made, its weights are loaded in each process on first use and kept there,
    for later jobs with the same model too).
    The model computes with one thread, as on a Dask worker: its outputs can
    move in the last float digits with the number of threads, and one thread
    everywhere keeps tables identical whatever the number of workers
    (``--workers N`` is how to use N cores).

    Parameters
    ----------
    model, batch_size, device, cache, chunk_size, voice, **kw
        As in :func:`score_stance`; ``cache`` is resolved where the batch runs
        (``True``: that machine's cache folder).
    actors : Lexicon, path, list of actor names or None
        As :func:`analysis.find_mentions` takes it; read once, here.
    """

    def __init__(
        self,
        model: str | os.PathLike | MentionClassifier = "embedded",
        *,
        actors: Any = None,
        batch_size: int = 32,
        device: str = "auto",
        cache: bool | str | os.PathLike = True,
        chunk_size: int = DEFAULT_CHUNK_MENTIONS,
        voice: str = "all",
        **kw: Any,
    ):
        from .lexicon import Lexicon
        from .mentions import resolve_lexicon

        self.chunk_size = _check_chunk_size(chunk_size)
        self.voice = check_voice(voice)
        lexicon = resolve_lexicon(actors)
        self.lexicon = Lexicon(lexicon.aliases, lexicon.descriptions, lexicon.sources)  # without compiled patterns
        self.model = resolve_classifier(model, batch_size, device, kw)
        self.cache = os.fspath(cache) if isinstance(cache, os.PathLike) else cache
        self.model_id = str(getattr(self.model, "model_id", type(self.model).__name__))
        self._classifier: Any = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_classifier": None}

    def fingerprint(self) -> str:
        """sha256 of what shapes the rows: the model's identity, the chunk size, the lexicon and the voice."""
        import dataclasses
        import hashlib
        import json

        from .cache import cache_identity

        def plain(value: Any) -> Any:  # language sets in a stable order
            return sorted(value) if isinstance(value, (set, frozenset)) else repr(value)

        aliases = {actor: [dataclasses.asdict(a) for a in found] for actor, found in self.lexicon.aliases.items()}
        payload = [cache_identity(self.model) or self.model_id, self.chunk_size, aliases, self.voice]
        text = json.dumps(payload, sort_keys=True, default=plain)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def __call__(self, batch: Any) -> tuple[pd.DataFrame, dict]:
        """``(stance table, counts)`` of one :class:`analysis.batches.Batch`.

        The counts are ``n_documents``, ``n_paragraphs``, ``n_mentions`` and
        ``doc_ids`` (the batch's documents, in order).
        """
        from .batches import read_batch
        from .mentions import find_mentions

        paragraphs = read_batch(batch)
        mentions = find_mentions(paragraphs, self.lexicon)
        from .cache import with_cache

        if self._classifier is None:
            self._classifier = with_cache(_held_model(self.model), self.cache)
        with _one_model_thread(_uses_torch(self.model)):
            stance = score_stance(paragraphs, mentions, self._classifier, cache=False, chunk_size=self.chunk_size,
                                  progress=False, voice=self.voice)
        doc_ids = list(dict.fromkeys(paragraphs["doc_id"].tolist()))
        return stance, {"n_documents": len(doc_ids), "n_paragraphs": len(paragraphs),
                        "n_mentions": len(mentions), "doc_ids": doc_ids}


def score_corpus(
    inputs: str | os.PathLike | Iterable[str | os.PathLike],
    model: str | os.PathLike | MentionClassifier = "embedded",
    *,
    actors: Any = None,
    batch_size: int = 32,
    device: str = "auto",
    cache: bool | str | os.PathLike = True,
    chunk_size: int = DEFAULT_CHUNK_MENTIONS,
    progress: bool = True,
    client: Any = None,
    out: str | os.PathLike | None = None,
    batch_documents: int | None = None,
    voice: str = "all",
    **kw: Any,
) -> pd.DataFrame | None:
    """Read a corpus, find the actors' mentions and score them, batch by batch, here or on a Dask cluster.

    What ``analysis score`` does.  The corpus is cut into batches of whole
    documents without being read (:mod:`analysis.batches`); each batch is read,
    its mentions found and scored in chunks of ``chunk_size`` mentions
    (:class:`CorpusScorer`), in this process or on the workers of ``client``.
    The batches and chunks are the same either way, so the table is identical,
    row for row and float for float, whatever the number of workers; memory
    stays flat however large the corpus.

    Parameters
    ----------
    inputs : path or iterable of paths
        Article files, folders and tables, as :func:`analysis.read_articles` takes
        them; a folder without ``.txt`` articles stands for its tables.
    model, batch_size, device, cache, chunk_size, progress, **kw
        As in :func:`score_stance`.  The model is located and checked here even
        when nothing is mentioned (a wrong model always fails); its weights are
        loaded where the batches run, once per process, and only if some output
        is not in the cache.  On a cluster ``cache=True`` means each machine's own
        cache folder (see :mod:`analysis.distributed`).
    actors : Lexicon, path, list of actor names or None
        Actor lexicon, as :func:`analysis.find_mentions` takes it (None: the default one).
    client : dask.distributed.Client, optional
        Run the batches on this cluster (:func:`analysis.distributed.dask_client`);
        None: in this process.
    out : folder, optional
        Write the table as a partitioned Parquet dataset there instead of
        returning it: one part per batch, a ``_SUCCESS`` marker last; a re-run
        skips the parts already written (see :mod:`analysis.distributed`).
    batch_documents : int, optional
        Documents per batch (default :data:`analysis.batches.BATCH_DOCUMENTS`).
    voice : {"all", "narrator", "sources"}
        Whose words are scored, as in :func:`score_stance`.

    Returns
    -------
    DataFrame or None
        The stance table of :func:`score_stance` (with the paragraphs' ``lang`` and
        metadata columns), sorted by (doc_id, para_id, actor); ``attrs`` holds
        ``n_documents``, ``n_paragraphs`` and ``n_mentions`` of the corpus and the
        ``model`` id.  None when ``out`` is given (the counts are in the marker).
    """
    from .batches import BATCH_DOCUMENTS, plan_batches
    from .distributed import run_batches

    scorer = CorpusScorer(model, actors=actors, batch_size=batch_size, device=device, cache=cache,
                          chunk_size=chunk_size, voice=voice, **kw)
    batches = plan_batches(inputs, BATCH_DOCUMENTS if batch_documents is None else batch_documents)
    return run_batches(batches, scorer, client=client, out=out, progress=progress)
