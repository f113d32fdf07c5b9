"""Annotation sheets: stratified allocation, seeded draws, marked text, CSV/XLSX files, bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.errors import InputError
from analysis.sampling import SHEET_COLUMNS, annotation_sheet, write_annotation_sheet

# pairs per (lang, actor) stratum of the synthetic corpus
SIZES = {("fr", "Russia"): 30, ("fr", "China"): 5, ("en", "Russia"): 10, ("en", "China"): 20}


def corpus(sizes=SIZES):
    """One document per stratum, one paragraph per pair: "P<i> mentions <actor>." with one mention."""
    paragraphs, mentions = [], []
    for (lang, actor), size in sizes.items():
        doc = f"{lang}-{actor}"
        for i in range(size):
            text = f"P{i} mentions {actor}."
            start = text.index(actor)
            paragraphs.append(dict(doc_id=doc, para_id=i, text=text, is_title=False, lang=lang, source="x"))
            mentions.append(dict(doc_id=doc, para_id=i, actor=actor, surface=actor, start=start,
                                 end=start + len(actor), sentence_id=0, sentence=text, sentence_start=0))
    return pd.DataFrame(paragraphs), pd.DataFrame(mentions)


def counts(sheet):
    return sheet.groupby(["lang", "actor"]).size().to_dict()


def test_equal_allocation_gives_each_stratum_the_same_number():
    sheet = annotation_sheet(*corpus(), n=20)
    assert counts(sheet) == {key: 5 for key in SIZES}
    assert sheet["item_id"].tolist() == list(range(1, 21))
    assert list(sheet.columns) == ["item_id", "doc_id", "para_id", "actor", "lang", "text", "stance", "coder", "note"]
    assert sheet[["stance", "coder", "note"]].isna().all().all()
    assert not sheet.duplicated(["doc_id", "para_id", "actor"]).any()


def test_a_small_stratum_is_taken_whole_and_the_rest_shared():
    sheet = annotation_sheet(*corpus(), n=22)
    got = counts(sheet)
    assert got[("fr", "China")] == 5  # all it has
    assert sorted(got[k] for k in SIZES if k != ("fr", "China")) == [5, 6, 6]
    assert len(sheet) == 22


def test_proportional_allocation_mirrors_the_corpus():
    sheet = annotation_sheet(*corpus(), n=13, allocation="proportional")
    assert counts(sheet) == {("fr", "Russia"): 6, ("fr", "China"): 1, ("en", "Russia"): 2, ("en", "China"): 4}


def test_stratify_by_one_column_or_none():
    by_actor = annotation_sheet(*corpus(), n=10, by="actor")
    assert by_actor.groupby("actor").size().to_dict() == {"China": 5, "Russia": 5}
    assert "lang" in by_actor.columns  # kept for per-language validation
    simple = annotation_sheet(*corpus(), n=10, by=None)
    assert len(simple) == 10


def test_more_pairs_asked_than_exist_gives_all_pairs():
    sheet = annotation_sheet(*corpus(), n=1000)
    assert len(sheet) == sum(SIZES.values())


def test_same_seed_same_sheet_other_seed_other_sheet():
    paragraphs, mentions = corpus()
    first = annotation_sheet(paragraphs, mentions, n=20, random_state=7)
    again = annotation_sheet(paragraphs.sample(frac=1, random_state=1), mentions.sample(frac=1, random_state=2),
                             n=20, random_state=7)
    pd.testing.assert_frame_equal(first, again)  # input order does not matter either
    other = annotation_sheet(paragraphs, mentions, n=20, random_state=8)
    assert set(zip(first["doc_id"], first["para_id"])) != set(zip(other["doc_id"], other["para_id"]))


def test_a_stratum_draws_the_same_pairs_when_another_stratum_goes():
    full = annotation_sheet(*corpus(), n=20)
    fewer = annotation_sheet(*corpus({k: v for k, v in SIZES.items() if k != ("en", "China")}), n=15)
    for key in (("fr", "Russia"), ("en", "Russia")):
        pick = lambda s: sorted(s.loc[(s["lang"] == key[0]) & (s["actor"] == key[1]), "para_id"])
        assert pick(full) == pick(fewer)


def seed_like():
    """One paragraph of two sentences: Russia twice (one per sentence), China once."""
    text = "Moscou a parlé. Puis Pékin a répondu à Moscou. Fin."
    first, second = "Moscou a parlé.", "Puis Pékin a répondu à Moscou."
    second_start = text.index(second)
    paragraphs = pd.DataFrame([dict(doc_id="d", para_id=1, text=text, is_title=False, lang="fr", source="x")])
    rows = []
    for actor, surface, start in (("Russia", "Moscou", 0), ("China", "Pékin", text.index("Pékin")),
                                  ("Russia", "Moscou", text.rindex("Moscou"))):
        in_first = start < len(first)
        rows.append(dict(doc_id="d", para_id=1, actor=actor, surface=surface, start=start, end=start + len(surface),
                         sentence_id=0 if in_first else 1, sentence=first if in_first else second,
                         sentence_start=0 if in_first else second_start))
    return paragraphs, pd.DataFrame(rows)


def test_text_marks_the_actors_mentions():
    sheet = annotation_sheet(*seed_like(), n=5).set_index("actor")
    assert sheet.loc["Russia", "text"] == "[[Moscou]] a parlé. Puis Pékin a répondu à [[Moscou]]. Fin."
    assert sheet.loc["China", "text"] == "Moscou a parlé. Puis [[Pékin]] a répondu à Moscou. Fin."
    sentences = annotation_sheet(*seed_like(), n=5, text="sentences").set_index("actor")
    assert sentences.loc["Russia", "text"] == "[[Moscou]] a parlé. … Puis Pékin a répondu à [[Moscou]]."
    assert sentences.loc["China", "text"] == "Puis [[Pékin]] a répondu à Moscou."


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n=0), "n must be a positive whole number"),
        (dict(n="5"), "n must be a positive whole number"),
        (dict(n=True), "n must be a positive whole number"),
        (dict(by=["lang", "outlet"]), "cannot stratify by outlet"),
        (dict(text="words"), "text must be one of paragraph, sentences"),
        (dict(allocation="optimal"), "allocation must be one of equal, proportional"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        annotation_sheet(*corpus(), **kwargs)


def test_bad_tables_are_refused():
    paragraphs, mentions = corpus()
    with pytest.raises(InputError, match="no actor is mentioned"):
        annotation_sheet(paragraphs, mentions.iloc[:0])
    with pytest.raises(InputError, match="mentions table is missing column.*sentence"):
        annotation_sheet(paragraphs, mentions.drop(columns="sentence"))
    with pytest.raises(InputError, match=r"not in the paragraphs table \(first: doc_id 'fr-China'"):
        annotation_sheet(paragraphs[paragraphs["doc_id"] != "fr-China"], mentions)


def test_csv_and_xlsx_with_validation_and_instructions(tmp_path):
    sheet = annotation_sheet(*seed_like(), n=5)
    sheet.loc[0, "text"] = "=1+1 is not a formula"
    written = write_annotation_sheet(sheet, tmp_path / "sheet.csv")
    assert written == [tmp_path / "sheet.csv", tmp_path / "sheet.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.csv", "sheet.xlsx"]  # no temporary file left
    back = pd.read_csv(tmp_path / "sheet.csv")
    assert list(back.columns) == list(sheet.columns) and len(back) == 2
    book = load_workbook(tmp_path / "sheet.xlsx", rich_text=True)
    assert book.sheetnames == ["annotation", "instructions"]
    ws = book["annotation"]
    assert [c.value for c in ws[1]] == list(sheet.columns)
    (check,) = ws.data_validations.dataValidation
    assert check.type == "list" and check.formula1 == '"-1,0,1"' and check.allow_blank
    stance_col = "ABCDEFGHIJ"[list(sheet.columns).index("stance")]
    assert str(check.sqref) == f"{stance_col}2:{stance_col}3"
    text_col = list(sheet.columns).index("text")
    assert ws.cell(row=2, column=text_col + 1).data_type == "s"  # "=1+1" stays text
    marked = ws.cell(row=3, column=text_col + 1).value
    assert any(getattr(part, "font", None) is not None and part.font.b for part in marked)
    assert "[[" in str(marked)
    assert "stance" in " ".join(str(c.value) for c in book["instructions"]["A"])


def test_xlsx_alone_and_no_copy(tmp_path):
    sheet = annotation_sheet(*seed_like(), n=5)
    assert write_annotation_sheet(sheet, tmp_path / "s.xlsx") == [tmp_path / "s.xlsx"]
    assert write_annotation_sheet(sheet, tmp_path / "t.jsonl", xlsx=False) == [tmp_path / "t.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.xlsx", "t.jsonl"]
    with pytest.raises(InputError, match="unknown sheet format '.txt'"):
        write_annotation_sheet(sheet, tmp_path / "s.txt")
    with pytest.raises(InputError, match="annotation sheet is missing column"):
        write_annotation_sheet(sheet.drop(columns="coder"), tmp_path / "u.csv")


def test_a_failed_write_leaves_neither_file(tmp_path, monkeypatch):
    import analysis.sampling as sampling

    def broken(table, path):
        raise OSError("disk full")

    monkeypatch.setattr(sampling, "atomic_write_table", broken)
    with pytest.raises(OSError):
        write_annotation_sheet(annotation_sheet(*seed_like(), n=5), tmp_path / "sheet.csv")
    assert list(tmp_path.iterdir()) == []


def test_sheet_columns_constant_matches_the_sheet():
    sheet = annotation_sheet(*seed_like(), n=5, by=None)
    assert tuple(sheet.columns) == SHEET_COLUMNS[:4] + ("lang",) + SHEET_COLUMNS[4:]
