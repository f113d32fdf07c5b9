"""How the embedded model's encoder reads sentences: token ids, mention masks, windows and padded batches.

Shared by both runtimes (:mod:`.torch_runtime`, :mod:`.onnx_runtime`) and by training. A
sentence is read as ``"passage: " + sentence`` (e5's passage prefix) between the
tokenizer's special tokens; each mention becomes a mask over the tokens that overlap its
characters. A sentence longer than the encoder's positions is not cut: each mention is
read in a window centred on it, and the sentence's tone over consecutive windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .e5 import PASSAGE_PREFIX

__all__ = ["Encoding"]


class Encoding:
    """Token ids and per-mention token masks for a batch of (sentence, spans) items.

    Parameters
    ----------
    tokenizer : the e5 fast tokenizer (transformers), or its ``tokenizers.Tokenizer``
        backend together with ``special_ids``.
    max_length : int
        Positions the encoder accepts, special tokens included.
    special_ids : dict, optional
        ``{"bos": id, "eos": id, "pad": id}``; read from ``tokenizer`` when omitted
        (:attr:`special_ids` of an encoding made from the transformers tokenizer).
    """

    def __init__(self, tokenizer, max_length: int = 512, special_ids=None):
        self.backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
        self.backend.no_truncation()
        self.backend.no_padding()
        self.max_length = max_length
        if special_ids is None:
            special_ids = {"bos": tokenizer.bos_token_id, "eos": tokenizer.eos_token_id, "pad": tokenizer.pad_token_id}
        self.special_ids = {key: int(special_ids[key]) for key in ("bos", "eos", "pad")}
        self.bos, self.eos, self.pad = (self.special_ids[key] for key in ("bos", "eos", "pad"))
        self.prefix_ids = list(self.backend.encode(PASSAGE_PREFIX, add_special_tokens=False).ids)
        self.window = max_length - 2 - len(self.prefix_ids)

    def tokenize(self, sentences: Sequence[str]):
        """Content token ids and character offsets of each sentence (no prefix, no specials)."""
        encodings = self.backend.encode_batch(list(sentences), add_special_tokens=False)
        return [e.ids for e in encodings], [e.offsets for e in encodings]

    @staticmethod
    def span_tokens(offsets, start: int, end: int) -> np.ndarray:
        """Boolean mask of the content tokens overlapping characters [start, end)."""
        off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        hit = (off[:, 0] < end) & (off[:, 1] > start) & (off[:, 1] > off[:, 0])
        if not hit.any() and len(off):
            centre = (off[:, 0] + off[:, 1]) / 2.0
            hit[np.argmin(np.abs(centre - (start + end) / 2.0))] = True
        return hit

    def windows(self, ids, offsets, spans):
        """Split one sentence into encoder inputs.

        Returns a list of ``(input_ids, [(mention_index, token_mask), ...], tone_weight)``.
        A sentence that fits gives one input holding all its mentions; a longer one gives
        one window centred on each mention plus consecutive windows for its tone
        (tone_weight is the share of the sentence's tokens each window covers).
        """
        n = len(ids)
        k = len(self.prefix_ids) + 1  # tokens before the content
        masks = [self.span_tokens(offsets, s, e) for s, e in spans]
        if n <= self.window:
            row = [self.bos, *self.prefix_ids, *ids, self.eos]
            return [(row, [(j, self._pad_mask(m, k)) for j, m in enumerate(masks)], 1.0)]
        out = []
        for j, m in enumerate(masks):
            where = np.flatnonzero(m)
            centre = int((where[0] + where[-1]) // 2)
            lo = min(max(0, centre - self.window // 2), n - self.window)
            row = [self.bos, *self.prefix_ids, *ids[lo : lo + self.window], self.eos]
            out.append((row, [(j, self._pad_mask(m[lo : lo + self.window], k))], 0.0))
        for lo in range(0, n, self.window):
            chunk = ids[lo : lo + self.window]
            out.append(([self.bos, *self.prefix_ids, *chunk, self.eos], [], len(chunk) / n))
        return out

    @staticmethod
    def _pad_mask(mask, k):
        return np.concatenate([np.zeros(k, bool), mask, np.zeros(1, bool)])

    def collate_arrays(self, rows):
        """numpy arrays for a list of ``(input_ids, [(key, mask), ...])`` rows, right-padded.

        Returns input_ids (int64, rows x width), attention_mask (int64), span_mask
        (float32, mentions x width), span_row (int64, the row of each mention) and the
        keys in order.
        """
        width = max(len(r[0]) for r in rows)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        att = np.zeros((len(rows), width), dtype=np.int64)
        span = np.zeros((sum(len(r[1]) for r in rows), width), dtype=np.float32)
        span_rows, keys = [], []
        for i, (row, mentions) in enumerate(rows):
            ids[i, : len(row)] = row
            att[i, : len(row)] = 1
            for key, mask in mentions:
                span[len(keys), : len(mask)] = mask
                span_rows.append(i)
                keys.append(key)
        return ids, att, span, np.asarray(span_rows, dtype=np.int64), keys

    def collate(self, rows):
        """:meth:`collate_arrays` as torch tensors (input_ids, attention_mask, span_mask, span_row) and the keys."""
        import torch

        *arrays, keys = self.collate_arrays(rows)
        return (*(torch.from_numpy(a) for a in arrays), keys)
