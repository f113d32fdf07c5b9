"""What a classifier says about itself (identity, library versions, recorded dev figures), as tables for reports."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["dev_figures", "model_provenance"]

#: Figures of a dev set shown in the table, in order, when the metadata has them.
_FIGURES = ("macro_f1", "macro_f1_pn", "accuracy", "n")


def dev_figures(classifier: Any) -> pd.DataFrame:
    """The dev-set figures recorded in a classifier's metadata at training.

    Parameters
    ----------
    classifier : MentionClassifier
        Reads ``classifier.metadata["dev_metrics"]``: ``{dev set: {"macro_f1": ...,
        "accuracy": ..., "n": ..., ...}}`` (the embedded model records it; hub models
        have none).

    Returns
    -------
    DataFrame
        One row per dev set (index ``dev set``), columns ``macro_f1``,
        ``macro_f1_pn``, ``accuracy`` (float) and ``n`` (targets, Int64), those the
        metadata holds; empty when it records no dev figures.
    """
    recorded = (getattr(classifier, "metadata", None) or {}).get("dev_metrics") or {}
    rows = {name: {k: figures[k] for k in _FIGURES if k in figures}
            for name, figures in recorded.items() if isinstance(figures, dict)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[[c for c in _FIGURES if c in table.columns]].rename_axis("dev set")
    return table.astype({"n": "Int64"}) if "n" in table.columns else table


def model_provenance(classifier: Any) -> str:
    """One line naming the model (``model`` column value) and the library versions it ran with."""
    meta = getattr(classifier, "metadata", None) or {}
    versions = meta.get("library_versions") or meta.get("versions") or {}
    line = f"model: {getattr(classifier, 'model_id', type(classifier).__name__)}"
    if versions:
        line += "; libraries: " + ", ".join(f"{name} {version}" for name, version in versions.items())
    return line
