"""Report figures of stance and sentiment tables, one function per figure.

Stance heatmap, actor summary, stance trajectory, sentiment bars and language comparison.

All functions follow seaborn's calling style: a tidy table as ``data=``,
everything else keyword-only, an optional ``ax=`` (a new figure is created
when it is absent) and the :class:`~matplotlib.axes.Axes` (or, for
multi-panel plots, the :class:`~matplotlib.figure.Figure`) is returned.
Nothing here calls ``plt.show()``. Colours and theme come from
:mod:`analysis.plot_style` (red = unfavourable, blue = favourable on
[-1, +1]; an unmentioned actor is a gap, never 0); the classifier validation
figures are in :mod:`analysis.validation_plots`, the command line's figure
set in :mod:`analysis.figures`.

Tables
------
stance : doc_id, para_id, actor, score (+ label, model, evidence, lang …)
sentiment : doc_id, para_id, score (+ label, model)
paragraphs : doc_id, para_id, text (used for readable row labels)
aggregates : output of :mod:`analysis.aggregate` (mean_score, ci_low, ci_high,
n_paragraphs …)
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from analysis.errors import InputError
from analysis.plot_style import (
    CMAP,
    MISSING_COLOR,
    MISSING_HATCH_COLOR,
    MISSING_LABEL,
    REPORT_WIDTH,
    SCORE_LABEL,
    SENTIMENT_LABEL,
    VMAX,
    VMIN,
    category_levels,
    category_styles,
    fitted_title,
    format_score,
    new_axes,
    paragraph_ids,
    paragraph_labels,
    require_table,
    score_bands,
    score_ticks,
    select_document,
    single_model,
    title_suffix,
    score_color,
    theme,
)

__all__ = [
    "actor_summary",
    "language_comparison",
    "sentiment_bars",
    "stance_heatmap",
    "stance_trajectory",
]

# --------------------------------------------------------------------------- heatmap
def stance_heatmap(
    data: pd.DataFrame | None = None,
    *,
    paragraphs: pd.DataFrame | None = None,
    x: str = "actor", y: str = "para_id", value: str = "score",
    doc_id=None,
    order: Sequence | None = None,
    annot: bool = True, cbar: bool = True, label_width: int = 42, title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Paragraph x actor heatmap of stance scores for one document.

    Parameters
    ----------
    data : pandas.DataFrame
        Stance table: ``doc_id``, ``para_id``, ``actor``, ``score`` (column
        names configurable with ``x``/``y``/``value``), one row per
        mentioned pair. ``model`` is shown in the title when present.
    paragraphs : pandas.DataFrame, optional
        Paragraphs table (``doc_id``, ``para_id``, ``text``): gives readable
        row labels "3 · first words…" and the full list of paragraphs (rows
        for paragraphs without any mention are drawn blank).
    x, y, value : str
        Column names of the actor, paragraph and score.
    doc_id : optional
        Document to draw; required when ``data`` has several documents.
    order : sequence, optional
        Column (actor) order; default: sorted.
    annot : bool, default True
        Write the score in each cell.
    cbar : bool, default True
        Draw the colour bar (labelled with :data:`SCORE_LABEL`).
    label_width : int, default 42
        Maximum characters of a row label.
    title : str, optional
        Default: "Stance towards each actor, paragraph by paragraph".
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure sized to the paragraphs and actors when absent.
    **kwargs
        Passed to :func:`seaborn.heatmap`, overriding the settings above (e.g. ``linewidths``).

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap mesh is ``ax.collections[0]``; its array is a masked
        array whose mask is True exactly for unmentioned pairs.

    Notes
    -----
    Colours: RdBu on [-1, 1] centred on 0 (red = unfavourable, blue =
    favourable). Pairs without a mention are hatched grey and named in the
    legend; they are NaN in the pivoted table, not 0.
    """
    import seaborn as sns

    data = require_table(data, [x, y, value], "stance_heatmap")
    data, doc_id = select_document(data, doc_id, "stance_heatmap")
    model = single_model(data, "stance_heatmap")
    try:
        pivot = data.pivot(index=y, columns=x, values=value)
    except ValueError as exc:
        raise InputError(
            f"stance_heatmap: several rows for the same ({y}, {x}) pair; "
            "filter the table to one document and one model"
        ) from exc
    cols = list(order) if order is not None else sorted(pivot.columns, key=str)
    rows = paragraph_ids(data, paragraphs, doc_id, y)
    pivot = pivot.reindex(index=rows, columns=cols).astype(float)
    labels = paragraph_labels(rows, paragraphs, doc_id, label_width)

    with theme():
        longest = max((len(s) for s in labels), default=4)
        figsize = (
            min(2.0 + 0.065 * longest + 1.05 * len(cols) + (1.2 if cbar else 0), 16),
            min(1.9 + 0.36 * len(rows), 30),
        )
        ax = new_axes(ax, figsize)
        ax.grid(False)
        mask = pivot.isna()
        annot_arr = (
            np.vectorize(lambda v: "" if np.isnan(v) else format_score(v), otypes=[object])(pivot.to_numpy())
            if annot and pivot.size else False
        )
        heat_kw = dict(
            cmap=CMAP, vmin=VMIN, vmax=VMAX, mask=mask,  # symmetric range: 0 is the centre
            annot=annot_arr, fmt="", linewidths=1.0, linecolor="white",
            cbar=cbar, annot_kws={"fontsize": 9},
            cbar_kws={"label": SCORE_LABEL, "ticks": [-1, -0.5, 0, 0.5, 1], "shrink": 0.8},
        )
        heat_kw.update(kwargs)
        sns.heatmap(pivot, ax=ax, **heat_kw)
        # hatched background shows through the masked (unmentioned) cells
        ax.add_patch(Rectangle(
            (0, 0), len(cols), len(rows), facecolor=MISSING_COLOR, edgecolor=MISSING_HATCH_COLOR,
            hatch="///", linewidth=0, zorder=0,
        ))
        ax.set_yticks(np.arange(len(rows)) + 0.5, labels, rotation=0)
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        ax.set_xticks(np.arange(len(cols)) + 0.5, [str(c) for c in cols], rotation=0)
        ax.tick_params(axis="both", length=0)
        ax.set_xlabel("")
        ax.set_ylabel("paragraph (0 = title)")
        if cbar and ax.collections and ax.collections[0].colorbar is not None:
            cb = ax.collections[0].colorbar
            cb.set_ticks([-1, -0.5, 0, 0.5, 1],
                         labels=["\u22121 unfavourable", "\u22120.5", "0", "+0.5", "+1 favourable"])
            cb.outline.set_visible(False)
        ax.legend(
            handles=[Patch(facecolor=MISSING_COLOR, edgecolor=MISSING_HATCH_COLOR, hatch="///",
                           label=MISSING_LABEL)],
            loc="upper left", bbox_to_anchor=(0.0, -0.01), borderaxespad=0.0, handlelength=1.6,
        )
        fitted_title(ax, title or "Stance towards each actor, paragraph by paragraph",
                      title_suffix(doc_id, model))
    return ax


# --------------------------------------------------------------------------- actor summary
def actor_summary(
    data: pd.DataFrame | None = None,
    *,
    x: str = "mean_score", y: str = "actor", hue: str | None = None,
    ci: tuple[str, str] = ("ci_low", "ci_high"),
    order: Sequence | None = None, hue_order: Sequence | None = None, title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Horizontal diverging bars of mean stance per actor with CI whiskers.

    Parameters
    ----------
    data : pandas.DataFrame
        An aggregate table from :func:`analysis.aggregate.aggregate_corpus` /
        :func:`~analysis.aggregate.aggregate_documents`: ``actor``,
        ``mean_score``, ``ci_low``, ``ci_high`` and optionally
        ``n_paragraphs`` (printed as ``n=``) and the ``hue`` column.
        A raw stance table (``score`` and no ``mean_score``) is aggregated
        first with ``aggregate_corpus(by=hue)``.
    x, y : str
        Mean score column and actor column.
    hue : str, optional
        Group column (e.g. ``"lang"``, ``"outlet"``, ``"doc_id"``): one bar
        per actor and group, labelled "actor · group".
    ci : (str, str)
        Columns of the lower / upper interval bound.
    order, hue_order : sequence, optional
        Actor / group order (default: sorted; first at the top).
    title : str, optional
        Default: "Mean stance per actor".
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh` (bar style).

    Returns
    -------
    matplotlib.axes.Axes
        The whiskers are a :class:`~matplotlib.collections.LineCollection`
        with gid ``"ci"`` whose segments run from ``ci_low`` to ``ci_high``
        (rows with a NaN bound get no whisker).

    Notes
    -----
    Bar colour encodes the mean on the shared RdBu scale (red =
    unfavourable, blue = favourable); groups are told apart by the tick
    labels, not by colour.
    """
    if isinstance(data, pd.DataFrame) and x not in data.columns and "score" in data.columns:
        from analysis.aggregate import aggregate_corpus

        data = aggregate_corpus(data, by=hue)
    data = require_table(data, [y, x, *ci] + ([hue] if hue else []), "actor_summary")
    single_model(data, "actor_summary")
    actors = category_levels(data, y, order)
    levels = category_levels(data, hue, hue_order) if hue else [None]
    records = []  # (label, mean, lo, hi, n)
    pos, positions, gap = 0.0, [], 0.6
    for a in actors:
        for lev in levels:
            sel = data[y] == a
            if hue:
                sel &= data[hue] == lev
            sub = data[sel]
            if sub.empty:
                continue
            if len(sub) > 1:
                raise InputError(
                    f"actor_summary: several rows for actor {a!r}"
                    + (f" and {hue}={lev!r}" if hue else "")
                    + (f"; pass hue= for the column that distinguishes them" if not hue else "")
                )
            r = sub.iloc[0]
            n = r["n_paragraphs"] if "n_paragraphs" in sub.columns else None
            label = f"{a} · {lev}" if hue else str(a)
            records.append((label, float(r[x]), float(r[ci[0]]), float(r[ci[1]]), n))
            positions.append(pos)
            pos += 1.0
        pos += gap if hue else 0.0
    positions = np.asarray(positions)

    with theme():
        ax = new_axes(ax, (7.5, min(1.6 + 0.42 * len(records), 24)))
        means = np.array([r[1] for r in records])
        colors = [score_color(m) for m in means]
        bar_kw = dict(height=0.72, color=colors, edgecolor="#555555", linewidth=0.6, zorder=2)
        bar_kw.update(kwargs)
        ax.barh(positions, means, **bar_kw)
        ok = [i for i, r in enumerate(records) if np.isfinite(r[2]) and np.isfinite(r[3])]
        segs = [[(records[i][2], positions[i]), (records[i][3], positions[i])] for i in ok]
        whiskers = LineCollection(segs, colors="black", linewidths=1.3, zorder=3, gid="ci",
                                  label="95 % bootstrap CI")
        ax.add_collection(whiskers)
        caps = [(records[i][j], positions[i]) for i in ok for j in (2, 3)]
        if caps:
            cx, cy = zip(*caps)
            ax.plot(cx, cy, linestyle="none", marker="|", markersize=9, color="black", zorder=3)
        ax.axvline(0, color="#333333", linewidth=0.9, zorder=2.5)
        # value column to the right of the plot area: "−0.05  [−0.34, +0.21]  n=12"
        trans = mpl.transforms.blended_transform_factory(ax.transAxes, ax.transData)
        for i, (label, m, lo, hi, n) in enumerate(records):
            txt = format_score(m)
            if np.isfinite(lo) and np.isfinite(hi):
                txt += f"  [{format_score(lo)}, {format_score(hi)}]"
            if n is not None and pd.notna(n):
                txt += f"  n={int(n)}"
            ax.text(1.02, positions[i], txt, transform=trans, ha="left", va="center",
                    fontsize=8.5, color="#333333", clip_on=False)
        ax.text(1.02, 1.0, "mean  [95 % CI]  n", transform=ax.transAxes, ha="left",
                va="bottom", fontsize=8.5, color="#333333", fontweight="bold")
        ax.set_yticks(positions, [r[0] for r in records])
        ax.set_ylim(positions.max() + 0.7 if len(positions) else 1, -0.7)
        ax.set_xlim(VMIN - 0.02, VMAX + 0.02)
        score_ticks(ax, "x", "unfavourable", "favourable")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("mean " + SCORE_LABEL + "\nwhiskers: 95 % bootstrap CI · n = paragraphs mentioning the actor")
        ax.set_ylabel("")
        ax.set_title(title or "Mean stance per actor", pad=14)
    return ax


# --------------------------------------------------------------------------- trajectory
def stance_trajectory(
    data: pd.DataFrame | None = None,
    *,
    x: str = "para_id", y: str = "score", hue: str = "actor",
    doc_id=None, paragraphs: pd.DataFrame | None = None,
    hue_order: Sequence | None = None, title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Stance score along the article, one line with markers per actor.

    Parameters
    ----------
    data : pandas.DataFrame
        Stance table (``doc_id``, ``para_id``, ``actor``, ``score``).
    x, y, hue : str
        Paragraph, score and actor columns.
    doc_id : optional
        Document to draw; required when ``data`` has several.
    paragraphs : pandas.DataFrame, optional
        Paragraphs table, used only for the full range of paragraph ids.
    hue_order : sequence, optional
        Actor order of the lines and the legend; default: sorted.
    title : str, optional
        Default: "Stance along the article".
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for every actor's line.

    Returns
    -------
    matplotlib.axes.Axes
        One :class:`~matplotlib.lines.Line2D` per actor (label = actor) whose
        y data is NaN where the actor is not mentioned: lines break there,
        nothing is interpolated; an isolated mention is a lone marker.
    """
    data = require_table(data, [x, y, hue], "stance_trajectory")
    data, doc_id = select_document(data, doc_id, "stance_trajectory")
    model = single_model(data, "stance_trajectory")
    ids = paragraph_ids(data, paragraphs, doc_id, x)
    levels = category_levels(data, hue, hue_order)
    styles = category_styles(levels)
    with theme():
        ax = new_axes(ax, (min(4.0 + 0.42 * len(ids), 14), 4.6))
        score_bands(ax)
        for lev in levels:
            sub = data[data[hue] == lev]
            if sub[x].duplicated().any():
                raise InputError(
                    f"stance_trajectory: several rows per paragraph for {hue}={lev!r}; "
                    "filter to one document and one model"
                )
            series = sub.set_index(x)[y].astype(float).reindex(ids)
            color, marker = styles[lev]
            kw = dict(color=color, marker=marker, markersize=6.5, linewidth=2.0, label=str(lev),
                      markeredgecolor="white", markeredgewidth=0.8, zorder=3)
            kw.update(kwargs)
            ax.plot(ids, series.to_numpy(), **kw)
        ax.set_xticks(ids)
        if ids:
            ax.set_xlim(min(ids) - 0.5, max(ids) + 0.5)
        ax.set_ylim(-1.08, 1.08)
        score_ticks(ax, "y", "unfavourable", "favourable")
        ax.set_xlabel("paragraph (0 = title)")
        ax.set_ylabel("stance score")
        ax.legend(title=f"{hue}\n(gap = not mentioned)", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fitted_title(ax, title or "Stance along the article", title_suffix(doc_id, model))
    return ax


# --------------------------------------------------------------------------- sentiment
def sentiment_bars(
    data: pd.DataFrame | None = None,
    *,
    x: str = "score", y: str = "para_id",
    doc_id=None, paragraphs: pd.DataFrame | None = None,
    label_width: int = 42, title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Horizontal bars of paragraph sentiment, one row per paragraph.

    Parameters
    ----------
    data : pandas.DataFrame
        Sentiment table: ``doc_id``, ``para_id``, ``score`` (= p_positive -
        p_negative); ``model`` shown in the title when present.
    x, y : str
        Score and paragraph columns.
    doc_id : optional
        Document to draw; required when ``data`` has several.
    paragraphs : pandas.DataFrame, optional
        Paragraphs table for readable row labels "3 · first words…".
    label_width : int, default 42
        Maximum characters of a row label.
    title : str, optional
        Default: "Paragraph sentiment".
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh`, e.g. ``height`` of the bars.

    Returns
    -------
    matplotlib.axes.Axes
        Bars in paragraph order (first paragraph at the top); bar colour on the
        shared RdBu scale (red = negative, blue = positive). Paragraphs with no
        score get no bar and the text "no score".
    """
    data = require_table(data, [x, y], "sentiment_bars")
    data, doc_id = select_document(data, doc_id, "sentiment_bars")
    model = single_model(data, "sentiment_bars")
    if data[y].duplicated().any():
        raise InputError("sentiment_bars: several rows per paragraph; filter to one document and one model")
    ids = paragraph_ids(data, paragraphs, doc_id, y)
    values = data.set_index(y)[x].astype(float).reindex(ids).to_numpy()
    labels = paragraph_labels(ids, paragraphs, doc_id, label_width)
    with theme():
        longest = max((len(s) for s in labels), default=4)
        ax = new_axes(ax, (min(4.8 + 0.065 * longest, 14), min(1.8 + 0.34 * len(ids), 30)))
        pos = np.arange(len(ids))
        bar_kw = dict(height=0.7, color=[score_color(v) for v in values], edgecolor="#555555",
                      linewidth=0.5, zorder=2)
        bar_kw.update(kwargs)
        ax.barh(pos, np.nan_to_num(values, nan=0.0), **bar_kw)
        ax.axvline(0, color="#333333", linewidth=0.9, zorder=2.5)
        for p, v in zip(pos, values):
            if np.isnan(v):
                ax.text(0.03, p, "no score", va="center", ha="left", fontsize=8, color="#777777")
            else:
                ax.text(v + (0.03 if v >= 0 else -0.03), p, format_score(v), va="center",
                        ha="left" if v >= 0 else "right", fontsize=8, color="#333333")
        ax.set_yticks(pos, labels)
        ax.set_ylim(len(ids) - 0.4, -0.6)
        ax.set_xlim(-1.25, 1.25)
        score_ticks(ax, "x", "negative", "positive")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(SENTIMENT_LABEL)
        ax.set_ylabel("paragraph (0 = title)")
        fitted_title(ax, title or "Paragraph sentiment", title_suffix(doc_id, model))
    return ax


# --------------------------------------------------------------------------- languages
def language_comparison(
    data: pd.DataFrame | None = None,
    *,
    lang: str = "lang", x: str = "para_id", y: str = "score", col: str = "actor",
    col_order: Sequence | None = None, hue_order: Sequence | None = None,
    title: str | None = None, max_cols: int = 3,
    fig=None, **kwargs,
) -> Figure:
    """Stance of the same article in several languages, one panel per actor.

    Small multiples: one panel per actor (shared axes), paragraph on x,
    stance score on y, one line with markers per language. Where the
    translations agree the lines overlap; a language whose line departs
    from the others shows where the scoring depends on the language.

    Parameters
    ----------
    data : pandas.DataFrame
        Stance table with a language column: ``lang``, ``para_id``,
        ``actor``, ``score`` — one translated article per language (the
        ``doc_id`` usually differs per language and is ignored). Assumes
        paragraph ids are aligned across translations.
    lang, x, y, col : str
        Language, paragraph, score and panel (actor) columns.
    col_order, hue_order : sequence, optional
        Panel (actor) order and language order; default sorted.
    max_cols : int, default 3
        Panels per row; more actors wrap onto further rows (``0``: all in
        one row).
    title : str, optional
        Default: "Same article in several languages: stance per paragraph".
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (it is cleared); a new one when absent, at most
        :data:`REPORT_WIDTH` (12.5 in) wide so it fits a report page.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for each language's line in every panel.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[:n_actors]`` are the panels (row by row), the language
        legend sits below them; each holds one line per
        language (label = language) with NaN where the actor is not mentioned.
    """
    data = require_table(data, [lang, x, y, col], "language_comparison")
    single_model(data, "language_comparison")
    if data.duplicated([lang, x, col]).any():
        raise InputError(
            f"language_comparison: several rows for the same ({lang}, {x}, {col}); "
            "the table must hold one article per language (filter by doc_id)"
        )
    actors = category_levels(data, col, col_order)
    langs = category_levels(data, lang, hue_order)
    styles = category_styles(langs)
    ids = paragraph_ids(data, None, None, x)
    with theme():
        n = max(len(actors), 1)
        ncols = min(n, max_cols) if max_cols else n
        nrows = -(-n // ncols)
        if fig is None:
            panel_w = min(1.0 + 0.26 * max(len(ids), 1), (REPORT_WIDTH - 1.0) / ncols)
            fig = plt.figure(
                figsize=(min(1.0 + ncols * panel_w, REPORT_WIDTH), 1.5 + 3.0 * nrows),
                layout="constrained",
            )
        else:
            fig.clear()
        grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        flat = list(grid.ravel())
        axes, unused = flat[:n], flat[n:]
        for ax in unused:  # empty slots of the last row
            fig.delaxes(ax)
        for k, (ax, actor) in enumerate(zip(axes, actors)):
            score_bands(ax)
            for lg in langs:
                sub = data[(data[col] == actor) & (data[lang] == lg)]
                series = sub.set_index(x)[y].astype(float).reindex(ids)
                color, marker = styles[lg]
                kw = dict(color=color, marker=marker, markersize=5.5, linewidth=1.5, alpha=0.9,
                          label=str(lg), markeredgecolor="white", markeredgewidth=0.6, zorder=3)
                kw.update(kwargs)
                ax.plot(ids, series.to_numpy(), **kw)
            ax.set_title(str(actor), loc="center")
            # x labels on the lowest panel of each column (also above an empty slot)
            if k + ncols >= n:
                ax.xaxis.set_tick_params(labelbottom=True)
                ax.set_xlabel("paragraph (0 = title)")
            ax.set_ylim(-1.08, 1.08)
            if ids:
                ax.set_xlim(min(ids) - 0.5, max(ids) + 0.5)
                panel_in = ax.get_position().width * fig.get_figwidth()
                step = max(1, int(np.ceil(len(ids) / max(panel_in * 4.5, 1.0))))
                ax.set_xticks(ids[::step])
        for ax in grid[:, 0]:
            if ax in axes:
                score_ticks(ax, "y", "unfavourable", "favourable")
                ax.set_ylabel("stance score")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, title=f"{lang} (line gap = actor not mentioned)",
                   loc="outside lower center", ncols=min(len(labels), 8))
        fig.suptitle(title or "Same article in several languages: stance per paragraph",
                     x=0.01, ha="left", fontweight="bold", fontsize=12)
    return fig
