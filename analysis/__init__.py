"""Paragraph-level stance of news text toward actors (Russia, China, the West).

The public API is imported lazily: ``import analysis`` is cheap and does not
import torch, transformers or matplotlib; each name below loads its module on
first use.

Tables
------
paragraphs  read_articles(paths) -> doc_id, para_id, text, is_title, lang, source, +metadata
mentions    find_mentions(paragraphs) -> doc_id, para_id, actor, surface, start, end, ...
stance      score_stance(...) -> doc_id, para_id, actor, p_against, p_neutral, p_favor, score, ...
sentiment   score_sentiment(...) -> doc_id, para_id, p_negative, p_neutral, p_positive, score, ...
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import InputError

# public name -> module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "read_articles": "corpus",
    "load_actors": "actors",
    "find_mentions": "actors",
    "score_stance": "scoring",
    "score_sentiment": "scoring",
    "load_classifier": "classifiers",
    "aggregate_documents": "aggregate",
    "aggregate_corpus": "aggregate",
    "save_figure": "plots",
    "set_theme": "plots",
    "stance_heatmap": "plots",
    "actor_summary": "plots",
    "stance_trajectory": "plots",
    "sentiment_bars": "plots",
    "language_comparison": "plots",
    "evidence_html": "evidence",
    "atomic_write_table": "io",
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
