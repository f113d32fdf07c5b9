"""The plot theme and colours, the helpers the figure modules share, and :func:`save_figure`.

Colour convention (all figures)
-------------------------------
Diverging ``RdBu`` palette on the fixed range [-1, +1], centred on 0:
**red = unfavourable / negative, white = 0, blue = favourable / positive.**
Actor and language identities (categorical) use the ``Dark2``-like palette
:data:`CATEGORY_COLORS`, which avoids pure red and blue so that it cannot be
confused with the score colours; every category also gets its own marker.

A paragraph x actor pair with no mention has no row in the stance table; it
is drawn as a *gap* (hatched grey cell in the heatmap, a break in lines),
never as 0 / neutral.

The helpers with a leading underscore serve :mod:`analysis.plots`,
:mod:`analysis.validation_plots`, :mod:`analysis.figures` and
:mod:`analysis.evidence`; they are not part of the public API.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from analysis.errors import InputError
from analysis.io import atomic_path
from analysis.schema import check_columns

__all__ = [
    "CATEGORY_COLORS",
    "CMAP",
    "FIGURE_FORMATS",
    "REPORT_WIDTH",
    "SCORE_LABEL",
    "SENTIMENT_LABEL",
    "THEME_RC",
    "save_figure",
    "score_color",
    "set_theme",
    "theme",
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


def format_score(value: float) -> str:
    """Signed score with a typographic minus, e.g. ``+0.42`` / ``−0.10``."""
    return f"{value:+.2f}".replace("-", "\u2212")


def require_table(data, columns: Sequence[str], what: str) -> pd.DataFrame:
    """``data``, checked to be a DataFrame holding ``columns``; ``what`` names the caller in errors."""
    if data is None:
        raise InputError(f"{what}: data= is required")
    check_columns(data, columns, f"{what}: the table")
    return data


def category_levels(data: pd.DataFrame, column: str, order: Sequence | None) -> list:
    """``order`` as a list, else the sorted distinct values of ``column`` (missing values left out)."""
    return list(order) if order is not None else sorted(data[column].dropna().unique(), key=str)


def score_bands(ax) -> None:
    """Pale blue above and pale red below the zero line of a score axis on [-1.08, 1.08]."""
    ax.axhspan(0, 1.08, color=score_color(0.7), alpha=0.12, zorder=0, linewidth=0)
    ax.axhspan(-1.08, 0, color=score_color(-0.7), alpha=0.12, zorder=0, linewidth=0)
    ax.axhline(0, color="#555555", linewidth=0.8, zorder=1)


def select_document(data: pd.DataFrame, doc_id, what: str) -> tuple[pd.DataFrame, object]:
    """The rows of document ``doc_id`` and its id; without ``doc_id`` the table must hold one document."""
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


def single_model(data: pd.DataFrame, what: str) -> str | None:
    """The one model id of the ``model`` column (None without it); several models are refused."""
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
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return textwrap.shorten(text, width=width, placeholder="…") if " " in text[:width] else text[: width - 1] + "…"


def paragraph_ids(data: pd.DataFrame, paragraphs: pd.DataFrame | None, doc_id, x: str = "para_id") -> list:
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


def paragraph_labels(ids: Sequence, paragraphs: pd.DataFrame | None, doc_id, width: int) -> list[str]:
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


def score_ticks(ax, axis: str, neg: str, pos: str) -> None:
    """Ticks at -1, -0.5, 0, 0.5, 1 on ``axis`` ("x" or "y"), the ends named ``neg`` / ``pos``."""
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0]
    labels = [f"\u22121\n{neg}", "\u22120.5", "0", "+0.5", f"+1\n{pos}"]
    if axis == "x":
        ax.set_xticks(ticks, labels)
    else:
        labels = [f"\u22121 {neg}", "\u22120.5", "0", "+0.5", f"+1 {pos}"]
        ax.set_yticks(ticks, labels)


def new_axes(ax, figsize):
    """``ax``, or the Axes of a new constrained-layout figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def category_styles(levels: Sequence) -> dict:
    """``{level: (colour, marker)}`` from :data:`CATEGORY_COLORS` and the markers, in order."""
    return {
        lev: (CATEGORY_COLORS[i % len(CATEGORY_COLORS)], CATEGORY_MARKERS[i % len(CATEGORY_MARKERS)])
        for i, lev in enumerate(levels)
    }


def title_suffix(doc_id, model) -> str:
    """"document · model" for a title's second line (the parts that are known)."""
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


def fitted_title(ax, main: str, suffix: str = "", **title_kw) -> None:
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


# --------------------------------------------------------------------------- saving
#: The file formats :func:`save_figure` writes.
FIGURE_FORMATS = ("png", "svg", "pdf")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# metadata that would otherwise carry dates or versions into the files
_NO_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def check_formats(formats: str | Iterable[str], what: str) -> tuple[str, ...]:
    """``formats`` (one name or several; any case, ``.png`` accepted) as lower-case names.

    Raises
    ------
    analysis.errors.InputError
        An unknown or no format; the message starts with ``what`` and lists the valid options.
    """
    if isinstance(formats, str):
        formats = (formats,)
    fmts = tuple(f.strip().lower().lstrip(".") for f in formats if f.strip())
    bad = [f for f in fmts if f not in FIGURE_FORMATS] or ([] if fmts else ["(none)"])
    if bad:
        raise InputError(
            f"{what}: unsupported format(s) {', '.join(bad)}; valid options: {', '.join(FIGURE_FORMATS)}"
        )
    return fmts


def check_dpi(dpi, what: str) -> None:
    """Raise :class:`~analysis.errors.InputError` unless ``dpi`` is a positive number."""
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not (0 < dpi < float("inf")):
        raise InputError(f"{what} must be a positive number (dots per inch), got {dpi!r}")


def save_figure(
    fig,
    name: str,
    formats: Sequence[str] = FIGURE_FORMATS,
    dpi: int = 300,
    directory: str | os.PathLike = "reports/figures",
) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.<ext>`` for each format.

    File names are stable (no dates, no counters), so a report can link to
    them and re-running replaces them. Each file is written to a temporary
    file in ``directory`` and moved into place (:func:`analysis.io.atomic_path`),
    so a crash never leaves a half-written figure. Outputs are reproducible
    and hold no path: SVG/PDF carry no creation date or software version and
    SVG element ids use a fixed salt, so saving the same figure twice gives
    identical bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        Figure to save (an Axes is replaced by its figure).
    name : str
        Base name: letters, digits, ``.``, ``_``, ``-`` (no path separators).
    formats : sequence of {"png", "svg", "pdf"}
    dpi : int, default 300
        Resolution of raster output (PNG), a positive number.
    directory : str or path, default "reports/figures"
        Output folder, created if missing.

    Returns
    -------
    list of pathlib.Path
        Written files, in the order of ``formats``.

    Raises
    ------
    analysis.errors.InputError
        Not a figure, a name with other characters, an unknown format, a dpi
        that is not positive; nothing is written then.
    """
    if hasattr(fig, "get_figure") and not isinstance(fig, mpl.figure.Figure):
        fig = fig.get_figure()
    if not isinstance(fig, mpl.figure.Figure):
        raise InputError(f"save_figure: expected a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InputError(
            f"save_figure: invalid figure name {name!r}; use letters, digits, '.', '_' or '-' only"
        )
    fmts = check_formats(formats, "save_figure")
    check_dpi(dpi, "save_figure: dpi")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with mpl.rc_context({"svg.hashsalt": THEME_RC["svg.hashsalt"], "svg.fonttype": "path",
                         "pdf.fonttype": 42}):
        for fmt in fmts:
            target = directory / f"{name}.{fmt}"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_NO_METADATA[fmt])
            written.append(target)
    return written
