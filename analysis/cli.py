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
    _check_out(args.out, args.inputs)
    from .corpus import read_articles

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
            "doc_id, para_id, actor, surface, start, end, sentence_id, sentence, sentence_start, and whose words "
            "it is in: holder ('narrator' or the quoted or reported source as written), holder_start, holder_end, "
            "holder_actor. The default lexicon covers Russia, China and the West; --actors FILE extends it "
            "(see data/actors.example.yaml)."
        ),
    )
    _add_articles(p)
    _add_out(p)
    p.set_defaults(func=_run_mentions)


def _run_mentions(args: argparse.Namespace) -> int:
    _check_out(args.out, [*args.inputs, args.actors])
    paragraphs, mentions = _paragraphs_and_mentions(args)
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
    p.add_argument("--dpi", type=int, default=300, help="PNG resolution, a positive number (default: 300)")
    p.set_defaults(func=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    _check_out_dir(args.out_dir)
    import os

    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")  # files only, never a window
    from .figures import load_table_for_plot, write_standard_figures
    from .plot_style import check_dpi, check_formats

    formats = check_formats(args.formats.split(","), "--formats")
    check_dpi(args.dpi, "--dpi")
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
            "Score a mention-level classifier on labelled targets: a NewsMTSC .jsonl split, a "
            "RuSentNE-2023 file or your own labelled CSV (JSON with macro_f1, macro_f1_pn = mean F1 "
            "of negative and positive, accuracy, n, per-class F1, and by_lang when the file holds "
            "several languages); on contrast sentences (right_signs and ranked, overall and per "
            "language) or on name-swap templates (right_sign and each actor's gap to other names). "
            "The last line of stdout is the JSON. A bad file fails (exit 2) before any model loads."
        ),
    )
    p.add_argument(
        "kind",
        choices=["newsmtsc", "rusentne", "labels", "contrast", "name-swap", "voices"],
        help="newsmtsc: a NewsMTSC .jsonl split; rusentne: a RuSentNE tab-separated file (sentence, entity, "
        "entity_tag, entity_pos_start_rel, entity_pos_end_rel, label -1/0/1); labels: a CSV with sentence, "
        "target (its first occurrence) or start, end (character offsets), label (negative/neutral/positive "
        "or -1/0/1) and optionally lang; contrast: a contrast CSV (data/contrast/contrast_test.csv); "
        "name-swap: a template CSV (data/contrast/name_swap.csv); voices: a voice set (data/voices/voices_dev.csv: "
        "holder accuracy and the sign of each holder's judgement)",
    )
    p.add_argument("file", metavar="FILE", help="labelled file, e.g. ../shared/datasets/newsmtsc/dev_rw.jsonl")
    p.add_argument("--names", metavar="FILE", help="name-swap: the names CSV (default: FILE's <stem>_names.csv)")
    _add_model(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    import json

    from pathlib import Path

    from . import evaluation, labelled
    from .classifiers import load_classifier
    from .voice_evaluation import evaluate_voice_set, read_voice_set

    path = Path(args.file)
    # bad input fails before the model loads
    if args.kind in labelled.READERS:
        targets = labelled.READERS[args.kind](path)
    elif args.kind == "contrast":
        table = evaluation.read_contrast(path)
    elif args.kind == "voices":
        table = read_voice_set(path)
    else:
        templates, names = evaluation.read_name_swap(path, args.names)
    classifier = load_classifier(args.model, **_model_settings(args))
    if args.kind in labelled.READERS:
        report = evaluation.evaluate_labelled(classifier, targets)
    elif args.kind == "contrast":
        report = evaluation.contrast_report(evaluation.score_contrast(classifier, table))
    elif args.kind == "voices":
        report = evaluate_voice_set(table, classifier)[0]
    else:
        report = evaluation.name_swap_report(evaluation.score_name_swap(classifier, templates, names))
    print(json.dumps({**report, "file": path.name, "model": getattr(classifier, "model_id", "?")}))
    return 0


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    from .training.config import add_train_arguments  # the option list only (stdlib); no training code

    p = subparsers.add_parser(
        "train",
        help="train the embedded classifier's adapter on NewsMTSC, RuSentNE and translations",
        description=(
            "Fine-tune multilingual-e5-small (LoRA) with a target-aware head on NewsMTSC train, "
            "its translations (--translations), RuSentNE-2023 (--rusentne) and contrast sentences "
            "(--extra); select the epoch on the dev sets only (NewsMTSC dev_rw, dev_mt, a Russian dev "
            "set held out of RuSentNE by sentence, the translated dev sets), and write the artefact "
            "(adapter, head, metadata.json). The full run (make train) takes about 80 minutes "
            "on 2 cores; the --max-* options bound a smoke run."
        ),
    )
    add_train_arguments(p)
    p.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from .training.embedded import run

    return run(args)


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
    p.add_argument(
        "--voice", choices=["all", "narrator", "sources"], default="all",
        help="whose words are scored: all (default), narrator (the outlet's own words only) or sources (quoted "
        "and reported words only); a mention that is the speaker is never scored as its target",
    )
    p.add_argument(
        "--batch-documents", type=int, default=None, metavar="N",
        help="documents per batch (text files, or rows of a table; default: 50): the unit of work of a "
        "worker and of an --out DIR/ part",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="score on a local Dask cluster of N single-threaded worker processes (N cores)",
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="score on a running Dask cluster (e.g. tcp://10.0.0.5:8786); input and --out DIR/ paths "
        "must be valid on every worker",
    )
    p.add_argument(
        "--out", "-o", required=True, metavar="FILE|DIR/",
        help="output table (.csv, .jsonl or .parquet, by suffix), or a folder (trailing / or existing) for "
        "a partitioned Parquet dataset: one part per batch, _SUCCESS last; a re-run skips the parts written",
    )
    p.set_defaults(func=_run_score)


def _run_score(args: argparse.Namespace) -> int:
    import os

    from .distributed import SUCCESS, ClusterError, check_output_folder, dask_client
    from .schema import rounded_for_file
    from .scoring import DEFAULT_CHUNK_MENTIONS, score_corpus

    dataset = args.out.endswith(("/", os.sep)) or os.path.isdir(args.out)
    if dataset:
        check_output_folder(args.out)
    else:
        _check_out(args.out, [*args.inputs, args.actors])
    try:
        with dask_client(args.workers, args.scheduler) as client:
            stance = score_corpus(
                args.inputs, args.model, actors=args.actors, **_model_settings(args), cache=not args.no_cache,
                chunk_size=DEFAULT_CHUNK_MENTIONS if args.chunk_size is None else args.chunk_size,
                batch_documents=args.batch_documents, client=client, out=args.out if dataset else None,
                voice=args.voice,
            )
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if dataset:
        import json

        with open(os.path.join(args.out, SUCCESS), encoding="utf-8") as fh:
            info = json.load(fh)
        rows = f"{info['n_parts']} part(s)"
    else:
        _write_table(rounded_for_file(stance), args.out)
        info, rows = stance.attrs, f"{len(stance)} stance row(s)"
    _note(
        f"wrote {rows} ({info['n_mentions']} mention(s) in "
        f"{info['n_documents']} document(s)) with {info['model']} to {args.out}"
    )
    return 0



def _add_sample(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sample",
        help="draw an annotation sheet to validate the model against your own coders",
        description=(
            "Read articles (as for 'paragraphs'), find the actors' mentions and write a stratified, seeded "
            "random sample of paragraph x actor pairs as an annotation sheet: item_id, doc_id, para_id, actor, "
            "the --by columns and lang, text (the actor's mentions marked [[like this]]) and the empty columns "
            "coders fill: stance (-1 against, 0 neutral, 1 favor), coder, note. An .xlsx copy is written beside "
            "--out (same name), with the instructions and a stance column that accepts only -1, 0 or 1. "
            "Give each coder a copy, then run 'analysis validate' on the filled sheets."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="article file, folder or table")
    p.add_argument("--n", type=int, default=200, help="pairs to draw (default: 200; all pairs when there are fewer)")
    p.add_argument(
        "--by", default="lang,actor",
        help="comma-separated stratification columns: actor, doc_id, lang or a metadata column "
        "(default: lang,actor; '' for a simple random sample)",
    )
    p.add_argument(
        "--allocation", choices=["equal", "proportional"], default="equal",
        help="equal: the same number of pairs per stratum (default); proportional: as many as in the corpus",
    )
    p.add_argument(
        "--text", choices=["paragraph", "sentences"], default="paragraph",
        help="the text column shows the whole paragraph (default) or only the sentences mentioning the actor",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed; the same inputs and seed give the same sheet")
    p.add_argument("--actors", metavar="FILE", help="actor lexicon YAML (extends the default one)")
    _add_out(p)
    p.set_defaults(func=_run_sample)


def _run_sample(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .io import check_output_path

    _check_out(args.out, [*args.inputs, args.actors])
    check_output_path(Path(args.out).with_suffix(".xlsx"), (".xlsx",), inputs=[*args.inputs, args.actors])
    from .corpus import read_articles
    from .lexicon import load_actors
    from .mentions import find_mentions
    from .sampling import annotation_sheet, write_annotation_sheet

    lexicon = load_actors(args.actors)
    paragraphs = read_articles(args.inputs)
    sheet = annotation_sheet(
        paragraphs, find_mentions(paragraphs, lexicon), n=args.n, by=_column_list(args.by), text=args.text,
        allocation=args.allocation, random_state=args.seed,
    )
    written = write_annotation_sheet(sheet, args.out)
    _note(
        f"wrote {len(sheet)} paragraph x actor pair(s) to {' and '.join(map(str, written))}; coders fill "
        "'stance' (-1/0/1) and 'coder', then: analysis validate SHEET... --scores stance.csv --out DIR"
    )
    return 0


def _add_validate(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "validate",
        help="agreement of the model with your coders, from filled annotation sheets",
        description=(
            "Read annotation sheets filled by one or more coders (from 'analysis sample'; .csv, .jsonl, "
            ".parquet or .xlsx) and the model's stance table, and write into --out: agreement.csv (the model "
            "against the coders: macro-F1, accuracy, Krippendorff's alpha; alpha between coders where they coded "
            "the same pairs; overall and per --by group, with 95 % bootstrap confidence intervals), codings.csv "
            "(each code beside the model's label), the figures confusion_matrix and agreement_by_<column> (PNG, "
            "SVG, PDF) and report.md, a short report for readers. Rows with a blank stance are skipped and counted."
        ),
    )
    p.add_argument("sheets", nargs="+", metavar="SHEET", help="filled annotation sheet")
    p.add_argument("--scores", required=True, metavar="FILE", help="the model's stance table (analysis score --out)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for tables, figures and report.md")
    p.add_argument(
        "--by", default="lang,actor",
        help="comma-separated grouping columns of the sheets or the scores (default: lang,actor; '' for none)",
    )
    p.add_argument(
        "--level", choices=["nominal", "ordinal", "interval"], default="nominal",
        help="level of measurement of Krippendorff's alpha (default: nominal; stance -1 < 0 < 1 may be ordinal)",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    p.set_defaults(func=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    _check_out_dir(args.out)
    import os

    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")  # files only, never a window
    from .agreement import read_annotations, validate_against_coders
    from .io import read_table
    from .validation_report import write_validation

    codes = read_annotations(args.sheets)
    scores = read_table(args.scores, dtype_str=True)
    validation = validate_against_coders(
        codes, scores, by=_column_list(args.by), level=args.level, random_state=args.seed, scores_name=args.scores,
    )
    for path in write_validation(validation, args.out):
        print(path)
    overall = validation.agreement.query("comparison == 'model vs coders' and group_by == 'all'")
    figures = ", ".join(f"{r.metric} {r.estimate:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in overall.itertuples())
    _note(
        f"{len(validation.codings)} code(s) compared, {int(validation.sheets['n_blank'].sum())} blank row(s) "
        f"skipped; model vs coders: {figures}; report: {os.path.join(args.out, 'report.md')}"
    )
    return 0


def _add_voices(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "voices",
        help="who judges whom: stance of the narrator and of each quoted or reported holder toward each actor",
        description=(
            "Read articles (as for 'paragraphs'), find the actors' mentions and whose words each one is in -- "
            "the outlet's own (narrator) or a quoted or reported source's -- and write the voices table: one row "
            "per paragraph x holder x target actor with doc_id, para_id, holder (the holder's words, or "
            "'narrator'), holder_actor ('' for the narrator and for a source that is no actor), target_actor, "
            "n_mentions, p_against, p_neutral, p_favor, score, label, model, evidence, then lang and metadata. "
            "A mention that is the speaker is not a target of what it says."
        ),
    )
    _add_articles(p)
    _add_model(p)
    p.add_argument("--no-cache", action="store_true", help="do not read or write the model-output cache")
    _add_out(p)
    p.set_defaults(func=_run_voices)


def _run_voices(args: argparse.Namespace) -> int:
    from .schema import rounded_for_file

    _check_out(args.out, [*args.inputs, args.actors])
    from .classifiers import load_classifier
    from .voice_scores import score_voices

    classifier = load_classifier(args.model, **_model_settings(args), lazy=True)
    paragraphs, mentions = _paragraphs_and_mentions(args)
    voices = score_voices(paragraphs, mentions, classifier, cache=not args.no_cache)
    _write_table(rounded_for_file(voices), args.out)
    sources = voices.loc[voices["holder"] != "narrator", "holder"].nunique()
    _note(
        f"wrote {len(voices)} voice row(s) ({sources} quoted or reported holder(s) besides the narrator, "
        f"{len(paragraphs)} paragraphs) with {getattr(classifier, 'model_id', '?')} to {args.out}"
    )
    return 0


def _add_articles(p: argparse.ArgumentParser) -> None:
    """The article inputs and ``--actors`` of the commands that find mentions."""
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="article file, folder or table")
    p.add_argument("--actors", metavar="FILE", help="user actor lexicon (YAML) extending the default one")


def _paragraphs_and_mentions(args: argparse.Namespace):
    """The paragraphs of ``args.inputs`` and their actor mentions (lexicon: ``args.actors``)."""
    from .corpus import read_articles
    from .lexicon import load_actors
    from .mentions import find_mentions

    lexicon = load_actors(args.actors)
    paragraphs = read_articles(args.inputs)
    return paragraphs, find_mentions(paragraphs, lexicon)


def _column_list(text: str) -> list[str]:
    """``"lang, actor"`` -> ``["lang", "actor"]`` (``""`` -> ``[]``)."""
    return [c.strip() for c in text.split(",") if c.strip()]

def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", default="embedded",
        help="'embedded' (offline default), a Hugging Face model id, or a local model folder",
    )
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default: 32)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument(
        "--runtime", choices=("auto", "onnx", "torch"), default=None,
        help="embedded model only: torch (default; auto is torch) or onnx (experimental: ONNX Runtime "
        "on the CPU, exported into the cache at first use)",
    )


# --- helpers shared by sub-commands ------------------------------------------------


def _model_settings(args: argparse.Namespace) -> dict:
    """The classifier settings given by ``--batch-size``, ``--device`` and ``--runtime`` (when set)."""
    from .classifiers import is_embedded

    settings = {"batch_size": args.batch_size, "device": args.device}
    if args.runtime is not None:
        if not is_embedded(args.model):
            raise InputError(f"--runtime applies to the embedded model only, not to --model {args.model}")
        settings["runtime"] = args.runtime
    return settings


def _add_out(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument(
        "--out", "-o", required=required, metavar="FILE",
        help="output table; the format follows the suffix: .csv, .jsonl or .parquet",
    )


def _check_out(out: str, inputs: Sequence[str | None] = ()) -> None:
    """Reject an unusable ``--out`` table path before doing any work.

    Refused: a missing or unwritable folder, an unknown suffix, and a file
    that is one of ``inputs`` (the files the command reads; ``None`` for an
    option not given).
    """
    from .io import TABLE_SUFFIXES, check_output_path

    check_output_path(out, TABLE_SUFFIXES, inputs=inputs)


def _check_out_dir(out_dir: str) -> None:
    """Reject an ``--out-dir`` that is a file or cannot be created or written to, before any work."""
    from .io import check_output_dir

    check_output_dir(out_dir)


def _write_table(df, out: str) -> None:
    """Write ``df`` to ``out`` atomically (a temporary file renamed into place)."""
    from .io import atomic_write_table

    atomic_write_table(df, out)


def _note(message: str) -> None:
    """A progress / summary line for the user, on stderr (stdout stays for data)."""
    print(message, file=sys.stderr)


# Sub-commands in the order they appear in --help; add yours here.
_SUBCOMMANDS = [_add_paragraphs, _add_mentions, _add_score, _add_plot, _add_evaluate, _add_train,
               _add_sample, _add_validate, _add_voices]


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
