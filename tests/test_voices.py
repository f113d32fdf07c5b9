"""analysis.voices: whose words each mention is in (narrator, quoted or reported source), and bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mentions import paras

from analysis.corpus import read_articles
from analysis.mentions import find_mentions
from analysis.paths import DATA_DIR, GOLD_DIR
from analysis.schema import MENTIONS
from analysis.voice_evaluation import holder_agreement, mention_voices, voice_triples

GOLD_HOLDERS = GOLD_DIR / "ttn-fr-56.holders.csv"


def voices_of(*texts: str, lang: str | None = "fr") -> dict[str, tuple[str, str, str]]:
    """``{surface: (role, voice, holder words)}`` of every mention of a one-document paragraph table."""
    m = mention_voices(find_mentions(paras(*texts, lang=lang)))
    return {r.surface: (r.role, r.voice, r.holder) for r in m.itertuples(index=False)}


# --------------------------------------------------------------------------- the seed


def test_seed_holders_agree_with_the_hand_annotation(seed_path):
    gold = pd.read_csv(GOLD_HOLDERS, keep_default_na=False)
    report = holder_agreement(gold, find_mentions(read_articles([seed_path])))
    assert report["n_mentions"] == 60
    assert report["disagreements"] == []
    assert report["mention_agreement"] == 1.0
    assert report["triples_precision"] == report["triples_recall"] == 1.0


@pytest.mark.parametrize("lang", ["en", "de", "es", "ru", "zh"])
def test_translations_give_the_seed_holders(lang):
    """The five translations (aligned paragraphs, other wording) give the gold's paragraph x voice x target triples."""
    gold = pd.read_csv(GOLD_HOLDERS, keep_default_na=False).rename(columns={"holder_actor": "voice"})
    found = mention_voices(find_mentions(read_articles([DATA_DIR / "translations" / f"ttn-fr-56.{lang}.txt"])))
    assert voice_triples(found) == voice_triples(gold)


def test_mentions_table_has_the_holder_columns(seed_path):
    m = find_mentions(read_articles([seed_path]))
    assert list(m.columns) == list(MENTIONS)
    assert str(m["holder_start"].dtype) == "Int64" and str(m["holder_end"].dtype) == "Int64"
    narrator = m[m["holder"] == "narrator"]
    assert narrator["holder_start"].isna().all() and (narrator["holder_actor"] == "").all()
    sources = m[m["holder"] != "narrator"]
    texts = dict(zip(range(14), read_articles([seed_path])["text"]))
    for r in sources.itertuples(index=False):
        # the holder's words are the text at its offsets; "selon lui" points at the pronoun standing for Patrushev
        assert texts[r.para_id][r.holder_start:r.holder_end] in (r.holder, "lui")


# --------------------------------------------------------------------------- constructions


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        # quotation before its speaker; a mention after the attribution is the narrator's
        ("fr", "« La Russie est un partenaire fiable », a déclaré Wang Yi lors d'une visite à Pékin.",
         {"Russie": ("target", "China", "Wang Yi"), "Wang Yi": ("speaker", "China", "Wang Yi"),
          "Pékin": ("target", "narrator", "narrator")}),
        # quotation after its speaker, the speaker named by role and nationality
        ("en", 'The Chinese foreign minister said: "NATO is a relic of the Cold War."',
         {"Chinese": ("speaker", "China", "The Chinese foreign minister"),
          "NATO": ("target", "China", "The Chinese foreign minister")}),
        # reported speech; an addressee before "que" stays the narrator's
        ("fr", "Lavrov a déclaré mardi à Blinken que l'OTAN menaçait la Russie.",
         {"Lavrov": ("speaker", "Russia", "Lavrov"), "Blinken": ("target", "narrator", "narrator"),
          "OTAN": ("target", "Russia", "Lavrov"), "Russie": ("target", "Russia", "Lavrov")}),
        # a judgement verb: its object is judged by the subject
        ("de", "Peking warf dem Westen vor, den Krieg zu verlängern.",
         {"Peking": ("speaker", "China", "Peking"), "Westen": ("target", "China", "Peking")}),
        ("es", "Según Moscú, la OTAN prepara una escalada.",
         {"Moscú": ("speaker", "Russia", "Moscú"), "OTAN": ("target", "Russia", "Moscú")}),
        ("ru", "«Запад лжёт», — заявил Лавров журналистам.",
         {"Запад": ("target", "Russia", "Лавров"), "Лавров": ("speaker", "Russia", "Лавров")}),
        # an institution as the place of speech: "как заявили в Кремле"
        ("ru", "Как заявили в Пентагоне, Китай наращивает ядерный арсенал.",
         {"Пентагоне": ("speaker", "West", "в Пентагоне"), "Китай": ("target", "West", "в Пентагоне")}),
        ("ru", "Запад, как сообщили в МИД Китая, нарушает договорённости.",
         {"Китая": ("speaker", "China", "в МИД Китая"), "Запад": ("target", "China", "в МИД Китая")}),
        ("zh", "美国国务卿布林肯本周末与王毅会面后警告称，中国正考虑向俄罗斯提供武器。",
         {"美国": ("speaker", "West", "美国国务卿布林肯"), "布林肯": ("speaker", "West", "美国国务卿布林肯"),
          "王毅": ("target", "narrator", "narrator"), "中国": ("target", "West", "美国国务卿布林肯"),
          "俄罗斯": ("target", "West", "美国国务卿布林肯")}),
        # a speaker who is no actor keeps its words and an empty actor
        ("en", '"Moscow has lost the initiative," said Michael Kofman, an analyst at CNA.',
         {"Moscow": ("target", "-", "Michael Kofman")}),
        # no cue, no quotation: the narrator
        ("fr", "Moscou a accueilli mardi une délégation chinoise.",
         {"Moscou": ("target", "narrator", "narrator"), "chinoise": ("target", "narrator", "narrator")}),
        # a negated judgement is the narrator's framing, a promise is no judgement
        ("en", "Beijing has not condemned the invasion ordered by Putin.",
         {"Beijing": ("target", "narrator", "narrator"), "Putin": ("target", "narrator", "narrator")}),
        ("fr", "Poutine et Xi ont promis de renforcer les liens malgré les sanctions occidentales.",
         {"Poutine": ("target", "narrator", "narrator"), "Xi": ("target", "narrator", "narrator"),
          "occidentales": ("target", "narrator", "narrator")}),
    ],
)
def test_holder_of_each_construction(lang, text, expected):
    assert voices_of(text, lang=lang) == expected


def test_an_aside_inside_reported_speech_is_the_narrators():
    found = voices_of("Patrushev a déclaré que la Russie soutiendrait la Chine à Taïwan – l'île que Pékin revendique – "
                      "contre l'Occident.")
    assert found["Chine"][1] == found["Occident"][1] == "Russia"
    assert found["Pékin"] == ("target", "narrator", "narrator")


# --------------------------------------------------------------------------- pronouns and bad input


def test_a_pronoun_speaker_is_the_nearest_named_one():
    # a holder named earlier in the paragraph
    assert voices_of("Lavrov a accusé l'OTAN. Il a ajouté que l'UE suivait Washington.")["UE"][1] == "Russia"
    # no speaker before it: the first mention of the sentence before (its likely subject)
    assert voices_of("Le chef de l'OTAN s'est rendu à Kiev. Il a dénoncé l'armée russe.")["russe"][1] == "West"
    # a speaker of an earlier paragraph of the same document
    found = voices_of("Wang Yi a déclaré que rien ne changerait.", "Il a ajouté que la Russie était une amie.")
    assert found["Russie"] == ("target", "China", "Wang Yi")


def test_a_pronoun_without_anyone_to_stand_for_stays_with_the_narrator():
    assert voices_of("Il a déclaré que la Russie mentait.")["Russie"] == ("target", "narrator", "narrator")


def test_a_quotation_spanning_paragraphs_keeps_its_speaker():
    """English convention: an unclosed quotation goes on in the next paragraph, opened again."""
    found = voices_of('Lavrov said: "Our patience is not endless.', '"NATO will answer for every provocation."',
                      lang="en")
    assert found["NATO"] == ("target", "Russia", "Lavrov")


@pytest.mark.parametrize(
    ("text", "surface", "expected"),
    [
        # unbalanced: an opening mark never closed runs to the paragraph's end, inside the speaker's words
        ("Lavrov a déclaré : « L'OTAN ment et la Russie répondra.", "OTAN", "Russia"),
        # a stray closing mark closes a quotation begun at its sentence's start (the seed's "Chine”.")
        ("Lavrov a déclaré que l'Occident mentait. Chine ».", "Chine", "Russia"),
        # nested quotations belong to the outer speaker
        ("« Ils parlent d'une “menace chinoise” », a déclaré Lavrov.", "chinoise", "Russia"),
        # a scare quote inside the narrator's sentence is the narrator's
        ("La Chine a salué un partenariat « sans limites » avec Moscou.", "Moscou", "China"),
        ("Le partenariat « sans limites » entre Pékin et Moscou inquiète.", "Moscou", "narrator"),
    ],
)
def test_bad_and_odd_quotation_marks(text, surface, expected):
    assert voices_of(text)[surface][1] == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from([
            "«", "»", "“", "”", "„", '"', "'", "’", "「", "」", "(", ")", " – ", "—", ", ", ". ", ": ", " ", "\n",
            "a déclaré", "selon", "il", "Lavrov", "Pékin", "said", "he", "according to", "China", "sagte", "laut",
            "Russland", "dijo", "según", "заявил", "по словам", "Россия", "表示", "据", "中国", "他", "称", "que",
            "that", "accusé", "warned", "les diplomates occidentaux sont sceptiques", "a-t-il ajouté", "西方", "对",
        ]),
        max_size=40,
    ).map("".join),
    st.sampled_from(["fr", "en", "de", "es", "ru", "zh", "it", None]),
)
def test_any_text_gives_holders_inside_the_paragraph(text, lang):
    m = find_mentions(paras(text, "« " + text, lang=lang))
    for r in m.itertuples(index=False):
        assert isinstance(r.holder, str) and r.holder
        if pd.notna(r.holder_start):
            assert 0 <= r.holder_start <= r.holder_end <= len(text) + 2
        else:
            assert pd.isna(r.holder_end)
