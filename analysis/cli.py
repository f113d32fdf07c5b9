"""The ``analysis`` command line: one sub-command per concern.

Each sub-command is registered by ``_add_<name>(subparsers)``, which sets
``func=_run_<name>`` as its handler, and is listed in ``_SUBCOMMANDS``.
A handler returns the exit status. Heavy libraries are imported inside the
handlers, so ``analysis --help`` stays fast.

Exit status: 0 success, 2 bad input (:class:`~analysis.errors.InputError`,
printed as ``error: <message>`` on stderr) or bad arguments (argparse).
Outputs are written atomically: a failed run leaves no output file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import InputError

__all__ = ["build_parser", "main"]


def _add_paragraphs(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "paragraphs",
        help="split articles into the paragraph table",
        description=(
            "Read articles (text files, folders of .txt files, CSV/JSONL/Parquet tables "
            "with a 'text' column) and write one row per paragraph: "
            "doc_id, para_id, text, is_title, lang, source (+ metadata columns)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="article file, folder or table")
    _add_out(p)
    p.set_defaults(func=_run_paragraphs)


def _run_paragraphs(args: argparse.Namespace) -> int:
    from .corpus import read_articles

    _check_out(args.out)
    paragraphs = read_articles(args.inputs)
    _write_table(paragraphs, args.out)
    _note(f"wrote {len(paragraphs)} paragraphs of {paragraphs['doc_id'].nunique()} document(s) to {args.out}")
    return 0


def _add_mentions(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "mentions",
        help="find the mentions of each actor in articles",
        description=(
            "Read articles (as for 'paragraphs') and write one row per actor mention: "
            "doc_id, para_id, actor, surface, start, end, sentence_id, sentence, sentence_start. "
            "The default lexicon covers Russia, China and the West; --actors FILE extends it "
            "(see data/actors.example.yaml)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="article file, folder or table")
    p.add_argument("--actors", metavar="FILE", help="user actor lexicon (YAML) extending the default one")
    _add_out(p)
    p.set_defaults(func=_run_mentions)


def _run_mentions(args: argparse.Namespace) -> int:
    from .actors import find_mentions, load_actors
    from .corpus import read_articles

    _check_out(args.out)
    lexicon = load_actors(args.actors)
    paragraphs = read_articles(args.inputs)
    mentions = find_mentions(paragraphs, lexicon)
    _write_table(mentions, args.out)
    pairs = mentions[["doc_id", "para_id", "actor"]].drop_duplicates()
    _note(
        f"wrote {len(mentions)} mention(s) of {mentions['actor'].nunique()} actor(s) "
        f"({len(pairs)} paragraph x actor pairs, {len(paragraphs)} paragraphs) to {args.out}"
    )
    return 0


def _add_plot(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plot",
        help="write the standard figures for a stance table",
        description=(
            "Read a stance table (doc_id, para_id, actor, score, ...; CSV/JSONL/Parquet) and write "
            "the standard figures as PNG, SVG and PDF with stable names: per document "
            "<doc>_stance_heatmap and <doc>_stance_trajectory (and <doc>_sentiment with "
            "--sentiment), actor_summary, and language_comparison when the table holds one "
            "article in several languages. Re-running replaces the files."
        ),
    )
    p.add_argument("scores", metavar="SCORES", help="stance table written by 'analysis score'")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="folder for the figures (created if missing)")
    p.add_argument("--paragraphs", metavar="FILE", help="paragraph table, for readable row labels")
    p.add_argument("--sentiment", metavar="FILE", help="sentiment table, adds <doc>_sentiment figures")
    p.add_argument("--formats", default="png,svg,pdf", help="comma-separated subset of png,svg,pdf (default: all)")
    p.add_argument("--dpi", type=int, default=300, help="PNG resolution (default: 300)")
    p.set_defaults(func=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    import os

    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")  # files only, never a window
    from .plots import load_table_for_plot, write_standard_figures

    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in ("png", "svg", "pdf")] or ([] if formats else ["(none)"])
    if bad:
        raise InputError(f"--formats: unsupported format(s) {', '.join(bad)}; use png, svg and/or pdf")
    stance = load_table_for_plot(args.scores, ("doc_id", "para_id", "actor", "score"))
    paragraphs = load_table_for_plot(args.paragraphs, ("doc_id", "para_id", "text")) if args.paragraphs else None
    sentiment = load_table_for_plot(args.sentiment, ("doc_id", "para_id", "score")) if args.sentiment else None
    written = write_standard_figures(
        stance, args.out_dir, paragraphs=paragraphs, sentiment=sentiment, formats=formats, dpi=args.dpi
    )
    for path in written:
        print(path)
    _note(f"wrote {len(written)} figure file(s) to {args.out_dir}")
    return 0


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="measure a classifier against a labelled set",
        description=(
            "Score a mention-level classifier on NewsMTSC (a .jsonl split: sentences with target "
            "offsets and polarity; JSON with macro_f1, accuracy, n and per-class F1), on contrast "
            "sentences (right_signs and ranked, overall and per language) or on name-swap templates "
            "(right_sign and each actor's gap to other names). The last line of stdout is the JSON."
        ),
    )
    p.add_argument(
        "kind",
        choices=["newsmtsc", "contrast", "name-swap"],
        help="newsmtsc: a NewsMTSC .jsonl split; contrast: a contrast CSV (data/contrast/contrast_test.csv); "
        "name-swap: a template CSV (data/contrast/name_swap.csv)",
    )
    p.add_argument("file", metavar="FILE", help="labelled file, e.g. ../shared/datasets/newsmtsc/dev_rw.jsonl")
    p.add_argument("--names", metavar="FILE", help="name-swap: the names CSV (default: FILE's <stem>_names.csv)")
    _add_model(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    import json

    from pathlib import Path

    from . import evaluation
    from .classifiers import load_classifier

    path = Path(args.file)
    # bad input fails before the model loads
    if args.kind == "newsmtsc":
        evaluation.read_newsmtsc(path)
    elif args.kind == "contrast":
        table = evaluation.read_contrast(path)
    else:
        templates, names = evaluation.read_name_swap(path, args.names)
    classifier = load_classifier(args.model, batch_size=args.batch_size, device=args.device)
    if args.kind == "newsmtsc":
        report = evaluation.evaluate_newsmtsc(classifier, path)
    elif args.kind == "contrast":
        report = evaluation.contrast_report(evaluation.score_contrast(classifier, table))
    else:
        report = evaluation.name_swap_report(evaluation.score_name_swap(classifier, templates, names))
    print(json.dumps({**report, "file": path.name, "model": getattr(classifier, "model_id", "?")}))
    return 0


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the embedded classifier's adapter on NewsMTSC",
        description=(
            "Fine-tune multilingual-e5-small (LoRA) with a target-aware head on NewsMTSC train, "
            "select on dev_rw + dev_mt, and write the artefact (adapter, head, metadata.json). "
            "Takes about 10 CPU minutes an epoch on 2 cores."
        ),
        add_help=False,
    )
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="options of python -m analysis.training.embedded (--help)")
    p.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from .training.embedded import main as train_main

    return train_main(args.train_args)


def _add_score(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score",
        help="stance toward each mentioned actor, paragraph by paragraph",
        description=(
            "Read articles, find the actors' mentions and write the stance table: one row per "
            "paragraph x mentioned actor with doc_id, para_id, actor, n_mentions, p_against, "
            "p_neutral, p_favor, score (= p_favor - p_against), label, model, evidence. "
            "--model switches between the embedded model (offline), a Hugging Face model id "
            "(NLI or sentiment classifier, e.g. MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7) "
            "and a local model folder."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="article file, folder or table")
    p.add_argument("--actors", metavar="FILE", help="actor lexicon YAML (extends the default one)")
    _add_model(p)
    p.add_argument(
        "--no-cache", action="store_true",
        help="do not read or write the model-output cache (default: reuse outputs of earlier runs, "
        "stored under $ANALYSIS_CACHE_DIR or the user cache folder; ANALYSIS_NO_CACHE=1 also disables it)",
    )
    p.add_argument(
        "--chunk-size", type=int, default=None, metavar="N",
        help="mentions per model call, whole documents (default: 2000, as score_stance); memory stays "
        "flat however large the corpus",
    )
    _add_out(p)
    p.set_defaults(func=_run_score)


def _run_score(args: argparse.Namespace) -> int:
    import pandas as pd

    from .actors import find_mentions, load_actors
    from .cache import progress_bar, with_cache
    from .classifiers import load_classifier
    from .corpus import read_articles
    from .scoring import StanceScorer, _chunk_bounds

    _check_out(args.out)
    from .scoring import DEFAULT_CHUNK_MENTIONS

    chunk_size = DEFAULT_CHUNK_MENTIONS if args.chunk_size is None else args.chunk_size
    if chunk_size < 1:
        raise InputError(f"--chunk-size must be >= 1, got {chunk_size}")
    actors = load_actors(args.actors) if args.actors else None
    paragraphs = read_articles(args.inputs)
    # the model is located and checked even when nothing is mentioned (a wrong --model
    # always fails); its weights are loaded only if some output is not in the cache
    classifier = load_classifier(args.model, batch_size=args.batch_size, device=args.device, lazy=True)
    scorer = StanceScorer(with_cache(classifier, not args.no_cache), chunk_size)
    # stream: find mentions in whole documents, about _STREAM_PARAGRAPHS paragraphs at a time;
    # the scorer calls the model on chunks of --chunk-size mentions, exactly as score_stance does
    codes, uniques = pd.factorize(paragraphs["doc_id"], sort=False)
    n_mentions = 0
    bar = progress_bar(len(paragraphs), "scoring", unit="para", min_total=2 * _STREAM_PARAGRAPHS, leave=True)
    for lo, hi in _chunk_bounds(codes, len(uniques), _STREAM_PARAGRAPHS):
        part = paragraphs[(codes >= lo) & (codes < hi)]
        mentions = find_mentions(part, actors)
        n_mentions += len(mentions)
        scorer.add(mentions)
        bar.update(len(part))
    stance = scorer.result()
    bar.close()
    _write_table(_rounded(stance), args.out)
    _note(
        f"wrote {len(stance)} stance row(s) ({n_mentions} mention(s) in "
        f"{paragraphs['doc_id'].nunique()} document(s)) with {classifier.model_id} to {args.out}"
    )
    return 0


#: Paragraphs read into the mention finder at a time by ``analysis score``.
_STREAM_PARAGRAPHS = 1000

#: Decimals of probabilities and scores in written tables: byte-identical files across runs and machines.
FLOAT_DECIMALS = 6


def _rounded(table):
    """``table`` with its probabilities rounded to :data:`FLOAT_DECIMALS` and ``score`` recomputed
    from the rounded ones (so ``score == p_favor - p_against`` still holds in the file)."""
    cols = [c for c in table.columns if c.startswith("p_")]
    if not cols:
        return table
    out = table.round({c: FLOAT_DECIMALS for c in cols})
    for pos, neg in (("p_favor", "p_against"), ("p_positive", "p_negative")):
        if "score" in out.columns and pos in out.columns and neg in out.columns:
            out["score"] = (out[pos] - out[neg]).round(FLOAT_DECIMALS)
    return out


def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", default="embedded",
        help="'embedded' (offline default), a Hugging Face model id, or a local model folder",
    )
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default: 32)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")


# --- helpers shared by sub-commands ------------------------------------------------


def _add_out(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument(
        "--out", "-o", required=required, metavar="FILE",
        help="output table; the format follows the suffix: .csv, .jsonl or .parquet",
    )


def _check_out(out: str) -> None:
    """Reject an unusable ``--out`` table path before doing any work."""
    from .io import TABLE_SUFFIXES, check_output_path

    check_output_path(out, TABLE_SUFFIXES)


def _write_table(df, out: str) -> None:
    """Write ``df`` to ``out`` atomically (a temporary file renamed into place)."""
    from .io import atomic_write_table

    atomic_write_table(df, out)


def _note(message: str) -> None:
    """A progress / summary line for the user, on stderr (stdout stays for data)."""
    print(message, file=sys.stderr)


# Sub-commands in the order they appear in --help; add yours here.
_SUBCOMMANDS = [_add_paragraphs, _add_mentions, _add_score, _add_plot, _add_evaluate, _add_train]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="analysis",
        description="Paragraph-level stance of news text toward Russia, China and the West.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input or arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or bad arguments (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
