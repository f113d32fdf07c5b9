"""Paragraph-level stance of news text toward actors (Russia, China, the West).

The public API is imported lazily: ``import analysis`` is cheap and does not
import torch, transformers or matplotlib; each name below loads its module on
first use.

Tables
------
paragraphs  read_articles(paths) -> doc_id, para_id, text, is_title, lang, source, +metadata
mentions    find_mentions(paragraphs) -> doc_id, para_id, actor, surface, start, end, ...
stance      score_stance(...) -> doc_id, para_id, actor, p_against, p_neutral, p_favor, score, ...
voices      score_voices(...) -> doc_id, para_id, holder, holder_actor, target_actor, score, ...
sentiment   score_sentiment(...) -> doc_id, para_id, p_negative, p_neutral, p_positive, score, ...
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import InputError

# public name -> module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "CLASSES": "schema",
    "STANCE_LABELS": "schema",
    "read_articles": "corpus",
    "corpus_overview": "corpus",
    "load_actors": "lexicon",
    "find_mentions": "mentions",
    "mention_summary": "mentions",
    "score_stance": "scoring",
    "score_sentiment": "scoring",
    "score_corpus": "scoring",
    "score_voices": "voice_scores",
    "voice_contrast": "voice_scores",
    "describe_voice_contrast": "voice_scores",
    "load_classifier": "classifiers",
    "describe_classifier": "classifiers",
    "dev_figures": "model_card",
    "model_provenance": "model_card",
    "aggregate_documents": "aggregate",
    "aggregate_corpus": "aggregate",
    "language_consistency": "aggregate",
    "read_gold_stance": "evaluation",
    "seed_agreement": "evaluation",
    "gold_pairs": "evaluation",
    "dev_set_report": "evaluation",
    "predict_labelled": "evaluation",
    "read_newsmtsc": "labelled",
    "read_labels": "labelled",
    "read_rusentne": "labelled",
    "predict_newsmtsc": "evaluation",
    "classification_report": "evaluation",
    "expected_calibration_error": "evaluation",
    "default_newsmtsc_dir": "paths",
    "save_figure": "plot_style",
    "set_theme": "plot_style",
    "theme": "plot_style",
    "stance_heatmap": "plots",
    "actor_summary": "plots",
    "stance_trajectory": "plots",
    "sentiment_bars": "plots",
    "language_comparison": "plots",
    "voice_matrix": "voice_plots",
    "narrator_summary": "voice_plots",
    "voice_comparison": "voice_plots",
    "confusion_matrix_plot": "validation_plots",
    "reliability_diagram": "validation_plots",
    "figure_name": "figures",
    "write_document_figures": "figures",
    "write_standard_figures": "figures",
    "evidence_html": "evidence",
    "atomic_write_table": "io",
    "annotation_sheet": "sampling",
    "write_annotation_sheet": "sampling",
    "read_annotations": "agreement",
    "validate_against_coders": "agreement",
    "agreement_table": "agreement",
    "validation_figures": "validation_report",
    "validation_markdown": "validation_report",
    "write_validation": "validation_report",
    "agreement_plot": "validation_plots",
}

__all__ = ["InputError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("analysis")
        except PackageNotFoundError:  # running from a checkout without install
            return "0+unknown"
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
