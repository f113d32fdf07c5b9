"""Tests of analysis.figures (figure sets written together) and the `analysis plot` command.

Every figure of a set must be written once under a name of its own, the
command must report exactly the files it wrote, and bad options must be
refused with an error that lists the valid ones before anything is written.
"""

from __future__ import annotations

import os
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from plot_tables import (  # noqa: E402
    make_paragraphs,
    make_sentiment,
    make_stance,
    no_show_and_close,  # noqa: F401 (autouse fixture)
)

from analysis.cli import main  # noqa: E402
from analysis.errors import InputError  # noqa: E402
from analysis.figures import DOCUMENT_FIGURES, figure_name, write_document_figures  # noqa: E402


def _plot(tmp_path, stance, capsys, *options, sentiment=None):
    """Run `analysis plot` on ``stance`` (and ``sentiment``) written as CSV; (code, stdout lines, stderr)."""
    scores = tmp_path / "scores.csv"
    stance.to_csv(scores, index=False)
    args = ["plot", str(scores), *options]
    if sentiment is not None:
        sentiment.to_csv(tmp_path / "sent.csv", index=False)
        args += ["--sentiment", str(tmp_path / "sent.csv")]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


# --------------------------------------------------------------------------- analysis plot
def test_cli_plot_writes_standard_figures(tmp_path, capsys):
    multi = pd.concat([make_stance(), make_stance(doc="ttn-en-56", lang="en", shift=0.1)])
    make_paragraphs().to_csv(tmp_path / "paras.csv", index=False)
    out = tmp_path / "figs"
    code, printed, err = _plot(tmp_path, multi, capsys, "--out-dir", str(out), "--paragraphs",
                               str(tmp_path / "paras.csv"), "--dpi", "40", sentiment=make_sentiment())
    assert code == 0, err
    names = {
        "ttn-fr-56_stance_heatmap", "ttn-fr-56_stance_trajectory", "ttn-en-56_stance_heatmap",
        "ttn-en-56_stance_trajectory", "ttn-fr-56_sentiment", "actor_summary", "language_comparison",
    }
    expected = {f"{n}.{ext}" for n in names for ext in ("png", "svg", "pdf")}
    assert set(os.listdir(out)) == expected
    for name in names:
        img = mpimg.imread(out / f"{name}.png")
        assert float(img[..., :3].var()) > 0.001, name
    assert len(printed) == len(expected)


def test_cli_plot_reports_missing_columns(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"doc_id": ["a"], "para_id": [0], "target": ["China"]}).to_csv(bad, index=False)
    code = main(["plot", str(bad), "--out-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "bad.csv" in err and "actor" in err and "score" in err
    assert not (tmp_path / "o").exists()


def test_cli_plot_names_stay_unique_when_doc_ids_collide(tmp_path, capsys):
    """Issue 18 item 9: doc_ids a/b and a-b both gave a-b_* files; 7 reported, 4 written."""
    stance = pd.concat([make_stance(doc="a/b"), make_stance(doc="a-b", shift=-0.3)])
    sentiment = pd.concat([make_sentiment(doc="a/b"), make_sentiment(doc="a-b", shift=0.2)])
    out = tmp_path / "figs"
    code, printed, err = _plot(tmp_path, stance, capsys, "--out-dir", str(out), "--formats", "png",
                               "--dpi", "30", sentiment=sentiment)
    assert code == 0, err
    files = sorted(os.listdir(out))
    assert sorted(os.path.basename(p) for p in printed) == files  # each written file reported once
    assert len(files) == 2 * 3 + 1  # per document: heatmap, trajectory, sentiment; + actor_summary
    assert f"wrote {len(files)} figure file(s)" in err
    # the id that already is a file name keeps it; the other gets a hash suffix, the same on each figure
    assert {"a-b_stance_heatmap.png", "a-b_stance_trajectory.png", "a-b_sentiment.png"} <= set(files)
    others = [f for f in files if f.startswith("a-b-")]
    stems = {re.fullmatch(r"(a-b-[0-9a-f]{8})_(stance_heatmap|stance_trajectory|sentiment)\.png", f)[1]
             for f in others}
    assert len(others) == 3 and len(stems) == 1
    stem = stems.pop()
    for kind in ("stance_heatmap", "sentiment"):  # two documents, two different pictures
        assert (out / f"{stem}_{kind}.png").read_bytes() != (out / f"a-b_{kind}.png").read_bytes()
    # stable: the same names on a second run
    code, printed_again, _ = _plot(tmp_path, stance, capsys, "--out-dir", str(tmp_path / "again"),
                                   "--formats", "png", "--dpi", "30", sentiment=sentiment)
    assert code == 0 and sorted(os.listdir(tmp_path / "again")) == files


@pytest.mark.parametrize("dpi", ["0", "-5"])
def test_cli_plot_refuses_a_resolution_that_is_not_positive(tmp_path, capsys, dpi):
    """Issue 18 item 12: --dpi 0 or negative gave a ValueError traceback."""
    out = tmp_path / "figs"
    code, printed, err = _plot(tmp_path, make_stance(), capsys, "--out-dir", str(out), "--dpi", dpi)
    assert code == 2 and printed == []
    assert err.startswith(f"error: --dpi must be a positive number (dots per inch), got {dpi}"), err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("formats", ["gif", "png,jpg", ","])
def test_cli_plot_format_errors_list_the_valid_options(tmp_path, capsys, formats):
    out = tmp_path / "figs"
    code, _, err = _plot(tmp_path, make_stance(), capsys, "--out-dir", str(out), "--formats", formats)
    assert code == 2
    assert err.startswith("error: --formats: unsupported format(s) ") and "valid options: png, svg, pdf" in err
    bad = [f for f in formats.split(",") if f and f != "png"] or ["(none)"]
    assert all(b in err for b in bad)
    assert not out.exists()


# --------------------------------------------------------------------------- per-document figures
def test_write_document_figures_draws_and_saves_every_figure_of_each_document(tmp_path):
    stance = pd.concat([make_stance(), make_stance(doc="ttn-fr-56.en", lang="en", shift=0.1)])
    # a document with paragraphs but no mention still gets its sentiment figure
    sentiment = pd.concat([make_sentiment(), make_sentiment(doc="ttn-fr-56.en"), make_sentiment(doc="quiet")])
    names = write_document_figures(stance, tmp_path, paragraphs=make_paragraphs(), sentiment=sentiment,
                                   formats=("png",), dpi=30)
    expected = [figure_name(doc, kind) for doc in ("ttn-fr-56", "ttn-fr-56.en")
                for kind in ("stance_heatmap", "stance_trajectory", "actor_summary")]
    expected += [figure_name(doc, "sentiment") for doc in ("quiet", "ttn-fr-56", "ttn-fr-56.en")]
    assert names == expected
    assert sorted(os.listdir(tmp_path)) == sorted(f"{n}.png" for n in names)
    for name in names:
        assert float(mpimg.imread(tmp_path / f"{name}.png")[..., :3].var()) > 0.001, name
    assert plt.get_fignums() == []  # each figure closed once saved


def test_write_document_figures_can_leave_figures_open_and_pick_kinds(tmp_path):
    stance = pd.concat([make_stance(doc="a/b"), make_stance(doc="a b"), make_stance(doc="a-b")])
    names = write_document_figures(stance, tmp_path, kinds=("stance_heatmap",), formats="svg", close=False)
    assert len(plt.get_fignums()) == len(names) == 3  # open, for a notebook to show
    assert "a-b_stance_heatmap" in names
    hashed = [n for n in names if n != "a-b_stance_heatmap"]
    assert len(set(hashed)) == 2 and all(re.fullmatch(r"a-b-[0-9a-f]{8}_stance_heatmap", n) for n in hashed)
    assert sorted(os.listdir(tmp_path)) == sorted(f"{n}.svg" for n in names)


def test_write_document_figures_without_stance_rows_and_with_bad_options(tmp_path):
    empty = make_stance().iloc[0:0]
    assert write_document_figures(empty, tmp_path, sentiment=make_sentiment(), formats="png", dpi=30) == [
        "ttn-fr-56_sentiment"]
    with pytest.raises(InputError, match="valid options: " + ", ".join(DOCUMENT_FIGURES)):
        write_document_figures(make_stance(), tmp_path / "x", kinds=("heatmap",))
    with pytest.raises(InputError, match="dpi must be a positive number"):
        write_document_figures(make_stance(), tmp_path / "x", dpi=0)
    assert not (tmp_path / "x").exists()
