"""read_articles: every input kind, normalisation, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import InputError, read_articles
from analysis.corpus import detect_language, split_paragraphs
from analysis.schema import PARAGRAPHS

FR_TITLE = "La Russie et la Chine renforcent leurs relations"
FR_BODY = [
    "Vladimir Poutine et Wang Yi ont promis de renforcer les liens entre leurs deux pays.",
    "Pékin a fourni une bouée de sauvetage économique à Moscou alors que les sanctions mordent.",
]
EN_TEXT = "Washington warned that Beijing was considering sending weapons to Moscow.\n\nThe talks ended without agreement."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def article(title: str, body: list[str], doc_id: str | None = None, nl: str = "\n") -> str:
    parts = [title, *body] + ([doc_id] if doc_id else [])
    return (nl + nl).join(parts) + nl


# --- the seed article ----------------------------------------------------------------


def test_seed_has_title_and_13_body_paragraphs(seed_path):
    df = read_articles(seed_path)
    assert list(df.columns) == list(PARAGRAPHS)
    assert len(df) == 14
    assert df["para_id"].tolist() == list(range(14))
    assert set(df["doc_id"]) == {"ttn-fr-56"}
    assert set(df["lang"]) == {"fr"}
    assert df["is_title"].tolist() == [True] + [False] * 13
    assert df.loc[0, "text"].startswith("La Russie et la Chine s’engagent")
    assert df.loc[13, "text"].startswith("Xi a rencontré Poutine")
    assert "ttn-fr-56" not in " ".join(df["text"])  # the id line is not a paragraph
    assert df["para_id"].dtype == "int64" and df["is_title"].dtype == bool


def test_seed_text_is_byte_faithful(seed_path):
    raw = seed_path.read_text(encoding="utf-8")
    df = read_articles(seed_path)
    for text in df["text"]:
        assert text in raw  # quotes, apostrophes, accents untouched
    assert "“pression” internationale" in df.loc[0, "text"]


def test_seed_matches_the_shared_copy(seed_path):
    shared = seed_path.parents[2] / "shared" / "seed" / "ttn-fr-56.txt"
    if not shared.is_file():
        pytest.skip(f"{shared} not present")
    assert seed_path.read_bytes() == shared.read_bytes()


def test_source_is_kept_as_given_relative(seed_path, monkeypatch):
    monkeypatch.chdir(seed_path.parents[1])
    df = read_articles("data/ttn-fr-56.txt")
    assert set(df["source"]) == {"data/ttn-fr-56.txt"}


# --- text files ----------------------------------------------------------------------


def test_doc_id_from_stem_when_no_id_line(tmp_path):
    path = write(tmp_path / "kyiv-report.txt", article(FR_TITLE, FR_BODY))
    df = read_articles(path)
    assert df["doc_id"].tolist() == ["kyiv-report"] * 3
    assert df["text"].tolist() == [FR_TITLE, *FR_BODY]


def test_last_word_without_digit_is_a_paragraph_not_an_id(tmp_path):
    path = write(tmp_path / "a.txt", article(FR_TITLE, [*FR_BODY, "Fin"]))
    df = read_articles(path)
    assert df["doc_id"].unique().tolist() == ["a"]
    assert df["text"].iloc[-1] == "Fin"


def test_title_line_followed_directly_by_body(tmp_path):
    path = write(tmp_path / "a.txt", FR_TITLE + "\n" + FR_BODY[0] + "\n\n" + FR_BODY[1] + "\n")
    df = read_articles(path)
    assert df["text"].tolist() == [FR_TITLE, *FR_BODY]


def test_crlf_bom_and_stray_whitespace(tmp_path):
    body = "  \t" + FR_BODY[0] + "   \r\n" + "suite du paragraphe.  \r\n \t \r\n\r\n" + FR_BODY[1] + " "
    raw = b"\xef\xbb\xbf" + ("\r\n\r\n   " + FR_TITLE + "  \r\n\r\n" + body + "\r\n\r\n doc-7 \r\n\r\n").encode()
    df = read_articles(write(tmp_path / "crlf.txt", raw))
    assert df["doc_id"].unique().tolist() == ["doc-7"]
    assert df["text"].tolist() == [FR_TITLE, FR_BODY[0] + "\nsuite du paragraphe.", FR_BODY[1]]
    assert not any("\r" in t or "\ufeff" in t for t in df["text"])


def test_old_mac_line_endings(tmp_path):
    df = read_articles(write(tmp_path / "cr.txt", "\r\r".join([FR_TITLE, *FR_BODY])))
    assert df["text"].tolist() == [FR_TITLE, *FR_BODY]


def test_title_only_article_gives_one_row(tmp_path):
    df = read_articles(write(tmp_path / "t.txt", FR_TITLE + "\n"))
    assert len(df) == 1
    assert bool(df.loc[0, "is_title"]) and df.loc[0, "para_id"] == 0


def test_unicode_whitespace_and_non_latin_scripts(tmp_path):
    text = "Россия и Китай укрепляют связи\n\nПутин встретился с Ван И в Москве.\u00a0\n"
    df = read_articles(write(tmp_path / "ru.txt", text))
    assert df["text"].tolist() == ["Россия и Китай укрепляют связи", "Путин встретился с Ван И в Москве."]
    assert set(df["lang"]) == {"ru"}


# --- folders -------------------------------------------------------------------------


def test_folder_is_read_recursively_in_sorted_order(tmp_path, monkeypatch):
    write(tmp_path / "corpus" / "b.txt", article(FR_TITLE, FR_BODY, "fr-2"))
    write(tmp_path / "corpus" / "sub" / "deeper" / "a.txt", "Talks in Moscow\n\n" + EN_TEXT)
    write(tmp_path / "corpus" / "notes.md", "not an article")
    write(tmp_path / "corpus" / ".hidden" / "x.txt", "skipped\n\nhidden folder")
    monkeypatch.chdir(tmp_path)
    df = read_articles("corpus")
    assert df.groupby("doc_id", sort=False).size().to_dict() == {"fr-2": 3, "a": 3}
    assert df.drop_duplicates("doc_id")["source"].tolist() == ["corpus/b.txt", "corpus/sub/deeper/a.txt"]
    assert df.drop_duplicates("doc_id")["lang"].tolist() == ["fr", "en"]


def test_several_inputs_and_same_file_twice(tmp_path, seed_path):
    other = write(tmp_path / "en.txt", "Talks in Moscow\n\n" + EN_TEXT)
    df = read_articles([seed_path, tmp_path, seed_path])  # seed twice, folder holds en.txt
    assert df.groupby("doc_id", sort=False).size().to_dict() == {"ttn-fr-56": 14, "en": 3}
    assert str(other) in set(df["source"])


# --- tables --------------------------------------------------------------------------

ROWS = [
    {"doc_id": "a1", "title": FR_TITLE, "text": "\n\n".join(FR_BODY), "date": "2023-02-22", "outlet": "TTN"},
    {"doc_id": "b2", "title": "Talks in Moscow", "text": EN_TEXT, "date": "2023-02-23", "outlet": "Wire"},
]


def check_table(df: pd.DataFrame, source: str) -> None:
    assert list(df.columns) == [*PARAGRAPHS, "date", "outlet"]
    assert df["doc_id"].tolist() == ["a1"] * 3 + ["b2"] * 3
    assert df["para_id"].tolist() == [0, 1, 2, 0, 1, 2]
    assert df["is_title"].tolist() == [True, False, False] * 2
    assert df["text"].tolist()[:3] == [FR_TITLE, *FR_BODY]
    assert df["lang"].tolist() == ["fr"] * 3 + ["en"] * 3
    assert df["date"].tolist() == ["2023-02-22"] * 3 + ["2023-02-23"] * 3
    assert df["outlet"].tolist() == ["TTN"] * 3 + ["Wire"] * 3
    assert set(df["source"]) == {source}


def test_csv_table_with_title_and_metadata(tmp_path):
    path = tmp_path / "news.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    check_table(read_articles(path), str(path))


def test_jsonl_table_with_title_and_metadata(tmp_path):
    path = write(tmp_path / "news.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n")
    check_table(read_articles(path), str(path))


def test_parquet_table_with_title_and_metadata(tmp_path):
    path = tmp_path / "news.parquet"
    pd.DataFrame(ROWS).to_parquet(path, index=False)
    check_table(read_articles(path), str(path))


def test_table_without_title_or_doc_id(tmp_path):
    path = tmp_path / "bodies.csv"
    pd.DataFrame({"text": [EN_TEXT, FR_BODY[0]], "id_ext": ["007", "008"]}).to_csv(path, index=False)
    df = read_articles(path)
    assert df["doc_id"].tolist() == ["bodies-1", "bodies-1", "bodies-2"]
    assert df["para_id"].tolist() == [1, 2, 1]  # no title row without a title column
    assert not df["is_title"].any()
    assert df["id_ext"].tolist() == ["007", "007", "008"]  # CSV cells stay text


def test_table_lang_column_overrides_detection(tmp_path):
    path = write(tmp_path / "t.jsonl", json.dumps({"text": "OK.", "lang": "uk"}) + "\n")
    assert read_articles(path)["lang"].tolist() == ["uk"]


def test_table_with_crlf_and_bom(tmp_path):
    raw = b"\xef\xbb\xbf" + b'doc_id,text\r\nx1,"First para.\r\n\r\nSecond para."\r\n'
    df = read_articles(write(tmp_path / "win.csv", raw))
    assert df["text"].tolist() == ["First para.", "Second para."]
    assert df["doc_id"].tolist() == ["x1", "x1"]


def test_mixed_inputs_fill_missing_metadata(tmp_path, seed_path):
    table = tmp_path / "news.csv"
    pd.DataFrame(ROWS[:1]).to_csv(table, index=False)
    df = read_articles([seed_path, table])
    assert df["date"].isna().sum() == 14 and (df["date"] == "2023-02-22").sum() == 3


# --- language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Bonjour", "fr"), ("Der Kreml hat die Gespräche abgesagt.", "de"), ("中国和俄罗斯", "zh"),
     ("2023", "und"), ("— …", "und"), ("ok", "und")],
)
def test_detect_language_short_and_empty_evidence(text, lang):
    assert detect_language(text) == lang


def test_lang_is_per_document(tmp_path):
    # a French article quoting an English sentence keeps one language on every row
    path = write(tmp_path / "q.txt", article(FR_TITLE, [*FR_BODY, "“We stand with Ukraine.”"]))
    assert set(read_articles(path)["lang"]) == {"fr"}


def test_split_paragraphs():
    assert split_paragraphs(" a \n b\n\n \t\n\nc\n") == ["a\nb", "c"]
    assert split_paragraphs("") == []


# --- bad input -----------------------------------------------------------------------


def raises(paths, *fragments: str) -> str:
    with pytest.raises(InputError) as info:
        read_articles(paths)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_path(tmp_path):
    raises(tmp_path / "nope.txt", "nope.txt", "no such file or folder")


def test_empty_file(tmp_path):
    raises(write(tmp_path / "empty.txt", b""), "empty.txt", "file is empty")


def test_whitespace_only_file(tmp_path):
    raises(write(tmp_path / "blank.txt", " \r\n\t\n\n"), "blank.txt", "empty")


def test_binary_file(tmp_path):
    raises(write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image.txt", "binary", "offset 8")


@pytest.mark.parametrize(
    ("encoding", "shown", "iconv"),
    [("utf-16", "is UTF-16, not UTF-8", "iconv -f UTF-16 -t UTF-8"),
     ("utf-16-le", "is UTF-16 (little-endian", "iconv -f UTF-16LE -t UTF-8"),
     ("utf-16-be", "is UTF-16 (big-endian", "iconv -f UTF-16BE -t UTF-8"),
     ("utf-32", "is UTF-32, not UTF-8", "iconv -f UTF-32 -t UTF-8")],
)
def test_utf16_and_utf32_files_are_named_with_the_conversion(tmp_path, encoding, shown, iconv):
    path = write(tmp_path / "u16.txt", "Titre\n\nLa Russie et la Chine à Moscou".encode(encoding))
    message = raises(path, shown, f"{iconv} {path} > {tmp_path / 'u16-utf8.txt'}")
    assert "binary" not in message


def test_utf16_table_is_named(tmp_path):
    raises(write(tmp_path / "t.csv", "doc_id,text\nx,Moscou\n".encode("utf-16")), "t.csv", "is UTF-16")


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\n\n\u2060 \ufeff\u00a0\n", "\u200d\u3000\t\n"])
def test_file_with_only_invisible_characters_is_empty(tmp_path, invisible):
    raises(write(tmp_path / "zw.txt", invisible), "zw.txt", "file is empty")


def test_invisible_lines_before_the_title_are_skipped(tmp_path):
    df = read_articles(write(tmp_path / "a.txt", "\u200b\n\n" + article(FR_TITLE, FR_BODY)))
    assert df["text"].tolist() == [FR_TITLE, *FR_BODY]


def test_table_row_with_only_invisible_text_is_empty(tmp_path):
    path = write(tmp_path / "zw.jsonl", '{"text": "Moscou."}\n{"text": "\\u200b\\u2060", "title": "\\ufeff"}\n')
    raises(path, "zw.jsonl (row 2)", "empty 'text' and 'title'")


def test_non_utf8_file_names_byte_offset(tmp_path):
    raw = "Titre\n\nLa Russie et la Chine à Moscou".encode("latin-1")
    offset = raw.index(b"\xe0")
    raises(write(tmp_path / "latin1.txt", raw), "latin1.txt", "not valid UTF-8", f"offset {offset}", "0xe0")


def test_non_utf8_offset_counts_the_bom(tmp_path):
    raises(write(tmp_path / "b.txt", b"\xef\xbb\xbfab\xff"), "b.txt", "offset 5")


def test_folder_without_articles(tmp_path):
    write(tmp_path / "empty_corpus" / "readme.md", "nothing here")
    raises(tmp_path / "empty_corpus", "empty_corpus", "no .txt articles")


def test_bad_file_inside_folder_is_named(tmp_path):
    write(tmp_path / "c" / "good.txt", article(FR_TITLE, FR_BODY))
    write(tmp_path / "c" / "bad.txt", b"")
    raises(tmp_path / "c", "bad.txt", "file is empty")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_table_without_text_column(tmp_path, suffix):
    path = tmp_path / f"notext{suffix}"
    df = pd.DataFrame({"body": ["a"], "date": ["2023"]})
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    raises(path, f"notext{suffix}", "no 'text' column", "body, date")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_empty_table_file(tmp_path, suffix):
    raises(write(tmp_path / f"empty{suffix}", b""), f"empty{suffix}", "file is empty")


def test_table_with_header_only(tmp_path):
    raises(write(tmp_path / "h.csv", "doc_id,text\n"), "h.csv", "no rows")


def test_table_row_with_empty_text_names_the_row(tmp_path):
    raises(write(tmp_path / "r.csv", 'text\n"ok text"\n""\n'), "r.csv", "row 2", "empty 'text'")


def test_corrupt_parquet(tmp_path):
    raises(write(tmp_path / "bad.parquet", b"PAR1 not really"), "bad.parquet", "Parquet")


def test_malformed_jsonl_names_the_line(tmp_path):
    raises(write(tmp_path / "bad.jsonl", '{"text": "a"}\n\n{not json\n'), "bad.jsonl", "line 3", "JSON")


def test_jsonl_line_that_is_not_an_object(tmp_path):
    raises(write(tmp_path / "arr.jsonl", '{"text": "a"}\n["b"]\n'), "arr.jsonl", "line 2", "JSON object")


def test_non_utf8_csv(tmp_path):
    raises(write(tmp_path / "l1.csv", "text\nMoscou à Pékin\n".encode("cp1252")), "l1.csv", "not valid UTF-8")


def test_reserved_column_in_table(tmp_path):
    raises(write(tmp_path / "res.csv", "text,para_id\nabc,1\n"), "res.csv", "para_id", "reserved")


def test_duplicate_doc_id_names_both_sources(tmp_path):
    a = write(tmp_path / "x" / "a.txt", article(FR_TITLE, FR_BODY, "dup-1"))
    b = write(tmp_path / "y" / "b.txt", article(FR_TITLE, FR_BODY, "dup-1"))
    raises([a, b], "b.txt", "a.txt", "duplicate doc_id 'dup-1'")


def test_no_input_at_all():
    raises([], "no input")


# --- cells are taken as written ------------------------------------------------------

NA_LIKE = ["NA", "None", "null", "NaN", "n/a", "#N/A", "<NA>"]


@pytest.mark.parametrize("word", NA_LIKE)
def test_csv_cells_that_look_like_na_stay_text(tmp_path, word):
    path = write(tmp_path / "na.csv", f"doc_id,title,text,country\n{word},{word},La Russie,{word}\n")
    df = read_articles(path)
    assert df["doc_id"].tolist() == [word, word]
    assert df["text"].tolist() == [word, "La Russie"]
    assert df["country"].tolist() == [word, word]


def test_jsonl_na_strings_stay_text_and_null_is_missing(tmp_path):
    rows = [{"doc_id": "NA", "title": None, "text": "La Russie", "country": "NA"},
            {"doc_id": None, "title": "None", "text": "La Chine", "country": None}]
    path = write(tmp_path / "na.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    df = read_articles(path)
    assert df["doc_id"].tolist() == ["NA", "na-2", "na-2"]
    assert df["text"].tolist() == ["La Russie", "None", "La Chine"]
    assert df["country"].tolist()[0] == "NA" and df["country"].isna().tolist() == [False, True, True]


def test_csv_empty_cells_are_missing(tmp_path):
    df = read_articles(write(tmp_path / "e.csv", "doc_id,title,text,country\n,,La Russie,\n"))
    assert df["doc_id"].tolist() == ["e-1"] and not df["is_title"].any()
    assert df["country"].isna().all()


@pytest.mark.parametrize("column", ["text", "title", "doc_id"])
@pytest.mark.parametrize("bad", [["La Russie", "la Chine"], b"La Russie"], ids=["list", "bytes"])
def test_parquet_non_string_text_cell_is_refused(tmp_path, column, bad):
    rows = {"doc_id": ["a", "b"], "title": ["T1", "T2"], "text": ["Moscou.", "Pékin."]}
    rows[column] = [None, bad]  # a missing cell is fine, the bad one is named
    path = tmp_path / "odd.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    message = raises(path, "odd.parquet", "row 2", repr(column), type(bad).__name__)
    assert "expected text" in message


def test_jsonl_list_text_cell_is_refused(tmp_path):
    path = write(tmp_path / "l.jsonl", '{"text": ["La Russie", "la Chine"]}\n')
    raises(path, "l.jsonl (row 1)", "'text'", "list")


def test_whole_number_doc_ids_are_accepted(tmp_path):
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"doc_id": [7, 8], "text": ["Moscou.", "Pékin."]}).to_parquet(path, index=False)
    assert read_articles(path)["doc_id"].tolist() == ["7", "8"]
    jsonl = write(tmp_path / "ids.jsonl", '{"doc_id": 9, "text": "Moscou."}\n{"doc_id": 10.0, "text": "Pékin."}\n')
    assert read_articles(jsonl)["doc_id"].tolist() == ["9", "10"]
    raises(write(tmp_path / "f.jsonl", '{"doc_id": 1.5, "text": "Moscou."}\n'), "f.jsonl (row 1)", "'doc_id'", "float")
