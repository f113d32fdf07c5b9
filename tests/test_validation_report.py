"""Validation outputs: the Markdown report, the written folder, the agreement figure, and the CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection

from analysis.agreement import read_annotations, validate_against_coders
from analysis.cli import main
from analysis.errors import InputError
from analysis.validation_plots import agreement_plot
from analysis.validation_report import validation_markdown, write_validation

A, N, F = "against", "neutral", "favor"
SCORES = pd.DataFrame([{"doc_id": "d", "para_id": p, "actor": a, "label": lab, "score": 0.1, "model": "m@1",
                        "lang": lang} for p, a, lab, lang in [(1, "Russia", A, "fr"), (2, "Russia", N, "fr"),
                                                              (3, "China", F, "en"), (4, "China", N, "en")]])


def filled(rows, coder):
    return pd.DataFrame([{"doc_id": "d", "para_id": p, "actor": a, "stance": s, "coder": coder if s != "" else None}
                         for p, a, s in rows])


@pytest.fixture(scope="module")
def two_coders():
    codes = read_annotations({
        "ana.csv": filled([(1, "Russia", "-1"), (2, "Russia", "0"), (3, "China", "1"), (4, "China", "")], "ana"),
        "ben.csv": filled([(1, "Russia", "-1"), (2, "Russia", "1"), (3, "China", "1"), (4, "China", "0")], "ben"),
    })
    return validate_against_coders(codes, SCORES, n_resamples=200)


def with_alpha(validation, estimate, low, high):
    """``validation`` whose overall model-vs-coders alpha is replaced."""
    table = validation.agreement.copy()
    row = ((table["comparison"] == "model vs coders") & (table["group_by"] == "all") & (table["metric"] == "alpha"))
    table.loc[row, ["estimate", "ci_low", "ci_high"]] = [estimate, low, high]
    return dataclasses.replace(validation, agreement=table)


def test_report_says_what_was_compared_and_skipped(two_coders):
    text = validation_markdown(two_coders)
    assert text.startswith("# Does the model agree with your coders?\n")
    assert "**Model:** `m@1`" in text
    assert "**Compared:** 7 codes of 4 paragraph × actor pairs by 2 coders (ana, ben), from 2 sheets." in text
    assert "**Skipped:** 1 row with a blank stance (ana.csv: 1)." in text
    assert "in **86 %** of the codes" in text  # 6 of 7
    assert "**Between coders** (3 pairs coded by two coders or more; 2 coders)" in text
    assert "two coders give the same label 67 % of the time" in text
    assert "## By language" in text and "## By actor" in text
    assert "| `fr` | 2 | 4 | 0.75 [" in text  # ben's favor on para 2 against the model's neutral
    assert "| **neutral** | 0 | 2 | 0 |" in text and "| **favor** | 0 | 1 | 2 |" in text
    assert "the coders said **favor**, the model **neutral** (1 of 1 disagreements)" in text
    assert "![" not in text  # no figure names given


@pytest.mark.parametrize("estimate, low, expected", [
    (0.85, 0.7, "the model's labels can stand in for the coders' on this material."),
    (0.7, 0.5, "tentative conclusions only; the lower end of the interval (0.50) is below 0.667"),
    (0.3, 0.1, "the model's labels are **not reliable enough** to replace the coders"),
    (np.nan, np.nan, "Krippendorff's α is undefined here"),
])
def test_verdict_follows_krippendorffs_thresholds(two_coders, estimate, low, expected):
    assert expected in validation_markdown(with_alpha(two_coders, estimate, low, 0.95))


def test_one_coder_report_asks_for_a_second(two_coders):
    codes = read_annotations(filled([(1, "Russia", "-1"), (3, "China", "0")], "ana"))
    text = validation_markdown(validate_against_coders(codes, SCORES, by="lang", n_resamples=50))
    assert "**Agreement between coders is unknown:** no pair was coded by two coders" in text
    assert "α between coders" not in text and "## By actor" not in text


def test_write_validation_writes_tables_figures_and_report(two_coders, tmp_path):
    out = tmp_path / "validation"
    written = write_validation(two_coders, out)
    names = sorted(p.name for p in written)
    figures = [f"{stem}.{ext}" for stem in ("agreement_by_actor", "agreement_by_lang", "confusion_matrix")
               for ext in ("pdf", "png", "svg")]
    assert names == sorted(["agreement.csv", "codings.csv", "report.md", *figures])
    assert sorted(p.name for p in out.iterdir()) == names  # nothing else, no temporary file
    assert all((out / f).stat().st_size > 1000 for f in figures)
    pd.testing.assert_frame_equal(pd.read_csv(out / "agreement.csv"), two_coders.agreement, check_dtype=False)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "![Agreement by language](agreement_by_lang.png)" in report
    assert "![Confusion matrix: coders' labels against the model's](confusion_matrix.png)" in report
    write_validation(two_coders, tmp_path / "svg", formats=("svg",))
    assert "![" not in (tmp_path / "svg" / "report.md").read_text(encoding="utf-8")


def test_agreement_plot_draws_each_interval():
    table = pd.DataFrame({
        "group": ["fr", "fr", "en", "en"], "metric": ["accuracy", "alpha"] * 2,
        "estimate": [0.8, 0.5, 0.6, -0.1], "ci_low": [0.6, 0.2, np.nan, -0.4], "ci_high": [0.9, 0.7, np.nan, 0.3],
        "n_items": [20, 20, 12, 12],
    })
    ax = agreement_plot(table, order=["fr", "en"], hue_order=["accuracy", "alpha"])
    whiskers = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == "ci"]
    segments = sorted((round(s[0][0], 3), round(s[1][0], 3)) for c in whiskers for s in c.get_segments())
    assert segments == [(-0.4, 0.3), (0.2, 0.7), (0.6, 0.9)]  # en accuracy has no interval: no whisker
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fr\nn = 20", "en\nn = 12"]
    assert ax.get_xlim()[0] < -0.4 and ax.get_xlim()[1] >= 1.0
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["accuracy", "alpha"]


def test_agreement_plot_refuses_bad_tables():
    table = pd.DataFrame({"group": ["fr", "fr"], "estimate": [0.8, 0.5], "ci_low": [0.6, 0.2], "ci_high": [0.9, 0.7],
                          "n_items": [20, 20]})
    with pytest.raises(InputError, match="several rows for group='fr'; pass hue="):
        agreement_plot(table, hue=None)
    with pytest.raises(InputError, match="agreement_plot: the table is missing column.*metric"):
        agreement_plot(table)


# --------------------------------------------------------------------------- command line
def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_then_validate_on_the_seed(tmp_path, seed_path, capsys):
    sheet_path = tmp_path / "sheet.csv"
    code, _, err = run(["sample", seed_path, "--n", "12", "--by", "actor", "--seed", "3", "--out", sheet_path],
                       capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.csv", "sheet.xlsx"]
    sheet = pd.read_csv(sheet_path)
    assert len(sheet) == 12 and sheet.groupby("actor").size().min() >= 3
    assert sheet["text"].str.contains(r"\[\[", regex=True).all() and sheet["stance"].isna().all()
    assert "wrote 12 paragraph x actor pair(s)" in err
    # two coders: ana codes every row neutral, ben codes the first six as the model does
    labels = {A: -1, N: 0, F: 1}
    model = ([A, N, F] * 4)[:12]
    scores = sheet[["doc_id", "para_id", "actor"]].assign(label=model, lang="fr")
    scores.to_csv(tmp_path / "stance.csv", index=False)
    sheet.assign(stance=0, coder="ana").to_csv(tmp_path / "ana.csv", index=False)
    sheet.assign(stance=[labels[m] for m in model[:6]] + [None] * 6, coder="ben").to_csv(tmp_path / "ben.csv",
                                                                                          index=False)
    out = tmp_path / "report"
    code, stdout, err = run(["validate", tmp_path / "ana.csv", tmp_path / "ben.csv", "--scores",
                             tmp_path / "stance.csv", "--out", out], capsys)
    assert code == 0, err
    assert (out / "report.md").is_file() and (out / "agreement_by_lang.png").is_file()
    assert str(out / "report.md") in stdout.splitlines()
    assert "18 code(s) compared, 6 blank row(s) skipped" in err
    agreement = pd.read_csv(out / "agreement.csv")
    overall = agreement[(agreement["group_by"] == "all") & (agreement["comparison"] == "model vs coders")]
    assert overall.set_index("metric").loc["accuracy", "estimate"] == pytest.approx((4 + 6) / 18)


def test_validate_bad_sheet_exits_2_and_writes_nothing(tmp_path, capsys):
    sheet = pd.DataFrame({"doc_id": ["d"], "para_id": [1], "actor": ["Russia"], "stance": ["yes"], "coder": ["ana"]})
    sheet.to_csv(tmp_path / "ana.csv", index=False)
    SCORES.to_csv(tmp_path / "stance.csv", index=False)
    out = tmp_path / "report"
    code, _, err = run(["validate", tmp_path / "ana.csv", "--scores", tmp_path / "stance.csv", "--out", out], capsys)
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'ana.csv'}, row 2: unknown stance 'yes'")
    assert not out.exists()


def test_sample_refuses_bad_arguments_before_work(tmp_path, seed_path, capsys):
    code, _, err = run(["sample", seed_path, "--by", "outlet", "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "cannot stratify by outlet" in err
    code, _, err = run(["sample", seed_path, "--out", tmp_path / "s.txt"], capsys)
    assert code == 2 and "unknown output format '.txt'" in err
    code, _, err = run(["sample", seed_path, "--n", "0", "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "n must be a positive whole number" in err
    assert list(tmp_path.iterdir()) == []
