"""The actor lexicon: its YAML schema, loading and validation, and compiled matchers.

The default lexicon ships inside the package at ``analysis/data/actors.yaml``
and documents every matching choice; a user file extends it or replaces it
(:func:`load_actors`). Errors name the file, line, actor and field; YAML line
numbers are tracked while loading.

Matching rules (details and per-alias choices are documented in the YAML;
:func:`analysis.mentions.find_mentions` applies them):

* Every actor is matched **on its own**: one compiled regular expression per
  actor (and paragraph language). Adding an actor, or aliases of another actor,
  never changes an actor's mention rows. A compound alias (``sino-russe``) is
  an alias of each actor it names, so it yields one row per actor, same span.
* Within an actor, overlapping aliases resolve to the leftmost-longest match
  (POSIX semantics of the ``regex`` module), e.g. ``Vladimir Poutine`` rather
  than ``Poutine``, ``sino-russes`` rather than ``russes``.
* Alphabetic aliases need word boundaries (no letter/digit of a non-CJK script
  on either side); aliases containing CJK characters match anywhere, because
  Chinese has no spaces. A Latin alias next to Chinese characters still
  matches (``G7峰会``).
* Case per alias: ``insensitive`` (default), ``sensitive`` (acronyms: EU, US),
  or ``proper`` (case-insensitive but the match must not start with a lowercase
  letter: ``Poutine`` the president but not ``poutine`` the dish, ``Nato``/
  ``NATO`` but not Italian ``nato`` "born").
* ``not_followed_by`` / ``not_preceded_by`` exclude look-alikes (Washington
  Post, Xi'an, encre de Chine, 俄亥俄 Ohio); ``only_after`` makes an ambiguous
  alias count only after an earlier mention of the same actor in the same
  document (bare ``Wang`` only after ``Wang Yi``).
* ``lang`` restricts an alias to paragraphs in those languages (e.g. Spanish
  ``china`` the adjective); aliases without ``lang`` apply to every paragraph,
  and a paragraph without a language gets every alias.

Actor names are case-sensitive: a user file declaring ``russia`` beside the
default ``Russia`` makes a second actor, with a ``UserWarning`` naming the file,
line and both names.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import regex
import yaml

from .errors import InputError
from .text import CJK_CLASS, HAS_CJK

__all__ = ["DEFAULT_ACTORS_PATH", "Alias", "Lexicon", "Matcher", "load_actors"]

#: The default lexicon shipped with the package.
DEFAULT_ACTORS_PATH = Path(__file__).resolve().parent / "data" / "actors.yaml"

_CASES = ("insensitive", "sensitive", "proper")
_BOUNDARIES = ("auto", "word", "none")
_ALIAS_KEYS = (
    "text", "regex", "case", "lang", "boundary", "not_followed_by", "not_preceded_by",
    "only_after", "note",
)
_COMPOUND_KEYS = (*_ALIAS_KEYS, "actors")
_ACTOR_KEYS = ("description", "aliases", "replace", "note")
_TOP_KEYS = ("schema_version", "extends", "actors", "compounds", "notes")
_ACTOR_NAME = re.compile(r"^[^\W\d][\w .'’-]{0,63}$")
_LANG = re.compile(r"^[a-z]{2,3}$")

# Aliases containing characters of scripts written without spaces match without boundaries,
# and these characters do not count as "word" characters for the boundary of Latin aliases.
_LEFT = rf"(?<![^\W{CJK_CLASS}])"
_RIGHT = rf"(?![^\W{CJK_CLASS}])"


# --------------------------------------------------------------------------- lexicon


@dataclasses.dataclass(frozen=True)
class Alias:
    """One way of referring to an actor (see the schema in the default YAML)."""

    pattern: str  # regular-expression source (a ``text`` alias is escaped)
    text: str | None = None  # the literal, for ``text`` aliases
    case: str = "insensitive"
    langs: frozenset[str] | None = None
    boundary: str = "auto"
    not_followed_by: tuple[str, ...] = ()
    not_preceded_by: tuple[str, ...] = ()
    only_after: tuple[str, ...] = ()
    origin: str = ""  # "file:line" for error messages

    def regex_source(self) -> str:
        """The alias as one self-contained regular expression (no named groups added)."""
        body = self.pattern
        if self.case == "sensitive":
            core = f"(?-i:{body})"
        elif self.case == "proper":
            core = rf"(?!\p{{Ll}})(?i:{body})"
        else:
            core = f"(?i:{body})"
        bounded = self.bounded
        parts = []
        parts.extend(f"(?<!{p})" for p in self.not_preceded_by)
        if bounded:
            parts.append(_LEFT)
        parts.append(core)
        if bounded:
            parts.append(_RIGHT)
        parts.extend(f"(?!{p})" for p in self.not_followed_by)
        return "".join(parts)

    @property
    def bounded(self) -> bool:
        """Whether the alias needs word boundaries (``auto``: unless it contains CJK characters)."""
        if self.boundary != "auto":
            return self.boundary == "word"
        return not HAS_CJK.search(self.text if self.text is not None else self.pattern)

    def applies_to(self, lang: str | None) -> bool:
        """Whether the alias is used in paragraphs of language ``lang`` (``None``: every alias)."""
        return self.langs is None or not lang or lang in self.langs


@dataclasses.dataclass(frozen=True)
class Matcher:
    """One actor's aliases for one paragraph language, compiled (:meth:`Lexicon.matcher`)."""

    full: Any  # compiled regex with one named group per alias
    unconditional: Any | None  # same without ``only_after`` aliases (None if there are none)
    aliases: tuple[Alias, ...]
    after: tuple[tuple[Any, ...], ...]  # compiled only_after patterns per alias

    @staticmethod
    def alias_index(match: Any) -> int:
        """Index in :attr:`aliases` of the alias that made ``match`` (a match of :attr:`full`)."""
        name = match.lastgroup
        if name and name.startswith("_a") and name[2:].isdigit() and match.group(name) is not None:
            # lastgroup is the last *closed* group; our wrapper group closes after any inner one
            return int(name[2:])
        for key, val in match.groupdict().items():  # pragma: no cover - defensive
            if key.startswith("_a") and key[2:].isdigit() and val is not None:
                return int(key[2:])
        raise RuntimeError("no alias group matched")  # pragma: no cover


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """An actor lexicon: actor name -> aliases, in file order.

    Build it with :func:`load_actors`. ``sources`` lists the files it was read from.
    """

    aliases: Mapping[str, tuple[Alias, ...]]
    descriptions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    sources: tuple[str, ...] = ()
    _cache: dict = dataclasses.field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def actors(self) -> tuple[str, ...]:
        """Actor names, in lexicon order."""
        return tuple(self.aliases)

    def select(self, names: Iterable[str]) -> Lexicon:
        """A lexicon with only the named actors (unknown name -> InputError)."""
        names = list(names)
        unknown = [n for n in names if n not in self.aliases]
        if unknown:
            raise InputError(
                f"unknown actor(s) {', '.join(map(repr, unknown))}; the lexicon has: {', '.join(self.actors)}"
            )
        return Lexicon(
            {n: self.aliases[n] for n in names},
            {n: self.descriptions.get(n, "") for n in names},
            self.sources,
        )

    def prefilter(self, lang: str | None) -> Any:
        """One relaxed pattern over every alias of every actor (for ``lang``).

        It matches at least at every position where some alias can start (case,
        right boundaries and exclusions are ignored), so the exact per-actor
        patterns only need to be tried at its match positions. This is a speed-up
        only: results are those of scanning each actor on its own.
        """
        key = ("__prefilter__", lang or "")
        pf = self._cache.get(key)
        if pf is None:
            bounded, free = [], []
            for actor in self.aliases:
                for a in self.aliases[actor]:
                    if a.applies_to(lang):
                        (bounded if a.bounded else free).append(f"(?:{a.pattern})")
            parts = []
            if bounded:
                parts.append(_LEFT + "(?:" + "|".join(dict.fromkeys(bounded)) + ")")
            if free:
                parts.append("(?:" + "|".join(dict.fromkeys(free)) + ")")
            pf = self._cache[key] = regex.compile("|".join(parts), regex.V0 | regex.IGNORECASE) if parts else None
        return pf

    def matcher(self, actor: str, lang: str | None) -> Matcher:
        """The compiled aliases of ``actor`` that apply to paragraphs in ``lang`` (cached)."""
        key = (actor, lang or "")
        m = self._cache.get(key)
        if m is None:
            m = self._cache[key] = _compile_matcher(
                tuple(a for a in self.aliases[actor] if a.applies_to(lang))
            )
        return m


def _compile_matcher(aliases: tuple[Alias, ...]) -> Matcher:
    def build(items: Sequence[tuple[int, Alias]]) -> Any:
        if not items:
            return None
        src = "|".join(f"(?P<_a{i}>{a.regex_source()})" for i, a in items)
        return regex.compile(src, regex.POSIX | regex.V0)

    indexed = list(enumerate(aliases))
    full = build(indexed)
    has_cond = any(a.only_after for a in aliases)
    uncond = build([(i, a) for i, a in indexed if not a.only_after]) if has_cond else None
    after = tuple(tuple(regex.compile(p, regex.IGNORECASE) for p in a.only_after) for a in aliases)
    return Matcher(full, uncond, aliases, after)


def load_actors(path: str | os.PathLike[str] | None = None) -> Lexicon:
    """Load an actor lexicon.

    Parameters
    ----------
    path
        ``None`` for the default lexicon shipped with the package
        (``analysis/data/actors.yaml``). Otherwise a user YAML file. By default
        it **extends** the default lexicon: new actors are added, aliases given
        for an existing actor are appended to its default aliases (or replace
        them with ``replace: true``) and ``compounds`` are added. With
        ``extends: none`` at the top of the file, the file is the whole lexicon.
        See ``data/actors.example.yaml`` (adds Ukraine) and the schema at the top
        of the default YAML.

    Returns
    -------
    Lexicon

    Raises
    ------
    InputError
        The file is missing or unreadable, is not valid YAML (the message gives
        the line), or does not follow the schema (the message names the file,
        line, actor and field).
    """
    default = _load_default()
    if path is None:
        return default
    spec = _read_yaml(path)
    where = str(path)
    extends = spec.get("extends", "default")
    if extends not in ("default", "none", None):
        raise InputError(
            f"{where}:{_line(spec, 'extends')}: field 'extends' must be 'default' or 'none', got {extends!r}"
        )
    base = default if extends == "default" else None
    return _build(spec, where, base)


@functools.lru_cache(maxsize=1)
def _load_default() -> Lexicon:
    return _build(_read_yaml(DEFAULT_ACTORS_PATH), str(DEFAULT_ACTORS_PATH), None)


# YAML loading with line numbers ------------------------------------------------------


class _LineDict(dict):
    lines: dict[Any, int]
    line: int


class _LineList(list):
    lines: list[int]
    line: int


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.lines = {}
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise InputError(f"line {key_node.start_mark.line + 1}: unhashable mapping key") from None
        if key in out:
            raise InputError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_object(n, deep=True) for n in node.value)
    out.lines = [n.start_mark.line + 1 for n in node.value]
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _line(obj: Any, key: Any = None) -> str:
    if key is not None and isinstance(obj, _LineDict) and key in obj.lines:
        return str(obj.lines[key])
    if isinstance(obj, _LineList) and isinstance(key, int) and 0 <= key < len(obj.lines):
        return str(obj.lines[key])
    return str(getattr(obj, "line", "?"))


def _read_yaml(path: str | os.PathLike[str]) -> _LineDict:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: actor lexicon file not found")
    if not p.is_file():
        raise InputError(f"{path}: actor lexicon is not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: actor lexicon is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read actor lexicon ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}, {problem}" if context else problem
        raise InputError(f"{path}{loc}: invalid YAML: {detail}") from None
    if data is None:
        raise InputError(f"{path}: actor lexicon is empty (expected a mapping with an 'actors' field)")
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: actor lexicon must be a mapping with an 'actors' field, got {type(data).__name__}")
    return data


# Schema validation --------------------------------------------------------------------


def _build(spec: _LineDict, where: str, base: Lexicon | None) -> Lexicon:
    for key in spec:
        if key not in _TOP_KEYS:
            raise InputError(
                f"{where}:{_line(spec, key)}: unknown top-level field {key!r} (allowed: {', '.join(_TOP_KEYS)})"
            )
    version = spec.get("schema_version", 1)
    if version != 1:
        raise InputError(f"{where}:{_line(spec, 'schema_version')}: unsupported schema_version {version!r} (expected 1)")
    actors_spec = spec.get("actors", {})
    if actors_spec is None:
        actors_spec = {}
    if not isinstance(actors_spec, dict):
        raise InputError(f"{where}:{_line(spec, 'actors')}: field 'actors' must be a mapping of actor name -> fields")

    aliases: dict[str, list[Alias]] = {k: list(v) for k, v in (base.aliases.items() if base else ())}
    descriptions: dict[str, str] = dict(base.descriptions) if base else {}
    by_folded = {name.casefold(): name for name in aliases}
    for name, body in actors_spec.items():
        loc = f"{where}:{_line(actors_spec, name)}"
        if not isinstance(name, str) or not _ACTOR_NAME.match(name):
            raise InputError(
                f"{loc}: invalid actor name {name!r} (a name starting with a letter, up to 64 characters)"
            )
        namesake = by_folded.setdefault(name.casefold(), name)
        if namesake != name and name not in aliases:
            warnings.warn(
                f"{loc}: actor {name!r} differs from actor {namesake!r} only in case, so it is a second "
                f"actor; write {namesake!r} to extend that one",
                UserWarning,
                stacklevel=3,  # the caller of load_actors
            )
        if not isinstance(body, dict):
            raise InputError(f"{loc}: actor {name!r} must be a mapping with an 'aliases' list")
        for key in body:
            if key not in _ACTOR_KEYS:
                raise InputError(
                    f"{where}:{_line(body, key)}: actor {name!r}: unknown field {key!r} "
                    f"(allowed: {', '.join(_ACTOR_KEYS)})"
                )
        replace = body.get("replace", False)
        if not isinstance(replace, bool):
            raise InputError(f"{where}:{_line(body, 'replace')}: actor {name!r}: field 'replace' must be true or false")
        desc = body.get("description", "")
        if not isinstance(desc, str):
            raise InputError(f"{where}:{_line(body, 'description')}: actor {name!r}: field 'description' must be text")
        items = body.get("aliases")
        if not isinstance(items, list) or not items:
            raise InputError(
                f"{where}:{_line(body, 'aliases') if 'aliases' in body else _line(body)}: actor {name!r}: "
                "field 'aliases' must be a non-empty list"
            )
        parsed = [_parse_alias(item, where, _line(items, i), f"actor {name!r}, alias #{i + 1}", False)[0]
                  for i, item in enumerate(items)]
        if replace or name not in aliases:
            aliases[name] = parsed
        else:
            aliases[name].extend(parsed)
        if desc or name not in descriptions:
            descriptions[name] = desc

    compounds = spec.get("compounds", [])
    if compounds is None:
        compounds = []
    if not isinstance(compounds, list):
        raise InputError(f"{where}:{_line(spec, 'compounds')}: field 'compounds' must be a list")
    for i, item in enumerate(compounds):
        what = f"compound #{i + 1}"
        alias, targets = _parse_alias(item, where, _line(compounds, i), what, True)
        for target in targets:
            if target not in aliases:
                raise InputError(
                    f"{where}:{_line(compounds, i)}: {what}: field 'actors' names unknown actor {target!r} "
                    f"(known: {', '.join(aliases)})"
                )
            aliases[target].append(alias)
    if not aliases:
        raise InputError(f"{where}: actor lexicon defines no actors")
    sources = (base.sources if base else ()) + (where,)
    return Lexicon({k: tuple(v) for k, v in aliases.items()}, descriptions, sources)


def _str_list(value: Any, loc: str, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{loc}: field {field!r} must be a non-empty string or a list of them")
    return tuple(value)


def _check_regex(src: str, loc: str, field: str, *, may_be_empty: bool = True) -> None:
    try:
        compiled = regex.compile(src, regex.V0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise InputError(f"{loc}: field {field!r}: invalid regular expression {src!r}: {exc}") from None
    if compiled.groupindex or _BACKREF.search(src):
        raise InputError(
            f"{loc}: field {field!r}: named groups and backreferences are not allowed in {src!r} "
            "(use (?:...) groups)"
        )
    if not may_be_empty and compiled.fullmatch(""):
        raise InputError(f"{loc}: field {field!r}: the pattern {src!r} matches the empty string")


_BACKREF = regex.compile(r"\\(?:[1-9]|g<)|\(\?P=")


def _literal_pattern(text: str) -> str:
    """Regex for a literal alias: whitespace runs match any whitespace, hyphens any hyphen."""
    out = []
    for tok in re.split(r"(\s+|-)", text.strip()):
        if not tok:
            continue
        if tok.isspace():
            out.append(r"\s+")
        elif tok == "-":
            out.append("[-\u2010\u2011]")
        else:
            out.append(regex.escape(tok))
    return "".join(out)


def _parse_alias(item: Any, where: str, line: str, what: str, compound: bool) -> tuple[Alias, tuple[str, ...]]:
    loc = f"{where}:{line}: {what}"
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        raise InputError(f"{loc}: must be a string or a mapping with 'text' or 'regex', got {type(item).__name__}")
    allowed = _COMPOUND_KEYS if compound else _ALIAS_KEYS
    for key in item:
        if key not in allowed:
            raise InputError(
                f"{where}:{_line(item, key)}: {what}: unknown field {key!r} (allowed: {', '.join(allowed)})"
            )

    def at(key: str) -> str:
        return f"{where}:{_line(item, key)}: {what}"

    has_text, has_regex = "text" in item, "regex" in item
    if has_text == has_regex:
        raise InputError(f"{loc}: give exactly one of the fields 'text' and 'regex'")
    if has_text:
        text = item["text"]
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{at('text')}: field 'text' must be a non-empty string")
        pattern = _literal_pattern(text)
        literal: str | None = text.strip()
    else:
        pattern = item["regex"]
        if not isinstance(pattern, str) or not pattern.strip():
            raise InputError(f"{at('regex')}: field 'regex' must be a non-empty string")
        _check_regex(pattern, at("regex"), "regex", may_be_empty=False)
        literal = None
    case = item.get("case", "insensitive")
    if case not in _CASES:
        raise InputError(f"{at('case')}: field 'case' must be one of {', '.join(_CASES)}, got {case!r}")
    boundary = item.get("boundary", "auto")
    if boundary not in _BOUNDARIES:
        raise InputError(f"{at('boundary')}: field 'boundary' must be one of {', '.join(_BOUNDARIES)}, got {boundary!r}")
    langs = None
    if "lang" in item:
        langs_t = _str_list(item["lang"], at("lang"), "lang")
        for lg in langs_t:
            if not _LANG.match(lg):
                raise InputError(f"{at('lang')}: field 'lang': {lg!r} is not an ISO 639 code like 'fr'")
        langs = frozenset(langs_t)
    lookarounds = {}
    for field in ("not_followed_by", "not_preceded_by", "only_after"):
        vals = _str_list(item[field], at(field), field) if field in item else ()
        for v in vals:
            _check_regex(v, at(field), field)
        lookarounds[field] = vals
    if "note" in item and not isinstance(item["note"], str):
        raise InputError(f"{at('note')}: field 'note' must be text")
    targets: tuple[str, ...] = ()
    if compound:
        if "actors" not in item:
            raise InputError(f"{loc}: field 'actors' (the list of actors the compound names) is required")
        targets = _str_list(item["actors"], at("actors"), "actors")
        if len(set(targets)) != len(targets):
            raise InputError(f"{at('actors')}: field 'actors' lists an actor twice")
    alias = Alias(
        pattern=pattern, text=literal, case=case, langs=langs, boundary=boundary,
        origin=f"{where}:{line}", **lookarounds,
    )
    # the assembled alias (with lookarounds and boundaries) must compile too
    _check_regex(alias.regex_source(), loc, "regex" if not has_text else "text")
    return alias, targets
