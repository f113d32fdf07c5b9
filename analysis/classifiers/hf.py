"""Hugging Face transformers models (hub id or local directory) as stance scorers.

One parameter switches models: ``load_classifier("MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7")``
or ``analysis score ... --model PATH_OR_ID``.  The *kind* of model is read
from its config's ``id2label``:

NLI models (zero-shot stance)
    A label starting with "entail" (any case; e.g. entailment / neutral /
    contradiction).  For each paragraph x mentioned actor the **premise** is
    the paragraph's sentences that mention the actor (unique, in order,
    joined by a space) and the three **hypotheses** come from templates
    (:data:`DEFAULT_TEMPLATES`, override with ``templates=``; placeholders
    ``{actor}`` = display name of the actor, ``{surface}`` = first surface
    form in the paragraph).  The probabilities are the softmax over the three
    *entailment* logits -- exactly what ``pipeline("zero-shot-classification",
    multi_label=False)`` computes for the same premise and hypotheses.

Sentiment classifiers
    Sequence classifiers whose labels name sentiment: negative / neutral /
    positive in any case or abbreviated (neg / neu / pos, "very negative"
    ...), star ratings ("1 star" ... "5 stars": 1-2 negative, 3 neutral, 4-5
    positive, probabilities summed), two-label negative/positive models
    (neutral probability 0).  Generic ``LABEL_0, LABEL_1, LABEL_2`` labels are
    **assumed** to mean negative, neutral, positive (the convention of the
    cardiffnlp sentiment models) -- only when there are exactly three of them;
    a warning is issued and ``metadata["label_mapping_assumed"]`` is True.
    Any other label set raises :class:`~analysis.errors.InputError` listing
    the labels found (pass ``label_map={"LABEL_0": "negative", ...}`` to say
    what they mean).  A mention is scored from the sentence that contains it.

Efficiency: only mentioned actors are scored; every (premise, hypothesis) pair
of every paragraph goes through the model in batches of at most
``batch_size``, sorted by token length (a batch is closed early rather than
padded by more than ~15%), under ``torch.inference_mode``; each distinct
text is tokenised once and identical model inputs are run once.  Inputs
longer than the model limit are split into overlapping token windows whose
probability vectors are averaged (never silently cut).  ``python
benchmarks/run.py nli_vs_naive`` compares with the per-pair zero-shot
pipeline loop.

Offline: a directory is loaded locally.  A hub id is first looked up in the
local Hugging Face cache only; if absent and the hub is unreachable (or
``HF_HUB_OFFLINE=1``) an :class:`InputError` explains how to download it or
point at a local copy -- within seconds, never a hang.

The ``model`` column reads ``hf:<id>@<revision>`` for hub models and
``hf:<directory name>@local-<hash12>`` for local directories (hash of
config.json and of the weight files' sizes and first/last MiB).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from analysis.errors import InputError

from .base import (
    CLASSES,
    MentionClassifier,
    check_mentions,
    empty_pairs,
    library_versions,
    resolve_device,
    sorted_mentions,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "DEFAULT_SENTIMENT_TEMPLATES",
    "HFClassifier",
    "HFNLIClassifier",
    "HFSentimentClassifier",
    "detect_kind",
    "load_hf_classifier",
    "hub_reachable",
]

#: Default NLI hypotheses for stance toward ``{actor}`` (English; multilingual
#: NLI models handle a premise in another language).
DEFAULT_TEMPLATES: dict[str, str] = {
    "favor": "This text is favourable to {actor}.",
    "neutral": "This text is neutral about {actor}.",
    "against": "This text is unfavourable to {actor}.",
}

#: Default NLI hypotheses for paragraph sentiment.
DEFAULT_SENTIMENT_TEMPLATES: dict[str, str] = {
    "positive": "This text is positive.",
    "neutral": "This text is neutral.",
    "negative": "This text is negative.",
}

#: Seconds allowed for the "is the hub reachable" probe.
HUB_PROBE_TIMEOUT = 3.0

_STANCE_KEYS = ("against", "neutral", "favor")  # same order as CLASSES
_SENTIMENT_KEYS = ("negative", "neutral", "positive")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?$")
_TRUE = {"1", "true", "yes", "on"}
_SUPPORTED = (
    "NLI: a label starting with 'entail' (entailment/neutral/contradiction); "
    "sentiment: negative/neutral/positive (any case, or neg/neu/pos, 'very negative'...), "
    "'1 star'..'5 stars', negative/positive only, or exactly LABEL_0/LABEL_1/LABEL_2 "
    "(assumed negative/neutral/positive)"
)


# ---------------------------------------------------------------------------
# label conventions
# ---------------------------------------------------------------------------


def _norm_label(label: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(label).strip().lower()).strip()


def _sentiment_class(label: Any) -> str | None:
    """Map one label to negative/neutral/positive, or None when unknown."""
    norm = _norm_label(label)
    words = norm.split()
    if not words:
        return None
    star = re.fullmatch(r"([1-5])(?:\.0)? ?stars?", norm)
    if star:
        n = int(star.group(1))
        return "negative" if n <= 2 else ("neutral" if n == 3 else "positive")
    last = words[-1]
    if last in ("negative", "neg"):
        return "negative"
    if last in ("neutral", "neu"):
        return "neutral"
    if last in ("positive", "pos"):
        return "positive"
    return None


def _id2label_list(config: Any) -> list[str]:
    mapping = getattr(config, "id2label", None) or {}
    items = sorted(((int(k), str(v)) for k, v in dict(mapping).items()), key=lambda kv: kv[0])
    return [v for _, v in items]


def detect_kind(
    labels: Sequence[str], label_map: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """Decide how a sequence classifier's labels are used.

    Parameters
    ----------
    labels : sequence of str
        ``id2label`` values in id order.
    label_map : mapping, optional
        Explicit ``{label: "negative"|"neutral"|"positive"}`` for sentiment
        models whose labels follow no known convention (all labels needed).

    Returns
    -------
    (kind, info)
        ``("nli", {"entailment_id": int})`` or ``("sentiment", {"matrix":
        ndarray (num_labels, 3), "mapping": {label: class}, "assumed": bool})``.

    Raises
    ------
    InputError
        Unknown label convention (the message lists the labels found).
    """
    labels = [str(x) for x in labels]
    found = ", ".join(repr(x) for x in labels) or "(none)"
    if label_map is None:
        for i, lab in enumerate(labels):
            if _norm_label(lab).startswith("entail"):
                return "nli", {"entailment_id": i}
    mapping: dict[str, str] = {}
    assumed = False
    if label_map is not None:
        allowed = set(CLASSES)
        for lab in labels:
            cls = label_map.get(lab)
            if cls not in allowed:
                raise InputError(
                    f"label_map does not map model label {lab!r} to one of {list(CLASSES)} "
                    f"(model labels: {found})"
                )
            mapping[lab] = cls
    elif labels and all(re.fullmatch(r"label (\d+)", _norm_label(x)) for x in labels):
        ids = sorted(int(_norm_label(x).split()[1]) for x in labels)
        if ids != [0, 1, 2]:
            raise InputError(
                f"cannot tell what the model's labels mean: found {found}. Supported conventions: "
                f"{_SUPPORTED}. Pass label_map={{label: 'negative'|'neutral'|'positive'}} or fix "
                "id2label in the model's config.json"
            )
        for lab in labels:
            mapping[lab] = CLASSES[int(_norm_label(lab).split()[1])]
        assumed = True
        warnings.warn(
            "model labels are LABEL_0/1/2; assuming 0=negative, 1=neutral, 2=positive",
            stacklevel=3,
        )
    else:
        unknown = []
        for lab in labels:
            cls = _sentiment_class(lab)
            if cls is None:
                unknown.append(lab)
            else:
                mapping[lab] = cls
        if unknown or not labels:
            raise InputError(
                f"cannot tell what the model's labels mean: found {found}"
                + (f" (unrecognised: {', '.join(map(repr, unknown))})" if unknown else "")
                + f". Supported conventions: {_SUPPORTED}. Pass label_map={{label: "
                "'negative'|'neutral'|'positive'}} or fix id2label in the model's config.json"
            )
    classes = set(mapping.values())
    if not {"negative", "positive"} <= classes:
        raise InputError(
            f"a sentiment model needs at least a negative and a positive label; found {found}. "
            f"Supported conventions: {_SUPPORTED}"
        )
    matrix = np.zeros((len(labels), 3), dtype=np.float64)
    for i, lab in enumerate(labels):
        matrix[i, CLASSES.index(mapping[lab])] = 1.0
    return "sentiment", {"matrix": matrix, "mapping": mapping, "assumed": assumed}


# ---------------------------------------------------------------------------
# locating a model (local directory, cache, hub)
# ---------------------------------------------------------------------------


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT) -> bool:
    """Whether the Hugging Face hub answers, decided within about ``timeout`` seconds.

    ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` set to 1 -> False without
    probing.  Otherwise one HTTPS ``HEAD`` request to the hub endpoint
    (``HF_ENDPOINT``, default https://huggingface.co; proxies from the
    environment are honoured) with certificate verification: any HTTP answer
    means reachable; DNS failure, refused / intercepted connections and
    timeouts mean unreachable.  The request runs in a daemon thread, so
    neither a slow DNS lookup nor a black-holed route can block longer than
    ``timeout`` (+0.5) seconds.
    """
    import urllib.error
    import urllib.request

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    if not urlparse(endpoint).hostname:
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            request = urllib.request.Request(endpoint + "/", method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout):
                result.append(True)
        except urllib.error.HTTPError:
            result.append(True)  # the server answered (401, 404, ...): reachable
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def _offline_message(name: str) -> str:
    return (
        f"model {name!r} is not in the local Hugging Face cache and the hub cannot be reached; "
        f"download it on a connected machine with `hf download {name}` (older huggingface_hub: "
        f"`huggingface-cli download {name}`) "
        f"(or `python -c \"from transformers import AutoModelForSequenceClassification as M, "
        f"AutoTokenizer as T; M.from_pretrained('{name}'); T.from_pretrained('{name}')\"`) "
        "and copy the Hugging Face cache folder ($HF_HOME, by default ~/.cache/huggingface) "
        "to this machine, "
        "or pass a local directory (one made with save_pretrained) as the model"
    )


def _dir_fingerprint(path: Path) -> str:
    """Short hash of a model directory: config.json + weight file sizes/heads/tails."""
    h = hashlib.sha256()
    config = path / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    chunk = 1 << 20
    for weights in sorted(path.iterdir()):
        if weights.suffix not in (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack"):
            continue
        size = weights.stat().st_size
        h.update(weights.name.encode() + str(size).encode())
        with open(weights, "rb") as fh:
            h.update(fh.read(chunk))
            if size > 2 * chunk:
                fh.seek(size - chunk)
                h.update(fh.read(chunk))
    return h.hexdigest()[:12]


def _cache_snapshot_identity(path: Path) -> tuple[str, str] | None:
    """(repo id, commit) when ``path`` is a snapshot folder of the HF cache."""
    parts = path.parts
    if len(parts) >= 3 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
        repo = parts[-3][len("models--") :].replace("--", "/")
        return repo, parts[-1]
    return None


def _hub_revision(name: str, config: Any, revision: str | None) -> str | None:
    rev = getattr(config, "_commit_hash", None)
    if rev:
        return str(rev)
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(name, "config.json", revision=revision)
        if isinstance(hit, str):
            ident = _cache_snapshot_identity(Path(hit).parent)
            if ident:
                return ident[1]
    except Exception:  # noqa: BLE001 - revision is best effort
        pass
    return revision


def _cached_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """Snapshot folder of ``repo_id`` in the local Hugging Face cache, or None (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    except Exception:  # noqa: BLE001 - malformed id, unreadable cache: treat as absent
        return None
    if isinstance(hit, str) and Path(hit).is_file():
        return Path(hit).parent
    return None


def _resolve_local(path: Path, text: str) -> dict[str, Any]:
    from transformers import AutoConfig

    if not (path / "config.json").is_file():
        raise InputError(
            f"model directory {text!r} has no config.json; expected a folder written by "
            "save_pretrained (config.json, tokenizer files, weights)"
        )
    resolved = path.resolve()
    try:
        config = AutoConfig.from_pretrained(resolved, local_files_only=True)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read the model config in {text!r}: {exc}") from None
    ident = _cache_snapshot_identity(resolved)
    if ident:
        source, rev = ident
        model_id = f"hf:{source}@{rev}"
    else:
        source, rev = resolved.name, f"local-{_dir_fingerprint(resolved)}"
        model_id = f"hf:{source}@{rev}"
    return {
        "load": str(resolved),
        "local_files_only": True,
        "revision": None,
        "config": config,
        "model_id": model_id,
        "source": source,
        "model_revision": rev,
    }


def _resolve_model(name: str | os.PathLike, revision: str | None) -> dict[str, Any]:
    """Find where to load ``name`` from; fail fast and clearly when impossible.

    A directory is used as is.  A hub id found in the local cache is loaded
    from its snapshot folder (so nothing touches the network); otherwise the
    hub is probed (:func:`hub_reachable`) and, when it answers, the model is
    downloaded the usual way.
    """
    from transformers import AutoConfig

    text = os.fspath(name)
    path = Path(text).expanduser()
    if path.is_dir():
        return _resolve_local(path, text)
    if path.exists():
        raise InputError(f"model path {text!r} is a file; expected a model directory or a hub id")
    if not _HUB_ID.match(text) or text.startswith((".", "~")) or os.path.isabs(text):
        raise InputError(
            f"model {text!r} is neither an existing directory nor a Hugging Face model id "
            "(like 'org/name'); check the path"
        )
    snapshot = _cached_snapshot(text, revision)
    if snapshot is not None:
        found = _resolve_local(snapshot, text)
        if not _cache_snapshot_identity(snapshot.resolve()):
            found["model_id"], found["source"] = f"hf:{text}@{found['model_revision']}", text
        return found
    if not hub_reachable():
        raise InputError(_offline_message(text))
    kwargs = {"revision": revision} if revision else {}
    try:
        config = AutoConfig.from_pretrained(text, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot load model {text!r} from the Hugging Face hub: {exc}") from None
    rev = _hub_revision(text, config, revision) or "unknown"
    return {
        "load": text,
        "local_files_only": False,
        "revision": revision,
        "config": config,
        "model_id": f"hf:{text}@{rev}",
        "source": text,
        "model_revision": rev,
    }


def _effective_max_length(tokenizer: Any, config: Any) -> int:
    candidates = []
    tml = getattr(tokenizer, "model_max_length", None)
    if isinstance(tml, int) and 0 < tml < 100_000:
        candidates.append(tml)
    mpe = getattr(config, "max_position_embeddings", None)
    if isinstance(mpe, int) and mpe > 0:
        offset = 2 if "roberta" in str(getattr(config, "model_type", "")) or getattr(
            config, "model_type", ""
        ) in ("camembert", "longformer", "data2vec-text") else 0
        candidates.append(mpe - offset)
    return min(candidates) if candidates else 512


def _check_templates(templates: Mapping[str, str], keys: Sequence[str], what: str, need_actor: bool) -> dict:
    aliases = {"positive": "favor", "negative": "against", "favour": "favor"} if need_actor else {}
    out = {}
    for key, value in dict(templates).items():
        out[aliases.get(str(key).lower(), str(key).lower())] = str(value)
    missing = [k for k in keys if k not in out]
    extra = [k for k in out if k not in keys]
    if missing or extra:
        raise InputError(f"{what} must have exactly the keys {list(keys)}; got {sorted(templates)}")
    for key, value in out.items():
        try:
            value.format(actor="X", surface="X")
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(
                f"{what}[{key!r}] = {value!r} is not a valid template "
                f"(placeholders allowed: {{actor}}, {{surface}}): {exc}"
            ) from None
        if need_actor and "{actor}" not in value and "{surface}" not in value:
            raise InputError(f"{what}[{key!r}] = {value!r} must name the actor with {{actor}} or {{surface}}")
    return {k: out[k] for k in keys}


#: Names used in hypotheses for the default actors when ``actor_names`` says nothing.
DEFAULT_ACTOR_NAMES: dict[str, str] = {"West": "the West"}


def actor_display_name(actor: str) -> str:
    """Readable actor name for hypotheses.

    :data:`DEFAULT_ACTOR_NAMES` first (``"West"`` -> ``"the West"``); otherwise
    underscores become spaces and an all-lowercase id is title-cased
    (``"united_states"`` -> ``"United States"``).
    """
    if actor in DEFAULT_ACTOR_NAMES:
        return DEFAULT_ACTOR_NAMES[actor]
    text = str(actor).replace("_", " ").strip()
    return text.title() if text == text.lower() else text


# ---------------------------------------------------------------------------
# classifiers
# ---------------------------------------------------------------------------


class HFClassifier(MentionClassifier):
    """Common machinery: windowing, length-sorted batching, forward passes."""

    kind = "abstract"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_id: str,
        device: str,
        batch_size: int = 32,
        max_length: int | None = None,
        stride: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        super().__init__(model_id=model_id, metadata=metadata)
        if int(batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = int(batch_size)
        self.max_length = int(max_length or _effective_max_length(tokenizer, model.config))
        self.stride = stride
        #: run identical model inputs once (exactly the same outputs; off only for benchmarks)
        self.dedupe = True
        self._n_special_single = self._count_special(pair=False)
        self._n_special_pair = self._count_special(pair=True)
        if self.max_length <= self._n_special_pair + 2:
            raise InputError(f"max_length {self.max_length} is too small for this model")
        self.metadata.setdefault("max_length", self.max_length)
        self.metadata.setdefault("batch_size", self.batch_size)
        self.metadata.setdefault("device", device)
        self.metadata.setdefault("versions", library_versions())

    # -- tokenisation helpers ------------------------------------------------
    def _count_special(self, pair: bool) -> int:
        tok = self.tokenizer
        try:
            return int(tok.num_special_tokens_to_add(pair=pair))
        except Exception:  # noqa: BLE001
            a = tok("a", add_special_tokens=False)["input_ids"]
            if not pair:
                return len(tok("a")["input_ids"]) - len(a)
            return len(tok("a", "a")["input_ids"]) - 2 * len(a)

    def _n_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts (no special tokens), cached per text (hypotheses recur)."""
        cache = self.__dict__.setdefault("_length_cache", {})
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            enc = self.tokenizer(todo, add_special_tokens=False)
            for text, ids in zip(todo, enc["input_ids"]):
                cache[text] = len(ids)
        return [cache[t] for t in texts]

    def _overlap(self, budget: int) -> int:
        overlap = self.stride if self.stride is not None else budget // 4
        return max(0, min(int(overlap), budget // 2))

    def _backend(self) -> Any:
        """The ``tokenizers.Tokenizer`` behind a fast tokenizer, truncation/padding off (or None)."""
        bt = getattr(self.tokenizer, "backend_tokenizer", None)
        if bt is None or not hasattr(bt, "post_process") or not hasattr(bt, "encode_batch"):
            return None
        # the transformers wrapper sets these again on each of its own calls
        if bt.truncation is not None:
            bt.no_truncation()
        if bt.padding is not None:
            bt.no_padding()
        return bt

    def _pieces(self, texts: Sequence[str], cache: dict | None = None) -> dict:
        """``{text: tokenizers.Encoding}`` without special tokens, one batched call."""
        cache = {} if cache is None else cache
        bt = self._backend()
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo and bt is not None:
            for text, enc in zip(todo, bt.encode_batch(todo, add_special_tokens=False)):
                cache[text] = enc
        return cache

    def _windows(self, text: str, budget: int) -> list[str]:
        """Split ``text`` into overlapping windows of at most ``budget`` tokens."""
        return self._windows_many([text], [budget])[0]

    def _windows_many(
        self, texts: Sequence[str], budgets: Sequence[int], cache: dict | None = None
    ) -> list[list[str]]:
        """:meth:`_windows` for many texts with one tokenizer call.

        A text that fits its budget is its only window; a longer one is cut
        at token boundaries into windows of ``budget`` tokens, consecutive
        windows sharing ``stride`` tokens (default a quarter window).
        """
        texts = [str(t) for t in texts]
        if not texts:
            return []
        pieces = self._pieces(texts, cache)
        out: list[list[str]] = []
        for text, budget in zip(texts, budgets):
            step = max(1, budget - self._overlap(budget))
            enc = pieces.get(text)
            if enc is None:  # slow tokenizer: decode token windows
                ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                if len(ids) <= budget:
                    out.append([text])
                    continue
                starts = list(range(0, len(ids) - budget, step)) + [len(ids) - budget]
                out.append([self.tokenizer.decode(ids[a : a + budget]) for a in starts])
                continue
            offsets = enc.offsets
            n = len(offsets)
            if n <= budget:
                out.append([text])
                continue
            windows = []
            start = 0
            while True:
                stop = min(start + budget, n)
                windows.append(text[offsets[start][0] : offsets[stop - 1][1]])
                if stop >= n:
                    break
                start += step
            out.append(windows)
        return out

    def _encode(
        self, first: Sequence[str], second: Sequence[str] | None, cache: dict | None = None
    ) -> tuple[list[list[int]], list[list[int]] | None]:
        """Token ids (and token type ids) of texts or pairs, as the tokenizer makes them.

        Fast tokenizers: every distinct text is tokenised once and pairs are
        assembled with the tokenizer's own post-processor (identical to
        tokenising the pair).  A sequence longer than the model limit is
        re-tokenised with ``truncation="only_first"`` (windows make that rare).
        """
        bt = self._backend()
        if bt is None:
            if second is None:
                enc = self.tokenizer(list(first), truncation=True, max_length=self.max_length)
            else:
                enc = self.tokenizer(list(first), list(second), truncation="only_first", max_length=self.max_length)
            return enc["input_ids"], enc.get("token_type_ids")
        pieces = self._pieces(list(first) + (list(second) if second is not None else []), cache)
        ids: list[list[int]] = []
        types: list[list[int]] = []
        for i, text in enumerate(first):
            pair = pieces[second[i]] if second is not None else None
            full = bt.post_process(pieces[text], pair, add_special_tokens=True)
            if len(full.ids) > self.max_length:
                args = (text, second[i]) if second is not None else (text,)
                trunc = self.tokenizer(*args, truncation="only_first" if second is not None else True,
                                       max_length=self.max_length)
                ids.append(list(trunc["input_ids"]))
                types.append(list(trunc.get("token_type_ids") or [0] * len(trunc["input_ids"])))
                bt = self._backend()
                continue
            ids.append(full.ids)
            types.append(full.type_ids)
        uses_types = "token_type_ids" in getattr(self.tokenizer, "model_input_names", ["token_type_ids"])
        return ids, (types if uses_types else None)

    # -- model calls ----------------------------------------------------------
    #: a batch is closed early when the next sequence is shorter than this
    #: fraction of the batch's longest one (limits padding to ~15%)
    min_fill = 0.85

    def _batches(self, sorted_lengths: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
        """Cut length-sorted (longest first) items into batches of at most ``batch_size``."""
        out = []
        start = 0
        n = len(order)
        while start < n:
            stop = start + 1
            limit = sorted_lengths[start] * self.min_fill
            while stop < n and stop - start < self.batch_size and sorted_lengths[stop] >= limit:
                stop += 1
            out.append(order[start:stop])
            start = stop
        return out

    def _forward(
        self, first: Sequence[str], second: Sequence[str] | None = None, cache: dict | None = None
    ) -> np.ndarray:
        """Logits (float64, shape (n, num_labels)) of texts or text pairs.

        Identical inputs are run once; the rest is sorted by token length and
        cut into batches of ``batch_size`` (little padding), right-padded,
        under ``torch.inference_mode``.
        """
        import torch

        n = len(first)
        num_labels = int(self.model.config.num_labels)
        if n == 0:
            return np.zeros((0, num_labels), dtype=np.float64)
        keys = list(zip(first, second)) if second is not None else [(t, None) for t in first]
        if self.dedupe:
            unique = list(dict.fromkeys(keys))
            where = {key: i for i, key in enumerate(unique)}
            back = [where[k] for k in keys]
        else:
            unique, back = keys, list(range(n))
        ids, types = self._encode(
            [k[0] for k in unique], [k[1] for k in unique] if second is not None else None, cache
        )
        lengths = np.array([len(x) for x in ids])
        order = np.argsort(-lengths, kind="stable")
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        logits_u = np.empty((len(unique), num_labels), dtype=np.float64)
        from ..cache import progress_bar  # stderr / Jupyter widget; silent for short loops

        batches = self._batches(lengths[order], order)
        bar = progress_bar(len(batches), f"{self.kind} model")
        with torch.inference_mode():
            for idx in batches:
                bar.update(1)
                width = int(lengths[idx].max())
                input_ids = np.full((len(idx), width), pad_id, dtype=np.int64)
                mask = np.zeros((len(idx), width), dtype=np.int64)
                tt = np.zeros((len(idx), width), dtype=np.int64) if types is not None else None
                for row, j in enumerate(idx):
                    length = lengths[j]
                    input_ids[row, :length] = ids[j]
                    mask[row, :length] = 1
                    if tt is not None:
                        tt[row, :length] = types[j]
                inputs = {
                    "input_ids": torch.from_numpy(input_ids).to(self.device),
                    "attention_mask": torch.from_numpy(mask).to(self.device),
                }
                if tt is not None:
                    inputs["token_type_ids"] = torch.from_numpy(tt).to(self.device)
                logits = self.model(**inputs).logits
                logits_u[idx] = logits.double().cpu().numpy()
        bar.close()
        return logits_u[back]


class HFNLIClassifier(HFClassifier):
    """Zero-shot stance with an NLI model (see module docstring).

    Parameters
    ----------
    templates : mapping, optional
        ``{"favor": ..., "neutral": ..., "against": ...}`` hypothesis
        templates with ``{actor}`` (display name) / ``{surface}``.
    sentiment_templates : mapping, optional
        ``{"positive": ..., "neutral": ..., "negative": ...}`` hypotheses for
        :meth:`predict_sentiment`.
    actor_names : mapping, optional
        ``{actor id: name used in hypotheses}``; default
        :func:`actor_display_name`.
    evidence : bool
        When a premise has several sentences, also score each sentence on its
        own to pick the evidence sentence (largest ``|p_favor - p_against|``);
        False uses the first mentioning sentence.
    """

    kind = "nli"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        entailment_id: int,
        templates: Mapping[str, str] | None = None,
        sentiment_templates: Mapping[str, str] | None = None,
        actor_names: Mapping[str, str] | None = None,
        evidence: bool = True,
        **kwargs: Any,
    ):
        super().__init__(model, tokenizer, **kwargs)
        self.entailment_id = int(entailment_id)
        self.templates = _check_templates(templates or DEFAULT_TEMPLATES, _STANCE_KEYS, "templates", True)
        self.sentiment_templates = _check_templates(
            sentiment_templates or DEFAULT_SENTIMENT_TEMPLATES, _SENTIMENT_KEYS, "sentiment_templates", False
        )
        self.actor_names = dict(actor_names or {})
        self.evidence = bool(evidence)
        self.metadata["kind"] = "nli"
        self.metadata["templates"] = dict(self.templates)
        self.metadata["sentiment_templates"] = dict(self.sentiment_templates)
        self.metadata["entailment_id"] = self.entailment_id
        self.metadata["aggregation"] = (
            "premise = mentioning sentences of the paragraph joined; probabilities = softmax over "
            "the entailment logits of the against/neutral/favor hypotheses; long premises: mean "
            "over overlapping token windows"
        )

    def hypotheses(self, actor: str, surface: str | None = None) -> list[str]:
        """The against / neutral / favor hypotheses for one actor."""
        name = self.actor_names.get(actor, actor_display_name(actor))
        fill = {"actor": name, "surface": surface if surface is not None else name}
        return [self.templates[k].format(**fill) for k in _STANCE_KEYS]

    def nli_probs(self, premises: Sequence[str], hypotheses: Sequence[Sequence[str]]) -> np.ndarray:
        """Softmax over entailment logits of each premise's hypotheses.

        Parameters
        ----------
        premises : sequence of str
        hypotheses : sequence of sequence of str
            The same number ``k`` of hypotheses for every premise.

        Returns
        -------
        ndarray, shape (n, k)
            Mean over the premise's token windows of the per-window softmax.
        """
        n = len(premises)
        k = len(hypotheses[0]) if n else 3
        if n == 0:
            return np.zeros((0, k), dtype=np.float64)
        unique_hyps = list(dict.fromkeys(h for hyps in hypotheses for h in hyps))
        hyp_len = dict(zip(unique_hyps, self._n_tokens(unique_hyps)))
        budgets = []
        for hyps in hypotheses:
            if len(hyps) != k:
                raise ValueError("every premise needs the same number of hypotheses")
            budget = self.max_length - self._n_special_pair - max(hyp_len[h] for h in hyps)
            if budget < 1:
                raise InputError(
                    f"hypotheses {list(hyps)!r} leave no room for the text within the model's "
                    f"{self.max_length} tokens; use shorter templates"
                )
            budgets.append(budget)
        firsts: list[str] = []
        seconds: list[str] = []
        owner: list[int] = []
        cache: dict = {}
        for i, (windows, hyps) in enumerate(zip(self._windows_many(premises, budgets, cache), hypotheses)):
            for window in windows:
                firsts.extend([window] * k)
                seconds.extend(hyps)
                owner.append(i)
        logits = self._forward(firsts, seconds, cache)[:, self.entailment_id].reshape(-1, k)
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        owner_arr = np.asarray(owner)
        sums = np.zeros((n, k), dtype=np.float64)
        np.add.at(sums, owner_arr, probs)
        counts = np.bincount(owner_arr, minlength=n).astype(np.float64)
        return sums / counts[:, None]

    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Mention-level stance: premise = sentence, actor = the span's text."""
        hyps = []
        for sentence, (a, b) in zip(sentences, spans):
            target = str(sentence)[int(a) : int(b)]
            fill = {"actor": target, "surface": target}
            hyps.append([self.templates[k].format(**fill) for k in _STANCE_KEYS])
        return self.nli_probs([str(s) for s in sentences], hyps)

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Paragraph sentiment via the sentiment hypotheses (negative, neutral, positive)."""
        hyps = [self.sentiment_templates[k] for k in _SENTIMENT_KEYS]
        return self.nli_probs([str(t) for t in texts], [hyps] * len(texts))

    def score_pairs(self, mentions: pd.DataFrame) -> pd.DataFrame:
        """One NLI judgement per paragraph x actor (premise = its mentioning sentences)."""
        check_mentions(mentions)
        if len(mentions) == 0:
            return empty_pairs()
        ordered = sorted_mentions(
            mentions.assign(
                doc_id=mentions["doc_id"].astype(str),
                para_id=mentions["para_id"].astype(np.int64),
                actor=mentions["actor"].astype(str),
            )
        )
        docs = ordered["doc_id"].tolist()
        paras = ordered["para_id"].tolist()
        actors = ordered["actor"].tolist()
        sentence_ids = ordered["sentence_id"].tolist()
        sentences = ordered["sentence"].astype(str).tolist()
        surfaces = ordered["surface"].astype(str).tolist() if "surface" in ordered.columns else [None] * len(ordered)
        rows: list[list[Any]] = []  # doc_id, para_id, actor, n_mentions, sentences
        firsts: list[str | None] = []
        last_key = None
        last_sid = None
        for i in range(len(ordered)):
            key = (docs[i], paras[i], actors[i])
            if key != last_key:
                rows.append([docs[i], int(paras[i]), actors[i], 0, []])
                firsts.append(surfaces[i])
                last_key, last_sid = key, None
            row = rows[-1]
            row[3] += 1
            if sentence_ids[i] != last_sid:  # sorted by sentence_id within the group
                row[4].append(sentences[i])
                last_sid = sentence_ids[i]
        premises: list[str] = []
        hyps: list[list[str]] = []
        extra: list[tuple[int, list[str]]] = []  # (row, sentences) needing per-sentence scores
        for r, (row, surface) in enumerate(zip(rows, firsts)):
            sents = row[4]
            premises.append(" ".join(sents))
            hyps.append(self.hypotheses(row[2], surface))
            if self.evidence and len(sents) > 1:
                extra.append((r, sents))
        n_main = len(premises)
        for row, sents in extra:
            premises.extend(sents)
            hyps.extend([hyps[row]] * len(sents))
        probs = self.nli_probs(premises, hyps)
        main = probs[:n_main]
        evidence = [r[4][0] for r in rows]
        pos = n_main
        for row, sents in extra:
            sub = probs[pos : pos + len(sents)]
            pos += len(sents)
            evidence[row] = sents[int(np.argmax(np.abs(sub[:, 2] - sub[:, 0])))]
        out = pd.DataFrame(
            {
                "doc_id": pd.Series([r[0] for r in rows], dtype=object),
                "para_id": np.array([r[1] for r in rows], dtype=np.int64),
                "actor": pd.Series([r[2] for r in rows], dtype=object),
                "n_mentions": np.array([r[3] for r in rows], dtype=np.int64),
                "p_against": main[:, 0].astype(np.float64),
                "p_neutral": main[:, 1].astype(np.float64),
                "p_favor": main[:, 2].astype(np.float64),
                "evidence": pd.Series(evidence, dtype=object),
            }
        )
        return out


class HFSentimentClassifier(HFClassifier):
    """Sentiment sequence classifier; a mention is scored from its sentence.

    Probabilities of the model's labels are summed into negative / neutral /
    positive through the label mapping (see :func:`detect_kind`); long texts
    are windowed and the window vectors averaged.
    """

    kind = "sentiment"

    def __init__(self, model: Any, tokenizer: Any, *, matrix: np.ndarray, mapping: Mapping[str, str],
                 assumed: bool = False, **kwargs: Any):
        super().__init__(model, tokenizer, **kwargs)
        self.matrix = np.asarray(matrix, dtype=np.float64)
        self.metadata["kind"] = "sentiment"
        self.metadata["label_mapping"] = dict(mapping)
        self.metadata["label_mapping_assumed"] = bool(assumed)
        self.metadata["aggregation"] = (
            "each mention = class probabilities of its sentence (model labels summed into "
            "negative/neutral/positive); paragraph = mean over mentions; long texts: mean over windows"
        )

    def classify_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) negative/neutral/positive probabilities of whole texts."""
        n = len(texts)
        if n == 0:
            return np.zeros((0, 3), dtype=np.float64)
        budget = self.max_length - self._n_special_single
        chunks: list[str] = []
        owner: list[int] = []
        cache: dict = {}
        for i, windows in enumerate(self._windows_many(texts, [budget] * n, cache)):
            for window in windows:
                chunks.append(window)
                owner.append(i)
        logits = self._forward(chunks, None, cache)
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        probs = probs @ self.matrix
        owner_arr = np.asarray(owner)
        sums = np.zeros((n, 3), dtype=np.float64)
        np.add.at(sums, owner_arr, probs)
        return sums / np.bincount(owner_arr, minlength=n).astype(np.float64)[:, None]

    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Sentence-context sentiment of each mention (each unique sentence run once)."""
        sentences = [str(s) for s in sentences]
        unique = list(dict.fromkeys(sentences))
        probs = self.classify_texts(unique)
        index = {s: i for i, s in enumerate(unique)}
        return probs[[index[s] for s in sentences]] if sentences else probs

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Sentiment of whole texts (paragraphs)."""
        return self.classify_texts([str(t) for t in texts])


# ---------------------------------------------------------------------------
# loader
# ---------------------------------------------------------------------------


def load_hf_classifier(
    name: str | os.PathLike,
    *,
    batch_size: int = 32,
    device: str = "auto",
    revision: str | None = None,
    templates: Mapping[str, str] | None = None,
    sentiment_templates: Mapping[str, str] | None = None,
    label_map: Mapping[str, str] | None = None,
    actor_names: Mapping[str, str] | None = None,
    max_length: int | None = None,
    stride: int | None = None,
    evidence: bool = True,
) -> HFClassifier:
    """Load a transformers sequence classifier as a stance / sentiment scorer.

    Parameters
    ----------
    name : str or path
        Local directory (``save_pretrained`` output) or hub id ``org/name``.
    batch_size : int
        Sequences per forward pass.
    device : {"auto", "cpu", "cuda"}
        "auto" = CUDA when available.
    revision : str, optional
        Hub revision (branch, tag or commit).
    templates, sentiment_templates, actor_names, evidence
        NLI models only, see :class:`HFNLIClassifier`.
    label_map : mapping, optional
        Sentiment models only: explicit ``{label: class}`` (see :func:`detect_kind`).
    max_length : int, optional
        Token limit per sequence (default: the model's own limit); longer
        inputs are windowed.
    stride : int, optional
        Tokens shared by consecutive windows (default: a quarter of a window).

    Returns
    -------
    HFNLIClassifier or HFSentimentClassifier

    Raises
    ------
    InputError
        Missing directory, model not available offline, unknown label convention.
    """
    found = _resolve_model(name, revision)
    config = found["config"]
    kind, info = detect_kind(_id2label_list(config), label_map)
    resolved_device = resolve_device(device)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": found["local_files_only"]}
    if found["revision"]:
        kwargs["revision"] = found["revision"]
    try:
        tokenizer = AutoTokenizer.from_pretrained(found["load"], **kwargs)
        model = AutoModelForSequenceClassification.from_pretrained(found["load"], **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot load model {os.fspath(name)!r}: {exc}") from None
    model.eval()
    model.to(resolved_device)
    metadata = {
        "source": found["source"],
        "revision": found["model_revision"],
        "labels": _id2label_list(config),
    }
    common = dict(
        model_id=found["model_id"],
        device=resolved_device,
        batch_size=batch_size,
        max_length=max_length,
        stride=stride,
        metadata=metadata,
    )
    if kind == "nli":
        return HFNLIClassifier(
            model,
            tokenizer,
            entailment_id=info["entailment_id"],
            templates=templates,
            sentiment_templates=sentiment_templates,
            actor_names=actor_names,
            evidence=evidence,
            **common,
        )
    return HFSentimentClassifier(
        model, tokenizer, matrix=info["matrix"], mapping=info["mapping"], assumed=info["assumed"], **common
    )
