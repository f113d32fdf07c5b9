"""Report-ready plots of stance and sentiment tables.

All functions follow seaborn's calling style: a tidy table as ``data=``,
everything else keyword-only, an optional ``ax=`` (a new figure is created
when it is absent) and the :class:`~matplotlib.axes.Axes` (or, for
multi-panel plots, the :class:`~matplotlib.figure.Figure`) is returned.
Nothing here calls ``plt.show()``.

Colour convention (all plots)
-----------------------------
Diverging ``RdBu`` palette on the fixed range [-1, +1], centred on 0:
**red = unfavourable / negative, white = 0, blue = favourable / positive.**
Actor and language identities (categorical) use the ``Dark2``-like palette
:data:`CATEGORY_COLORS`, which avoids pure red and blue so that it cannot be
confused with the score colours; every category also gets its own marker.

A paragraph x actor pair with no mention has no row in the stance table; it
is drawn as a *gap* (hatched grey cell in the heatmap, a break in lines),
never as 0 / neutral.

Tables
------
stance : doc_id, para_id, actor, score (+ label, model, evidence, lang …)
sentiment : doc_id, para_id, score (+ label, model)
paragraphs : doc_id, para_id, text (used for readable row labels)
aggregates : output of :mod:`analysis.aggregate` (mean_score, ci_low, ci_high,
n_paragraphs …)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.patches import Patch, Rectangle

from analysis.errors import InputError

__all__ = [
    "CATEGORY_COLORS",
    "CMAP",
    "SCORE_LABEL",
    "REPORT_WIDTH",
    "SENTIMENT_LABEL",
    "actor_summary",
    "confusion_matrix_plot",
    "figure_name",
    "language_comparison",
    "load_table_for_plot",
    "reliability_diagram",
    "save_figure",
    "score_color",
    "sentiment_bars",
    "set_theme",
    "stance_heatmap",
    "stance_trajectory",
    "theme",
    "write_standard_figures",
]

#: Diverging colour map for scores: red = unfavourable (-1), blue = favourable (+1).
CMAP = "RdBu"
VMIN, VMAX = -1.0, 1.0
#: Colour-bar / axis label of stance scores.
SCORE_LABEL = "stance score (favourable − unfavourable probability)"
#: Axis label of paragraph sentiment scores.
SENTIMENT_LABEL = "sentiment score (positive − negative probability)"
#: Categorical colours for actors / languages (no pure red or blue).
CATEGORY_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#e6ab02", "#66a61e", "#a6761d", "#e7298a", "#666666",
)
CATEGORY_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
MISSING_COLOR = "#f0f0f0"
MISSING_HATCH_COLOR = "#b0b0b0"
MISSING_LABEL = "not mentioned (no score)"
#: Widest default figure (inches) of the multi-panel plots: a report page's text width.
REPORT_WIDTH = 12.5

#: rcParams of the shared theme (seaborn "whitegrid"-like, fonts with full
#: Latin/Cyrillic coverage, deterministic SVG ids, TrueType fonts in PDF).
THEME_RC: dict = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Liberation Sans"],
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.facecolor": "white",
    "axes.edgecolor": "#cccccc",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "savefig.facecolor": "white",
    "axes.unicode_minus": True,
    "svg.hashsalt": "analysis-figures",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}


def set_theme() -> None:
    """Apply the shared plot theme globally (``matplotlib.rcParams``).

    Use :func:`theme` instead to apply it temporarily. The plot functions
    apply the theme themselves while drawing, so calling this is only needed
    to give your own figures the same look.
    """
    mpl.rcParams.update(THEME_RC)


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """Context manager applying the shared theme inside a ``with`` block."""
    with mpl.rc_context(THEME_RC):
        yield


def score_color(value: float) -> tuple[float, float, float, float]:
    """RGBA colour of a score in [-1, 1] (red = negative, blue = positive).

    NaN gives the "missing" grey.
    """
    if value is None or not np.isfinite(value):
        return mpl.colors.to_rgba(MISSING_COLOR)
    return mpl.colormaps[CMAP](Normalize(VMIN, VMAX, clip=True)(value))


def _fmt(value: float) -> str:
    """Signed score with a typographic minus, e.g. ``+0.42`` / ``−0.10``."""
    return f"{value:+.2f}".replace("-", "\u2212")


def _require(data, columns: Sequence[str], what: str) -> pd.DataFrame:
    if data is None:
        raise InputError(f"{what}: data= is required")
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(
            f"{what}: table is missing column(s) {', '.join(missing)}; "
            f"it has: {', '.join(map(str, data.columns))}"
        )
    return data


def _select_doc(data: pd.DataFrame, doc_id, what: str) -> tuple[pd.DataFrame, object]:
    if "doc_id" not in data.columns:
        return data, doc_id
    if doc_id is None:
        docs = data["doc_id"].dropna().unique()
        if len(docs) > 1:
            shown = ", ".join(map(str, sorted(docs)[:5])) + (" …" if len(docs) > 5 else "")
            raise InputError(
                f"{what}: the table has {len(docs)} documents ({shown}); pass doc_id= to pick one"
            )
        doc_id = docs[0] if len(docs) else None
        return data, doc_id
    sub = data[data["doc_id"] == doc_id]
    if sub.empty:
        raise InputError(f"{what}: no rows for doc_id={doc_id!r}")
    return sub, doc_id


def _single_model(data: pd.DataFrame, what: str) -> str | None:
    if "model" not in data.columns:
        return None
    models = data["model"].dropna().unique()
    if len(models) > 1:
        raise InputError(
            f"{what}: the table mixes {len(models)} models ({', '.join(map(str, models))}); "
            "filter it to one model first"
        )
    return str(models[0]) if len(models) else None


def _shorten(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return textwrap.shorten(text, width=width, placeholder="…") if " " in text[:width] else text[: width - 1] + "…"


def _paragraph_ids(data: pd.DataFrame, paragraphs: pd.DataFrame | None, doc_id, x: str = "para_id") -> list:
    """All paragraph ids to show: from the paragraphs table, else 0..max."""
    if paragraphs is not None and "para_id" in paragraphs.columns:
        p = paragraphs
        if doc_id is not None and "doc_id" in p.columns:
            p = p[p["doc_id"] == doc_id]
        if not p.empty:
            ids = set(p["para_id"].tolist()) | set(data[x].dropna().tolist())
            return sorted(ids)
    present = data[x].dropna()
    if present.empty:
        return []
    try:
        lo, hi = int(min(0, present.min())), int(present.max())
        if np.allclose(present, present.round()):
            return list(range(lo, hi + 1))
    except (TypeError, ValueError):
        pass
    return sorted(present.unique())


def _paragraph_labels(ids: Sequence, paragraphs: pd.DataFrame | None, doc_id, width: int) -> list[str]:
    """Row labels "3 · Pékin a fourni une bouée…" (number only without texts)."""
    texts: dict = {}
    if paragraphs is not None and {"para_id", "text"} <= set(paragraphs.columns):
        p = paragraphs
        if doc_id is not None and "doc_id" in p.columns:
            p = p[p["doc_id"] == doc_id]
        texts = dict(zip(p["para_id"], p["text"]))
    labels = []
    for pid in ids:
        t = texts.get(pid)
        labels.append(f"{pid} · {_shorten(t, width)}" if isinstance(t, str) and t.strip() else str(pid))
    return labels


def _score_ticks(ax, axis: str, neg: str, pos: str) -> None:
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0]
    labels = [f"\u22121\n{neg}", "\u22120.5", "0", "+0.5", f"+1\n{pos}"]
    if axis == "x":
        ax.set_xticks(ticks, labels)
    else:
        labels = [f"\u22121 {neg}", "\u22120.5", "0", "+0.5", f"+1 {pos}"]
        ax.set_yticks(ticks, labels)


def _new_ax(ax, figsize):
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _category_styles(levels: Sequence) -> dict:
    return {
        lev: (CATEGORY_COLORS[i % len(CATEGORY_COLORS)], CATEGORY_MARKERS[i % len(CATEGORY_MARKERS)])
        for i, lev in enumerate(levels)
    }


def _title_suffix(doc_id, model) -> str:
    parts = [str(p) for p in (doc_id, model) if p is not None]
    return " · ".join(parts)


# break opportunities inside long identifiers ("hf:org/model-name@rev")
_BREAK_RE = re.compile(r"(?<=[\s/_\-·:,])|(?=@)")


def _wrap_to_width(line: str, avail: float, width_of) -> list[str]:
    """Greedy wrap of one line at spaces / identifier separators to ``avail`` pixels."""
    if width_of(line) <= avail:
        return [line]
    out: list[str] = []
    current = ""
    for piece in (p for p in _BREAK_RE.split(line) if p):
        if current and width_of(current + piece) > avail:
            out.append(current.rstrip())
            current = piece.lstrip()
        else:
            current += piece
        while len(current) > 1 and width_of(current) > avail:  # one piece wider than the room
            cut = len(current) - 1
            while cut > 1 and width_of(current[:cut]) > avail:
                cut -= 1
            out.append(current[:cut])
            current = current[cut:]
    if current.strip():
        out.append(current.rstrip())
    return out


def _fitted_title(ax, main: str, suffix: str = "", **title_kw) -> None:
    """Set a left title "main\nsuffix" that reads fully inside the figure.

    The suffix (document id · model id) goes on its own line; when a line
    would run past the right edge of the figure at its current size, the
    suffix is split into one line per part and long parts (model ids) are
    wrapped at ``/``, ``@``, ``-`` …, so the whole title stays on the page
    instead of being clipped.
    """
    lines = [main] + ([suffix] if suffix else [])
    text = ax.set_title("\n".join(lines), **title_kw)  # the left title under the theme
    fig = ax.get_figure(root=False)
    root = ax.get_figure(root=True)
    if fig is None or root is None:
        return
    for _ in range(3):
        root.draw_without_rendering()  # runs the layout engine
        renderer = root.canvas.get_renderer()
        prop = text.get_fontproperties()
        right = fig.bbox.x1 - 4 * root.dpi / 72  # small margin from the edge
        extent = text.get_window_extent(renderer)
        if extent.x1 <= right:
            return
        avail = max(right - extent.x0, 40.0)

        def width_of(text, _prop=prop, _r=renderer):
            return _r.get_text_width_height_descent(text, _prop, ismath=False)[0]

        new: list[str] = []
        for i, line in enumerate(lines):
            parts = line.split(" · ") if i > 0 and width_of(line) > avail else [line]
            for part in parts:
                new.extend(_wrap_to_width(part, avail, width_of))
        if new == lines:
            return
        lines = new
        text = ax.set_title("\n".join(lines), **title_kw)


# --------------------------------------------------------------------------- heatmap
def stance_heatmap(
    data: pd.DataFrame | None = None,
    *,
    paragraphs: pd.DataFrame | None = None,
    x: str = "actor",
    y: str = "para_id",
    value: str = "score",
    doc_id=None,
    order: Sequence | None = None,
    ax=None,
    annot: bool = True,
    cbar: bool = True,
    label_width: int = 42,
    title: str | None = None,
    **kwargs,
):
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
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when absent.
    annot : bool, default True
        Write the score in each cell.
    cbar : bool, default True
        Draw the colour bar (labelled with :data:`SCORE_LABEL`).
    label_width : int, default 42
        Maximum characters of a row label.
    title : str, optional
        Default: "Stance towards each actor, paragraph by paragraph".
    **kwargs
        Passed to :func:`seaborn.heatmap`.

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

    data = _require(data, [x, y, value], "stance_heatmap")
    data, doc_id = _select_doc(data, doc_id, "stance_heatmap")
    model = _single_model(data, "stance_heatmap")
    try:
        pivot = data.pivot(index=y, columns=x, values=value)
    except ValueError as exc:
        raise InputError(
            f"stance_heatmap: several rows for the same ({y}, {x}) pair; "
            "filter the table to one document and one model"
        ) from exc
    cols = list(order) if order is not None else sorted(pivot.columns, key=str)
    rows = _paragraph_ids(data, paragraphs, doc_id, y)
    pivot = pivot.reindex(index=rows, columns=cols).astype(float)
    labels = _paragraph_labels(rows, paragraphs, doc_id, label_width)

    with theme():
        longest = max((len(s) for s in labels), default=4)
        figsize = (
            min(2.0 + 0.065 * longest + 1.05 * len(cols) + (1.2 if cbar else 0), 16),
            min(1.9 + 0.36 * len(rows), 30),
        )
        ax = _new_ax(ax, figsize)
        ax.grid(False)
        mask = pivot.isna()
        annot_arr = (
            np.vectorize(lambda v: "" if np.isnan(v) else _fmt(v), otypes=[object])(pivot.to_numpy())
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
        _fitted_title(ax, title or "Stance towards each actor, paragraph by paragraph",
                      _title_suffix(doc_id, model))
    return ax


# --------------------------------------------------------------------------- actor summary
def actor_summary(
    data: pd.DataFrame | None = None,
    *,
    x: str = "mean_score",
    y: str = "actor",
    hue: str | None = None,
    ci: tuple[str, str] = ("ci_low", "ci_high"),
    order: Sequence | None = None,
    hue_order: Sequence | None = None,
    ax=None,
    title: str | None = None,
    **kwargs,
):
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
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh`.

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
    data = _require(data, [y, x, *ci] + ([hue] if hue else []), "actor_summary")
    _single_model(data, "actor_summary")
    actors = list(order) if order is not None else sorted(data[y].dropna().unique(), key=str)
    levels = (
        (list(hue_order) if hue_order is not None else sorted(data[hue].dropna().unique(), key=str))
        if hue else [None]
    )
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
        ax = _new_ax(ax, (7.5, min(1.6 + 0.42 * len(records), 24)))
        means = np.array([r[1] for r in records])
        colors = [score_color(m) for m in means]
        bar_kw = dict(height=0.72, color=colors, edgecolor="#555555", linewidth=0.6, zorder=2)
        bar_kw.update(kwargs)
        ax.barh(positions, means, **bar_kw)
        ok = [i for i, r in enumerate(records) if np.isfinite(r[2]) and np.isfinite(r[3])]
        segs = [[(records[i][2], positions[i]), (records[i][3], positions[i])] for i in ok]
        from matplotlib.collections import LineCollection

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
            txt = _fmt(m)
            if np.isfinite(lo) and np.isfinite(hi):
                txt += f"  [{_fmt(lo)}, {_fmt(hi)}]"
            if n is not None and pd.notna(n):
                txt += f"  n={int(n)}"
            ax.text(1.02, positions[i], txt, transform=trans, ha="left", va="center",
                    fontsize=8.5, color="#333333", clip_on=False)
        ax.text(1.02, 1.0, "mean  [95 % CI]  n", transform=ax.transAxes, ha="left",
                va="bottom", fontsize=8.5, color="#333333", fontweight="bold")
        ax.set_yticks(positions, [r[0] for r in records])
        ax.set_ylim(positions.max() + 0.7 if len(positions) else 1, -0.7)
        ax.set_xlim(VMIN - 0.02, VMAX + 0.02)
        _score_ticks(ax, "x", "unfavourable", "favourable")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("mean " + SCORE_LABEL + "\nwhiskers: 95 % bootstrap CI · n = paragraphs mentioning the actor")
        ax.set_ylabel("")
        ax.set_title(title or "Mean stance per actor", pad=14)
    return ax


# --------------------------------------------------------------------------- trajectory
def stance_trajectory(
    data: pd.DataFrame | None = None,
    *,
    x: str = "para_id",
    y: str = "score",
    hue: str = "actor",
    doc_id=None,
    paragraphs: pd.DataFrame | None = None,
    hue_order: Sequence | None = None,
    ax=None,
    title: str | None = None,
    **kwargs,
):
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
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        One :class:`~matplotlib.lines.Line2D` per actor (label = actor) whose
        y data is NaN where the actor is not mentioned: lines break there,
        nothing is interpolated; an isolated mention is a lone marker.
    """
    data = _require(data, [x, y, hue], "stance_trajectory")
    data, doc_id = _select_doc(data, doc_id, "stance_trajectory")
    model = _single_model(data, "stance_trajectory")
    ids = _paragraph_ids(data, paragraphs, doc_id, x)
    levels = list(hue_order) if hue_order is not None else sorted(data[hue].dropna().unique(), key=str)
    styles = _category_styles(levels)
    with theme():
        ax = _new_ax(ax, (min(4.0 + 0.42 * len(ids), 14), 4.6))
        ax.axhspan(0, 1.08, color=score_color(0.7), alpha=0.12, zorder=0, linewidth=0)
        ax.axhspan(-1.08, 0, color=score_color(-0.7), alpha=0.12, zorder=0, linewidth=0)
        ax.axhline(0, color="#555555", linewidth=0.8, zorder=1)
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
        _score_ticks(ax, "y", "unfavourable", "favourable")
        ax.set_xlabel("paragraph (0 = title)")
        ax.set_ylabel("stance score")
        ax.legend(title=f"{hue}\n(gap = not mentioned)", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _fitted_title(ax, title or "Stance along the article", _title_suffix(doc_id, model))
    return ax


# --------------------------------------------------------------------------- sentiment
def sentiment_bars(
    data: pd.DataFrame | None = None,
    *,
    x: str = "score",
    y: str = "para_id",
    doc_id=None,
    paragraphs: pd.DataFrame | None = None,
    ax=None,
    label_width: int = 42,
    title: str | None = None,
    **kwargs,
):
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
    ax : matplotlib.axes.Axes, optional
    label_width : int, default 42
    title : str, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes
        Bars in paragraph order (first paragraph at the top); bar colour on the
        shared RdBu scale (red = negative, blue = positive). Paragraphs with no
        score get no bar and the text "no score".
    """
    data = _require(data, [x, y], "sentiment_bars")
    data, doc_id = _select_doc(data, doc_id, "sentiment_bars")
    model = _single_model(data, "sentiment_bars")
    if data[y].duplicated().any():
        raise InputError("sentiment_bars: several rows per paragraph; filter to one document and one model")
    ids = _paragraph_ids(data, paragraphs, doc_id, y)
    values = data.set_index(y)[x].astype(float).reindex(ids).to_numpy()
    labels = _paragraph_labels(ids, paragraphs, doc_id, label_width)
    with theme():
        longest = max((len(s) for s in labels), default=4)
        ax = _new_ax(ax, (min(4.8 + 0.065 * longest, 14), min(1.8 + 0.34 * len(ids), 30)))
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
                ax.text(v + (0.03 if v >= 0 else -0.03), p, _fmt(v), va="center",
                        ha="left" if v >= 0 else "right", fontsize=8, color="#333333")
        ax.set_yticks(pos, labels)
        ax.set_ylim(len(ids) - 0.4, -0.6)
        ax.set_xlim(-1.25, 1.25)
        _score_ticks(ax, "x", "negative", "positive")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(SENTIMENT_LABEL)
        ax.set_ylabel("paragraph (0 = title)")
        _fitted_title(ax, title or "Paragraph sentiment", _title_suffix(doc_id, model))
    return ax


# --------------------------------------------------------------------------- languages
def language_comparison(
    data: pd.DataFrame | None = None,
    *,
    lang: str = "lang",
    x: str = "para_id",
    y: str = "score",
    col: str = "actor",
    col_order: Sequence | None = None,
    hue_order: Sequence | None = None,
    fig=None,
    max_cols: int = 3,
    title: str | None = None,
    **kwargs,
):
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
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (it is cleared); a new one when absent, at most
        :data:`REPORT_WIDTH` (12.5 in) wide so it fits a report page.
    max_cols : int, default 3
        Panels per row; more actors wrap onto further rows (``0``: all in
        one row).
    title : str, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[:n_actors]`` are the panels (row by row), the language
        legend sits below them; each holds one line per
        language (label = language) with NaN where the actor is not mentioned.
    """
    data = _require(data, [lang, x, y, col], "language_comparison")
    _single_model(data, "language_comparison")
    if data.duplicated([lang, x, col]).any():
        raise InputError(
            f"language_comparison: several rows for the same ({lang}, {x}, {col}); "
            "the table must hold one article per language (filter by doc_id)"
        )
    actors = list(col_order) if col_order is not None else sorted(data[col].dropna().unique(), key=str)
    langs = list(hue_order) if hue_order is not None else sorted(data[lang].dropna().unique(), key=str)
    styles = _category_styles(langs)
    ids = _paragraph_ids(data, None, None, x)
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
            ax.axhspan(0, 1.08, color=score_color(0.7), alpha=0.12, zorder=0, linewidth=0)
            ax.axhspan(-1.08, 0, color=score_color(-0.7), alpha=0.12, zorder=0, linewidth=0)
            ax.axhline(0, color="#555555", linewidth=0.8, zorder=1)
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
                _score_ticks(ax, "y", "unfavourable", "favourable")
                ax.set_ylabel("stance score")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, title=f"{lang} (line gap = actor not mentioned)",
                   loc="outside lower center", ncols=min(len(labels), 8))
        fig.suptitle(title or "Same article in several languages: stance per paragraph",
                     x=0.01, ha="left", fontweight="bold", fontsize=12)
    return fig


# --------------------------------------------------------------------------- saving
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FORMATS = {"png", "svg", "pdf"}


def _slug(value) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", str(value)).strip("-.")
    return s or "figure"


def save_figure(
    fig,
    name: str,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 300,
    directory: str | os.PathLike = "reports/figures",
) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.<ext>`` for each format.

    File names are stable (no dates, no counters), so a report can link to
    them and re-running replaces them. Each file is written to a temporary
    file in ``directory`` and moved into place with :func:`os.replace`, so a
    crash never leaves a half-written figure. Outputs are reproducible:
    SVG/PDF carry no creation date and SVG element ids use a fixed salt, so
    saving the same figure twice gives identical SVG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        Figure to save (an Axes is replaced by its figure).
    name : str
        Base name: letters, digits, ``.``, ``_``, ``-`` (no path separators).
    formats : sequence of {"png", "svg", "pdf"}
    dpi : int, default 300
        Resolution of raster output (PNG).
    directory : str or path, default "reports/figures"
        Output folder, created if missing.

    Returns
    -------
    list of pathlib.Path
        Written files, in the order of ``formats``.
    """
    if hasattr(fig, "get_figure") and not isinstance(fig, mpl.figure.Figure):
        fig = fig.get_figure()
    if not isinstance(fig, mpl.figure.Figure):
        raise InputError(f"save_figure: expected a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InputError(
            f"save_figure: invalid figure name {name!r}; use letters, digits, '.', '_' or '-' only"
        )
    if isinstance(formats, str):
        formats = (formats,)
    fmts = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in fmts if f not in _FORMATS]
    if bad:
        raise InputError(f"save_figure: unsupported format(s) {', '.join(bad)}; use png, svg or pdf")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    }
    written: list[Path] = []
    with mpl.rc_context({"svg.hashsalt": THEME_RC["svg.hashsalt"], "svg.fonttype": "path",
                         "pdf.fonttype": 42}):
        for fmt in fmts:
            target = directory / f"{name}.{fmt}"
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".{fmt}.tmp", dir=directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fig.savefig(fh, format=fmt, dpi=dpi, metadata=metadata[fmt])
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            written.append(target)
    return written


# --------------------------------------------------------------------------- standard set
def load_table_for_plot(path: str | os.PathLike, required: Sequence[str]) -> pd.DataFrame:
    """Read a CSV/JSONL/Parquet table for plotting and check its columns.

    ``doc_id`` is read as text and ``para_id`` as integer.

    Raises
    ------
    analysis.errors.InputError
        Unreadable file, missing columns (the message names the file and the
        columns), or non-integer paragraph ids.
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
    for col in ("score",):
        if col in df.columns:
            vals = pd.to_numeric(df[col], errors="coerce")
            if vals.isna().any():
                raise InputError(f"{path}: column {col} must hold numbers in [-1, 1] (found empty or text cells)")
            df[col] = vals
    return df



def write_standard_figures(
    stance: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    paragraphs: pd.DataFrame | None = None,
    sentiment: pd.DataFrame | None = None,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 300,
) -> list[Path]:
    """Write the standard figure set for a stance table (used by ``analysis plot``).

    Figures (``<doc>`` is the document id made file-name safe):

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
        As in :func:`save_figure`.

    Returns
    -------
    list of pathlib.Path
        All written files.
    """
    from analysis.aggregate import aggregate_corpus

    stance = _require(stance, ["doc_id", "para_id", "actor", "score"], "stance table")
    _single_model(stance, "stance table")
    written: list[Path] = []

    def _save(obj, name):
        fig = obj if isinstance(obj, mpl.figure.Figure) else obj.get_figure()
        try:
            written.extend(save_figure(fig, name, formats=formats, dpi=dpi, directory=out_dir))
        finally:
            plt.close(fig)

    for doc in sorted(stance["doc_id"].dropna().unique(), key=str):
        slug = _slug(doc)
        _save(stance_heatmap(stance, doc_id=doc, paragraphs=paragraphs), f"{slug}_stance_heatmap")
        _save(stance_trajectory(stance, doc_id=doc, paragraphs=paragraphs), f"{slug}_stance_trajectory")
    if sentiment is not None:
        sentiment = _require(sentiment, ["doc_id", "para_id", "score"], "sentiment table")
        for doc in sorted(sentiment["doc_id"].dropna().unique(), key=str):
            _save(sentiment_bars(sentiment, doc_id=doc, paragraphs=paragraphs), f"{_slug(doc)}_sentiment")
    multi_lang = "lang" in stance.columns and stance["lang"].nunique() > 1
    agg = aggregate_corpus(stance, by="lang" if multi_lang else None)
    _save(actor_summary(agg, hue="lang" if multi_lang else None), "actor_summary")
    if multi_lang and (stance.groupby("lang")["doc_id"].nunique() == 1).all():
        _save(language_comparison(stance), "language_comparison")
    return written


# --------------------------------------------------------------------------- validation
def figure_name(*parts) -> str:
    """A stable, file-name safe figure name from parts, e.g. ``("ttn-fr-56.en", "stance_heatmap")``.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``-``;
    parts are joined with ``_``. The result is accepted by :func:`save_figure`.
    """
    return "_".join(_slug(p) for p in parts) or "figure"


def confusion_matrix_plot(
    data: pd.DataFrame | None = None,
    *,
    y_true: str = "gold",
    y_pred: str = "pred",
    labels: Sequence | None = None,
    display_labels: Sequence[str] | None = None,
    normalize: str | None = "true",
    ax=None,
    title: str | None = None,
    **kwargs,
):
    """Confusion matrix of gold against predicted classes, as an annotated heatmap.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per judged item with a gold column and a predicted column.
    y_true, y_pred : str
        Gold and predicted class columns (names or codes).
    labels : sequence, optional
        Class values in display order (default: sorted values of both columns).
    display_labels : sequence of str, optional
        Names shown for ``labels`` (e.g. ``["negative", "neutral",
        "positive"]`` for codes 0/1/2).
    normalize : {"true", None}, default "true"
        ``"true"``: colour = share of the gold row (recall of each class on
        the diagonal), so rare classes are as readable as frequent ones;
        ``None``: colour = count. Every cell shows the count and, with
        ``"true"``, the row share.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    **kwargs
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    matplotlib.axes.Axes
        Rows = gold class, columns = predicted class; the diagonal (agreement)
        is outlined. The colour scale is a single-hue purple, deliberately not
        the red/blue stance scale.
    """
    import seaborn as sns

    if normalize not in ("true", None):
        raise InputError(f"confusion_matrix_plot: normalize must be 'true' or None, got {normalize!r}")
    data = _require(data, [y_true, y_pred], "confusion_matrix_plot")
    sub = data[[y_true, y_pred]].dropna()
    if labels is None:
        labels = sorted(set(sub[y_true]) | set(sub[y_pred]), key=str)
    labels = list(labels)
    names = [str(x) for x in (display_labels if display_labels is not None else labels)]
    if len(names) != len(labels):
        raise InputError("confusion_matrix_plot: display_labels must have one name per label")
    index = {lab: i for i, lab in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(sub[y_true], sub[y_pred]):
        if t in index and p in index:
            counts[index[t], index[p]] += 1
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    shown = share if normalize == "true" else counts.astype(float)
    annot = np.empty(counts.shape, dtype=object)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            annot[i, j] = f"{counts[i, j]}\n{share[i, j]:.0%}" if normalize == "true" else f"{counts[i, j]}"
    with theme():
        ax = _new_ax(ax, (1.9 + 1.25 * len(labels), 1.5 + 1.05 * len(labels)))
        ax.grid(False)
        heat_kw = dict(
            cmap="Purples", vmin=0.0, vmax=1.0 if normalize == "true" else max(1, counts.max()),
            annot=annot, fmt="", linewidths=1.0, linecolor="white", square=True,
            annot_kws={"fontsize": 10},
            cbar_kws={"label": "share of the gold class" if normalize == "true" else "count",
                      "shrink": 0.8},
        )
        heat_kw.update(kwargs)
        sns.heatmap(pd.DataFrame(shown, index=names, columns=names), ax=ax, **heat_kw)
        for i in range(len(labels)):
            ax.add_patch(Rectangle((i, i), 1, 1, fill=False, edgecolor="#333333", linewidth=1.6, zorder=3,
                                   clip_on=False))
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.tick_params(axis="both", length=0)
        ax.set_yticks(np.arange(len(names)) + 0.5, names, rotation=0)
        ax.set_xticks(np.arange(len(names)) + 0.5, names, rotation=0)
        ax.set_title(title or f"Confusion matrix (n = {int(counts.sum())})")
    return ax


def reliability_diagram(
    data: pd.DataFrame | None = None,
    *,
    y_true: str = "label",
    proba: Sequence[str] = ("p_negative", "p_neutral", "p_positive"),
    classes: Sequence[str] = ("negative", "neutral", "positive"),
    hue: str | None = None,
    hue_order: Sequence | None = None,
    n_bins: int = 10,
    ax=None,
    title: str | None = None,
    **kwargs,
):
    """Reliability (calibration) diagram: does a 70 % confident prediction hold 70 % of the time?

    Predictions are binned by their confidence (largest class probability);
    for each bin the share of correct predictions is plotted against the
    mean confidence (see :func:`analysis.evaluation.calibration_table`).
    Points on the diagonal are well calibrated; below it the model is
    over-confident, above it under-confident.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per prediction: the gold column ``y_true`` (class index or
        name) and the probability columns ``proba`` (in ``classes`` order).
    y_true : str, default "label"
    proba : sequence of str
        Probability columns, one per class.
    classes : sequence of str
        Class names, in the order of ``proba``.
    hue : str, optional
        Column splitting the predictions into separate curves (e.g. the
        data set); each curve's legend entry gives its ECE and n.
    hue_order : sequence, optional
    n_bins : int, default 10
        Equal-width confidence bins on [0, 1].
    ax : matplotlib.axes.Axes, optional
        Axes for the curve. Without it a new figure is made with a second,
        smaller panel below showing how many predictions fall in each bin.
    title : str, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        The reliability panel: one line per hue level (label starts with the
        level, or "predictions") whose points are (mean confidence, accuracy)
        of the non-empty bins; marker area grows with the bin's count.
        ``ax.ece`` maps each level to its expected calibration error.
    """
    from analysis.evaluation import calibration_table, expected_calibration_error

    data = _require(data, [y_true, *proba] + ([hue] if hue else []), "reliability_diagram")
    levels = (
        (list(hue_order) if hue_order is not None else sorted(data[hue].dropna().unique(), key=str))
        if hue else [None]
    )
    styles = _category_styles(levels)
    lo = np.floor(n_bins / len(classes)) / n_bins if len(classes) else 0.0
    with theme():
        hist_ax = None
        if ax is None:
            fig, (ax, hist_ax) = plt.subplots(
                2, 1, figsize=(6.4, 6.2), sharex=True, layout="constrained",
                gridspec_kw={"height_ratios": [3.2, 1.0]},
            )
        ax.plot([0, 1], [0, 1], linestyle="--", color="#777777", linewidth=1.0, zorder=1,
                label="perfect calibration")
        ece: dict = {}
        width = 1.0 / n_bins / (len(levels) + 0.5)
        for k, lev in enumerate(levels):
            sub = data if lev is None else data[data[hue] == lev]
            y = sub[y_true].tolist()
            p = sub[list(proba)].to_numpy(dtype=float)
            table = calibration_table(y, p, n_bins=n_bins, classes=classes)
            e = expected_calibration_error(y, p, n_bins=n_bins, classes=classes)
            ece[lev] = e
            used = table[table["n"] > 0]
            color, marker = styles[lev]
            name = "predictions" if lev is None else str(lev)
            kw = dict(color=color, marker=marker, linewidth=1.8, zorder=3,
                      label=f"{name} (ECE {e:.3f}, n={len(sub)})", markeredgecolor="white")
            kw.update(kwargs)
            ax.plot(used["confidence"], used["accuracy"], markersize=0, **kw)
            sizes = 25 + 175 * used["n"] / max(1, used["n"].max())
            ax.scatter(used["confidence"], used["accuracy"], s=sizes, color=color, marker=marker,
                       edgecolors="white", linewidths=0.6, zorder=4)
            if hist_ax is not None:
                share = table["n"] / max(1, table["n"].sum())
                centres = (table["lower"] + table["upper"]) / 2 + (k - (len(levels) - 1) / 2) * width
                hist_ax.bar(centres, share, width=width, color=color, alpha=0.85, zorder=2)
        ax.set_xlim(lo - 0.02, 1.0)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("auto")
        ax.set_ylabel("accuracy (share of predictions that are right)")
        ax.set_title(title or "Reliability diagram: confidence vs accuracy")
        ax.legend(loc="upper left", title="below the diagonal = over-confident")
        if hist_ax is not None:
            hist_ax.set_ylabel("share of\npredictions")
            hist_ax.set_xlabel("confidence (probability of the predicted class), binned")
            hist_ax.grid(axis="x", visible=False)
            hist_ax.set_ylim(0, None)
        else:
            ax.set_xlabel("confidence (probability of the predicted class)")
        ax.ece = ece
    return ax
