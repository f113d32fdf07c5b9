"""Figure sets drawn and saved together: each document's figures, and the set of ``analysis plot``.

Each figure is drawn by :mod:`analysis.plots`, saved by
:func:`~analysis.plot_style.save_figure` under a stable, file-name safe name
(:func:`figure_name`) and closed before the next one is drawn, so memory
stays flat however many documents there are. Per-document names are unique:
``<doc>_<figure>``, where ``<doc>`` is the document id made file-name safe,
with a short hash of the id appended when two ids would give the same name.

Tables
------
stance : doc_id, para_id, actor, score (+ label or p_against/p_neutral/p_favor
for the actor summaries, model, lang)
sentiment : doc_id, para_id, score (+ model)
paragraphs : doc_id, para_id, text (readable row labels)
voices : doc_id, para_id, holder, holder_actor, target_actor, score
(:func:`analysis.score_voices`), for the figures of who judges whom
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.plot_style import (
    FIGURE_FORMATS,
    check_dpi,
    check_formats,
    require_table,
    save_figure,
    single_model,
    theme,
)
from analysis.plots import (
    actor_summary,
    language_comparison,
    sentiment_bars,
    stance_heatmap,
    stance_trajectory,
)

__all__ = [
    "DOCUMENT_FIGURES",
    "VOICE_FIGURES",
    "figure_name",
    "load_table_for_plot",
    "write_document_figures",
    "write_standard_figures",
]

#: The per-document figures, named by the suffix they are saved under (``<doc>_<figure>``).
DOCUMENT_FIGURES: tuple[str, ...] = ("stance_heatmap", "stance_trajectory", "actor_summary", "sentiment")
#: The per-document figures of a voices table (:mod:`analysis.voice_plots`), drawn when one is given.
VOICE_FIGURES: tuple[str, ...] = ("voice_matrix", "voice_comparison")
# the per-document figures of `analysis plot`
_STANDARD_DOCUMENT_FIGURES = ("stance_heatmap", "stance_trajectory", "sentiment")
# hex digits of the doc_id's SHA-256 that tell apart documents whose names collide
_HASH_DIGITS = 8


def _slug(value) -> str:
    """``value`` as text, each run of characters other than letters, digits, ``._-`` made ``-``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", str(value)).strip("-.")
    return s or "figure"


def figure_name(*parts) -> str:
    """A stable, file-name safe figure name from parts, e.g. ``("ttn-fr-56.en", "stance_heatmap")``.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``-``;
    parts are joined with ``_``. The result is accepted by :func:`save_figure`.
    Different parts can give the same name (``a/b`` and ``a-b``);
    :func:`write_document_figures` tells such documents apart.
    """
    return "_".join(_slug(p) for p in parts) or "figure"


def _document_stems(doc_ids: Iterable) -> dict:
    """``{doc_id: name}``: :func:`figure_name` of each id, unique among ``doc_ids``.

    When several ids give the same name, the id that *is* that name keeps it
    and the others get ``-`` and the first digits of the SHA-256 of the id
    appended (``a/b`` -> ``a-b-<hash>`` beside ``a-b``).
    """
    by_name: dict[str, list] = {}
    for doc in doc_ids:
        by_name.setdefault(figure_name(doc), []).append(doc)
    stems = {}
    for name, docs in by_name.items():
        for doc in docs:
            if len(docs) == 1 or str(doc) == name:
                stems[doc] = name
            else:
                digest = hashlib.sha256(str(doc).encode("utf-8")).hexdigest()[:_HASH_DIGITS]
                stems[doc] = f"{name}-{digest}"
    return stems


def _checked(stance, sentiment, formats, dpi, what: str) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple]:
    """The stance and sentiment tables and formats after the checks both writers share."""
    formats = check_formats(formats, what)
    check_dpi(dpi, f"{what}: dpi")
    stance = require_table(stance, ["doc_id", "para_id", "actor", "score"], f"{what} (stance)")
    single_model(stance, f"{what} (stance)")
    if sentiment is not None:
        sentiment = require_table(sentiment, ["doc_id", "para_id", "score"], f"{what} (sentiment)")
    return stance, sentiment, formats


def _document_plots(
    stance, paragraphs, sentiment, kinds: Sequence[str], sentiment_width: float | None = None, voices=None
) -> Iterator[tuple[str, object]]:
    """``(name, Axes)`` of each per-document figure of ``kinds``, drawn one at a time.

    Stance (and voice) figures of each stance document (sorted), then the
    sentiment figure of each sentiment document: ``sentiment_width`` inches wide
    (room for a long title in a report), or as wide as its labels need when None.
    """
    unknown = [k for k in kinds if k not in (*DOCUMENT_FIGURES, *VOICE_FIGURES)]
    if unknown:
        raise InputError(
            f"kinds: unknown figure(s) {', '.join(map(str, unknown))}; "
            f"valid options: {', '.join((*DOCUMENT_FIGURES, *VOICE_FIGURES))}"
        )
    voice_kinds = [k for k in VOICE_FIGURES if k in kinds]
    stance_docs = sorted(stance["doc_id"].dropna().unique(), key=str)
    sentiment_docs = (
        sorted(sentiment["doc_id"].dropna().unique(), key=str)
        if sentiment is not None and "sentiment" in kinds else []
    )
    stems = _document_stems(dict.fromkeys([*stance_docs, *sentiment_docs]))
    voice_docs = set(voices["doc_id"].dropna().unique()) if voice_kinds else set()
    if "actor_summary" in kinds and stance_docs:
        from analysis.aggregate import aggregate_documents

        summaries = aggregate_documents(stance)
    for doc in stance_docs:
        for kind, draw in (("stance_heatmap", stance_heatmap), ("stance_trajectory", stance_trajectory)):
            if kind in kinds:
                yield f"{stems[doc]}_{kind}", draw(stance, doc_id=doc, paragraphs=paragraphs)
        if "actor_summary" in kinds:
            one = summaries[summaries["doc_id"] == doc]
            yield f"{stems[doc]}_actor_summary", actor_summary(one, title=f"Mean stance per actor · {doc}")
        if voice_kinds and doc in voice_docs:
            from analysis.voice_plots import voice_comparison, voice_matrix

            if "voice_matrix" in voice_kinds:
                yield f"{stems[doc]}_voice_matrix", voice_matrix(voices, doc_id=doc)
            if "voice_comparison" in voice_kinds:
                yield f"{stems[doc]}_voice_comparison", voice_comparison(stance, voices, doc_id=doc)
    for doc in sentiment_docs:
        ax = None
        if sentiment_width is not None:
            n_rows = int((sentiment["doc_id"] == doc).sum())
            with theme():
                _, ax = plt.subplots(figsize=(sentiment_width, 1.8 + 0.34 * n_rows), layout="constrained")
        yield f"{stems[doc]}_sentiment", sentiment_bars(sentiment, doc_id=doc, paragraphs=paragraphs, ax=ax)


def _save(drawn, name: str, out_dir, formats: tuple, dpi, close: bool = True) -> list[Path]:
    """Save the figure of ``drawn`` (a Figure or Axes) as ``name``; close it unless ``close`` is False."""
    fig = drawn if isinstance(drawn, mpl.figure.Figure) else drawn.get_figure()
    try:
        return save_figure(fig, name, formats=formats, dpi=dpi, directory=out_dir)
    finally:
        if close:
            plt.close(fig)


def write_document_figures(
    stance: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    paragraphs: pd.DataFrame | None = None, sentiment: pd.DataFrame | None = None,
    voices: pd.DataFrame | None = None,
    kinds: Sequence[str] | None = None,
    formats: Sequence[str] = FIGURE_FORMATS, dpi: int = 300,
    sentiment_width: float | None = 10.5,
    close: bool = True,
) -> list[str]:
    """Draw and save every per-document figure of a stance (and sentiment) table.

    For each document of ``stance`` (sorted by id): ``<doc>_stance_heatmap``,
    ``<doc>_stance_trajectory`` and ``<doc>_actor_summary`` (mean per actor
    with 95 % CI, from :func:`analysis.aggregate.aggregate_documents`); then
    ``<doc>_sentiment`` for each document of ``sentiment``; with a ``voices``
    table, also ``<doc>_voice_matrix`` (who judges whom) and
    ``<doc>_voice_comparison`` (all voices beside the outlet's own) for each
    stance document that has voice rows. ``<doc>`` is
    ``figure_name(doc_id)``, with a short hash of the id appended when two
    ids would give the same name. An empty stance table (no actor
    mentioned) gives sentiment figures only.

    Parameters
    ----------
    stance : pandas.DataFrame
        Stance table: ``doc_id``, ``para_id``, ``actor``, ``score`` and, for
        the actor summary, ``label`` or ``p_against``/``p_neutral``/``p_favor``;
        one model.
    out_dir : str or path
        Output folder (created if missing).
    paragraphs : pandas.DataFrame, optional
        Paragraphs table (``doc_id``, ``para_id``, ``text``) for readable row labels.
    sentiment : pandas.DataFrame, optional
        Sentiment table (``doc_id``, ``para_id``, ``score``).
    voices : pandas.DataFrame, optional
        Voices table (:func:`analysis.score_voices`) of the same documents.
    kinds : sequence of str, optional
        Which figures to draw (default: all that the tables given allow): a subset of ``stance_heatmap``,
        ``stance_trajectory``, ``actor_summary``, ``sentiment``,
        ``voice_matrix``, ``voice_comparison`` (the last two need ``voices``).
    formats, dpi
        As in :func:`~analysis.plot_style.save_figure`.
    sentiment_width : float or None, default 10.5
        Width in inches of the sentiment figures (room for their title on a report
        page); None sizes them by their labels, as ``analysis plot`` does.
    close : bool, default True
        Close each figure once saved. ``False`` leaves them open, so that a
        notebook's inline backend shows them under the cell.

    Returns
    -------
    list of str
        The names written, in drawing order (each saved once per format).
    """
    stance, sentiment, formats = _checked(stance, sentiment, formats, dpi, "write_document_figures")
    if kinds is None:
        kinds = DOCUMENT_FIGURES if voices is None else (*DOCUMENT_FIGURES, *VOICE_FIGURES)
    if voices is None:
        needing = [k for k in kinds if k in VOICE_FIGURES]
        if needing:
            raise InputError(f"write_document_figures: kinds {', '.join(needing)} need a voices table (voices=...)")
    else:
        voices = require_table(voices, ["doc_id", "para_id", "holder_actor", "target_actor", "score"],
                               "write_document_figures (voices)")
    names = []
    for name, drawn in _document_plots(stance, paragraphs, sentiment, kinds, sentiment_width, voices):
        _save(drawn, name, out_dir, formats, dpi, close)
        names.append(name)
    return names


def write_standard_figures(
    stance: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    paragraphs: pd.DataFrame | None = None, sentiment: pd.DataFrame | None = None,
    formats: Sequence[str] = FIGURE_FORMATS, dpi: int = 300,
) -> list[Path]:
    """Write the standard figure set for a stance table (used by ``analysis plot``).

    Figures (``<doc>`` as in :func:`write_document_figures`):

    - ``<doc>_stance_heatmap`` and ``<doc>_stance_trajectory`` for each document;
    - ``<doc>_sentiment`` for each document in ``sentiment`` (if given);
    - ``actor_summary``: corpus-level mean per actor with 95 % CI, grouped by
      ``lang`` when the table has several languages;
    - ``language_comparison`` when the table has a ``lang`` column with
      several languages and exactly one document per language.

    Parameters
    ----------
    stance : pandas.DataFrame
        Stance table (doc_id, para_id, actor, score, …), one model.
    out_dir : str or path
        Output folder (created if missing).
    paragraphs, sentiment : pandas.DataFrame, optional
        Paragraphs table (row labels) and sentiment table.
    formats, dpi
        As in :func:`~analysis.plot_style.save_figure`.

    Returns
    -------
    list of pathlib.Path
        All written files, each once.
    """
    from analysis.aggregate import aggregate_corpus

    stance, sentiment, formats = _checked(stance, sentiment, formats, dpi, "write_standard_figures")
    written: list[Path] = []
    for name, drawn in _document_plots(stance, paragraphs, sentiment, _STANDARD_DOCUMENT_FIGURES):
        written.extend(_save(drawn, name, out_dir, formats, dpi))
    multi_lang = "lang" in stance.columns and stance["lang"].nunique() > 1
    agg = aggregate_corpus(stance, by="lang" if multi_lang else None)
    written.extend(_save(actor_summary(agg, hue="lang" if multi_lang else None), "actor_summary",
                         out_dir, formats, dpi))
    if multi_lang and (stance.groupby("lang")["doc_id"].nunique() == 1).all():
        written.extend(_save(language_comparison(stance), "language_comparison", out_dir, formats, dpi))
    return written


def load_table_for_plot(path: str | os.PathLike, required: Sequence[str]) -> pd.DataFrame:
    """Read a CSV/JSONL/Parquet table for plotting and check its columns.

    ``doc_id`` is read as text, ``para_id`` as integer and ``score`` as a number.

    Raises
    ------
    analysis.errors.InputError
        Unreadable file, missing columns (the message names the file and the
        columns), non-integer paragraph ids or non-numeric scores.
    """
    from analysis.io import read_table

    df = read_table(path, columns=required)
    if "doc_id" in df.columns:
        df["doc_id"] = df["doc_id"].astype(str)
    if "para_id" in df.columns:
        ids = pd.to_numeric(df["para_id"], errors="coerce")
        if ids.isna().any() or not np.allclose(ids, ids.round()):
            raise InputError(f"{path}: column para_id must hold integer paragraph numbers")
        df["para_id"] = ids.astype(int)
    if "score" in df.columns:
        scores = pd.to_numeric(df["score"], errors="coerce")
        if scores.isna().any():
            raise InputError(f"{path}: column score must hold numbers in [-1, 1] (found empty or text cells)")
        df["score"] = scores
    return df
