"""Running a Hugging Face sequence classifier efficiently: windows, length-sorted batches, forward passes.

:class:`HFClassifier` is the machinery shared by the NLI and sentiment
classifiers (:mod:`.nli`, :mod:`.sentiment`):

- **windows**: a text longer than its token budget is read in overlapping
  windows made by the fast tokenizer itself (``return_overflowing_tokens`` with
  ``stride``; each window is the slice of the text its tokens cover), whose
  probability vectors the callers average -- a text is never cut silently;
- **batches**: every distinct text is tokenised once, pairs are assembled with
  the tokenizer's own post-processor, identical model inputs are run once, and
  the rest is sorted by token length and cut into batches of at most
  ``batch_size`` (a batch is closed early rather than padded by more than
  ~15%), under ``torch.inference_mode``.

torch is imported only when a model runs.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..progress import progress_bar
from .base import MentionClassifier, library_versions

__all__ = ["HFClassifier", "checked_count", "effective_max_length"]


def checked_count(value: Any, what: str, minimum: int = 1) -> int:
    """``value`` as an int, or InputError when it is not an integer >= ``minimum``."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InputError(f"{what} must be {kind}, got {value!r}")
    return number


def effective_max_length(tokenizer: Any, config: Any) -> int:
    """Longest input the model takes: the tokenizer's limit and the position embeddings' (default 512)."""
    candidates = []
    tml = getattr(tokenizer, "model_max_length", None)
    if isinstance(tml, int) and 0 < tml < 100_000:
        candidates.append(tml)
    mpe = getattr(config, "max_position_embeddings", None)
    if isinstance(mpe, int) and mpe > 0:
        model_type = str(getattr(config, "model_type", ""))
        offset = 2 if "roberta" in model_type or model_type in ("camembert", "longformer", "data2vec-text") else 0
        candidates.append(mpe - offset)
    return min(candidates) if candidates else 512


class HFClassifier(MentionClassifier):
    """Common machinery: windowing, length-sorted batching, forward passes.

    Parameters
    ----------
    model : transformers sequence classification model
    tokenizer : transformers fast tokenizer
    model_id : str
        Written to the ``model`` column.
    device : str
        A resolved torch device (``"cpu"``, ``"cuda"``...).
    batch_size : int
        Sequences per forward pass (>= 1).
    max_length : int, optional
        Token limit per sequence (default: the model's own limit).
    stride : int, optional
        Tokens shared by consecutive windows (default: a quarter of a window, at
        most half of one).
    metadata : mapping, optional
        Provenance, completed with max_length, batch_size, device and versions.
    """

    kind = "abstract"
    #: a batch is closed early when the next sequence is shorter than this
    #: fraction of the batch's longest one (limits padding to ~15%)
    min_fill = 0.85

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
        if not getattr(tokenizer, "is_fast", False):
            raise InputError(
                f"model {model_id!r} has no fast tokenizer (tokenizer.json); long texts are read in "
                "windows made from token offsets, which only fast tokenizers give"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = checked_count(batch_size, "batch_size")
        self.max_length = (
            checked_count(max_length, "max_length") if max_length is not None
            else effective_max_length(tokenizer, model.config)
        )
        self.stride = checked_count(stride, "stride", minimum=0) if stride is not None else None
        #: run identical model inputs once (exactly the same outputs; off only for benchmarks)
        self.dedupe = True
        self._n_special_single = int(tokenizer.num_special_tokens_to_add(pair=False))
        self._n_special_pair = int(tokenizer.num_special_tokens_to_add(pair=True))
        if self.max_length <= self._n_special_pair + 2:
            raise InputError(f"max_length {self.max_length} is too small for this model")
        self._length_cache: dict[str, int] = {}
        self.metadata.setdefault("max_length", self.max_length)
        self.metadata.setdefault("batch_size", self.batch_size)
        self.metadata.setdefault("device", device)
        self.metadata.setdefault("versions", library_versions())

    # -- tokenisation ---------------------------------------------------------
    def _n_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts (no special tokens), cached per text (hypotheses recur)."""
        cache = self._length_cache
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            for text, ids in zip(todo, self.tokenizer(todo, add_special_tokens=False)["input_ids"]):
                cache[text] = len(ids)
        return [cache[t] for t in texts]

    def _overlap(self, budget: int) -> int:
        overlap = self.stride if self.stride is not None else budget // 4
        return max(0, min(int(overlap), budget // 2))

    def _backend(self) -> Any:
        """The ``tokenizers.Tokenizer`` behind the fast tokenizer, with truncation and padding off."""
        bt = self.tokenizer.backend_tokenizer
        # the transformers wrapper sets these again on each of its own calls
        if bt.truncation is not None:
            bt.no_truncation()
        if bt.padding is not None:
            bt.no_padding()
        return bt

    def _pieces(self, texts: Sequence[str], cache: dict) -> dict:
        """Fill ``cache`` with ``{text: tokenizers.Encoding}`` (no special tokens), one batched call."""
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            for text, enc in zip(todo, self._backend().encode_batch(todo, add_special_tokens=False)):
                cache[text] = enc
        return cache

    def _windows(
        self, texts: Sequence[str], budgets: Sequence[int], cache: dict | None = None
    ) -> list[list[str]]:
        """Each text as overlapping windows of at most its budget of tokens.

        A text that fits its budget is its only window; a longer one is read
        in windows of ``budget`` tokens, consecutive windows sharing ``stride``
        tokens (default a quarter window): the tokenizer's own truncation with
        overflow (``tokenizers.Encoding.truncate``), each window being the
        slice of the text its tokens cover.  ``cache`` is filled as by :meth:`_pieces`.
        """
        texts = [str(t) for t in texts]
        pieces = self._pieces(texts, {} if cache is None else cache)
        long = list(dict.fromkeys((t, b) for t, b in zip(texts, budgets) if len(pieces[t]) > b))
        # fresh encodings: truncate() cuts in place and the cached ones stay whole
        fresh = self._backend().encode_batch([t for t, _ in long], add_special_tokens=False)
        windows = {}
        for (text, budget), enc in zip(long, fresh):
            enc.truncate(budget, stride=self._overlap(budget))
            windows[text, budget] = [text[w.offsets[0][0] : w.offsets[-1][1]] for w in [enc, *enc.overflowing]]
        return [windows.get((t, b), [t]) for t, b in zip(texts, budgets)]

    def _encode(
        self, first: Sequence[str], second: Sequence[str] | None, cache: dict
    ) -> tuple[list[list[int]], list[list[int]] | None]:
        """Token ids (and token type ids) of texts or pairs, as the tokenizer makes them.

        Every distinct text is tokenised once and pairs are assembled with the
        tokenizer's own post-processor (identical to tokenising the pair).  A
        sequence longer than the model limit is re-tokenised with
        ``truncation="only_first"`` (windows make that rare).
        """
        pieces = self._pieces(list(first) + (list(second) if second is not None else []), cache)
        bt = self._backend()
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
            [k[0] for k in unique], [k[1] for k in unique] if second is not None else None,
            {} if cache is None else cache,
        )
        lengths = np.array([len(x) for x in ids])
        order = np.argsort(-lengths, kind="stable")
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        logits_u = np.empty((len(unique), num_labels), dtype=np.float64)
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

    def _softmax_mean(self, logits: np.ndarray, owner: Sequence[int], n: int) -> np.ndarray:
        """Row softmax of ``logits``, averaged over the rows of each of ``n`` owners (windows -> text)."""
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        owner_arr = np.asarray(owner)
        sums = np.zeros((n, probs.shape[1]), dtype=np.float64)
        np.add.at(sums, owner_arr, probs)
        return sums / np.bincount(owner_arr, minlength=n).astype(np.float64)[:, None]
