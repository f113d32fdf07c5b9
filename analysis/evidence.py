"""HTML evidence view: paragraphs with actor mentions highlighted by stance.

:func:`evidence_html` renders each paragraph of a document with every actor
mention highlighted, coloured by its mention-level stance on the same scale
as the plots (RdBu on [-1, 1]: red = unfavourable, white = 0, blue =
favourable; grey when no score is given). Hovering a mention shows the actor,
its score and the matched text. When the paragraph-level ``stance`` table is
passed, each paragraph is followed by one line per scored actor with the
paragraph score and the ``evidence`` sentence behind it.

The result displays itself in Jupyter (``_repr_html_``) and can be written to
a file with :meth:`EvidenceHTML.save`. All text is HTML-escaped.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = ["EvidenceHTML", "evidence_html"]

_PAGE_STYLE = """
<style>
.ev-doc{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;line-height:1.6;max-width:60em}
.ev-doc h3{font-size:15px;margin:0.2em 0}
.ev-legend{font-size:12px;color:#444;margin-bottom:0.8em}
.ev-legend span{padding:0 0.4em;border-radius:3px}
.ev-para{margin:0.4em 0 0.9em 0}
.ev-pid{display:inline-block;min-width:2.2em;color:#777;font-size:12px}
.ev-title{font-weight:bold}
.ev-doc mark{padding:0 0.15em;border-radius:3px;border-bottom:2px solid #444}
.ev-scores{margin:0.15em 0 0 2.2em;font-size:12px;color:#333}
.ev-scores div{margin:0.1em 0}
.ev-badge{display:inline-block;min-width:9em;padding:0 0.4em;border-radius:3px;margin-right:0.5em}
.ev-evidence{font-style:italic;color:#555}
</style>
"""


class EvidenceHTML:
    """An HTML fragment that renders itself in Jupyter.

    Attributes
    ----------
    data : str
        The HTML fragment (a ``<style>`` block and a ``<div class="ev-doc">``).
    """

    def __init__(self, data: str) -> None:
        self.data = data

    def _repr_html_(self) -> str:
        return self.data

    def __str__(self) -> str:
        return self.data

    def save(self, path: str | os.PathLike) -> None:
        """Write a standalone UTF-8 HTML page (atomically)."""
        from analysis.io import atomic_write_text

        page = (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Evidence</title></head>"
            f"<body>\n{self.data}\n</body></html>\n"
        )
        atomic_write_text(page, path)


def _css_color(score: float | None) -> tuple[str, str]:
    """(background, text colour) for a score on the shared RdBu scale."""
    from matplotlib.colors import to_hex

    from analysis.plot_style import score_color

    if score is None or not np.isfinite(score):
        return "#e0e0e0", "#000000"
    rgba = score_color(float(score))
    # dark backgrounds get white text (relative luminance)
    lum = 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]
    return to_hex(rgba), "#ffffff" if lum < 0.45 else "#000000"


def _highlight(text: str, spans: list[tuple[int, int, str, float | None, str]]) -> str:
    """Escape ``text`` and wrap mention spans in ``<mark>``.

    ``spans`` are (start, end, actor, score, surface). Overlapping spans are
    split at every boundary; a piece covered by several mentions shows the
    mean of their scores and all of them in its tooltip.
    """
    from analysis.plot_style import format_score

    n = len(text)
    valid = [(max(0, int(s)), min(n, int(e)), a, sc, sf) for s, e, a, sc, sf in spans if int(e) > int(s)]
    bounds = sorted({0, n, *[b for s, e, *_ in valid for b in (s, e)]})
    out = []
    for lo, hi in zip(bounds, bounds[1:]):
        piece = html.escape(text[lo:hi])
        cover = [m for m in valid if m[0] <= lo and hi <= m[1]]
        if not cover:
            out.append(piece)
            continue
        scores = [m[3] for m in cover if m[3] is not None and np.isfinite(m[3])]
        mean = float(np.mean(scores)) if scores else None
        bg, fg = _css_color(mean)
        tip = "; ".join(
            f"{m[2]}: " + (f"stance {format_score(m[3])}" if m[3] is not None and np.isfinite(m[3]) else "no score")
            + f" ({m[4]!s})"
            for m in cover
        )
        out.append(
            f'<mark style="background:{bg};color:{fg}" title="{html.escape(tip, quote=True)}" '
            f'data-actor="{html.escape(",".join(sorted({str(m[2]) for m in cover})), quote=True)}">'
            f"{piece}</mark>"
        )
    return "".join(out)


def evidence_html(
    paragraphs: pd.DataFrame,
    mentions: pd.DataFrame | None = None,
    mention_scores: pd.DataFrame | None = None,
    *,
    stance: pd.DataFrame | None = None,
    doc_id=None,
    score: str = "score",
    actors: Sequence[str] | None = None,
) -> EvidenceHTML:
    """Render a document's paragraphs with actor mentions coloured by stance.

    Parameters
    ----------
    paragraphs : pandas.DataFrame
        Paragraphs table: ``doc_id``, ``para_id``, ``text`` (``is_title``
        optional, shown in bold).
    mentions : pandas.DataFrame, optional
        Mentions table: ``doc_id``, ``para_id``, ``actor``, ``surface``,
        ``start``, ``end`` (character offsets into the paragraph text, end
        exclusive). Highlighted in grey when it has no scores.
    mention_scores : pandas.DataFrame, optional
        The mentions table plus a per-mention ``score`` column
        (p_positive - p_negative, in [-1, 1]). Used instead of ``mentions``
        when given.
    stance : pandas.DataFrame, optional
        Paragraph-level stance table (``doc_id``, ``para_id``, ``actor``,
        ``score``, ``evidence`` optional): under each paragraph, one line per
        scored actor with its score and the evidence sentence. With
        ``mentions`` (and no ``mention_scores``), each mention is coloured by
        its paragraph's score for its actor.
    doc_id : optional
        Document to render; by default every document of ``paragraphs``, one
        after the other.
    score : str, default "score"
        Score column of ``mention_scores``.
    actors : sequence of str, optional
        Only highlight these actors.

    Returns
    -------
    EvidenceHTML
        Object with ``_repr_html_`` (Jupyter displays it), ``.data`` (the
        HTML string) and ``.save(path)``.
    """
    from analysis.plot_style import format_score, require_table, select_document

    paragraphs = require_table(paragraphs, ["doc_id", "para_id", "text"], "evidence_html (paragraphs)")
    if mention_scores is None and mentions is not None and stance is not None:
        require_table(stance, ["doc_id", "para_id", "actor", score], "evidence_html (stance)")
        mention_scores = mentions.merge(
            stance[["doc_id", "para_id", "actor", score]], on=["doc_id", "para_id", "actor"], how="left"
        )
    if doc_id is None and paragraphs["doc_id"].nunique() > 1:
        pages = [
            evidence_html(paragraphs, mentions, mention_scores, stance=stance, doc_id=doc, score=score, actors=actors)
            for doc in dict.fromkeys(paragraphs["doc_id"])
        ]
        return EvidenceHTML("\n".join(page.data for page in pages))
    paragraphs, doc_id = select_document(paragraphs, doc_id, "evidence_html")
    ment = mention_scores if mention_scores is not None else mentions
    has_scores = mention_scores is not None
    if ment is not None:
        ment = require_table(ment, ["doc_id", "para_id", "actor", "start", "end"]
                        + ([score] if has_scores else []), "evidence_html (mentions)")
        ment = ment[ment["doc_id"] == doc_id]
        if actors is not None:
            ment = ment[ment["actor"].isin(list(actors))]
    if stance is not None:
        stance = require_table(stance, ["doc_id", "para_id", "actor", "score"], "evidence_html (stance)")
        stance = stance[stance["doc_id"] == doc_id]
        if actors is not None:
            stance = stance[stance["actor"].isin(list(actors))]

    parts = [_PAGE_STYLE, '<div class="ev-doc">', f"<h3>{html.escape(str(doc_id))}</h3>"]
    neg_bg, neg_fg = _css_color(-0.8)
    pos_bg, pos_fg = _css_color(0.8)
    parts.append(
        '<div class="ev-legend">Mentions coloured by stance: '
        f'<span style="background:{neg_bg};color:{neg_fg}">unfavourable (−1)</span> '
        '<span style="background:#f7f7f7;border:1px solid #ccc">neutral (0)</span> '
        f'<span style="background:{pos_bg};color:{pos_fg}">favourable (+1)</span> '
        '<span style="background:#e0e0e0">no score</span> · hover a mention for details</div>'
    )
    for row in paragraphs.sort_values("para_id").itertuples(index=False):
        text = "" if pd.isna(row.text) else str(row.text)
        spans = []
        if ment is not None:
            for m in ment[ment["para_id"] == row.para_id].itertuples(index=False):
                sc = getattr(m, score) if has_scores else None
                sc = None if sc is None or pd.isna(sc) else float(sc)
                surface = getattr(m, "surface", None)
                if surface is None or (isinstance(surface, float) and np.isnan(surface)):
                    surface = text[int(m.start):int(m.end)]
                spans.append((m.start, m.end, m.actor, sc, surface))
        is_title = bool(getattr(row, "is_title", False)) if pd.notna(getattr(row, "is_title", False)) else False
        cls = "ev-para ev-title" if is_title else "ev-para"
        parts.append(
            f'<div class="{cls}" data-para-id="{html.escape(str(row.para_id))}">'
            f'<span class="ev-pid">{html.escape(str(row.para_id))}</span>{_highlight(text, spans)}'
        )
        if stance is not None:
            sub = stance[stance["para_id"] == row.para_id].sort_values("actor")
            if not sub.empty:
                parts.append('<div class="ev-scores">')
                for s in sub.itertuples(index=False):
                    val = float(s.score) if pd.notna(s.score) else None
                    bg, fg = _css_color(val)
                    label = html.escape(str(s.actor)) + " " + (format_score(val) if val is not None else "no score")
                    ev = getattr(s, "evidence", None)
                    ev_html = (
                        f' <span class="ev-evidence">“{html.escape(str(ev))}”</span>'
                        if isinstance(ev, str) and ev.strip() else ""
                    )
                    parts.append(
                        f'<div><span class="ev-badge" style="background:{bg};color:{fg}">{label}</span>'
                        f"{ev_html}</div>"
                    )
                parts.append("</div>")
        parts.append("</div>")
    parts.append("</div>")
    return EvidenceHTML("\n".join(parts))
