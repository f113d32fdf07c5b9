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

Runtimes
--------
The same model runs in one of two runtimes (``runtime=`` of :meth:`EmbeddedClassifier.load`):
``"torch"`` (the default) runs encoder, head and softmax in PyTorch; ``"onnx"`` (opt-in,
experimental) runs them as one ONNX Runtime graph exported at first use into the user
cache (:mod:`.onnx_runtime`). Both share the tokenisation,
windows and batching of this module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..schema import CLASSES
from .base import Identity, MentionClassifier, resolve_device
from .e5 import PASSAGE_PREFIX

ARTIFACT_DIR = Path(__file__).parent / "artifacts" / "e5-newsmtsc"
#: Name of the model in ``model_id`` (``embedded:<name>@<sha12 of the artefact>``).
MODEL_NAME = "e5-small-newsmtsc"


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
        torch = _torch()
        *arrays, keys = self.collate_arrays(rows)
        return (*(torch.from_numpy(a) for a in arrays), keys)


def artifact_digest(directory: Path = ARTIFACT_DIR) -> str:
    """sha256 over every file of the artefact but ``metadata.json`` (adapter included),
    each under its path relative to the artefact: the model's identity in caches and outputs."""
    directory = Path(directory)
    h = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative != "metadata.json":
            h.update(relative.encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


#: The runtimes of the embedded model (``runtime=``); ``"auto"`` is torch (onnx is opt-in until
#: its speed-up and its export cache are verified, see the README).
RUNTIMES = ("auto", "onnx", "torch")


def resolve_runtime(runtime: str = "auto", device: str = "auto") -> tuple[str, str]:
    """The runtime and the concrete device for a ``runtime=`` / ``device=`` request.

    ``"auto"`` is ``"torch"``. The onnx runtime (opt-in) runs on the CPU (``device``
    ``"auto"`` or ``"cpu"``) and decides without importing torch.

    Raises
    ------
    InputError
        An unknown runtime, or the onnx runtime on a CUDA device.
    """
    request = str(runtime).strip().lower() if isinstance(runtime, str) else runtime
    if request not in RUNTIMES:
        raise InputError(f"unknown runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if request == "auto":
        request = "torch"
    if request == "torch":
        return "torch", resolve_device(device)
    if str(device).strip().lower() not in ("auto", "cpu"):
        raise InputError(f"the onnx runtime runs on the CPU only, not on device {device!r}; use --device cpu or --runtime torch")
    return "onnx", "cpu"


def describe_embedded(
    *, artifact=ARTIFACT_DIR, batch_size=32, device="auto", quantize=False, runtime="auto", cache=None
) -> tuple[Identity, dict]:
    """Identity and metadata of the embedded classifier for these settings, without loading it.

    Parameters are those of :meth:`EmbeddedClassifier.load` (``cache``, the folder of the
    derived base weights and the ONNX exports, does not change outputs and is not part of
    the identity).

    Returns
    -------
    (Identity, dict)
        ``model_id`` ``embedded:e5-small-newsmtsc@<sha12>``; content: the artefact's full
        sha256; settings: ``runtime`` (resolved), ``quantized`` (int8 only on CPU),
        ``device`` (resolved) and ``batch_size``; the artefact's ``metadata.json`` with
        ``runtime`` and ``quantized`` added.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    artifact = Path(artifact)
    metadata_path = artifact / "metadata.json"
    if not metadata_path.is_file():
        raise InputError(f"{metadata_path}: the trained artefact is missing (expected metadata.json, adapter/, head.safetensors)")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    runtime, device = resolve_runtime(runtime, device)
    quantized = bool(quantize) and device == "cpu"
    metadata.update(runtime=runtime, quantized=quantized)
    digest = artifact_digest(artifact)
    identity = Identity(
        model_id=f"embedded:{MODEL_NAME}@{digest[:12]}",
        content=f"embedded:{digest}",
        settings={"runtime": runtime, "quantized": quantized, "device": device, "batch_size": batch_size},
    )
    return identity, metadata


def load_torch_model(artifact, metadata: dict, cache=None):
    """The fp32 torch model of an artefact: (encoder with the LoRA merged, head, tokenizer), in eval mode.

    ``metadata`` is the artefact's (its hyper-parameters shape the head); ``cache`` is where
    the derived base weights live (:func:`analysis.classifiers.e5.derive_base`).
    """
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertModel

    from . import e5

    base_dir = e5.derive_base(cache)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    encoder = BertModel.from_pretrained(base_dir, add_pooling_layer=False)
    encoder = PeftModel.from_pretrained(encoder, Path(artifact) / "adapter").merge_and_unload()
    hyper = metadata["hyperparameters"]
    head = build_head(encoder.config.hidden_size, hyper.get("dropout", 0.1), hyper.get("sentence_features", True))
    head.load_state_dict(load_file(Path(artifact) / "head.safetensors"))
    return encoder.eval(), head.eval(), tokenizer


def build_scorer(encoder, head):
    """Encoder, head and softmax as one ``torch.nn.Module`` (what the onnx runtime exports).

    ``forward(input_ids, attention_mask, span_mask, span_row)`` (the arrays of
    :meth:`Encoding.collate_arrays`, as tensors) returns the stance probabilities
    (mentions x 3) and the tone probabilities (rows x 3).
    """
    nn = _torch().nn

    class Scorer(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.head = head

        def forward(self, input_ids, attention_mask, span_mask, span_row):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            stance, tone = self.head(hidden, attention_mask, span_mask, span_row)
            return stance.softmax(-1), tone.softmax(-1)

    return Scorer().eval()


class TorchForward:
    """The torch runtime: :func:`build_scorer` under ``inference_mode``, numpy arrays in and out.

    Attributes
    ----------
    encoder, head : torch modules (the encoder possibly int8-quantised)
    device : str
    """

    def __init__(self, encoder, head, device: str = "cpu"):
        self.encoder = encoder.to(device)
        self.head = head.to(device)
        self.scorer = build_scorer(self.encoder, self.head)
        self.device = device

    def __call__(self, input_ids, attention_mask, span_mask, span_row):
        torch = _torch()
        tensors = [torch.from_numpy(a).to(self.device) for a in (input_ids, attention_mask, span_mask, span_row)]
        with torch.inference_mode():
            stance, tone = self.scorer(*tensors)
        return stance.float().cpu().numpy(), tone.float().cpu().numpy()


class EmbeddedClassifier(MentionClassifier):
    """Offline multilingual stance classifier (e5-small + LoRA + target-aware head).

    Use :func:`analysis.load_classifier` (``"embedded"``) or :meth:`load`.

    Parameters
    ----------
    model : callable
        ``model(input_ids, attention_mask, span_mask, span_row) -> (stance, tone)``
        probabilities (numpy): a :class:`TorchForward` or an
        :class:`~analysis.classifiers.onnx_runtime.OnnxForward`.
    encoding : Encoding
    metadata, model_id, batch_size
        As stated by :func:`describe_embedded`.
    runtime : {"onnx", "torch"}
    quantized : bool
        Whether ``model`` scales its int8 activations per pass; such a model reads one
        sentence (window) per pass so that no score depends on the rest of the batch.

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
        self, model, encoding, *, metadata=None, model_id="embedded", batch_size=32, runtime="torch", quantized=False
    ):
        super().__init__(model_id, metadata)
        self.model = model
        self.encoding = encoding
        self.batch_size = int(batch_size)
        self.runtime = runtime
        self.quantized = bool(quantized)

    @property
    def encoder(self):
        """The torch encoder (torch runtime only)."""
        return self.model.encoder

    @classmethod
    def load(cls, *, artifact=ARTIFACT_DIR, batch_size=32, device="auto", quantize=False, runtime="auto", cache=None):
        """Build the classifier from the bundled base and the trained artefact.

        Parameters
        ----------
        artifact : path
            Folder holding ``adapter/`` (LoRA), ``head.safetensors`` and ``metadata.json``.
        batch_size : int
            Sentences per encoder pass, sentences of similar length together (the int8
            model reads one sentence per pass, so that no score depends on the rest of
            the batch).
        device : {"auto", "cpu", "cuda"}
        quantize : bool
            On CPU, run the encoder's matrix products in int8 (dynamic quantisation):
            faster, but less accurate (the figures are in the README), so the default is fp32.
        runtime : {"auto", "onnx", "torch"}
            ``"onnx"``: ONNX Runtime on the CPU, exported at first use into ``cache``
            (:mod:`~analysis.classifiers.onnx_runtime`); ``"torch"``: PyTorch; ``"auto"``
            (default): onnx, or torch when ``device`` asks for CUDA.
        cache : path, optional
            Where the derived base weights and the ONNX exports live (default: the user cache).
        """
        identity, metadata = describe_embedded(
            artifact=artifact, batch_size=batch_size, device=device, quantize=quantize, runtime=runtime
        )
        settings = identity.settings
        if settings["runtime"] == "onnx":
            from .onnx_runtime import load_onnx

            model, encoding = load_onnx(artifact, quantized=settings["quantized"], cache=cache)
        else:
            encoder, head, tokenizer = load_torch_model(artifact, metadata, cache)
            if settings["quantized"]:  # in place, no fp32 copy: -450 MB peak
                torch = _torch()
                encoder = torch.ao.quantization.quantize_dynamic(encoder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
            model = TorchForward(encoder, head, settings["device"])
            encoding = Encoding(tokenizer, encoder.config.max_position_embeddings)
        clf = cls(
            model, encoding, metadata=metadata, model_id=identity.model_id, batch_size=batch_size,
            runtime=settings["runtime"], quantized=settings["quantized"],
        )
        clf.identity = identity
        return clf

    def _forward(self, rows):
        *arrays, keys = self.encoding.collate_arrays(rows)
        stance, tone = self.model(*arrays)
        return stance, tone, keys

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
        from ..progress import progress_bar  # stderr / Jupyter widget; silent for short loops

        # Dynamic int8 quantisation scales activations over the whole pass, so the quantised
        # model reads one sentence (window) per pass: a sentence's probabilities then never
        # depend on what else is being scored. Otherwise: batches of sentences of similar
        # length (jobs are sorted), at most batch_size rows and batch_size x 64 padded tokens,
        # and mentions x padded tokens at most 4 times that (the head holds each mention's
        # row), so the memory of a pass stays bounded.
        rows_per_pass = 1 if self.quantized else self.batch_size
        budget = self.batch_size * 64
        bounds, lo = [], 0
        while lo < len(jobs):
            hi, mentions = lo + 1, len(jobs[lo][3])
            while hi < len(jobs) and hi - lo < rows_per_pass and (hi - lo + 1) * jobs[hi][0] <= budget:
                if (mentions + len(jobs[hi][3])) * jobs[hi][0] > 4 * budget:
                    break
                mentions += len(jobs[hi][3])
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
        sentence share one encoder pass; a (sentence, span) pair that repeats is read once.
        """
        if len(sentences) != len(spans):
            raise ValueError(f"{len(sentences)} sentences but {len(spans)} spans")
        if not len(sentences):
            return np.zeros((0, len(CLASSES)))
        unique: dict[str, int] = {}
        where = []
        groups: list[dict[tuple[int, int], int]] = []  # per sentence: its distinct spans, in order
        for sentence, (start, end) in zip(sentences, spans):
            if not 0 <= start < end <= len(sentence):
                raise ValueError(f"span ({start}, {end}) is not inside a sentence of {len(sentence)} characters")
            i = unique.setdefault(sentence, len(unique))
            if i == len(groups):
                groups.append({})
            span = (int(start), int(end))
            where.append((i, groups[i].setdefault(span, len(groups[i]))))
        stance, _ = self._run(list(unique), [list(group) for group in groups])
        return np.stack([stance[i][j] for i, j in where])

    def predict_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """Overall tone of each text: P(negative), P(neutral), P(positive).

        Each text is read whole (windowed when longer than the encoder).
        """
        if not len(texts):
            return np.zeros((0, len(CLASSES)))
        _, tone = self._run(list(texts), [[] for _ in texts])
        return tone
