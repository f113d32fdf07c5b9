"""Tiny randomly initialised transformers models, built locally.

Test-only (``benchmarks/run.py`` puts ``tests/`` on ``sys.path`` to use it too):
exercises :mod:`analysis.classifiers.hf` without any download.  A BERT-shaped
sequence classifier with a WordPiece vocabulary built from a few sentences,
saved with ``save_pretrained`` so that it loads exactly like a hub model from
a local directory.  The weights
are random (seeded), so the *scores* are meaningless; only the plumbing is
real.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Labels of an NLI model in the usual MNLI order.
NLI_LABELS = ("entailment", "neutral", "contradiction")

#: Default sentences the vocabulary is built from (several languages).
DEFAULT_TEXTS = (
    "This text is favourable to Russia. This text is neutral about China.",
    "This text is unfavourable to the West. This text is positive, neutral or negative.",
    "La Russie et la Chine critiquent l'Occident et les États-Unis.",
    "Le président russe a rencontré son homologue chinois à Moscou.",
    "Die Europäische Union und die NATO verurteilen Russland.",
    "China y Rusia firmaron un acuerdo con Occidente.",
)


def _vocabulary(texts: Iterable[str]) -> dict[str, int]:
    """WordPiece vocabulary: specials, every character (alone and as ``##c``), every word.

    Texts go through the same normaliser and pre-tokeniser as the final
    tokenizer (lower case, accents stripped, punctuation split), so every word
    of ``texts`` is a single token and anything else falls back to characters.
    """
    from transformers import BertTokenizer

    probe = BertTokenizer()
    normalizer = probe.backend_tokenizer.normalizer
    pre = probe.backend_tokenizer.pre_tokenizer
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars: set[str] = set(string.ascii_lowercase + string.digits + string.punctuation)
    words: set[str] = set()
    for text in texts:
        for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)):
            chars.update(word)
            words.add(word)
    tokens = list(specials)
    tokens += sorted(chars)
    tokens += sorted("##" + ch for ch in chars)
    tokens += sorted(w for w in words if len(w) > 1)
    seen: dict[str, int] = {}
    for tok in tokens:
        seen.setdefault(tok, len(seen))
    return seen


def build_tiny_model(
    path: str | Path,
    labels: Sequence[str] = NLI_LABELS,
    *,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 2,
    max_position_embeddings: int = 128,
    model_max_length: int | None = None,
    texts: Iterable[str] = DEFAULT_TEXTS,
    seed: int = 0,
    initializer_range: float = 0.3,
) -> Path:
    """Build and save a tiny BERT sequence classifier.

    Parameters
    ----------
    path : str or Path
        Directory to create (``save_pretrained`` target).
    labels : sequence of str
        ``id2label`` in id order, e.g. ``("entailment", "neutral",
        "contradiction")`` or ``("LABEL_0", "LABEL_1", "LABEL_2")``.
    hidden_size, num_layers, num_heads : int
        Model shape (``intermediate_size = 4 * hidden_size``).
    max_position_embeddings : int
        Longest input the model accepts.
    model_max_length : int, optional
        Written to the tokenizer config (default: ``max_position_embeddings``).
    texts : iterable of str
        Texts whose characters and words make up the vocabulary.
    seed : int
        ``torch.manual_seed`` used before initialising the weights.
    initializer_range : float
        Std of the random weights; larger than BERT's 0.02 so that outputs
        vary clearly between inputs (makes equality checks meaningful).

    Returns
    -------
    Path
        ``path``.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, BertConfig, BertTokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = _vocabulary(texts)
    tokenizer = BertTokenizer(
        vocab=vocab, model_max_length=model_max_length or max_position_embeddings
    )
    id2label = {i: str(name) for i, name in enumerate(labels)}
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=max_position_embeddings,
        initializer_range=initializer_range,
        id2label=id2label,
        label2id={name: i for i, name in id2label.items()},
    )
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
