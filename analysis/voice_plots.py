"""Figures of who judges whom: the holder x target matrix, and the actor summary in the narrator's voice.

Same calling style and theme as :mod:`analysis.plots` (a tidy table as
``data=``, keyword-only options, an optional ``ax=``, the Axes returned, no
``plt.show()``; red = unfavourable, blue = favourable on [-1, +1]; a pair
without a judgement is a hatched gap, never 0).

Tables
------
voices : :func:`analysis.score_voices` (doc_id, para_id, holder, holder_actor,
target_actor, score, label, model …)
stance : :func:`analysis.score_stance` (doc_id, para_id, actor, score …), for
the all-voices reading of :func:`voice_comparison`
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.errors import InputError
from analysis.plot_style import format_score, new_axes, require_table, select_document, single_model, theme
from analysis.voices import NARRATOR_WORDS

__all__ = ["narrator_summary", "voice_comparison", "voice_matrix"]

_NARRATOR_LABEL = "narrator (the outlet)"
_READINGS = ("all voices", "narrator only")


def _holder_order(levels: Sequence[str]) -> list[str]:
    """Narrator first, then the actors (sorted), then the sources that are no actor."""
    from analysis.speakers import OTHER_SOURCES

    actors = sorted((h for h in levels if h not in (NARRATOR_WORDS, OTHER_SOURCES)), key=str)
    return [h for h in (NARRATOR_WORDS,) if h in levels] + actors + [h for h in (OTHER_SOURCES,) if h in levels]


def voice_matrix(
    data: pd.DataFrame | None = None,
    *,
    doc_id=None,
    order: Sequence | None = None,
    annot: bool = True, cbar: bool = True, title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Who judges whom: mean stance of each holder (rows) toward each target actor (columns).

    Drawn by :func:`analysis.plots.stance_heatmap` (same colours, cells and
    colour bar), with holders for rows.

    Parameters
    ----------
    data : pandas.DataFrame
        A voices table (:func:`analysis.score_voices`), or its aggregate
        (:func:`analysis.aggregate_documents` / :func:`~analysis.aggregate_corpus`
        of it: ``holder_actor``, ``target_actor``, ``mean_score``, ``ci_low``,
        ``ci_high``, ``n_paragraphs``).
    doc_id : optional
        Draw this document (per-document matrix); None: the whole table (the
        corpus matrix, every paragraph weighing the same).
    order : sequence, optional
        Target (column) order; default sorted.
    annot : bool, default True
        Write in each cell the mean, ``n`` (paragraphs) and, for n > 1, the 95 %
        bootstrap interval.
    cbar : bool, default True
        Draw the colour bar.
    title : str, optional
        Default: "Who judges whom: mean stance of each voice toward each actor".
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to :func:`seaborn.heatmap`, overriding the settings above.

    Returns
    -------
    matplotlib.axes.Axes
        Rows: ``narrator (the outlet)``, then each holder actor, then ``other
        sources`` (holders that are no actor); the mesh (``ax.collections[0]``)
        is masked where a holder does not judge a target.
    """
    from analysis.aggregate import aggregate_corpus
    from analysis.plots import stance_heatmap

    data = require_table(data, ["holder_actor", "target_actor"], "voice_matrix")
    if doc_id is not None or ("doc_id" in data.columns and data["doc_id"].nunique() == 1):
        data, doc_id = select_document(data, doc_id, "voice_matrix")
    model = single_model(data, "voice_matrix")
    if "mean_score" not in data.columns:
        require_table(data, ["holder", "score"], "voice_matrix")
        data = aggregate_corpus(data, by=None)
    if data.duplicated(["holder_actor", "target_actor"]).any():
        raise InputError("voice_matrix: several rows per holder and target; pass doc_id= or an aggregate of one group")
    rows = _holder_order(list(data["holder_actor"].unique()))
    cols = list(order) if order is not None else sorted(data["target_actor"].unique(), key=str)
    data = data[data["target_actor"].isin(cols)]
    cells = data.assign(holder_row=data["holder_actor"].map({h: i for i, h in enumerate(rows)}),
                        model=model, doc_id=doc_id)
    labels = [_NARRATOR_LABEL if r == NARRATOR_WORDS else str(r) for r in rows]
    with theme():
        size = (min(3.0 + 0.07 * max(map(len, labels)) + 1.6 * len(cols) + (1.4 if cbar else 0), 14),
                min(2.2 + 0.85 * len(rows), 20))
        ax = stance_heatmap(cells, x="target_actor", y="holder_row", value="mean_score", order=cols, annot=False,
                            cbar=cbar, title=title or "Who judges whom: mean stance of each voice toward each actor",
                            ax=new_axes(ax, size), **kwargs)
        if annot:
            for r in cells.itertuples(index=False):
                light = abs(float(r.mean_score)) > 0.6  # white on the darkest reds and blues
                ax.text(cols.index(r.target_actor) + 0.5, r.holder_row + 0.5, _cell_label(r), ha="center",
                        va="center", fontsize=8.5, color="white" if light else "#222222")
        ax.set_yticks(np.arange(len(rows)) + 0.5, labels, rotation=0)
        ax.set_xlabel("judged actor (target)")
        ax.set_ylabel("whose words (holder)")
        ax.get_legend().get_texts()[0].set_text("no judgement of this actor in these words")
    return ax


def _cell_label(row) -> str:
    """A cell's "mean / n=… / [CI]" text (the interval when more than one paragraph)."""
    text = format_score(float(row.mean_score))
    n = getattr(row, "n_paragraphs", None)
    if n is not None:
        text += f"\nn={int(n)}"
        if n > 1 and np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
            text += f"\n[{format_score(float(row.ci_low))}, {format_score(float(row.ci_high))}]"
    return text


def _narrator_rows(data: pd.DataFrame) -> pd.DataFrame:
    """The narrator's rows as a stance table (``actor``), from a voices table or a narrator stance table."""
    if "target_actor" in data.columns:
        require_table(data, ["holder", "score"], "narrator_summary")
        data = data[data["holder"] == NARRATOR_WORDS].rename(columns={"target_actor": "actor"})
        return data.drop(columns=["holder", "holder_actor"])
    return data


def _summary(stance: pd.DataFrame, doc_id) -> pd.DataFrame:
    from analysis.aggregate import aggregate_corpus, aggregate_documents

    if doc_id is not None:
        stance, _ = select_document(stance, doc_id, "narrator_summary")
        return aggregate_documents(stance)
    return aggregate_corpus(stance, by=None)


def narrator_summary(data: pd.DataFrame | None = None, *, doc_id=None, title: str | None = None, ax=None,
                     **kwargs) -> Axes:
    """The actor summary in the outlet's own voice: mean stance per actor over the narrator's words only.

    Parameters
    ----------
    data : pandas.DataFrame
        A voices table (its narrator rows are used) or ``score_stance(..., voice="narrator")``.
    doc_id : optional
        One document; None: the whole table.
    title : str, optional
        Default: "Mean stance per actor, in the outlet's own voice".
    ax, **kwargs
        As in :func:`analysis.plots.actor_summary`.
    """
    from analysis.plots import actor_summary

    data = require_table(data, ["doc_id", "para_id", "score"], "narrator_summary")
    summary = _summary(_narrator_rows(data), doc_id)
    return actor_summary(summary, title=title or "Mean stance per actor, in the outlet's own voice", ax=ax,
                         **kwargs)


def voice_comparison(stance: pd.DataFrame | None = None, narrator: pd.DataFrame | None = None, *, doc_id=None,
                     title: str | None = None, ax=None, **kwargs) -> Axes:
    """Each actor's mean stance counting every voice, beside the outlet's own voice alone.

    Parameters
    ----------
    stance : pandas.DataFrame
        The all-voices stance table (``score_stance``, default ``voice="all"``).
    narrator : pandas.DataFrame
        A voices table or ``score_stance(..., voice="narrator")``.
    doc_id, ax, **kwargs
        As in :func:`narrator_summary`; the title defaults to "Mean stance per actor:
        all voices and the outlet's own".

    Returns
    -------
    matplotlib.axes.Axes
        Two bars per actor, "actor · all voices" and "actor · narrator only", with
        95 % bootstrap intervals and n.
    """
    from analysis.plots import actor_summary

    stance = require_table(stance, ["doc_id", "para_id", "actor", "score"], "voice_comparison (stance)")
    narrator = _narrator_rows(require_table(narrator, ["doc_id", "para_id", "score"], "voice_comparison (narrator)"))
    both = pd.concat(
        [_summary(table, doc_id).assign(reading=reading) for table, reading in zip((stance, narrator), _READINGS)],
        ignore_index=True,
    )
    return actor_summary(both, hue="reading", hue_order=list(_READINGS), ax=ax,
                         title=title or "Mean stance per actor: all voices and the outlet's own", **kwargs)
