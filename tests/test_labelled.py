"""Labelled sets (analysis.labelled) and ``analysis evaluate rusentne / labels``: readers, metrics
(incl. macro_f1_pn) checked by hand, and bad files failing with the line named before any model loads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.cli import main
from analysis.errors import InputError
from analysis.evaluation import classification_report
from analysis.labelled import read_labels, read_newsmtsc, read_rusentne

RUSENTNE_HEADER = "sentence\tentity\tentity_tag\tentity_pos_start_rel\tentity_pos_end_rel\tlabel\n"


class _WordReader:
    """A stand-in classifier: positive when the sentence says "praised", negative for "blamed", else neutral."""

    model_id = "stub:words"

    def predict_proba(self, sentences, spans):
        def row(sentence):
            if "praised" in sentence:
                return [0.1, 0.2, 0.7]
            if "blamed" in sentence:
                return [0.7, 0.2, 0.1]
            return [0.2, 0.6, 0.2]

        return np.array([row(s) for s in sentences])


@pytest.fixture
def stub_model(monkeypatch):
    """``analysis evaluate`` gets :class:`_WordReader` whatever ``--model`` says."""
    import analysis.classifiers as classifiers

    monkeypatch.setattr(classifiers, "load_classifier", lambda *a, **k: _WordReader())


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: bad input must stop ``analysis evaluate`` first."""
    import analysis.classifiers as classifiers

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded for a bad file")

    monkeypatch.setattr(classifiers, "load_classifier", refuse)


def _evaluate(kind, path, capsys):
    status = main(["evaluate", kind, str(path)])
    captured = capsys.readouterr()
    return status, captured.out.strip().splitlines()[-1] if captured.out.strip() else "", captured.err


# --------------------------------------------------------------------------- metrics
def test_macro_f1_pn_averages_the_polar_classes_only():
    # gold: neg neg neu neu pos pos; predicted: neg neu neu pos pos pos
    report = classification_report([0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 2])
    # F1 negative = 2*1/(1+2) = 2/3; neutral = 2*1/(2+2) = 1/2; positive = 2*2/(3+2) = 4/5
    assert report["f1"] == {"negative": 0.6667, "neutral": 0.5, "positive": 0.8}
    assert report["macro_f1"] == round((2 / 3 + 1 / 2 + 4 / 5) / 3, 4)
    assert report["macro_f1_pn"] == round((2 / 3 + 4 / 5) / 2, 4)
    assert report["accuracy"] == round(4 / 6, 4) and report["n"] == 6


# --------------------------------------------------------------------------- RuSentNE
def _rusentne(path, rows, header=RUSENTNE_HEADER):
    path.write_text(header + "".join("\t".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_read_rusentne_groups_a_sentence_and_decodes_quoted_cells(tmp_path):
    first = "Депутаты praised Иванова, а Петрова blamed."
    quoted = 'Клуб ""Тамбов"" praised.'  # as written CSV-quoted: the offsets count the decoded text
    path = _rusentne(tmp_path / "ru.csv", [
        (first, "Иванова", "PERSON", 17, 24, 1),
        ("Другое предложение.", "предложение", "PROFESSION", 7, 18, 0),
        (first, "Петрова", "PERSON", 28, 35, -1),
        (f'"{quoted}"', '"""Тамбов"""', "ORGANIZATION", 5, 13, 0),
    ])
    table = read_rusentne(path)
    assert table["label"].tolist() == [2, 1, 0, 1]
    assert table["sentence_index"].tolist() == [0, 1, 0, 3], "a recurring sentence keeps its first row's index"
    assert table.loc[3, "sentence"] == 'Клуб "Тамбов" praised.' and table.loc[3, "mention"] == '"Тамбов"'
    assert (table["lang"] == "ru").all()
    for row in table.itertuples():
        assert row.sentence[row.start : row.end] == row.mention


def test_evaluate_rusentne_reports_hand_computed_figures(tmp_path, capsys, stub_model):
    path = _rusentne(tmp_path / "ru.csv", [
        ("Иванова praised.", "Иванова", "PERSON", 0, 7, 1),  # right: positive
        ("Петрова blamed.", "Петрова", "PERSON", 0, 7, -1),  # right: negative
        ("Сидорова blamed.", "Сидорова", "PERSON", 0, 8, 0),  # neutral read as negative
        ("Козлова ушла.", "Козлова", "PERSON", 0, 7, 0),  # right: neutral
        ("Орлова ушла.", "Орлова", "PERSON", 0, 6, 1),  # positive read as neutral
    ])
    status, last, _ = _evaluate("rusentne", path, capsys)
    assert status == 0
    report = json.loads(last)
    # negative: tp 1, predicted 2, gold 1 -> 2/3; neutral: tp 1, predicted 2, gold 2 -> 1/2; positive: tp 1, 1, 2 -> 2/3
    assert report["f1"] == {"negative": 0.6667, "neutral": 0.5, "positive": 0.6667}
    assert report["macro_f1"] == round((2 / 3 + 1 / 2 + 2 / 3) / 3, 4)
    assert report["macro_f1_pn"] == 0.6667
    assert report["accuracy"] == 0.6 and report["n"] == 5
    assert report["file"] == "ru.csv" and report["model"] == "stub:words"
    assert "by_lang" not in report


@pytest.mark.parametrize(
    "rows, header, message",
    [
        ([("Иванова ушла.", "Иванова", "PERSON", 0, 7, 1)], "sentence\tentity\tlabel\n",
         r"ru\.csv: missing columns entity_pos_start_rel, entity_pos_end_rel"),
        ([("Иванова ушла.", "Иванова", "PERSON", 0, 7, 1), ("Петрова ушла.", "Петрова", "PERSON", 0, 40, 0)],
         RUSENTNE_HEADER, r"ru\.csv, line 3: offsets 0-40 are outside the sentence"),
        ([("Иванова ушла.", "Иванова", "PERSON", 0, 7, 2)], RUSENTNE_HEADER, r"ru\.csv, line 2: unknown label '2'"),
        ([("Иванова ушла.", "Петрова", "PERSON", 0, 7, 0)], RUSENTNE_HEADER,
         r"ru\.csv, line 2: entity 'Петрова' is not at characters 0-7"),
        ([("Иванова ушла.", "Иванова", "PERSON", "x", 7, 0)], RUSENTNE_HEADER,
         r"ru\.csv, line 2: offsets must be whole numbers"),
        ([("Иванова ушла.", "Иванова", "PERSON", 0, 7)], RUSENTNE_HEADER, r"ru\.csv, line 2: 5 tab-separated fields"),
    ],
    ids=["missing-columns", "offsets-outside", "unknown-label", "entity-not-at-offsets", "bad-offset", "short-line"],
)
def test_evaluate_rusentne_bad_file_exits_2_naming_the_line(tmp_path, capsys, no_model, rows, header, message):
    path = _rusentne(tmp_path / "ru.csv", rows, header)
    with pytest.raises(InputError, match=message):
        read_rusentne(path)
    status, last, err = _evaluate("rusentne", path, capsys)
    assert status == 2 and last == ""
    assert err.startswith("error: ") and path.name in err


def test_read_rusentne_reads_the_shared_train_file():
    from analysis.training.config import DEFAULT_RUSENTNE

    if not DEFAULT_RUSENTNE.is_file():
        pytest.skip(f"RuSentNE not found at {DEFAULT_RUSENTNE} (../shared absent)")
    table = read_rusentne(DEFAULT_RUSENTNE)
    assert len(table) == 6637 and table["sentence_index"].nunique() == 3716
    assert all(s[a:b] == m for s, a, b, m in zip(table["sentence"], table["start"], table["end"], table["mention"]))
    assert table["label"].value_counts().to_dict() == {1: 4774, 0: 1007, 2: 856}


# --------------------------------------------------------------------------- a user's labelled CSV
def test_evaluate_labels_by_target_or_offsets_with_languages(tmp_path, capsys, stub_model):
    path = tmp_path / "mine.csv"
    path.write_text(
        "sentence,target,label,lang\n"
        "Oslo praised Lima.,Lima,positive,en\n"  # right
        "Oslo blamed Lima.,Oslo,neutral,en\n"  # neutral read as negative
        "Quito a blamed Accra.,Accra,-1,fr\n"  # right
        "Rome est partie.,Rome,0,fr\n",  # right
        encoding="utf-8",
    )
    table = read_labels(path)
    assert table[["start", "end"]].values.tolist() == [[13, 17], [0, 4], [15, 20], [0, 4]]
    status, last, _ = _evaluate("labels", path, capsys)
    assert status == 0
    report = json.loads(last)
    # negative: tp 1, predicted 2, gold 1 -> 2/3; neutral: tp 1, 1, 2 -> 2/3; positive: 1, 1, 1 -> 1
    assert report["f1"] == {"negative": 0.6667, "neutral": 0.6667, "positive": 1.0}
    assert report["macro_f1"] == round((2 / 3 + 2 / 3 + 1) / 3, 4)
    assert report["macro_f1_pn"] == round((2 / 3 + 1) / 2, 4)
    assert report["accuracy"] == 0.75 and report["n"] == 4
    assert report["by_lang"]["fr"]["accuracy"] == 1.0 and report["by_lang"]["en"]["accuracy"] == 0.5

    offsets = tmp_path / "offsets.csv"
    offsets.write_text("sentence,start,end,label\nLima met Lima.,9,13,neutral\nOslo praised Lima.,13,17,POSITIVE\n")
    table = read_labels(offsets)
    assert table["mention"].tolist() == ["Lima", "Lima"] and table["start"].tolist() == [9, 13]
    assert table["label"].tolist() == [1, 2] and (table["lang"] == "und").all()


@pytest.mark.parametrize(
    "text, message",
    [
        ("sentence,label\nOslo left.,neutral\n",
         r"mine\.csv: missing columns target .*sentence, label and either target or start, end"),
        ("sentence,target,label\nOslo left.,Oslo,neutral\nLima left.,Quito,neutral\n",
         r"mine\.csv, line 3: target 'Quito' is not in the sentence"),
        ("sentence,start,end,label\nOslo left.,0,4,neutral\nLima left.,5,30,neutral\n",
         r"mine\.csv, line 3: offsets 5-30 are outside the sentence"),
        ("sentence,start,end,label\nOslo left.,4,0,neutral\n", r"mine\.csv, line 2: offsets 4-0 are outside"),
        ("sentence,target,label\nOslo left.,Oslo,neutral\nLima left.,Lima,good\n",
         r"mine\.csv, line 3: unknown label 'good'; expected negative, neutral, positive or -1, 0, 1"),
        ("sentence,target,start,end,label\nOslo left.,Lima,0,4,neutral\n",
         r"mine\.csv, line 2: target 'Lima' is not at characters 0-4"),
        ("sentence,target,label\n,Oslo,neutral\n", r"mine\.csv, line 2: empty sentence"),
    ],
    ids=["missing-columns", "target-absent", "offsets-outside", "offsets-reversed", "unknown-label",
         "target-not-at-offsets", "empty-sentence"],
)
def test_evaluate_labels_bad_file_exits_2_naming_the_line(tmp_path, capsys, no_model, text, message):
    path = tmp_path / "mine.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_labels(path)
    status, last, err = _evaluate("labels", path, capsys)
    assert status == 2 and last == ""
    assert err.startswith("error: ") and "mine.csv" in err


# --------------------------------------------------------------------------- NewsMTSC
def test_read_newsmtsc_keeps_language_and_gid_and_checks_offsets(tmp_path):
    path = tmp_path / "fr-dev.jsonl"
    record = {"primary_gid": "g1", "lang": "fr", "sentence_normalized": "Oslo a salué Lima.",
              "targets": [{"from": 13, "to": 17, "mention": "Lima", "polarity": 6.0}]}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    table = read_newsmtsc(path)
    assert table.loc[0, ["lang", "gid", "mention", "label"]].tolist() == ["fr", "g1", "Lima", 2]
    record["targets"][0]["to"] = 40
    path.write_text("\n" + json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"fr-dev\.jsonl, line 2: offsets 13-40 are outside"):
        read_newsmtsc(path)
    record["targets"][0].update(to=17, polarity=5.0)
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 1: unknown polarity 5\.0"):
        read_newsmtsc(path)


def test_evaluate_newsmtsc_on_a_translated_dev_file_reports_macro_f1_pn(capsys, stub_model):
    from analysis.paths import DATA_DIR

    path = DATA_DIR / "newsmtsc-translated" / "de-dev.jsonl"
    status, last, _ = _evaluate("newsmtsc", path, capsys)
    assert status == 0
    report = json.loads(last)
    assert report["n"] == len(read_newsmtsc(path)) and report["file"] == "de-dev.jsonl"
    assert report["macro_f1_pn"] == round((report["f1"]["negative"] + report["f1"]["positive"]) / 2, 4)
