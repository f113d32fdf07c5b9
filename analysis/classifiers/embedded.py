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
cache (:mod:`.onnx_runtime`). Both share the tokenisation and windows of
:mod:`.encoding` and the batching of this module; the artefact's location and hash are in
:mod:`.artifact`, the head's definition in :mod:`.torch_runtime`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..schema import CLASSES
from .artifact import ARTIFACT_DIR, MODEL_NAME, artifact_digest, read_artifact_metadata
from .base import Identity, MentionClassifier, resolve_device


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
    metadata = read_artifact_metadata(artifact)
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


class EmbeddedClassifier(MentionClassifier):
    """Offline multilingual stance classifier (e5-small + LoRA + target-aware head).

    Use :func:`analysis.load_classifier` (``"embedded"``) or :meth:`load`.

    Parameters
    ----------
    model : callable
        ``model(input_ids, attention_mask, span_mask, span_row) -> (stance, tone)``
        probabilities (numpy): a :class:`~analysis.classifiers.torch_runtime.TorchForward`
        or an :class:`~analysis.classifiers.onnx_runtime.OnnxForward`.
    encoding : analysis.classifiers.encoding.Encoding
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
            ``"torch"``: PyTorch (:mod:`~analysis.classifiers.torch_runtime`); ``"onnx"``:
            ONNX Runtime on the CPU, exported at first use into ``cache``
            (:mod:`~analysis.classifiers.onnx_runtime`); ``"auto"`` (default): torch.
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
            import torch

            from ..progress import quiet_libraries
            from .encoding import Encoding
            from .torch_runtime import TorchForward, load_torch_model

            with quiet_libraries():  # no transformers bars or notices; the onnx runtime loads neither
                encoder, head, tokenizer = load_torch_model(artifact, metadata, cache)
            if settings["quantized"]:  # in place, no fp32 copy: -450 MB peak
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
