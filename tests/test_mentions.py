"""Tests for analysis.mentions: finding actor mentions in a paragraph table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_text import LANGS, PIECES, TEXTS

from analysis.errors import InputError
from analysis.lexicon import load_actors
from analysis.mentions import MAX_SENTENCE_CHARS, find_mentions
from analysis.paths import DATA_DIR, GOLD_DIR
from analysis.schema import MENTIONS

MENTION_COLUMNS = tuple(MENTIONS)
GOLD_MENTIONS = GOLD_DIR / "ttn-fr-56.mentions.csv"
GOLD_STANCE = GOLD_DIR / "ttn-fr-56.stance.csv"
TRANSLATIONS = DATA_DIR / "translations"
EXAMPLE_YAML = DATA_DIR / "actors.example.yaml"


def paras(*texts: str, lang: str | None = "fr", doc_id: str = "d1") -> pd.DataFrame:
    """A hand-built paragraph table (title = para 0)."""
    return pd.DataFrame(
        {
            "doc_id": [doc_id] * len(texts),
            "para_id": list(range(len(texts))),
            "text": pd.Series(list(texts), dtype=object),
            "is_title": [i == 0 for i in range(len(texts))],
            "lang": [lang] * len(texts),
            "source": ["test.txt"] * len(texts),
        }
    )


def found(text: str, lang: str | None, actors=None) -> set[tuple[str, str]]:
    m = find_mentions(paras(text, lang=lang), actors)
    return set(zip(m["actor"], m["surface"]))


def check_offsets(p: pd.DataFrame, m: pd.DataFrame) -> None:
    texts = {(d, i): t for d, i, t in zip(p["doc_id"], p["para_id"], p["text"])}
    for r in m.itertuples(index=False):
        t = texts[(r.doc_id, r.para_id)]
        assert t[r.start : r.end] == r.surface
        assert 0 <= r.start < r.end <= len(t)
        assert t[r.sentence_start : r.sentence_start + len(r.sentence)] == r.sentence
        assert r.sentence_start <= r.start and r.end <= r.sentence_start + len(r.sentence)
        assert r.sentence[r.start - r.sentence_start : r.end - r.sentence_start] == r.surface


# --------------------------------------------------------------------------- gold


def _seed_paragraphs(seed_path: Path) -> pd.DataFrame:
    from analysis.corpus import read_articles

    return read_articles([seed_path])


def test_seed_gold_precision_recall(seed_path):
    p = _seed_paragraphs(seed_path)
    assert len(p) == 14
    gold = pd.read_csv(GOLD_MENTIONS)
    m = find_mentions(p)
    check_offsets(p, m)
    pairs = lambda d: set(zip(d["para_id"], d["actor"]))  # noqa: E731
    spans = lambda d: set(zip(d["para_id"], d["actor"], d["start"], d["end"]))  # noqa: E731
    tp = len(pairs(m) & pairs(gold))
    assert tp / len(pairs(m)) == 1.0, pairs(m) - pairs(gold)  # precision
    assert tp / len(pairs(gold)) == 1.0, pairs(gold) - pairs(m)  # recall
    # span level (documented in data/gold/README.md): exact spans agree too
    assert spans(m) == spans(gold)
    assert len(gold) == 60 and len(pairs(gold)) == 31


def test_gold_surfaces_match_seed_text(seed_path):
    p = _seed_paragraphs(seed_path)
    gold = pd.read_csv(GOLD_MENTIONS)
    texts = dict(zip(p["para_id"], p["text"]))
    for r in gold.itertuples(index=False):
        assert texts[r.para_id][r.start : r.end] == r.surface


def test_held_out_stance_annotation_agrees():
    """The stance gold was annotated independently; its mentioned pairs equal ours."""
    stance = pd.read_csv(GOLD_STANCE)
    mentioned = stance[stance["stance"].notna()]
    gold = pd.read_csv(GOLD_MENTIONS)
    assert set(zip(mentioned["para_id"], mentioned["actor"])) == set(zip(gold["para_id"], gold["actor"]))


@pytest.mark.parametrize("lang", ["en", "de", "es", "ru", "zh"])
def test_translations_give_same_pairs(lang):
    from analysis.corpus import read_articles

    path = TRANSLATIONS / f"ttn-fr-56.{lang}.txt"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    p = read_articles([path])
    m = find_mentions(p)
    check_offsets(p, m)
    gold = pd.read_csv(GOLD_MENTIONS)
    assert set(zip(m["para_id"], m["actor"])) == set(zip(gold["para_id"], gold["actor"]))


# --------------------------------------------------------------------------- languages

CASES = [
    # (lang, text, expected {(actor, surface)})
    ("fr", "La Russie et les Russes ; l'armée russe ; Moscou et le Kremlin.",
     {("Russia", "Russie"), ("Russia", "Russes"), ("Russia", "russe"), ("Russia", "Moscou"), ("Russia", "Kremlin")}),
    ("fr", "Patrouchev et Sergueï Lavrov ont vu Vladimir Poutine.",
     {("Russia", "Patrouchev"), ("Russia", "Sergueï Lavrov"), ("Russia", "Vladimir Poutine")}),
    ("fr", "Pékin, la Chine et les Chinoises ; le président Xi Jinping.",
     {("China", "Pékin"), ("China", "Chine"), ("China", "Chinoises"), ("China", "Xi Jinping")}),
    ("fr", "L'Occident, les Occidentaux et les sanctions occidentales ; l'OTAN, l'UE et le G7 à Bruxelles.",
     {("West", "Occident"), ("West", "Occidentaux"), ("West", "occidentales"), ("West", "OTAN"),
      ("West", "UE"), ("West", "G7"), ("West", "Bruxelles")}),
    ("fr", "Les États-Unis et le secrétaire d'État américain Antony Blinken ; la Maison-Blanche.",
     {("West", "États-Unis"), ("West", "américain"), ("West", "Antony Blinken"), ("West", "Maison-Blanche")}),
    ("fr", "Des relations sino-russes et un axe russo-chinois.",
     {("Russia", "sino-russes"), ("China", "sino-russes"), ("Russia", "russo-chinois"), ("China", "russo-chinois")}),
    ("en", "Russia's army, Russian troops, Moscow and the Kremlin; Putin met Lavrov.",
     {("Russia", "Russia"), ("Russia", "Russian"), ("Russia", "Moscow"), ("Russia", "Kremlin"),
      ("Russia", "Putin"), ("Russia", "Lavrov")}),
    ("en", "Beijing and Chinese officials; Xi's plan; Sino-Russian ties; the West and Western sanctions; the US and NATO.",
     {("China", "Beijing"), ("China", "Chinese"), ("China", "Xi"), ("China", "Sino-Russian"),
      ("Russia", "Sino-Russian"), ("West", "West"), ("West", "Western"), ("West", "US"), ("West", "NATO")}),
    ("de", "Russland, Russlands Präsident Putin, die russischen Truppen, Moskau und der Kreml.",
     {("Russia", "Russland"), ("Russia", "Russlands"), ("Russia", "Putin"), ("Russia", "russischen"),
      ("Russia", "Moskau"), ("Russia", "Kreml")}),
    ("de", "Chinas Führung in Peking, chinesische Diplomaten; der Westen, westliche Sanktionen, die EU und die Nato.",
     {("China", "Chinas"), ("China", "Peking"), ("China", "chinesische"), ("West", "Westen"),
      ("West", "westliche"), ("West", "EU"), ("West", "Nato")}),
    ("es", "Rusia y los rusos; Moscú y el Kremlin; Putin.",
     {("Russia", "Rusia"), ("Russia", "rusos"), ("Russia", "Moscú"), ("Russia", "Kremlin"), ("Russia", "Putin")}),
    ("es", "China y la diplomacia china en Pekín; Occidente, las sanciones occidentales, EE.UU. y la OTAN.",
     {("China", "China"), ("China", "china"), ("China", "Pekín"), ("West", "Occidente"),
      ("West", "occidentales"), ("West", "EE.UU."), ("West", "OTAN")}),
    ("it", "La Russia e i russi; Mosca e il Cremlino; la Cina, i cinesi e Pechino; l'Occidente, la Nato e l'Ue.",
     {("Russia", "Russia"), ("Russia", "russi"), ("Russia", "Mosca"), ("Russia", "Cremlino"),
      ("China", "Cina"), ("China", "cinesi"), ("China", "Pechino"), ("West", "Occidente"),
      ("West", "Nato"), ("West", "Ue")}),
    ("ru", "Россия, России, Россию; российский министр; Москва и Кремль; Путину и Лаврову.",
     {("Russia", "Россия"), ("Russia", "России"), ("Russia", "Россию"), ("Russia", "российский"),
      ("Russia", "Москва"), ("Russia", "Кремль"), ("Russia", "Путину"), ("Russia", "Лаврову")}),
    ("ru", "Китай и Пекин; китайские дипломаты; Запад и западные санкции; США и НАТО; российско-китайские связи.",
     {("China", "Китай"), ("China", "Пекин"), ("China", "китайские"), ("West", "Запад"),
      ("West", "западные"), ("West", "США"), ("West", "НАТО"), ("Russia", "российско-китайские"),
      ("China", "российско-китайские")}),
    ("uk", "Росія, Росії, Росію; російські війська; Москва і Кремль; Путіна.",
     {("Russia", "Росія"), ("Russia", "Росії"), ("Russia", "Росію"), ("Russia", "російські"),
      ("Russia", "Москва"), ("Russia", "Кремль"), ("Russia", "Путіна")}),
    ("uk", "Китай і Пекін; китайська делегація; Захід, західні партнери, США, ЄС і НАТО.",
     {("China", "Китай"), ("China", "Пекін"), ("China", "китайська"), ("West", "Захід"),
      ("West", "західні"), ("West", "США"), ("West", "ЄС"), ("West", "НАТО")}),
    ("zh", "俄罗斯总统普京在莫斯科会见了中国外交部长王毅。",
     {("Russia", "俄罗斯"), ("Russia", "普京"), ("Russia", "莫斯科"), ("China", "中国"), ("China", "王毅")}),
    ("zh", "中俄关系；习近平在北京；西方和美国、欧盟、北约；俄方表示；俄乌冲突。",
     {("Russia", "中俄"), ("China", "中俄"), ("China", "习近平"), ("China", "北京"), ("West", "西方"),
      ("West", "美国"), ("West", "欧盟"), ("West", "北约"), ("Russia", "俄方"), ("Russia", "俄")}),
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_language_cases(lang, text, expected):
    p = paras(text, lang=lang)
    m = find_mentions(p)
    check_offsets(p, m)
    assert set(zip(m["actor"], m["surface"])) == expected


LOOKALIKES = [
    # (lang, text) that must give NO mention at all
    ("en", "Bertrand Russell ate in Chinatown and bought fine china."),
    ("en", "The Washington Post reported from Xi'an; she ordered a Moscow Mule."),
    ("en", "Vera Wang designed a dress; the West Bank; western Canada; Latin Americans."),
    ("en", "The international community and Europe reacted; let us go."),
    ("en", "WASHINGTON (AP) — A vote. MOSCOW (Reuters) - A meeting. (WASHINGTON) — Again."),
    ("fr", "Pékin (AFP) – Une réunion."),
    ("fr", "Une poutine au Québec, de l'encre de Chine et une tournée en Europe."),
    ("fr", "Les chaînes d'approvisionnement et la communauté internationale ; l'Indochine."),
    ("fr", "Le Sahara occidental et l'Europe occidentale ; Louis XI ; la Prusse."),
    ("de", "Im Westen des Landes; der Rüssel; Chinakohl; westlich von Kiew."),
    ("es", "Prusia y el Washington Post; George Washington."),
    ("it", "È nato a Roma; una mosca; sino a domani."),
    ("ru", "Ван Гог и Ван Дамм; Казанский кремль; Китай-город; на запад; лавров венок."),
    ("uk", "Ці заходи тривають; захід сонця."),
    ("zh", "俄亥俄州和中美洲；学习中文；他们在学习。"),
]


@pytest.mark.parametrize(("lang", "text"), LOOKALIKES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOOKALIKES)])
def test_lookalikes_do_not_match(lang, text):
    assert found(text, lang) == set()


def test_longest_match_within_actor():
    p = paras("Vladimir Poutine a parlé. Xi Jinping aussi.")
    m = find_mentions(p)
    assert list(m["surface"]) == ["Vladimir Poutine", "Xi Jinping"]


def test_compound_gives_one_row_per_actor_same_span():
    m = find_mentions(paras("Les relations sino-russes."))
    assert list(m["actor"]) == ["Russia", "China"]
    assert m["start"].nunique() == 1 and m["end"].nunique() == 1
    assert set(m["surface"]) == {"sino-russes"}


def test_wang_needs_wang_yi_earlier_in_document():
    assert found("Wang a parlé.", "fr") == set()
    m = find_mentions(paras("Wang Yi est arrivé.", "Wang a parlé.", "Wang encore."))
    assert list(zip(m["para_id"], m["surface"])) == [(0, "Wang Yi"), (1, "Wang"), (2, "Wang")]
    # a different document does not count
    two = pd.concat([paras("Wang Yi est arrivé.", doc_id="a"), paras("Wang a parlé.", doc_id="b")])
    m = find_mentions(two)
    assert list(m["doc_id"]) == ["a"]
    # same paragraph, after the full name
    assert found("Wang Yi puis Wang.", "fr") == {("China", "Wang Yi"), ("China", "Wang")}
    assert found("Wang puis Wang Yi.", "fr") == {("China", "Wang Yi")}


def test_language_restricted_alias():
    # Spanish adjective 'china' only in Spanish paragraphs; English 'china' = porcelain
    assert found("la diplomacia china", "es") == {("China", "china")}
    assert found("fine china plates", "en") == set()
    # a paragraph without language gets every alias
    assert found("la diplomacia china", None) == {("China", "china")}
    assert found("la diplomacia china", "und") == {("China", "china")}


def test_chinese_without_spaces_and_latin_next_to_han():
    assert found("G7峰会和NATO成员国", "zh") == {("West", "G7"), ("West", "NATO")}
    assert found("中美关系", "zh") == {("China", "中美"), ("West", "中美")}


# --------------------------------------------------------------------------- table


def test_output_columns_and_sentences():
    text = "Le temps est beau. Poutine a parlé à Pékin. Fin."
    m = find_mentions(paras(text))
    assert tuple(m.columns) == MENTION_COLUMNS
    assert list(m["sentence_id"]) == [1, 1]
    assert set(m["sentence"]) == {"Poutine a parlé à Pékin."}
    assert list(m["sentence_start"]) == [19, 19]
    assert m["para_id"].dtype == "int64" and m["start"].dtype == "int64"


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"doc_id": [], "para_id": [], "text": []}),
    paras("Rien à signaler ici."),
    paras(""),
])
def test_empty_result_has_columns_and_dtypes(frame):
    m = find_mentions(frame)
    assert m.empty and tuple(m.columns) == MENTION_COLUMNS
    for col in ("para_id", "start", "end", "sentence_id", "sentence_start"):
        assert m[col].dtype == "int64"
    for col in ("doc_id", "actor", "surface", "sentence"):
        assert pd.api.types.is_string_dtype(m[col])


def test_missing_columns_and_bad_input():
    with pytest.raises(InputError, match="text"):
        find_mentions(pd.DataFrame({"doc_id": ["a"], "para_id": [0]}))
    with pytest.raises(InputError):
        find_mentions("not a frame")
    with pytest.raises(InputError, match="unknown actor"):
        find_mentions(paras("x"), ["Mars"])


def test_nan_text_and_unsorted_input():
    p = paras("Poutine.", "Wang Yi.", "Wang.")
    p.loc[0, "text"] = None
    p = p.iloc[::-1].reset_index(drop=True)
    m = find_mentions(p)
    assert list(zip(m["para_id"], m["surface"])) == [(1, "Wang Yi"), (2, "Wang")]


def test_actor_subset():
    m = find_mentions(paras("Poutine et Pékin."), ["China"])
    assert list(m["actor"]) == ["China"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXTS, min_size=1, max_size=3), lang=LANGS)
def test_property_any_unicode_never_crashes_and_offsets_are_exact(texts, lang):
    p = paras(*texts, lang=lang)
    m = find_mentions(p)
    assert tuple(m.columns) == MENTION_COLUMNS
    check_offsets(p, m)


def _naive_mentions(lex, text, lang):
    """Reference scan: each actor's exact pattern searched left to right (no prefilter)."""
    out = set()
    for actor in lex.actors:
        m = lex.matcher(actor, lang)
        if m.full is None:
            continue
        seen, pos = set(), 0
        while True:
            mt = m.full.search(text, pos)
            if mt is None:
                break
            idx = m.alias_index(mt)
            span = mt.span()
            if m.aliases[idx].only_after and not any(p.fullmatch(x) for p in m.after[idx] for x in seen):
                alt = m.unconditional.match(text, mt.start()) if m.unconditional is not None else None
                if alt is None:
                    pos = mt.start() + 1
                    continue
                span = alt.span()
            out.add((actor, *span))
            seen.add(text[span[0]:span[1]])
            pos = span[1]
    return out


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, lang=LANGS)
def test_property_prefilter_gives_same_result_as_plain_search(text, lang):
    lex = load_actors()
    m = find_mentions(paras(text, lang=lang), lex)
    assert set(zip(m["actor"], m["start"], m["end"])) == _naive_mentions(lex, text, lang)


# --------------------------------------------------------------------------- CLI


def test_cli_mentions(tmp_path, seed_path):
    from analysis.cli import main

    out = tmp_path / "mentions.csv"
    assert main(["mentions", str(seed_path), "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert tuple(got.columns) == MENTION_COLUMNS
    assert len(got) == 60
    out2 = tmp_path / "m2.csv"
    assert main(["mentions", str(seed_path), "--actors", str(EXAMPLE_YAML), "--out", str(out2)]) == 0
    assert "Ukraine" in set(pd.read_csv(out2)["actor"])


def test_cli_mentions_bad_actors_file(tmp_path, seed_path, capsys):
    from analysis.cli import main

    bad = tmp_path / "actors.yaml"
    bad.write_text("actors: [oops\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    assert main(["mentions", str(seed_path), "--actors", str(bad), "--out", str(out)]) == 2
    assert "error:" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- long sentences


def _distinct_sentences(m: pd.DataFrame) -> list[str]:
    """The ``sentence`` objects of a mentions table, each once (rows may share one)."""
    return list({id(s): s for s in m["sentence"]}.values())


def test_mentions_of_one_sentence_share_its_text():
    m = find_mentions(paras("Poutine et Xi Jinping à Pékin, loin de Moscou. Fin."))
    assert len(m) == 4 and m["sentence"].nunique() == 1
    assert len(_distinct_sentences(m)) == 1


def test_long_sentence_gives_shared_windows_and_linear_memory():
    text = " ".join(["Russie"] * 3000)  # one sentence of 20,999 characters, 3,000 mentions
    p = paras(text)
    m = find_mentions(p)
    assert len(m) == 3000
    check_offsets(p, m)
    assert (m["sentence_id"] == 0).all()
    windows = _distinct_sentences(m)
    assert max(map(len, windows)) <= MAX_SENTENCE_CHARS
    assert sum(map(len, windows)) <= 4 * len(text)  # every row held the whole sentence before
    for r in m.itertuples(index=False):
        end = r.sentence_start + len(r.sentence)
        assert r.sentence == r.sentence.strip()  # cut at whitespace
        assert r.sentence_start == 0 or text[r.sentence_start - 1] == " "
        assert end == len(text) or text[end] == " "
        # context on both sides of the mention when the sentence has it
        assert r.start - r.sentence_start >= min(r.start, 200)
        assert end - r.end >= min(len(text) - r.end, 200)


def test_normal_sentence_is_not_windowed():
    sentence = "La Russie " + "et la Chine " * 120 + "signent."  # 1,458 characters
    m = find_mentions(paras(f"Avant. {sentence} Après."))
    assert len(sentence) <= MAX_SENTENCE_CHARS and set(m["sentence"]) == {sentence}
    assert set(m["sentence_start"]) == {7}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["Russie", "Poutine", "Chine", "中国", "G7"]),
    sep=st.sampled_from([" ", ", ", "   ", "", "-", "\u3000"]),
    repeats=st.integers(1000, 4000),
    before=TEXTS,
)
def test_property_one_name_repeated_thousands_of_times(name, sep, repeats, before):
    text = before + " " + sep.join([name] * repeats)
    p = paras(text)
    m = find_mentions(p)
    check_offsets(p, m)
    windows = _distinct_sentences(m)
    longest = max((e - s for s, e in zip(m["start"], m["end"])), default=0)
    assert all(len(w) <= max(MAX_SENTENCE_CHARS, longest) for w in windows)
    assert sum(map(len, windows)) <= 6 * len(text) + MAX_SENTENCE_CHARS


# --------------------------------------------------------------------------- invalid text


def test_lone_surrogate_names_document_and_paragraph():
    p = paras("Rien.", "La Russie \ud800 avance.", doc_id="art-7")
    with pytest.raises(InputError, match=r"document 'art-7', paragraph 1: .*lone surrogate \(U\+D800\) at character 10"):
        find_mentions(p)


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(PIECES, st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)), min_size=1, max_size=30
    ),
    lang=LANGS,
)
def test_property_lone_surrogates_are_refused_by_name(pieces, lang):
    text = "".join(pieces)
    p = paras("Titre.", text, lang=lang, doc_id="doc-s")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        with pytest.raises(InputError, match="document 'doc-s', paragraph 1"):
            find_mentions(p)
    else:
        check_offsets(p, find_mentions(p))
