"""The speech and judgement cues of each language: ``analysis/data/voices.yaml``, compiled and found in a text.

The YAML documents every field (``say``, ``judge``, ``weak``, ``source``,
``passive`` and the word classes ``pronoun``, ``fronted``, ``stop``, ``prep``,
``negation``, ``complementizer``) and the choices behind them. :func:`cues_for`
gives the compiled :class:`Cues` of a paragraph's language (compiled once, on
first use); :meth:`Cues.find` lists the cues of a text. Literal verb forms are
looked up word by word in one dictionary per language (the cost does not grow
with the number of forms); whole patterns are searched one by one.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import regex
import yaml

__all__ = ["CUES_PATH", "KINDS", "LANGUAGES", "Cue", "Cues", "cues_for"]

#: The cue lexicon shipped with the package.
CUES_PATH = Path(__file__).resolve().parent / "data" / "voices.yaml"
#: Languages with cues; a paragraph in another language gets quotations only.
LANGUAGES = ("fr", "en", "de", "es", "ru", "zh")
#: Kinds of cue, in the order they are tried at one position.
KINDS = ("say", "judge", "weak", "source", "passive")
_FLAGS = regex.IGNORECASE | regex.V0
_WORD_CHAR = regex.compile(r"[\p{L}\p{N}]")
_WORDS = regex.compile(r"[\p{L}\p{N}]+")


@dataclasses.dataclass(frozen=True)
class Cue:
    """One cue in a text: its kind, span and, for patterns that name it, the holder's span."""

    kind: str
    start: int
    end: int
    holder: tuple[int, int] | None = None


class Cues:
    """The compiled cues and word classes of one language (or of all Latin/Cyrillic ones)."""

    def __init__(self, specs: Sequence[dict], cjk: bool):
        self.cjk = cjk
        self.vocabulary: dict[str, list[tuple[str, Any, Any]]] = {}  # form -> (kind, before, after)
        self.patterns: list[tuple[str, Any]] = []
        for spec in specs:
            for kind in KINDS:
                for entry in spec.get(kind) or []:
                    if "regex" in entry:
                        self.patterns.append((kind, regex.compile(entry["regex"], _FLAGS)))
                        continue
                    before = regex.compile(f"(?r)(?:{entry['before']})", _FLAGS) if entry.get("before") else None
                    after = regex.compile(entry["after"], _FLAGS) if entry.get("after") else None
                    for form in entry["words"]:
                        for ending in ("", *entry.get("endings", ())):
                            self.vocabulary.setdefault((form + ending).casefold(), []).append((kind, before, after))
        # first word of each form -> the forms (longest first) and, for several words, their pattern
        self.first: dict[str, list[tuple[str, Any]]] = {}
        for form in sorted(self.vocabulary, key=len, reverse=True):
            head = _WORDS.match(form).group()
            several = regex.compile(regex.escape(form).replace("\\ ", r"\s+"), _FLAGS) if head != form else None
            self.first.setdefault(head, []).append((form, several))

        def words(field: str, anchor: str) -> Any:
            alts = [spec[field] for spec in specs if spec.get(field)]
            if not alts:
                return None
            return regex.compile(anchor.replace("BODY", "|".join(f"(?:{a})" for a in alts)), _FLAGS)

        bounded = "" if cjk else r"(?![\p{L}\p{N}])"
        self.pronoun = words("pronoun", r"(?:BODY)")
        self.fronted = words("fronted", r"\s*(?:BODY)" + bounded)
        self.stop = words("stop", r"(?:BODY)" + bounded)
        self.prep = words("prep", r"(?:BODY)")
        self.negation = words("negation", r"(?:BODY)" if cjk else r"(?<![\p{L}\p{N}])(?:BODY)")
        self.complementizer = words("complementizer", r"(?<![\p{L}\p{N}])(?:BODY)(?![\p{L}\p{N}])|[,:，：]")

    def find(self, text: str) -> list[Cue]:
        """The cues of ``text``, in order, none overlapping (the first and longest wins)."""
        found = []
        for start, end, word in self._words(text):
            cue = self._literal(text, start, end, self.first[word])
            if cue is not None:
                found.append(cue)
        for kind, pattern in self.patterns:
            for m in pattern.finditer(text):
                holder = next((m.span(g) for g, v in m.groupdict().items() if g.startswith("holder") and v), None)
                found.append(Cue(kind, m.start(), m.end(), holder))
        found.sort(key=lambda c: (c.start, -c.end))
        out: list[Cue] = []
        for cue in found:
            if not out or cue.start >= out[-1].end:
                out.append(cue)
        return out

    def _words(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, casefolded word)`` of the words of ``text`` that begin a cue form, in order."""
        if not self.first:
            return []
        folded = text.casefold()
        if len(folded) != len(text):  # casefolding changed offsets (ß, ŉ …): word by word
            return [(m.start(), m.end(), w) for m in _WORDS.finditer(text) if (w := m.group().casefold()) in self.first]
        out = []
        for word in self.first.keys() & set(_WORDS.findall(folded)):
            at = folded.find(word)
            while at >= 0:
                end = at + len(word)
                if not (at and folded[at - 1].isalnum()) and not (end < len(folded) and folded[end].isalnum()):
                    out.append((at, end, word))
                at = folded.find(word, at + 1)
        return sorted(out)

    def _literal(self, text: str, head: int, end: int, forms: list[tuple[str, Any]]) -> Cue | None:
        """The cue whose form starts with the word ``text[head:end]`` (longest form first)."""
        for form, several in forms:
            if several is not None:
                m = several.match(text, head)
                if m is None or (m.end() < len(text) and _WORD_CHAR.match(text, m.end())):
                    continue
                stop = m.end()
            else:
                stop = end
            for kind, before, after in self.vocabulary[form]:
                e = stop
                if after is not None:
                    m = after.match(text, e)
                    if m is None:
                        continue
                    e = m.end()
                s = head
                if before is not None:
                    m = before.match(text, 0, head)
                    if m is None or (m.start() > 0 and _WORD_CHAR.match(text, m.start() - 1)):
                        continue
                    s = m.start()
                return Cue(kind, s, e)
        return None


def cues_for(lang: str | None, text: str) -> Cues | None:
    """The cues for a paragraph in ``lang``: None for a language without cues; for an unknown
    language (None), every Latin and Cyrillic language's, or the Chinese ones when ``text``
    holds Chinese characters."""
    if not lang:
        from .text import HAS_CJK

        lang = "zh" if HAS_CJK.search(text) else "*"
    return _compiled(lang)


@functools.lru_cache(maxsize=None)
def _compiled(lang: str) -> Cues | None:
    lexicon = _lexicon()
    if lang == "*":
        return Cues([lexicon[lg] for lg in LANGUAGES if lg != "zh"], False)
    return Cues([lexicon[lang]], lang == "zh") if lang in lexicon else None


@functools.lru_cache(maxsize=None)
def _lexicon() -> dict:
    with open(CUES_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
