"""Who holds the words of each mention: the narrator (the outlet's own voice) or a quoted or reported source.

News reports judgements more than it makes them. :func:`paragraph_holders` reads
one paragraph with rules over its sentences (:func:`analysis.text.sentence_spans`),
its quotation marks, a lexicon of speech and judgement cues per language
(``analysis/data/voices.yaml``: fr, en, de, es, ru, zh) and the paragraph's actor
mentions (:mod:`analysis.lexicon`), and gives each mention its **holder**:

* a **direct quotation** (« », “ ”, „ “, " ", 「」, ‘ ’) is held by the speaker its
  attribution names, before it ("Wang said: “…”") or after it ("“…”, a déclaré
  Wang", "“…”, Blinken said", "«…», — заявил Лавров", "“……”王毅表示");
* **reported speech** is held by the subject of its cue: a speech verb ("a
  déclaré que", "said", "sagte", "declaró", "заявил", "表示") holds what follows it
  (an addressee between the verb and "que"/"that" stays the narrator's); a
  judgement or attitude ("warned", "accusé … de", "warf … vor", "acusó",
  "обвинил", "指责", "sont sceptiques quant à") holds everything from its subject to
  the end of the clause; "selon X", "according to X", "laut X", "según X", "по
  словам X", "据X报道" and "criticised by X" make X hold the whole sentence;
* everything else is the **narrator**'s.

The holder's actor comes from the actor mentions inside the holder's words (the
first one: "le ministre chinois des Affaires étrangères" -> China, "госсекретарь
США Энтони Блинкен" -> West, "the Kremlin" -> Russia); a holder without a mention
("un analyste") keeps its words and an empty actor. A mention inside the
holder's words **is the speaker**: it is not a target of what it says (see
:func:`speaker_mask`).

Documented choices and bad input (never an error):

* A holder named only by a pronoun ("il a ajouté que", "selon lui", "he said",
  "他称") is the nearest named holder earlier in the document (this paragraph
  first, then up to :data:`LOOKBACK_PARAGRAPHS` paragraphs back); with none, the
  words stay the narrator's. A quotation without attribution that stands as a
  sentence of its own (also one continuing from an earlier paragraph) is held the
  same way; a quotation inside a sentence (a scare quote, "un partenariat « sans
  limites »") is held by whoever holds that sentence.
* Nested quotations belong to the outer quotation's speaker; cues inside a
  quotation are ignored. An opening mark that is never closed runs to the end of
  the paragraph; a closing mark without an opening one closes a quotation that
  began at the start of its sentence; lone straight or single quotes that would
  be apostrophes are not quotation marks.
* Asides between dashes or in parentheses inside reported speech ("– l'île sur
  laquelle Pékin revendique la souveraineté –") are the narrator's.
* A negated cue ("n'a pas condamné", "failed to condemn") is no judgement of the
  one who did not speak; promises and threats ("ont promis de", "threatened") are
  acts, not cues.
* A holder naming several actors ("Moscou et Pékin ont dénoncé …") is credited
  to the first; a later cue inside reported speech holds its own clause (nested
  speech: the innermost speaker holds the words).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import regex

from .speech_cues import Cue, Cues, cues_for

__all__ = ["LOOKBACK_PARAGRAPHS", "NARRATOR", "NARRATOR_WORDS", "Holder", "DocumentVoices", "paragraph_holders"]

#: The ``holder`` of words in the outlet's own voice.
NARRATOR_WORDS = "narrator"
#: How many earlier paragraphs a pronoun or an unattributed quotation looks back for a named holder.
LOOKBACK_PARAGRAPHS = 3

# quotation marks: opener -> closers it accepts
_PAIRS = {"«": "»", "“": "”“", "„": "“”", "‘": "’", "‚": "‘’", "「": "」", "『": "』", '"': '"', "‹": "›"}
_CLOSERS = frozenset("»”“’‘」』›\"")
_QUOTE_CHARS = regex.compile(r'[«»“”„‘’‚「」『』"‹›]')
_BOUNDARY = regex.compile(r'[,;:()\[\]«»“”„"「」『』‹›，；：（）、—–]|\s-\s', regex.REVERSE)
_ASIDE = regex.compile(r"——[^—]*?——|\([^()]*\)|（[^（）]*）|([—–])[^—–]+?\1")
_WORD = regex.compile(r"[\p{L}\p{N}](?:[\p{L}\p{N}'’\-‐·]|\.(?=[\p{L}\p{N}]))*")
_CJK_CLAUSE_END = regex.compile(r"[，。；：、“”「」（）！？,.;:]")
_CLAUSE_END = regex.compile(r"[,.;:!?]")
_SPACES = regex.compile(r"\s*")
# endings of words that are verbs rather than nouns (Russian endings; a few copulas)
_VERB = regex.compile(r"(?:ют|ят|ет|ит|ут|ат|ал|ала|али|ил|ила|или|ся|сь|ть)$|^(?:est|sont|is|are|was|were|has|have|ist|sind|es|son)$")
_DETERMINERS = regex.compile(
    r"(?i:le|la|les|l[''’]|un|une|des|the|a|an|der|die|das|den|dem|des|ein|eine|einer|el|los|las|unos|unas|ce|cette|ces)"
)


@dataclasses.dataclass(frozen=True)
class Holder:
    """Whose words a mention sits in.

    ``words`` is the holder as written (or ``"narrator"``), ``start``/``end`` its
    offsets in the paragraph (None for the narrator and for a holder carried over
    from an earlier paragraph), ``actor`` the lexicon actor it names ("" if none).
    """

    words: str
    start: int | None
    end: int | None
    actor: str


#: The outlet's own voice.
NARRATOR = Holder(NARRATOR_WORDS, None, None, "")


@dataclasses.dataclass
class _Voice:
    holder: Holder
    named: bool  # the holder is named here (not a pronoun, not carried over)
    scopes: list[tuple[int, int]]
    priority: int  # the cue's offset: a later cue holds what it covers (nested speech)
    cue_end: int = -1


class DocumentVoices:
    """The holders named so far in one document, for pronouns and unattributed quotations.

    :func:`analysis.find_mentions` makes one per document and registers every
    paragraph in order (:meth:`add`); paragraphs without mentions are only read
    when a later pronoun needs them.
    """

    def __init__(self) -> None:
        self._paragraphs: list[tuple[str, str | None]] = []
        self._last: dict[int, Holder | None] = {}

    def add(self, text: str, lang: str | None, last_named: Holder | None | bool = False) -> None:
        """Register the next paragraph (``last_named``: its last named holder, if already known)."""
        if last_named is not False:
            self._last[len(self._paragraphs)] = last_named
        self._paragraphs.append((text, lang))

    def nearest(self) -> Holder | None:
        """The last named holder of the :data:`LOOKBACK_PARAGRAPHS` paragraphs registered last."""
        from .text import sentence_spans

        for i in range(len(self._paragraphs) - 1, max(-1, len(self._paragraphs) - 1 - LOOKBACK_PARAGRAPHS), -1):
            if i not in self._last:
                text, lang = self._paragraphs[i]
                voices = _Paragraph(text, lang, sentence_spans(text, lang), [], None).voices()
                named = [v for v in voices if v.named]
                self._last[i] = max(named, key=lambda v: v.holder.start).holder if named else None
            if self._last[i] is not None:
                return dataclasses.replace(self._last[i], start=None, end=None)
        return None


def paragraph_holders(
    text: str,
    lang: str | None,
    sentences: Sequence[tuple[int, int]],
    mentions: Sequence[tuple[int, int, str]],
    document: DocumentVoices | None = None,
) -> list[Holder]:
    """The holder of each mention of one paragraph.

    Parameters
    ----------
    text : str
        The paragraph.
    lang : str or None
        ISO 639-1 language; None (or ``"und"``): the cues of every language.
    sentences : sequence of (int, int)
        Sentence spans of ``text`` (:func:`analysis.text.sentence_spans`).
    mentions : sequence of (start, end, actor)
        The paragraph's actor mentions (any order).
    document : DocumentVoices, optional
        The document so far, for pronouns and quotations continued from earlier
        paragraphs; the paragraph is registered in it.

    Returns
    -------
    list of Holder
        One per mention, in the order of ``mentions``.
    """
    lang = None if lang in (None, "", "und") else lang
    paragraph = _Paragraph(text, lang, sentences, mentions, document)
    voices = paragraph.voices()
    if document is not None:
        named = [v for v in voices if v.named]
        document.add(text, lang, max(named, key=lambda v: v.holder.start).holder if named else None)
    return [paragraph.holder_of(s, e, voices) for s, e, _ in mentions]


class _Paragraph:
    """One paragraph read for its voices."""

    def __init__(self, text, lang, sentences, mentions, document):
        self.text = text
        self.mentions = sorted(mentions)
        self.starts = [m[0] for m in self.mentions]
        self.document = document
        self.cues: Cues | None = cues_for(lang, text)
        self.sentences = list(sentences) or [(0, len(text))]
        self.sentence_starts = [s for s, _ in self.sentences]
        self.quotes: list[tuple[int, int, bool]] = []  # (start, end, stands as a sentence)
        self.asides: list[tuple[int, int]] = []
        self.found: list[_Voice] = []  # the voices read so far, in cue order
        self._german = lang == "de"  # verb-second: a fronted phrase puts the subject after the verb

    # -- reading -------------------------------------------------------------------------
    def voices(self) -> list[_Voice]:
        """Every voice of the paragraph (fast path: no quotation mark and no cue -> none)."""
        text = self.text
        has_quote = _QUOTE_CHARS.search(text) is not None
        cues = self.cues.find(text) if self.cues is not None else []
        if not has_quote and not cues:
            return []
        if has_quote:
            self.quotes = self._find_quotes()
        self.asides = [m.span() for m in _ASIDE.finditer(text)]
        for cue in cues:
            if self._in_quote(cue.start) is not None or any(a < cue.start < b for a, b in self.asides):
                continue  # a quotation is its speaker's words, an aside the narrator's
            voice = self._read_cue(cue, self.found)
            if voice is not None:
                voice.cue_end = cue.end
                self.found.append(voice)
        self.found.extend(self._unattributed_quotes(self.found))
        return self.found

    def holder_of(self, start: int, end: int, voices: list[_Voice]) -> Holder:
        """The holder of the mention ``start:end``."""
        for v in voices:
            h = v.holder
            if v.named and h.start is not None and start < h.end and end > h.start:
                return h
        best = None
        for v in voices:
            if any(a <= start and end <= b for a, b in v.scopes) and (best is None or v.priority > best.priority):
                best = v
        return best.holder if best is not None else NARRATOR

    # -- quotations ----------------------------------------------------------------------
    def _find_quotes(self) -> list[tuple[int, int, bool]]:
        text, stack, spans = self.text, [], []
        for m in _QUOTE_CHARS.finditer(text):
            ch, at = m.group(), m.start()
            letters = (at > 0 and text[at - 1].isalnum(), at + 1 < len(text) and text[at + 1].isalnum())
            if ch in "’‘" and letters[0] and letters[1]:
                continue  # an apostrophe (l’invasion, it’s)
            if stack and ch in _PAIRS[stack[-1][0]] and not (ch == '"' and letters[1] and not letters[0]):
                _, start = stack.pop()
                if not stack:
                    spans.append((start, at + 1))
            elif ch in _PAIRS and not (ch == "‘" and letters[0]):
                stack.append((ch, at))
            elif ch in _CLOSERS and not stack and ch not in "’‘":
                s = self._sentence_at(at)[0]  # a stray closer closes a quotation begun at its sentence's start
                if not spans or spans[-1][1] <= s:
                    spans.append((s, at + 1))
        if stack and stack[0][0] not in "'‘\"":
            spans.append((stack[0][1], len(text)))  # never closed: runs to the end of the paragraph
        spans.sort()
        return [(s, e, self._stands_alone(s)) for s, e in spans]

    def _stands_alone(self, start: int) -> bool:
        s, _ = self._sentence_at(start)
        return not self.text[s:start].strip(" \t\n—–-")

    def _in_quote(self, at: int) -> tuple[int, int, bool] | None:
        for q in self.quotes:
            if q[0] <= at < q[1]:
                return q
        return None

    def _unattributed_quotes(self, voices: list[_Voice]) -> list[_Voice]:
        out = []
        for s, e, alone in self.quotes:
            if not alone or any(a <= s and e <= b for v in voices for a, b in v.scopes):
                continue
            holder = self._nearest_named(s)
            if holder is not None:
                out.append(_Voice(holder, False, [(s, e)], s))
        return out

    # -- cues ----------------------------------------------------------------------------
    def _read_cue(self, cue: Cue, earlier: list[_Voice]) -> _Voice | None:
        """The voice a cue opens (None: no holder found, or not a cue here)."""
        kind, c_start, c_end = cue.kind, cue.start, cue.end
        s_start, s_end = self._sentence_at(c_start)
        if self.cues.negation is not None and self.cues.negation.search(self.text, max(s_start, c_start - 60), c_start):
            return None
        if kind in ("source", "passive"):
            span = cue.holder or self._phrase_after(c_end, s_end)
            if span is None:
                return None
            holder, named = self._holder(span, c_start)
            first = s_start
            if any(a <= c_start < b for v in earlier for a, b in v.scopes):  # inside reported speech: its clause only
                boundary = _BOUNDARY.search(self.text, s_start, c_start)
                first = boundary.end() if boundary else s_start
            scopes = [(first, min(span[0], c_start)), (span[1], self._scope_end(s_end))]
            return _Voice(holder, named, self._cut_asides([sc for sc in scopes if sc[1] > sc[0]]), c_start)
        previous = [v for v in earlier if v.scopes and v.priority >= s_start]
        chunk_start, after_quote, fresh = self._chunk_start(c_start, s_start, previous)
        subject = self._subject(chunk_start, c_start, fresh)
        if subject is None and after_quote is None and not previous:
            subject = self._apposed_subject(chunk_start, c_end, s_start, s_end)
            if subject is None and chunk_start == s_start and not self._german:
                subject = "zero"  # a sentence opening on its verb: "Criticó duramente …", "Считает, что …"
        if kind == "weak" and not self._weak_ok(c_start, c_end, s_end, subject, after_quote):
            return None
        if subject == "zero":
            holder = self._nearest_named(c_start)
            if holder is None:
                return None
            return _Voice(holder, False, self._cut_asides([(c_end, self._scope_end(s_end))]), c_start)
        inverted = False
        if subject is None or subject == "postposed":
            if previous and not after_quote and subject is None:
                return None  # no subject of its own inside reported speech: the earlier speaker goes on
            span = self._phrase_after(c_end, s_end)
            if span is None:
                return None
            subject, inverted = span, True
        holder, named = self._holder(subject, c_start)
        if after_quote is not None:
            later = [(s, e) for s, e, _ in self.quotes if c_end <= s < s_end]
            return _Voice(holder, named, [after_quote, *later], c_start)
        if inverted and chunk_start > 0 and self.text[chunk_start - 1] in ",，":
            return _Voice(holder, named, self._cut_asides([(s_start, chunk_start - 1)]), c_start)
        if kind == "say":
            comp = self.cues.complementizer.search(self.text, c_end, min(s_end, c_end + 80)) if self.cues.complementizer else None
            begin = comp.end() if comp is not None else c_end
            if inverted:
                begin = max(begin, subject[1])
        elif self.cues.cjk:  # "对中国的努力深表怀疑": the judged object stands before the cue
            to = self.text.find("对", subject[1], c_start)
            begin = to if to >= 0 else c_end
        else:
            begin = c_end if inverted else subject[1]
        aside = next(((a, b) for a, b in self.asides if a < c_start < b), None)
        end = aside[1] if aside else self._scope_end(s_end)
        return _Voice(holder, named, self._cut_asides([(begin, end)]), c_start)

    def _chunk_start(self, c_start, s_start, previous) -> tuple[int, tuple[int, int] | None, bool]:
        """Where the words before a cue begin, the quotation they follow (if any), and whether
        a new subject may start there (after punctuation or a complementizer, not right after a cue)."""
        text = self.text
        floor = max([s_start, *(v.cue_end for v in previous if v.cue_end <= c_start)])
        b = _BOUNDARY.search(text, floor, c_start)
        start = b.end() if b else floor
        quote = None
        probe = start - 1
        while probe >= s_start and text[probe] in " ,，—–-\u00a0":
            probe -= 1
        if probe >= s_start and text[probe] in _CLOSERS:
            q = next((q for q in self.quotes if q[1] == probe + 1), None)
            if q is not None:
                quote = (q[0], q[1])
        fresh = b is not None or start == s_start
        if self.cues.complementizer is not None:  # "… à Blinken que l'OTAN menaçait": a clause starts after "que"
            opening = [w for w in _WORD.finditer(text, start, c_start) if self.cues.complementizer.fullmatch(w.group())]
            if opening:
                start, fresh = opening[-1].end(), True
        return start, quote, fresh

    def _subject(self, start: int, end: int, fresh: bool) -> tuple[int, int] | str | None:
        """The holder's words before a cue: a span, ``"postposed"`` (German V2: after the verb),
        ``"zero"`` (a dropped subject, resolved like a pronoun) or None (none before the verb)."""
        text, cues = self.text, self.cues
        if cues.cjk:
            span = self._subject_cjk(start, end)
            if span is None or fresh or self._mentions_in(*span) or _is(cues.pronoun, text[span[0]:span[1]]):
                return span
            return None
        every = list(_WORD.finditer(text, start, end))
        words = [w for w in every if not _is(cues.stop, w.group())]
        if not words:
            return None
        mentions = self._mentions_in(words[0].start(), words[-1].end())
        if not fresh and not mentions and not _is(cues.pronoun, words[-1].group()):
            return None
        fronted = cues.fronted is not None and cues.fronted.match(text, every[0].start()) is not None
        lower_first = words[0].group()[:1].islower() and not _is(_DETERMINERS, words[0].group())
        german = self._german
        if fronted or (german and lower_first):
            free = [mt for mt in mentions if not self._governed(mt[0], every[0].start())]
            if not free:
                return "postposed" if german and fronted else "zero"  # "Allí criticó …": the subject is dropped
            anchor = free[0]
            before = [w for w in words if w.end() <= anchor[0]]
            left = before[-1].start() if before and not _is(cues.prep, before[-1].group()) and not german else anchor[0]
            return left, self._extend_right(anchor, every, german)
        if not mentions:
            if len(words) == 1 and _is(cues.pronoun, words[0].group()):
                return words[0].span()
            return words[0].start(), words[-1].end()
        return words[0].start(), self._extend_right(mentions[0], every, german)

    def _subject_cjk(self, start: int, end: int) -> tuple[int, int] | None:
        text, cues = self.text, self.cues
        while start < end and text[start] in " \u3000":
            start += 1
        if cues.fronted is not None:
            lead = cues.fronted.match(text, start, end)
            if lead is not None:
                start = lead.end()
        stop = cues.stop.search(text, start + 1, end) if cues.stop is not None else None
        if stop is not None:
            end = stop.start()
        return (start, end) if end > start else None

    def _extend_right(self, anchor: tuple[int, int, str], words: list, german: bool) -> int:
        """End of the holder's words: from the anchor mention on, up to an auxiliary, a word that
        looks like a verb (German: a lowercase word) or a mention of another actor."""
        end = anchor[1]
        for w in words:
            if w.end() <= end:
                continue
            inside = self._mentions_in(w.start(), w.end())
            if any(mt[2] != anchor[2] for mt in inside) or _is(self.cues.stop, w.group()):
                break
            if not inside and ((german and not w.group()[:1].isupper()) or _VERB.search(w.group())):
                break
            end = w.end()
        return end

    def _phrase_after(self, at: int, limit: int) -> tuple[int, int] | None:
        """The holder's words after a cue or a source marker ("said Wang | during …")."""
        text, cues = self.text, self.cues
        if cues.cjk:
            stop = _CJK_CLAUSE_END.search(text, at, limit)
            return self._subject_cjk(at, stop.start() if stop else limit)
        end, first = at, None
        for w in _WORD.finditer(text, at, limit):
            gap = text[end:w.start()]
            if first is None and gap.strip():
                return None  # "said: “…”": no holder after the verb
            if first is not None and gap.strip():
                if gap.strip() != "," or not self._apposition(w.start(), limit):
                    break
            if _is(cues.stop, w.group()) and first is not None:
                break
            if first is None and (_is(cues.complementizer, w.group()) or _is(cues.prep, w.group())):
                return None  # "advirtió de que", "said that": no holder after the verb
            if _is(cues.stop, w.group()) and not _is(cues.pronoun, w.group()):
                end = w.end()
                continue  # an article, auxiliary or adverb before the phrase
            first = w.start() if first is None else first
            end = w.end()
            if _is(cues.pronoun, w.group()) and end - first == len(w.group()):
                break
        if first is None:
            return None
        mentions = self._mentions_in(first, end)
        for a, b in zip(mentions, mentions[1:]):  # "a déclaré Wang Poutine": two actors side by side
            if a[2] != b[2] and not text[a[1]:b[0]].strip():
                end = a[1]
                break
        return first, end

    def _apposed_subject(self, chunk_start, c_end, s_start, s_end) -> tuple[int, int] | None:
        """A subject set off by commas right before its verb ("Le porte-parole, Wang Wenbin, a déclaré
        que"; "el secretario de Estado estadounidense, Antony Blinken, advirtió"), when no holder
        follows the verb."""
        text, comma = self.text, chunk_start - 1
        if comma <= s_start or text[comma] not in ",，" or self._phrase_after(c_end, s_end) is not None:
            return None
        b = _BOUNDARY.search(text, s_start, comma)
        words = list(_WORD.finditer(text, b.end() if b else s_start, comma))
        if not words or len(words) > 8:
            return None
        if b is not None and text[b.start()] in ",，":
            h = _BOUNDARY.search(text, s_start, b.start())
            head = list(_WORD.finditer(text, h.end() if h else s_start, b.start()))
            if head and _is(_DETERMINERS, head[0].group()):
                return head[0].start(), words[-1].end()
        return words[0].start(), words[-1].end()

    def _apposition(self, at: int, limit: int) -> bool:
        """Whether the words from ``at`` to the next punctuation are a short name ("…, Dmitri Peskov.")."""
        stop = _CLAUSE_END.search(self.text, at, limit)
        words = _WORD.findall(self.text, at, stop.start() if stop else limit)
        return 0 < len(words) <= 4 and all(w[:1].isupper() for w in words)

    # -- holders -------------------------------------------------------------------------
    def _holder(self, span: tuple[int, int], at: int) -> tuple[Holder, bool]:
        s, e = span
        words = self.text[s:e].strip()
        if self.cues.pronoun is not None and self.cues.pronoun.fullmatch(words):
            found = self._nearest_named(at)
            if found is None:
                return NARRATOR, False
            return dataclasses.replace(found, start=s, end=e), False
        mentions = self._mentions_in(s, e)
        return Holder(words, s, e, mentions[0][2] if mentions else ""), True

    def _nearest_named(self, at: int) -> Holder | None:
        """Who a pronoun (or a dropped subject, or a quotation without attribution) at ``at`` stands for.

        The last holder named before it in the paragraph; else the first actor mention of the
        nearest earlier sentence of the paragraph that has one (its likely subject: "Stoltenberg
        s'est rendu à Kiev. Il a salué …"); else the last named holder of the earlier paragraphs.
        """
        named = [v.holder for v in self.found if v.named and v.holder.start < at]
        if named:
            return max(named, key=lambda h: h.start)
        s_start = self._sentence_at(at)[0]
        for s, e in reversed(self.sentences):
            first = self._mentions_in(s, e)[:1] if e <= s_start else []
            if first:
                return Holder(self.text[first[0][0]:first[0][1]], None, None, first[0][2])
        return self.document.nearest() if self.document is not None else None

    def _weak_ok(self, c_start, c_end, s_end, subject, after_quote) -> bool:
        """Whether a form that is also a noun ("critique", "claims") is a verb here: right after a
        quotation, before a complementizer or colon, or right after an actor mention or a pronoun."""
        text = self.text
        if after_quote is not None:
            return True
        comp = self.cues.complementizer
        nxt = _SPACES.match(text, c_end).end()
        if comp is not None and comp.match(text, nxt, s_end) is not None and text[nxt:nxt + 1] != ",":
            return True
        if not isinstance(subject, tuple):
            return False
        before = text[subject[0]:c_start].rstrip()
        mentions = self._mentions_in(subject[0], c_start)
        last_word = before.split()[-1] if before else ""
        return bool(mentions and mentions[-1][1] >= subject[0] + len(before) - 1) or _is(self.cues.pronoun, last_word)

    # -- helpers -------------------------------------------------------------------------
    def _mentions_in(self, start: int, end: int) -> list[tuple[int, int, str]]:
        i = bisect.bisect_left(self.starts, start)
        out = []
        while i < len(self.mentions) and self.mentions[i][0] < end:
            if self.mentions[i][1] <= end:
                out.append(self.mentions[i])
            i += 1
        return out

    def _governed(self, at: int, floor: int) -> bool:
        """Whether a preposition (maybe with a determiner) stands right before offset ``at``."""
        before = _WORD.findall(self.text, floor, at)[-2:]
        if before and _is(_DETERMINERS, before[-1]):
            before = before[:-1]
        return bool(before) and _is(self.cues.prep, before[-1])

    def _sentence_at(self, at: int) -> tuple[int, int]:
        k = max(bisect.bisect_right(self.sentence_starts, at) - 1, 0)
        s, e = self.sentences[k]
        return min(s, at), max(e, at + 1)

    def _scope_end(self, s_end: int) -> int:
        """The sentence end, pushed past a quotation that begins inside the sentence."""
        for s, e, _ in self.quotes:
            if s < s_end < e:
                s_end = e
        return s_end

    def _cut_asides(self, scopes: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``scopes`` without the dash or parenthesis asides outside quotations (the narrator's)."""
        out = []
        for a, b in scopes:
            for s, e in self.asides:
                if a < s and e <= b and self._in_quote(s) is None:
                    out.append((a, s))
                    a = e
            if b > a:
                out.append((a, b))
        return out


@functools.lru_cache(maxsize=1 << 16)
def _is(pattern: Any, word: str) -> bool:
    return pattern is not None and bool(word) and pattern.fullmatch(word) is not None

