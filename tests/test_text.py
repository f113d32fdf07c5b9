"""Tests for analysis.text: sentence splitting (exact offsets, pysbd agreement, linear cost)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import text as text_module
from analysis.paths import DATA_DIR
from analysis.text import sentence_spans

TRANSLATIONS = DATA_DIR / "translations"

LANGS = st.sampled_from(["fr", "en", "de", "es", "it", "ru", "uk", "zh", "ja", "xx", None])
PIECES = st.sampled_from([
    "Russie", "Poutine", "Wang Yi", "Wang", "Xi", "Xi'an", "sino-russes", "中俄", "俄亥俄", "Запад", "США",
    " ", ". ", "\n", "“", "”", "’", "-", "。", "!", "?", "Mr.", "U.S.", "e\u0301", "\u200b", "\U0001f600",
])
#: Any Unicode text, and texts made of pieces that matter to the splitter and the lexicon.
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=40).map("".join),
)

# sentences whose boundaries the fast splitter keeps (uppercase start, no abbreviation before '.')
_PLAIN = [
    "La Russie et la Chine ont signé un accord.", "Pékin a salué la visite!", "Pourquoi maintenant?",
    "« Nous sommes prêts », a-t-il dit.", "Le Kremlin n'a pas répondu…", "Wang Yi est arrivé à Moscou.",
    "中俄关系很好。", "The West reacted swiftly.",
]
# sentences that send the paragraph to pysbd or stress the punctuation splitter
_ODD = [
    "M. Poutine a parlé.", "le U.S. Army a dit.", "etc. et puis.", "Il a vu 3. rien.", "a" + "." * 300 + "b",
    "…" * 50, ".”" * 40, "Dr.", "x" * 400 + "1.", "?!?!", "(Vraiment.)",
]


def _check_spans(text: str, spans: list[tuple[int, int]]) -> None:
    last = 0
    for s, e in spans:
        assert last <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()
        last = e


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, lang=LANGS)
def test_property_sentence_spans_exact(text, lang):
    _check_spans(text, sentence_spans(text, lang))


def test_fast_sentence_split_agrees_with_pysbd(seed_path):
    from analysis.corpus import read_articles

    files = [seed_path, *sorted(TRANSLATIONS.glob("*.txt"))]
    p = read_articles(files)
    extra = [
        ("M. Poutine a parlé à Pékin. Le président Xi a répondu.", "fr"),
        ("The U.S. said so. Then China replied.", "en"),
        ("« Êtes-vous prêts ? » a-t-il demandé. Oui.", "fr"),
        ("Dr. Wang Yi came. He left etc. and more.", "en"),
        ("Путин заявил, что т.е. Запад неправ. Китай молчит.", "ru"),
    ]
    for text, lang in [*zip(p["text"], p["lang"]), *extra]:
        assert sentence_spans(text, lang) == text_module._split(text, lang), text


class _CopyCountingStr(str):
    """A str that counts the characters copied out of it by slicing."""

    def __getitem__(self, key):
        piece = str.__getitem__(self, key)
        if isinstance(key, slice):
            self.copied = getattr(self, "copied", 0) + len(piece)
        return piece


def test_splitting_a_long_paragraph_copies_it_at_most_twice():
    # 1,200 plain boundaries in one line: each used to copy the text up to it (quadratic)
    text = _CopyCountingStr(" ".join(["Le Kremlin copie peu de texte ici."] * 1200))
    spans = sentence_spans(text, "fr")
    assert len(spans) == 1200
    assert getattr(text, "copied", 0) <= 2 * len(text)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    picks=st.lists(st.integers(0, len(_PLAIN) - 1), min_size=400, max_size=1500),
    lang=st.sampled_from(["fr", "en", None]),
)
def test_property_long_plain_paragraph_splits_into_its_sentences(picks, lang):
    sentences = [_PLAIN[i] for i in picks]
    text = " ".join(sentences)  # one line, up to ~50,000 characters
    expected, at = [], 0
    for sentence in sentences:
        expected.append((at, at + len(sentence)))
        at += len(sentence) + 1
    assert sentence_spans(text, lang) == expected


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    picks=st.lists(st.sampled_from(_PLAIN + _ODD), min_size=100, max_size=600),
    sep=st.sampled_from([" ", "  ", "\u00a0", ""]),
    lang=LANGS,
)
def test_property_long_one_line_paragraphs_any_sentences(picks, sep, lang):
    text = sep.join(picks)
    _check_spans(text, sentence_spans(text, lang))
