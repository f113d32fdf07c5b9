"""Agreement with coders: figures against hand-computed values, several coders, CIs, and every bad sheet."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook
from sklearn.metrics import accuracy_score, f1_score

from analysis.agreement import (AGREEMENT_COLUMNS, agreement_table, read_annotations,
                                validate_against_coders)
from analysis.errors import InputError

A, N, F = "against", "neutral", "favor"
VALUE = {A: -1, N: 0, F: 1}


def codings(coder_labels, model_labels, coder="x", **extra):
    """One coding per item 0..n-1 (doc "d", actor "Russia")."""
    n = len(coder_labels)
    return pd.DataFrame({"doc_id": "d", "para_id": range(n), "actor": "Russia", "coder": coder,
                         "coder_label": coder_labels, "model_label": model_labels, **extra})


def value(table, metric, comparison="model vs coders", group_by="all", group="all", column="estimate"):
    row = table[(table["comparison"] == comparison) & (table["group_by"] == group_by) & (table["group"] == group)
                & (table["metric"] == metric)]
    assert len(row) == 1, (comparison, group_by, group, metric)
    return float(row[column].iloc[0])


# --------------------------------------------------------------------------- hand-computed figures
def test_model_vs_one_coder_by_hand():
    # coder:  against neutral neutral favor
    # model:  against neutral favor   favor
    table = agreement_table(codings([A, N, N, F], [A, N, F, F]), by=None, n_resamples=100)
    assert list(table.columns) == list(AGREEMENT_COLUMNS)
    assert value(table, "accuracy") == pytest.approx(3 / 4)
    # F1: against 1, neutral 2*1/(2*1+0+1) = 2/3, favor 2*1/(2*1+1+0) = 2/3
    assert value(table, "macro_f1") == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    # coincidences of the 4 (coder, model) units: aa 2, nn 2, ff 2, nf 1, fn 1; n_a 2, n_n 3, n_f 3, n = 8
    # alpha = 1 - (n - 1) * disagreeing / sum_{c != k} n_c n_k = 1 - 7 * 2 / (2 * (6 + 6 + 9)) = 2/3
    assert value(table, "alpha") == pytest.approx(2 / 3)
    assert set(table["comparison"]) == {"model vs coders"}  # one coder: no coder-vs-coder rows
    row = table.iloc[0]
    assert (row["n_items"], row["n_codings"], row["n_coders"]) == (4, 4, 1)


def test_three_coders_by_hand():
    # item:  0        1        2        3
    # x:     against  neutral  neutral  favor
    # y:     against  neutral  favor    favor
    # z:     against  favor    -        -
    model = [A, N, F, F]
    table = pd.concat([
        codings([A, N, N, F], model, coder="x"),
        codings([A, N, F, F], model, coder="y"),
        codings([A, F], model[:2], coder="z"),
    ], ignore_index=True)
    result = agreement_table(table, by=None, n_resamples=100)
    # coincidences: item 0 aa 3; item 1 nn 1, nf 1, fn 1; item 2 nf 1, fn 1; item 3 ff 2
    # n_a 3, n_n 3, n_f 4, n = 10: alpha = 1 - 9 * 4 / (2 * (9 + 12 + 12)) = 5/11
    assert value(result, "alpha", "coder vs coder") == pytest.approx(5 / 11)
    reliability = np.array([[VALUE[v] if v else np.nan for v in row]
                            for row in ([A, N, N, F], [A, N, F, F], [A, F, None, None])], dtype=float)
    assert value(result, "alpha", "coder vs coder") == pytest.approx(
        krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"))
    # coder pairs agreeing: item 0 3 of 3, item 1 1 of 3, item 2 0 of 1, item 3 1 of 1 -> 5 / 8
    assert value(result, "percent_agreement", "coder vs coder") == pytest.approx(5 / 8)
    # the model is compared with every coding: x 3 of 4, y 4 of 4, z 1 of 2 -> 8 of 10
    assert value(result, "accuracy") == pytest.approx(8 / 10)
    between = result[result["comparison"] == "coder vs coder"].iloc[0]
    assert (between["n_items"], between["n_codings"], between["n_coders"]) == (4, 10, 3)


def test_pairs_coded_once_do_not_enter_coder_agreement():
    table = pd.concat([codings([A, N, F], [A, N, F], coder="x"),
                       codings([A, F], [A, N], coder="y").assign(para_id=[0, 5])], ignore_index=True)
    between = agreement_table(table, by=None, n_resamples=50)
    between = between[between["comparison"] == "coder vs coder"]
    assert set(between["n_items"]) == {1} and set(between["n_coders"]) == {2}


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_matches_scikit_learn_and_krippendorff_on_a_random_table(level):
    rng = np.random.default_rng(3)
    labels = np.array([A, N, F])
    human = labels[rng.integers(0, 3, 80)]
    model = np.where(rng.random(80) < 0.6, human, labels[rng.integers(0, 3, 80)])
    table = agreement_table(codings(human, model), by=None, level=level, n_resamples=50)
    assert value(table, "macro_f1") == pytest.approx(f1_score(human, model, average="macro"))
    assert value(table, "accuracy") == pytest.approx(accuracy_score(human, model))
    data = np.array([[VALUE[v] for v in human], [VALUE[v] for v in model]], dtype=float)
    assert value(table, "alpha") == pytest.approx(
        krippendorff.alpha(reliability_data=data, value_domain=[-1, 0, 1], level_of_measurement=level))


def test_macro_f1_counts_only_labels_that_occur():
    table = agreement_table(codings([N, N, A], [N, A, A]), by=None, n_resamples=50)
    assert value(table, "macro_f1") == pytest.approx(f1_score([N, N, A], [N, A, A], average="macro"))


def test_groups_equal_the_overall_figures_on_their_rows():
    table = pd.concat([codings([A, N, N, F], [A, N, F, F], lang=["fr"] * 4),
                       codings([N, N, F], [N, A, F], lang=["en"] * 3).assign(para_id=[7, 8, 9])],
                      ignore_index=True)
    result = agreement_table(table, by="lang", n_resamples=50)
    alone = agreement_table(table[table["lang"] == "fr"], by=None, n_resamples=50)
    for metric in ("accuracy", "macro_f1", "alpha"):
        assert value(result, metric, group_by="lang", group="fr") == pytest.approx(value(alone, metric))
    assert sorted(result.loc[result["group_by"] == "lang", "group"].unique()) == ["en", "fr"]


def test_undefined_alpha_is_nan_not_an_error():
    table = agreement_table(codings([N, N, N], [N, N, N]), by=None, n_resamples=50)
    assert np.isnan(value(table, "alpha"))
    assert value(table, "accuracy") == 1.0 and value(table, "macro_f1") == 1.0


# --------------------------------------------------------------------------- intervals
def test_intervals_hold_the_estimate_and_are_seeded():
    rng = np.random.default_rng(5)
    labels = np.array([A, N, F])
    human = labels[rng.integers(0, 3, 60)]
    model = np.where(rng.random(60) < 0.7, human, labels[rng.integers(0, 3, 60)])
    first = agreement_table(codings(human, model), by=None, n_resamples=300, random_state=1)
    again = agreement_table(codings(human, model), by=None, n_resamples=300, random_state=1)
    other = agreement_table(codings(human, model), by=None, n_resamples=300, random_state=2)
    pd.testing.assert_frame_equal(first, again)
    assert not first[["ci_low", "ci_high"]].equals(other[["ci_low", "ci_high"]])
    assert (first["ci_low"] <= first["estimate"]).all() and (first["estimate"] <= first["ci_high"]).all()
    assert (first["ci_high"] - first["ci_low"] > 0.05).all()


def test_one_pair_gives_a_zero_width_interval():
    table = agreement_table(codings([A], [N]), by=None, n_resamples=50)
    acc = table[table["metric"] == "accuracy"].iloc[0]
    assert acc["estimate"] == acc["ci_low"] == acc["ci_high"] == 0.0


def test_a_groups_interval_does_not_depend_on_other_groups():
    fr = codings([A, N, N, F, A, F], [A, N, F, F, N, F], lang=["fr"] * 6)
    en = codings([N, A], [N, N], lang=["en"] * 2).assign(para_id=[10, 11])
    both = agreement_table(pd.concat([fr, en], ignore_index=True), by="lang", n_resamples=200)
    alone = agreement_table(fr, by="lang", n_resamples=200)
    for column in ("ci_low", "ci_high"):
        assert value(both, "accuracy", group_by="lang", group="fr", column=column) == \
            value(alone, "accuracy", group_by="lang", group="fr", column=column)


def test_bad_arguments():
    table = codings([A, N], [A, N])
    with pytest.raises(InputError, match="level must be one of nominal, ordinal, interval"):
        agreement_table(table, by=None, level="ratio")
    with pytest.raises(InputError, match="confidence_level must be between 0 and 1"):
        agreement_table(table, by=None, confidence_level=95)
    with pytest.raises(InputError, match="coder_label 'pro' is not one of against, neutral, favor"):
        agreement_table(codings(["pro", N], [A, N]), by=None)
    with pytest.raises(InputError, match="codings table is missing column.*lang"):
        agreement_table(table, by="lang")


# --------------------------------------------------------------------------- sheets in, validation out
def sheet(rows, coder="ana"):
    """A filled sheet: rows of (para_id, actor, stance cell)."""
    return pd.DataFrame([{"item_id": i + 1, "doc_id": "d", "para_id": p, "actor": a, "lang": "fr",
                          "text": "…", "stance": s, "coder": coder if s not in (None, "") else None, "note": None}
                         for i, (p, a, s) in enumerate(rows)])


def scores(labels):
    """A stance table: {(para_id, actor): label}."""
    return pd.DataFrame([{"doc_id": "d", "para_id": p, "actor": a, "label": lab, "score": 0.0, "model": "m@1",
                          "lang": "fr"} for (p, a), lab in labels.items()])


SCORES = scores({(1, "Russia"): A, (2, "Russia"): N, (3, "China"): F, (4, "China"): N})


def test_two_coders_in_two_csv_files(tmp_path):
    sheet([(1, "Russia", "-1"), (2, "Russia", "0"), (3, "China", "1"), (4, "China", "")]) \
        .to_csv(tmp_path / "ana.csv", index=False)
    sheet([(1, "Russia", "against"), (2, "Russia", "+1"), (3, "China", "FAVOR"), (4, "China", "0")], coder="ben") \
        .to_csv(tmp_path / "ben.csv", index=False)
    codes = read_annotations([tmp_path / "ana.csv", tmp_path / "ben.csv"])
    assert codes["stance"].tolist() == [-1, 0, 1, pd.NA, -1, 1, 1, 0]
    assert codes["row"].tolist() == [2, 3, 4, 5, 2, 3, 4, 5]
    result = validate_against_coders(codes, SCORES, n_resamples=100)
    assert result.model == "m@1"
    assert result.sheets.to_dict("list") == {"sheet": [str(tmp_path / "ana.csv"), str(tmp_path / "ben.csv")],
                                             "n_rows": [4, 4], "n_coded": [3, 4], "n_blank": [1, 0]}
    assert len(result.codings) == 7
    assert result.codings.columns[:6].tolist() == ["doc_id", "para_id", "actor", "coder", "coder_label",
                                                   "model_label"]
    expected = agreement_table(result.codings, by=("lang", "actor"), n_resamples=100)
    pd.testing.assert_frame_equal(result.agreement, expected)
    # the model: ana 3 of 3, ben 3 of 4 (para 2: ben favor, model neutral)
    assert value(result.agreement, "accuracy") == pytest.approx(6 / 7)
    # coders: 3 pairs coded by both, they disagree on para 2
    assert value(result.agreement, "percent_agreement", "coder vs coder") == pytest.approx(2 / 3)
    assert set(result.agreement["group_by"]) == {"all", "lang", "actor"}


def test_xlsx_sheet_with_numbers_and_words(tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["item_id", "doc_id", "para_id", "actor", "text", "stance", "coder"])
    ws.append([1, "d", 1, "Russia", "…", -1, "ana"])
    ws.append([2, "d", 2, "Russia", "…", None, None])
    ws.append([3, "d", 3, "China", "…", "favor", "ana"])
    book.save(tmp_path / "ana.xlsx")
    codes = read_annotations(tmp_path / "ana.xlsx")
    assert codes["stance"].tolist() == [-1, pd.NA, 1] and codes["row"].tolist() == [2, 3, 4]
    result = validate_against_coders(codes, SCORES, by="actor", n_resamples=50)
    assert value(result.agreement, "accuracy") == 1.0 and result.sheets["n_blank"].tolist() == [1]
    ws.cell(row=3, column=6).value = 2
    ws.cell(row=3, column=7).value = "ana"
    book.save(tmp_path / "bad.xlsx")
    with pytest.raises(InputError, match=r"bad\.xlsx, row 3: unknown stance 2; use -1 \(against\)"):
        read_annotations(tmp_path / "bad.xlsx")


def test_named_tables_and_jsonl_lines(tmp_path):
    codes = read_annotations({"team gold": sheet([(1, "Russia", -1)])})
    assert codes["sheet"].tolist() == ["team gold"] and codes["row"].tolist() == [1]
    path = tmp_path / "codes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"doc_id": "d", "para_id": 1, "actor": "Russia", "stance": 0, "coder": "ana"},
        {"doc_id": "d", "para_id": 2, "actor": "Russia", "stance": "maybe", "coder": "ana"},
    ]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"codes\.jsonl, line 2: unknown stance 'maybe'"):
        read_annotations(path)


# --------------------------------------------------------------------------- every bad sheet
def write(tmp_path, table, name="sheet.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def test_unknown_labels_name_file_and_rows(tmp_path):
    path = write(tmp_path, sheet([(1, "Russia", "-1"), (2, "Russia", "pro"), (3, "China", "2"), (4, "China", "NA")]))
    with pytest.raises(InputError) as err:
        read_annotations(path)
    message = str(err.value)
    assert message.startswith(f"{path}, row 3: unknown stance 'pro'; use -1 (against), 0 (neutral), 1 (favor)")
    assert "leave the cell blank" in message and "(2 more rows like this: 4, 5)" in message


@pytest.mark.parametrize("missing", ["coder", "stance", "para_id", "actor", "doc_id"])
def test_missing_columns_name_the_file(tmp_path, missing):
    path = write(tmp_path, sheet([(1, "Russia", "-1")]).drop(columns=missing))
    with pytest.raises(InputError, match=rf"{path.name} is missing column\(s\) {missing}; it has: "):
        read_annotations(path)


def test_a_code_without_coder_names_the_row(tmp_path):
    table = sheet([(1, "Russia", "-1"), (2, "Russia", "0")])
    table.loc[1, "coder"] = " "
    path = write(tmp_path, table)
    with pytest.raises(InputError, match=rf"{path.name}, row 3: a stance without a coder"):
        read_annotations(path)


def test_a_para_id_that_is_not_a_number_names_the_row(tmp_path):
    table = sheet([(1, "Russia", "-1"), (2, "Russia", "0")])
    table["para_id"] = table["para_id"].astype(object)
    table.loc[0, "para_id"] = "one"
    path = write(tmp_path, table)
    with pytest.raises(InputError, match=rf"{path.name}, row 2: para_id 'one' is not a whole number"):
        read_annotations(path)


def test_the_same_coder_twice_on_one_pair(tmp_path):
    first = write(tmp_path, sheet([(1, "Russia", "-1")]), "a.csv")
    second = write(tmp_path, sheet([(3, "China", "1"), (1, "Russia", "0")]), "b.csv")
    with pytest.raises(InputError, match=rf"coder 'ana' coded the pair .*para_id 1.*a\.csv, row 2 and .*b\.csv, row 3"):
        read_annotations([first, second])


def test_pairs_not_in_the_scores_name_sheet_and_row(tmp_path):
    path = write(tmp_path, sheet([(1, "Russia", "-1"), (9, "Russia", "0"), (3, "West", "0")]))
    with pytest.raises(InputError) as err:
        validate_against_coders(read_annotations(path), SCORES, scores_name="stance.csv")
    assert str(err.value).startswith(
        f"{path}, row 3: the pair (doc_id 'd', para_id 9, actor 'Russia') is not in stance.csv")
    assert "1 more coded row(s) like this" in str(err.value)


def test_blank_rows_are_skipped_and_an_empty_sheet_refused(tmp_path):
    path = write(tmp_path, sheet([(1, "Russia", ""), (2, "Russia", None)]))
    codes = read_annotations(path)
    assert codes["stance"].isna().all() and codes["coder"].isna().all()
    with pytest.raises(InputError, match="no coded row in .*sheet.csv: every stance cell is blank"):
        validate_against_coders(codes, SCORES)


def test_bad_files_and_scores(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_annotations(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown sheet format '.ods'"):
        read_annotations(tmp_path / "sheet.ods")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="broken.xlsx: cannot read as an Excel workbook"):
        read_annotations(tmp_path / "broken.xlsx")
    with pytest.raises(InputError, match="no annotation sheet given"):
        read_annotations([])
    codes = read_annotations(sheet([(1, "Russia", "-1")]))
    two_models = pd.concat([SCORES, SCORES.assign(para_id=SCORES["para_id"] + 10, model="other")])
    with pytest.raises(InputError, match="scores table mixes 2 models"):
        validate_against_coders(codes, two_models)
    with pytest.raises(InputError, match=r"several rows for the pair \(doc_id 'd', para_id 1"):
        validate_against_coders(codes, pd.concat([SCORES, SCORES.iloc[:1]]))
    with pytest.raises(InputError, match="label 'positive' is not one of against, neutral, favor"):
        validate_against_coders(codes, SCORES.assign(label="positive"))
    with pytest.raises(InputError, match="cannot group by outlet"):
        validate_against_coders(codes, SCORES, by="outlet")
    with pytest.raises(InputError, match="scores table is missing column"):
        validate_against_coders(codes, SCORES.drop(columns="actor"))


def test_scores_without_labels_use_the_label_rule():
    probabilities = SCORES.drop(columns="label").assign(
        p_against=["0.6", "0.2", "0.1", "0.4"], p_neutral=["0.3", "0.6", "0.1", "0.4"], p_favor=["0.1", "0.2", "0.8", "0.2"])
    codes = read_annotations(sheet([(1, "Russia", "-1"), (4, "China", "0")]))
    result = validate_against_coders(codes, probabilities, by=None, n_resamples=50)
    assert result.codings["model_label"].tolist() == [A, N]  # para 4: a tie goes to neutral
