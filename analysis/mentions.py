"""Finding the mentions of a lexicon's actors in a paragraph table.

Stance is only scored where an actor is actually referred to: each row of the
mentions table (:data:`analysis.schema.MENTIONS`) is one match of one actor's
aliases (matching rules: :mod:`analysis.lexicon`) with the sentence that holds
it (sentence splitting: :func:`analysis.text.sentence_spans`) and whose words
it is in, the narrator's or a quoted or reported source's (:mod:`analysis.voices`).

The ``sentence`` column holds the sentence of the mention, or a window of it of
at most :data:`MAX_SENTENCE_CHARS` (1,500) characters around the mention when
the sentence is longer; ``sentence_start`` is then the window's offset in the
paragraph. Windows are cut at whitespace where possible and overlap (each gives
at least a few hundred characters of context on both sides of its mentions
when the sentence has them), and mentions in the same sentence or window share
one ``str`` object, so the table's memory stays linear in the input, however
many mentions one long sentence holds.
"""

from __future__ import annotations

import bisect
import math
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import regex

from .errors import InputError
from .lexicon import Lexicon, Matcher, load_actors
from .schema import MENTIONS, check_columns
from .text import sentence_spans
from .voices import DocumentVoices, paragraph_holders

__all__ = ["MAX_SENTENCE_CHARS", "find_mentions", "mention_summary"]

#: Longest ``sentence`` a mention row holds; a longer sentence is replaced by a
#: window of at most this length around the mention.
MAX_SENTENCE_CHARS = 1_500
# a long sentence is cut into pieces of at most this length; a window is three pieces
_PIECE_CHARS = MAX_SENTENCE_CHARS // 3
_LAST_SPACE = regex.compile(r"\s", regex.REVERSE)
_SURROGATE = re.compile("[\ud800-\udfff]")


def find_mentions(
    paragraphs: pd.DataFrame, actors: Lexicon | str | os.PathLike[str] | Sequence[str] | None = None
) -> pd.DataFrame:
    """Find every mention of every actor in a paragraph table.

    Parameters
    ----------
    paragraphs
        Paragraph table (see :func:`analysis.read_articles`); needs ``doc_id``,
        ``para_id`` and ``text``; ``lang`` (ISO 639-1) is used when present to
        pick language-specific aliases and the sentence splitter (a missing,
        empty or ``"und"`` language gets every alias).
    actors
        ``None`` for the default lexicon, a :class:`~analysis.lexicon.Lexicon`
        from :func:`~analysis.lexicon.load_actors`, the path of a user YAML file
        (extending the default), or a list of default actor names to keep.

    Returns
    -------
    pandas.DataFrame
        One row per mention, ordered by document (input order), ``para_id``,
        ``start`` and lexicon actor order, with the columns of
        :data:`analysis.schema.MENTIONS`:

        ``doc_id`` (str), ``para_id`` (int)
            the paragraph;
        ``actor`` (str)
            actor name from the lexicon;
        ``surface`` (str)
            the matched text, ``text[start:end]``;
        ``start``, ``end`` (int)
            character offsets into the paragraph text, ``end`` exclusive;
        ``sentence_id`` (int)
            0-based index of the sentence holding the mention in the paragraph;
        ``sentence`` (str)
            that sentence (extended to cover the mention if the splitter cut
            through it), or a window of it of at most :data:`MAX_SENTENCE_CHARS`
            characters around the mention when the sentence is longer; always
            ``text[sentence_start:sentence_start + len(sentence)]``;
        ``sentence_start`` (int)
            offset of the sentence (or window) in the paragraph, so the mention is
            at ``start - sentence_start`` .. ``end - sentence_start`` in ``sentence``;
        ``holder`` (str)
            whose words the mention is in: ``"narrator"`` (the outlet's own voice)
            or the quoted or reported source as written (a pronoun's: the named
            holder it stands for); see :mod:`analysis.voices`;
        ``holder_start``, ``holder_end`` (nullable int)
            the holder's offsets in the paragraph (a pronoun's: the pronoun's);
            missing for the narrator and for a holder carried over from an earlier
            paragraph. A mention inside them is the speaker itself;
        ``holder_actor`` (str)
            the holder's actor ("" for the narrator and for a source that is no actor).

        A paragraph x actor pair without a mention has no row. Each actor is
        matched independently of the others (a compound like ``sino-russe``
        gives one row per actor with the same span).

    Raises
    ------
    InputError
        ``paragraphs`` is not a DataFrame or lacks a required column, a
        paragraph's text is not valid Unicode (a lone surrogate: the message
        names the document and paragraph), or the lexicon cannot be loaded.
    """
    check_columns(paragraphs, ("doc_id", "para_id", "text"), "paragraph table")
    lex = resolve_lexicon(actors)
    names = lex.actors

    doc_ids = [_cell(v) for v in paragraphs["doc_id"].tolist()]
    try:
        para_ids = [int(v) for v in paragraphs["para_id"].tolist()]
    except (TypeError, ValueError):
        raise InputError("paragraph table: column 'para_id' must hold integers") from None
    texts = [v if isinstance(v, str) else "" for v in paragraphs["text"].tolist()]
    langs = (
        [v if isinstance(v, str) and v and v != "und" else None for v in paragraphs["lang"].tolist()]
        if "lang" in paragraphs.columns else [None] * len(texts)
    )
    for doc, para_id, text in zip(doc_ids, para_ids, texts):
        bad = _SURROGATE.search(text)
        if bad:
            raise InputError(
                f"paragraph table: document {doc!r}, paragraph {para_id}: the text holds a lone surrogate "
                f"(U+{ord(bad.group()):04X}) at character {bad.start()}, which is not valid Unicode; "
                "decode the source with errors='replace' or fix it"
            )

    # process documents in order of first appearance, paragraphs by para_id (stable)
    first_seen: dict[Any, int] = {}
    for d in doc_ids:
        first_seen.setdefault(d, len(first_seen))
    order = sorted(range(len(texts)), key=lambda i: (first_seen[doc_ids[i]], para_ids[i]))

    cols: dict[str, list] = {c: [] for c in MENTIONS}
    seen: dict[tuple[Any, str], set[str]] = {}  # (doc, actor) -> surfaces found so far, for only_after
    voices, voices_doc = DocumentVoices(), object()  # the holders named so far in the current document
    for i in order:
        text, lang, doc = texts[i], langs[i], doc_ids[i]
        if doc != voices_doc:
            voices, voices_doc = DocumentVoices(), doc
        found = _match(lex, text, lang, doc, seen) if text else []
        if not found:
            voices.add(text, lang)
            continue
        found.sort()
        spans = sentence_spans(text, lang)
        holders = paragraph_holders(text, lang, spans, [(s, e, names[a]) for s, a, e, _ in found], voices)
        starts = [s for s, _ in spans]
        sentences = _Sentences(text)
        doc_str = "" if doc is None else str(doc)
        for (s, a_idx, e, surface), holder in zip(found, holders):
            k = max(bisect.bisect_right(starts, s) - 1, 0)
            if spans:
                ss, se = spans[k]
                ss, se = min(ss, s), max(se, e)
            else:
                ss, se = s, e
            ss, sentence = sentences.around(ss, se, s, e)
            cols["doc_id"].append(doc_str)
            cols["para_id"].append(para_ids[i])
            cols["actor"].append(names[a_idx])
            cols["surface"].append(surface)
            cols["start"].append(s)
            cols["end"].append(e)
            cols["sentence_id"].append(k)
            cols["sentence"].append(sentence)
            cols["sentence_start"].append(ss)
            cols["holder"].append(holder.words)
            cols["holder_start"].append(holder.start)
            cols["holder_end"].append(holder.end)
            cols["holder_actor"].append(holder.actor)
    return pd.DataFrame({c: pd.Series(cols[c], dtype=dtype) for c, dtype in MENTIONS.items()})


def _match(lex: Lexicon, text: str, lang: str | None, doc: Any, seen: dict) -> list[tuple[int, int, int, str]]:
    """``(start, actor index, end, surface)`` of every actor's mentions in one paragraph (unsorted).

    ``seen`` holds the surfaces found so far per (document, actor), for ``only_after``.
    """
    prefilter = lex.prefilter(lang)
    if prefilter is None:
        return []
    candidates = [mt.start() for mt in prefilter.finditer(text, overlapped=True)]
    if not candidates:
        return []
    found = []
    for a_idx, actor in enumerate(lex.actors):
        m = lex.matcher(actor, lang)
        if m.full is None:
            continue
        surfaces = seen.setdefault((doc, actor), set())
        for s, e in _scan(m, text, candidates, surfaces):
            found.append((s, a_idx, e, text[s:e]))
    return found


class _Sentences:
    """The ``sentence`` strings of one paragraph's mentions, each cut from the text once.

    A sentence longer than :data:`MAX_SENTENCE_CHARS` is cut into pieces of at most
    :data:`_PIECE_CHARS` characters (at the last whitespace of a piece's second half,
    if any); a mention gets the three pieces around the one it starts in, stripped.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.made: dict[tuple[int, int], str] = {}  # (start, end) -> text[start:end]
        self.cuts: dict[tuple[int, int], list[int]] = {}  # long sentence -> piece boundaries

    def around(self, start: int, end: int, m_start: int, m_end: int) -> tuple[int, str]:
        """Offset and text of sentence ``start:end``, or of its window around mention ``m_start:m_end``."""
        if end - start > MAX_SENTENCE_CHARS:
            start, end = self._window(start, end, m_start, m_end)
        piece = self.made.get((start, end))
        if piece is None:
            piece = self.made[(start, end)] = self.text[start:end]
        return start, piece

    def _window(self, start: int, end: int, m_start: int, m_end: int) -> tuple[int, int]:
        cuts = self.cuts.get((start, end))
        if cuts is None:
            cuts = self.cuts[(start, end)] = self._cut(start, end)
        n = len(cuts) - 1  # pieces; at least 4, since the sentence is longer than 3 pieces
        first = max(0, min(bisect.bisect_right(cuts, m_start) - 2, n - 3))
        last = first + 2
        if cuts[last + 1] < m_end:  # a mention longer than a piece
            last = bisect.bisect_left(cuts, m_end) - 1
            first = min(bisect.bisect_right(cuts, m_start) - 1, max(0, last - 2))
        w_start, w_end = cuts[first], cuts[last + 1]
        if w_end - w_start > MAX_SENTENCE_CHARS:  # the mention alone nearly fills a window
            w_start = max(start, min(m_start, m_end - MAX_SENTENCE_CHARS))
            w_end = max(m_end, min(end, w_start + MAX_SENTENCE_CHARS))
        while w_start < m_start and self.text[w_start].isspace():
            w_start += 1
        while w_end > m_end and self.text[w_end - 1].isspace():
            w_end -= 1
        return w_start, w_end

    def _cut(self, start: int, end: int) -> list[int]:
        cuts = [start]
        while end - cuts[-1] > _PIECE_CHARS:
            at = cuts[-1] + _PIECE_CHARS
            space = _LAST_SPACE.search(self.text, at - _PIECE_CHARS // 2, at)
            cuts.append(space.start() if space else at)
        cuts.append(end)
        return cuts


def resolve_lexicon(actors: Any) -> Lexicon:
    """The lexicon an ``actors=`` argument names: None (the default), a Lexicon, a YAML path,
    or a list of actor names selected from the default lexicon."""
    if actors is None:
        return load_actors()
    if isinstance(actors, Lexicon):
        return actors
    if isinstance(actors, (str, os.PathLike)):
        return load_actors(actors)
    if isinstance(actors, Iterable):
        return load_actors().select(actors)
    raise InputError(
        f"actors must be None, a Lexicon, a YAML path or a list of actor names, got {type(actors).__name__}"
    )


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value


def _scan(m: Matcher, text: str, candidates: list[int], surfaces: set[str]) -> list[tuple[int, int]]:
    """Leftmost-longest, non-overlapping matches of one actor; applies ``only_after``.

    ``candidates`` (ascending) includes every position where an alias of this
    actor can start; the result equals a left-to-right search with ``m.full``.
    """
    out = []
    last_end = 0
    for pos in candidates:
        if pos < last_end:
            continue
        mt = m.full.match(text, pos)
        if mt is None:
            continue
        s, e = mt.span()
        idx = m.alias_index(mt)
        if m.aliases[idx].only_after and not any(
            p.fullmatch(prev) for p in m.after[idx] for prev in surfaces
        ):
            alt = m.unconditional.match(text, pos) if m.unconditional is not None else None
            if alt is None:
                continue
            s, e = alt.span()
        if e <= s:  # defensive: aliases never match the empty string
            continue
        out.append((s, e))
        surfaces.add(text[s:e])
        last_end = e
    return out


def mention_summary(mentions: pd.DataFrame) -> pd.DataFrame:
    """How often each actor is mentioned, in how many paragraphs, and in which words.

    Parameters
    ----------
    mentions : DataFrame
        Mentions table (:func:`find_mentions`): ``doc_id``, ``para_id``, ``actor``, ``surface``.

    Returns
    -------
    DataFrame
        One row per actor (index ``actor``, sorted): ``mentions`` (int), ``paragraphs``
        (distinct doc_id x para_id pairs, int), ``surfaces`` (the distinct surface forms,
        sorted, comma-separated).
    """
    check_columns(mentions, ("doc_id", "para_id", "actor", "surface"), "mentions table")
    paragraph = mentions["doc_id"].astype(str) + "\x00" + mentions["para_id"].astype(str)
    grouped = mentions.assign(_paragraph=paragraph).groupby("actor", sort=True)
    return grouped.agg(
        mentions=("surface", "size"),
        paragraphs=("_paragraph", "nunique"),
        surfaces=("surface", lambda s: ", ".join(sorted(set(s)))),
    ).astype({"mentions": "int64", "paragraphs": "int64"})
