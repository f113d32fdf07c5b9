"""The embedded stance classifier: multilingual-e5-small + a target-aware head trained on NewsMTSC.

How it reads a mention
----------------------
The sentence is encoded once as ``"passage: " + sentence`` by the e5 encoder
(with the project's LoRA adapter merged into it). For every mention in that
sentence the head builds two vectors from the last hidden states:

* ``span``: the mean of the tokens that overlap the mention's characters;
* ``context``: an attention-weighted mean of all tokens, the attention query
  being a learned projection of ``span`` (so each target reads the parts of the
  sentence that speak about *it*, which is what lets two actors in one sentence
  get opposite signs).

Their concatenation goes through a two-layer MLP to three logits (negative,
neutral, positive). The sentence's mean (e5's own pooling) is deliberately left
out of that MLP (``sentence_features=False`` in the artefact's hyper-parameters),
so a target cannot inherit the sentence's overall tone. One encoder pass serves
all the mentions of a sentence. A second, linear head on the sentence mean gives
the sentence's overall tone, used for paragraph sentiment.

Sentences longer than the encoder's 512 positions are not cut: each mention is
read in a 512-token window centred on it, and sentence tone is averaged over
consecutive windows.

The trained artefact (``artifacts/e5-newsmtsc/``) holds only what differs from
the bundled base: the LoRA adapter and the heads, with ``metadata.json``
(training-data sha256, hyper-parameters, dev metrics, library versions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import CLASSES, MentionClassifier
from .e5 import PASSAGE_PREFIX

ARTIFACT_DIR = Path(__file__).parent / "artifacts" / "e5-newsmtsc"


def _torch():
    import torch

    return torch


def build_head(hidden_size: int, dropout: float = 0.1, sentence_features: bool = True):
    """The target-aware stance head and the sentence-tone head (a ``torch.nn.Module``).

    With ``sentence_features=False`` the stance MLP sees only ``span`` and ``context``,
    not the sentence's mean, so it cannot fall back on the sentence's overall tone.
    """
    torch = _torch()
    nn = torch.nn

    class StanceHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(hidden_size, hidden_size)
            self.mlp = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear((3 if sentence_features else 2) * hidden_size, hidden_size),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden_size, len(CLASSES)),
            )
            self.tone = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden_size, len(CLASSES)))
            self.scale = hidden_size**-0.5

        def forward(self, hidden, attention_mask, span_mask, span_row):
            """Stance logits (n_mentions, 3) and tone logits (n_sentences, 3).

            hidden: (B, T, H); attention_mask: (B, T); span_mask: (M, T) with 1 on the
            tokens of mention m; span_row: (M,) the sentence row of mention m.
            """
            mask = attention_mask.to(hidden.dtype)
            sentence = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            rows = hidden[span_row]  # (M, T, H)
            span_w = span_mask / span_mask.sum(1, keepdim=True).clamp(min=1.0)
            span = torch.einsum("mt,mth->mh", span_w, rows)
            scores = torch.einsum("mh,mth->mt", self.query(span), rows) * self.scale
            scores = scores.masked_fill(mask[span_row] == 0, torch.finfo(scores.dtype).min)
            context = torch.einsum("mt,mth->mh", scores.softmax(-1), rows)
            parts = [span, context, sentence[span_row]] if sentence_features else [span, context]
            stance = self.mlp(torch.cat(parts, dim=-1))
            return stance, self.tone(sentence)

    return StanceHead()


class Encoding:
    """Token ids and per-mention token masks for a batch of (sentence, spans) items.

    Parameters
    ----------
    tokenizer : the e5 fast tokenizer (with offsets).
    max_length : int
        Positions the encoder accepts, special tokens included.
    """

    def __init__(self, tokenizer, max_length: int = 512):
        self.tokenizer = tokenizer
        self.max_length = max_length
        prefix = tokenizer(PASSAGE_PREFIX, add_special_tokens=False)["input_ids"]
        self.prefix_ids = list(prefix)
        self.bos = tokenizer.bos_token_id
        self.eos = tokenizer.eos_token_id
        self.pad = tokenizer.pad_token_id
        self.window = max_length - 2 - len(self.prefix_ids)

    def tokenize(self, sentences: Sequence[str]):
        """Content token ids and character offsets of each sentence (no prefix, no specials)."""
        enc = self.tokenizer(
            list(sentences), add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        return enc["input_ids"], enc["offset_mapping"]

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

    def collate(self, rows):
        """Tensors for a list of ``(input_ids, [(key, mask), ...])`` rows.

        Returns input_ids, attention_mask, span_mask, span_row and the keys in order.
        """
        torch = _torch()
        width = max(len(r[0]) for r in rows)
        ids = torch.full((len(rows), width), self.pad, dtype=torch.long)
        att = torch.zeros((len(rows), width), dtype=torch.long)
        span_masks, span_rows, keys = [], [], []
        for i, (row, mentions) in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            att[i, : len(row)] = 1
            for key, mask in mentions:
                padded = np.zeros(width, np.float32)
                padded[: len(mask)] = mask
                span_masks.append(padded)
                span_rows.append(i)
                keys.append(key)
        span = torch.from_numpy(np.stack(span_masks)) if span_masks else torch.zeros((0, width))
        return ids, att, span, torch.tensor(span_rows, dtype=torch.long), keys


def artifact_digest(directory: Path = ARTIFACT_DIR) -> str:
    """sha256 over the artefact files, the model's identity in caches and outputs."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*")):
        if path.is_file() and path.name != "metadata.json":
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class EmbeddedClassifier(MentionClassifier):
    """Offline multilingual stance classifier (e5-small + LoRA + target-aware head).

    Use :func:`analysis.load_classifier` (``"embedded"``) or :meth:`load`.

    Attributes
    ----------
    classes_ : tuple of str
        ``("negative", "neutral", "positive")``, the column order of ``predict_proba``.
    model_id : str
        ``"embedded:e5-small-newsmtsc@<sha12>"``, the artefact's content hash.
    metadata : dict
        The artefact's metadata (training data hash, hyper-parameters, dev metrics).
    """

    classes_ = CLASSES

    def __init__(
        self, encoder, head, tokenizer, *, metadata=None, model_id="embedded", batch_size=32, device="cpu", quantized=False
    ):
        super().__init__(model_id, metadata)
        self.quantized = bool(quantized)
        self.encoder = encoder.eval()
        self.head = head.eval()
        self.encoding = Encoding(tokenizer, encoder.config.max_position_embeddings)
        self.batch_size = int(batch_size)
        self.device = device

    @classmethod
    def load(cls, *, artifact=ARTIFACT_DIR, batch_size=32, device="auto", quantize=False, cache=None):
        """Build the classifier from the bundled base and the trained artefact.

        Parameters
        ----------
        artifact : path
            Folder holding ``adapter/`` (LoRA), ``head.safetensors`` and ``metadata.json``.
        batch_size : int
            Sentences per encoder pass when not quantised (the int8 model reads one
            sentence per pass, so that no score depends on the rest of the batch).
        device : {"auto", "cpu", "cuda"}
        quantize : bool
            On CPU, run the encoder's Linear layers with dynamic int8 quantisation: faster,
            but it costs this model about 0.04 dev macro-F1 (both figures are in the
            metadata), so the default is fp32.
        cache : path, optional
            Where the derived base weights live (default: the user cache).
        """
        torch = _torch()
        from peft import PeftModel
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertModel

        from . import e5
        from .base import resolve_device

        artifact = Path(artifact)
        metadata_path = artifact / "metadata.json"
        if not metadata_path.is_file():
            raise FileNotFoundError(f"{metadata_path}: the trained artefact is missing")
        metadata = json.loads(metadata_path.read_text())
        base_dir = e5.derive_base(cache)
        tokenizer = AutoTokenizer.from_pretrained(base_dir)
        encoder = BertModel.from_pretrained(base_dir, add_pooling_layer=False)
        encoder = PeftModel.from_pretrained(encoder, artifact / "adapter").merge_and_unload()
        hyper = metadata["hyperparameters"]
        head = build_head(encoder.config.hidden_size, hyper.get("dropout", 0.1), hyper.get("sentence_features", True))
        head.load_state_dict(load_file(artifact / "head.safetensors"))
        device = resolve_device(device)
        if quantize and device == "cpu":
            encoder = torch.ao.quantization.quantize_dynamic(encoder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)  # no fp32 copy: -450 MB peak
        encoder.to(device)
        head.to(device)
        model_id = f"embedded:e5-small-newsmtsc@{artifact_digest(artifact)[:12]}"
        quantized = bool(quantize and device == "cpu")
        metadata["quantized"] = quantized
        return cls(
            encoder, head, tokenizer, metadata=metadata, model_id=model_id, batch_size=batch_size, device=device,
            quantized=quantized,
        )

    def _forward(self, rows):
        torch = _torch()
        ids, att, span, span_row, keys = self.encoding.collate(rows)
        with torch.inference_mode():
            hidden = self.encoder(input_ids=ids.to(self.device), attention_mask=att.to(self.device)).last_hidden_state
            stance, tone = self.head(hidden, att.to(self.device), span.to(self.device), span_row.to(self.device))
            return stance.softmax(-1).float().cpu().numpy(), tone.softmax(-1).float().cpu().numpy(), keys

    def _run(self, sentences, spans_per_sentence):
        """Stance probabilities per (sentence, mention) and tone per sentence."""
        ids, offsets = self.encoding.tokenize(sentences)
        jobs = []  # (n_tokens, sentence_index, row, mentions, tone_weight)
        for i, (tok, off, spans) in enumerate(zip(ids, offsets, spans_per_sentence)):
            for row, mentions, weight in self.encoding.windows(tok, off, spans):
                jobs.append((len(row), i, row, mentions, weight))
        jobs.sort(key=lambda job: job[0])
        stance = [np.zeros((len(s), len(CLASSES))) for s in spans_per_sentence]
        tone = np.zeros((len(sentences), len(CLASSES)))
        from ..cache import progress_bar  # stderr / Jupyter widget; silent for short loops

        # Dynamic int8 quantisation scales activations over the whole pass, so the quantised
        # model reads one sentence (window) per pass: a sentence's probabilities then never
        # depend on what else is being scored. Otherwise: batches of at most batch_size rows
        # and batch_size x 64 padded tokens, so the attention's memory stays bounded.
        rows_per_pass = 1 if self.quantized else self.batch_size
        budget = self.batch_size * 64
        bounds, lo = [], 0
        while lo < len(jobs):
            hi = lo + 1
            while hi < len(jobs) and hi - lo < rows_per_pass and (hi - lo + 1) * jobs[hi][0] <= budget:
                hi += 1
            bounds.append((lo, hi))
            lo = hi
        bar = progress_bar(len(bounds), "embedded model")
        for lo, hi in bounds:
            bar.update(lo > 0)
            batch = jobs[lo:hi]
            rows = [(row, [((b, j), m) for j, m in mentions]) for b, (_, _, row, mentions, _) in enumerate(batch)]
            p_stance, p_tone, keys = self._forward(rows)
            for (b, j), p in zip(keys, p_stance):
                stance[batch[b][1]][j] = p
            for b, (_, i, _, mentions, weight) in enumerate(batch):
                if weight:
                    tone[i] += weight * p_tone[b]
        bar.update(1 if jobs else 0)
        bar.close()
        return stance, tone

    def predict_proba(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """P(negative), P(neutral), P(positive) toward each target.

        Parameters
        ----------
        sentences : sequence of str
        spans : sequence of (start, end)
            Character offsets of the target inside the matching sentence.

        Returns
        -------
        ndarray of shape (n, 3), columns in ``classes_`` order. Mentions that share a
        sentence share one encoder pass.
        """
        if len(sentences) != len(spans):
            raise ValueError(f"{len(sentences)} sentences but {len(spans)} spans")
        if not len(sentences):
            return np.zeros((0, len(CLASSES)))
        unique: dict[str, int] = {}
        where = []
        groups: list[list[tuple[int, int]]] = []
        for sentence, (start, end) in zip(sentences, spans):
            if not 0 <= start < end <= len(sentence):
                raise ValueError(f"span ({start}, {end}) is not inside a sentence of {len(sentence)} characters")
            i = unique.setdefault(sentence, len(unique))
            if i == len(groups):
                groups.append([])
            where.append((i, len(groups[i])))
            groups[i].append((int(start), int(end)))
        stance, _ = self._run(list(unique), groups)
        return np.stack([stance[i][j] for i, j in where])

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Overall tone of each text: P(negative), P(neutral), P(positive).

        Each text is read whole (windowed when longer than the encoder).
        """
        if not len(texts):
            return np.zeros((0, len(CLASSES)))
        _, tone = self._run(list(texts), [[] for _ in texts])
        return tone
