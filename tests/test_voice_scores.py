"""score_voices, aggregates by holder, the narrator / all-voices contrast and the `analysis voices` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_classifiers_base import FakeClassifier

from analysis import aggregate_corpus, aggregate_documents, find_mentions, score_stance, score_voices
from analysis.cli import main
from analysis.errors import InputError
from analysis.schema import VOICES
from analysis.speakers import voice_of
from analysis.voice_scores import describe_voice_contrast, voice_contrast


@pytest.fixture
def paragraphs():
    return pd.DataFrame({
        "doc_id": ["a", "a", "a", "b"], "para_id": [1, 2, 3, 1], "lang": "en", "outlet": ["x", "x", "x", "y"],
        "text": [
            "Western diplomats said that China bad.",
            '"Russia good and the West bad for sure," the Kremlin said. Moscow good.',
            '"China bad," said an analyst at CNA.',
            "According to Moscow, the West bad and Beijing good.",
        ],
    })


@pytest.fixture
def voices(paragraphs):
    return score_voices(paragraphs, find_mentions(paragraphs), FakeClassifier(), cache=False, progress=False)


def test_voices_table(voices):
    assert list(voices.columns) == [*VOICES, "lang", "outlet"]
    rows = {(r.doc_id, r.para_id, r.holder, r.holder_actor, r.target_actor): r for r in voices.itertuples()}
    assert set(rows) == {
        ("a", 1, "narrator", "", "West"),  # the diplomats only speak: neutral, in the narrator's voice
        ("a", 1, "Western diplomats", "West", "China"),
        ("a", 2, "narrator", "", "Russia"),  # Moscow in the outlet's own sentence
        ("a", 2, "the Kremlin", "Russia", "Russia"),
        ("a", 2, "the Kremlin", "Russia", "West"),
        ("a", 3, "an analyst", "", "China"),  # a source that is no actor
        ("b", 1, "narrator", "", "Russia"),
        ("b", 1, "Moscow", "Russia", "China"),  # "according to Moscow" holds the sentence
        ("b", 1, "Moscow", "Russia", "West"),
    }
    assert rows[("a", 1, "narrator", "", "West")].n_mentions == 0
    assert rows[("a", 2, "the Kremlin", "Russia", "West")].label == "against"
    assert rows[("a", 2, "the Kremlin", "Russia", "Russia")].label == "favor"
    assert (voices.outlet == voices.doc_id.map({"a": "x", "b": "y"})).all()
    np.testing.assert_allclose(voices.score, voices.p_favor - voices.p_against)


def test_narrator_rows_are_the_narrator_reading(paragraphs, voices):
    narrator = score_stance(paragraphs, find_mentions(paragraphs), FakeClassifier(), voice="narrator", cache=False,
                            progress=False)
    mine = voices[voices.holder == "narrator"].rename(columns={"target_actor": "actor"})
    pd.testing.assert_frame_equal(mine[list(narrator.columns)].reset_index(drop=True), narrator)


def test_voices_need_holder_columns(make_mentions):
    old = make_mentions({("a", 1): [("China bad.", [("China", "China")])]})
    with pytest.raises(InputError, match="holder_start"):
        score_voices(None, old, FakeClassifier())


def test_empty_mentions_give_an_empty_voices_table(paragraphs):
    out = score_voices(paragraphs, find_mentions(paragraphs).iloc[:0], FakeClassifier())
    assert list(out.columns) == [*VOICES, "lang", "outlet"] and out.empty


def test_aggregates_group_by_holder(voices):
    assert list(voice_of(voices).unique()) == ["narrator", "West", "Russia", "other sources"]
    docs = aggregate_documents(voices)
    assert list(docs.columns[:3]) == ["doc_id", "holder_actor", "target_actor"]
    assert ("a", "other sources", "China") in set(zip(docs.doc_id, docs.holder_actor, docs.target_actor))
    corpus = aggregate_corpus(voices, by="outlet")
    kremlin = corpus[(corpus.holder_actor == "Russia") & (corpus.target_actor == "West")]
    assert kremlin.n_paragraphs.tolist() == [1, 1] and kremlin.outlet.tolist() == ["x", "y"]


def test_contrast_in_words(paragraphs, voices):
    stance = score_stance(paragraphs, find_mentions(paragraphs), FakeClassifier(), cache=False, progress=False)
    contrast = voice_contrast(stance, voices).set_index("actor")
    assert contrast.loc["West", "n_all"] == 3 and contrast.loc["West", "n_narrator"] == 1
    assert contrast.loc["West", "narrator"] == 0.0 and contrast.loc["West", "difference"] < 0
    lines = dict(line.split("**")[1:3] for line in describe_voice_contrast(contrast.reset_index()).splitlines())
    assert "harsher" in lines["West"]  # the West is judged "bad" only by the Kremlin and Moscow
    assert "never judges it in its own words" in lines["China"]  # China: only quoted and reported words
    only_quoted = contrast.reset_index().assign(narrator=np.nan, n_narrator=0)
    assert describe_voice_contrast(only_quoted).count("never judges it in its own words") == len(only_quoted)


def test_voices_command(tmp_path, capsys):
    article = tmp_path / "a1.txt"
    article.write_text("Title\n\nLavrov said that NATO was lying.\n\nMoscow hosted talks.\n", encoding="utf-8")
    out = tmp_path / "voices.csv"
    assert main(["voices", str(article), "--out", str(out), "--no-cache"]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == [*VOICES, "lang"]
    lavrov = table[table.holder == "Lavrov"]
    assert lavrov.target_actor.tolist() == ["West"] and lavrov.holder_actor.tolist() == ["Russia"]
    assert "wrote" in capsys.readouterr().err
    assert main(["voices", str(article), "--out", str(tmp_path / "v.txt")]) == 2  # bad suffix: nothing done
    assert not (tmp_path / "v.txt").exists()


def test_evaluate_voices_refuses_a_bad_set(tmp_path, capsys):
    bad = tmp_path / "set.csv"
    bad.write_text("id,lang,kind,text,target,role,holder_actor,sign\n1,en,x,Russia lies.,China,target,narrator,-1\n",
                   encoding="utf-8")
    assert main(["evaluate", "voices", str(bad)]) == 2
    assert "not in the text" in capsys.readouterr().err


def test_score_command_by_voice(tmp_path):
    article = tmp_path / "a1.txt"
    article.write_text("Title\n\nLavrov said that NATO was lying.\n\nMoscow hosted talks.\n", encoding="utf-8")
    tables = {}
    for voice in ("all", "narrator", "sources"):
        out = tmp_path / f"{voice}.csv"
        assert main(["score", str(article), "--voice", voice, "--out", str(out), "--no-cache"]) == 0
        table = pd.read_csv(out)
        tables[voice] = set(zip(table.para_id, table.actor, table.n_mentions))
    assert tables["sources"] == {(1, "West", 1)}
    assert tables["narrator"] == {(1, "Russia", 0), (2, "Russia", 1)}  # Lavrov only speaks: neutral, mentioned
    assert tables["all"] == tables["sources"] | tables["narrator"]


def test_a_mentions_file_read_back_gives_the_same_voices(paragraphs, voices, tmp_path):
    from analysis.io import atomic_write_table, read_table

    path = tmp_path / "mentions.csv"
    atomic_write_table(find_mentions(paragraphs), path)
    again = score_voices(paragraphs, read_table(path), FakeClassifier(), cache=False, progress=False)
    pd.testing.assert_frame_equal(again, voices)
