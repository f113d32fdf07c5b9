"""Tests of the report figures (analysis.plots) and the evidence view (analysis.evidence).

They check what the figures show (cell values, masks, whisker ends, colours,
labels) and that titles and legends fit the figure at its default size.
Saving is tested in test_plot_style.py, figure sets and `analysis plot` in
test_figures.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, QuadMesh  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from plot_tables import (  # noqa: E402
    DOC,
    MODEL,
    make_paragraphs,
    make_sentiment,
    make_stance,
    no_show_and_close,  # noqa: F401 (autouse fixture)
)

from analysis import plots  # noqa: E402
from analysis.aggregate import aggregate_corpus, aggregate_documents  # noqa: E402
from analysis.errors import InputError  # noqa: E402
from analysis.evidence import evidence_html  # noqa: E402
from analysis.plot_style import score_color  # noqa: E402


@pytest.fixture
def stance() -> pd.DataFrame:
    return make_stance()


@pytest.fixture
def paragraphs() -> pd.DataFrame:
    return make_paragraphs()


@pytest.fixture
def sentiment() -> pd.DataFrame:
    return make_sentiment()


def _is_red(rgba) -> bool:
    return rgba[0] > rgba[2] + 0.1


def _is_blue(rgba) -> bool:
    return rgba[2] > rgba[0] + 0.1


# --------------------------------------------------------------------------- heatmap
def test_heatmap_cells_equal_pivoted_scores_and_blanks_are_masked(stance, paragraphs):
    ax = plots.stance_heatmap(stance, paragraphs=paragraphs)
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    expected = (stance.pivot(index="para_id", columns="actor", values="score")
                .reindex(index=range(14), columns=["China", "Russia", "West"]))
    arr = mesh.get_array()
    values = np.ma.getdata(arr).reshape(expected.shape)
    mask = np.ma.getmaskarray(arr).reshape(expected.shape)
    np.testing.assert_array_equal(mask, expected.isna().to_numpy())
    np.testing.assert_allclose(values[~mask], expected.to_numpy()[~mask])
    # paragraphs 11 and 13 (no mention at all) are full blank rows, not zeros
    assert mask[11].all() and mask[13].all()
    # colour convention: fixed symmetric range on RdBu, red negative / blue positive
    assert mesh.get_clim() == (-1.0, 1.0)
    assert mesh.cmap.name.startswith("RdBu")
    assert _is_red(mesh.cmap(mesh.norm(-0.8))) and _is_blue(mesh.cmap(mesh.norm(0.8)))
    # annotations: one per mentioned cell, same values
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == int((~mask).sum())
    annotated = sorted(float(t.replace("\u2212", "-")) for t in texts)
    np.testing.assert_allclose(annotated, sorted(expected.to_numpy()[~mask]))
    # readable labels: number + first words, French characters intact, actors on top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[2].startswith("2 · Pékin a fourni une bouée")
    assert all(len(s) <= 50 for s in labels)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["China", "Russia", "West"]
    # hatched background + legend entry explain the blank cells
    assert any(isinstance(p, Rectangle) and p.get_hatch() for p in ax.patches)
    assert "not mentioned" in ax.get_legend().get_texts()[0].get_text()
    cbar = mesh.colorbar
    assert "favourable" in cbar.ax.get_ylabel() and "unfavourable" in cbar.ax.get_ylabel()
    assert DOC in ax.get_title(loc="left") and MODEL in ax.get_title(loc="left")


def test_heatmap_without_paragraphs_uses_numbers_and_accepts_ax(stance):
    fig, ax = plt.subplots()
    out = plots.stance_heatmap(data=stance, ax=ax, annot=False, order=["West", "China"])
    assert out is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["West", "China"]
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["0", "1", "2"]
    assert not ax.texts


def test_heatmap_needs_doc_id_for_several_documents(stance):
    both = pd.concat([stance, make_stance(doc="other")])
    with pytest.raises(InputError, match="doc_id"):
        plots.stance_heatmap(both)
    ax = plots.stance_heatmap(both, doc_id="other")
    assert "other" in ax.get_title(loc="left")
    with pytest.raises(InputError, match="models"):
        plots.stance_heatmap(pd.concat([stance, stance.assign(model="hf:x@1")]))
    with pytest.raises(InputError, match="score"):
        plots.stance_heatmap(stance.drop(columns="score"))


# --------------------------------------------------------------------------- summary
def test_actor_summary_whiskers_match_aggregate_table(stance):
    agg = aggregate_documents(stance, n_resamples=999)
    ax = plots.actor_summary(agg)
    ci = next(c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == "ci")
    segs = ci.get_segments()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["China", "Russia", "West"]
    for seg, (_, row) in zip(segs, agg.iterrows()):
        assert seg[0][0] == pytest.approx(row.ci_low)
        assert seg[1][0] == pytest.approx(row.ci_high)
    widths = [p.get_width() for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 1]
    np.testing.assert_allclose(widths, agg.mean_score)
    # bar colour follows the sign: West is negative -> red, a positive mean -> blue
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 1]
    for bar, m in zip(bars, agg.mean_score):
        r, _, b, _ = bar.get_facecolor()
        assert (r > b) if m < 0 else (b > r), (m, bar.get_facecolor())
    assert _is_red(score_color(-0.5)) and _is_blue(score_color(0.5))
    assert ax.get_xlim()[0] <= -1 and ax.get_xlim()[1] >= 1
    assert any("n=8" in t.get_text() for t in ax.texts)  # Russia: 8 paragraphs


def test_actor_summary_with_hue_and_raw_stance_input(stance):
    multi = pd.concat([stance, make_stance(doc="ttn-en-56", lang="en", shift=-0.3)])
    agg = aggregate_corpus(multi, by="lang", n_resamples=999)
    ax = plots.actor_summary(agg, hue="lang")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["China · en", "China · fr", "Russia · en", "Russia · fr", "West · en", "West · fr"]
    by_label = agg.assign(label=agg.actor + " · " + agg.lang).set_index("label")
    segs = next(c for c in ax.collections if c.get_gid() == "ci").get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], by_label.loc[labels, "ci_low"])
    np.testing.assert_allclose([s[1][0] for s in segs], by_label.loc[labels, "ci_high"])
    # whiskers sit on the bar of their row
    ys = [t for t in ax.get_yticks()]
    np.testing.assert_allclose([s[0][1] for s in segs], ys)
    # a raw stance table is aggregated on the fly (same numbers, default seed)
    ax2 = plots.actor_summary(multi, hue="lang")
    full = aggregate_corpus(multi, by="lang")
    full = full.assign(label=full.actor + " · " + full.lang).set_index("label")
    segs2 = next(c for c in ax2.collections if c.get_gid() == "ci").get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs2], full.loc[labels, "ci_low"])


# --------------------------------------------------------------------------- trajectory / sentiment
def test_trajectory_breaks_lines_where_actor_not_mentioned(stance, paragraphs):
    ax = plots.stance_trajectory(stance, paragraphs=paragraphs)
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {"China", "Russia", "West"}
    west = lines["West"]
    np.testing.assert_array_equal(west.get_xdata(), np.arange(14))
    y = np.asarray(west.get_ydata(), dtype=float)
    expected = stance[stance.actor == "West"].set_index("para_id").score.reindex(range(14))
    np.testing.assert_array_equal(np.isnan(y), expected.isna().to_numpy())
    np.testing.assert_allclose(y[~np.isnan(y)], expected.dropna())
    # categorical colours never reuse the score convention's pure red/blue
    colors = {matplotlib.colors.to_hex(ln.get_color()) for ln in lines.values()}
    assert len(colors) == 3
    assert ax.get_ylim() == pytest.approx((-1.08, 1.08))


def test_sentiment_bars_values_colours_and_labels(sentiment, paragraphs):
    ax = plots.sentiment_bars(sentiment, paragraphs=paragraphs)
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 1]
    np.testing.assert_allclose([b.get_width() for b in bars], sentiment.score)
    assert _is_red(bars[9].get_facecolor()) and _is_blue(bars[11].get_facecolor())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("0 · Pékin se pose")
    assert "positive" in ax.get_xlabel()


def test_language_comparison_one_panel_per_actor_one_line_per_language(stance):
    multi = pd.concat([stance, make_stance(doc="ttn-en-56", lang="en", shift=0.1),
                       make_stance(doc="ttn-ru-56", lang="ru", shift=-0.1)])
    fig = plots.language_comparison(multi)
    assert isinstance(fig, matplotlib.figure.Figure)
    panels = [ax for ax in fig.axes if ax.get_title(loc="center")]
    assert [ax.get_title(loc="center") for ax in panels] == ["China", "Russia", "West"]
    russia = panels[1]
    lines = {ln.get_label(): ln for ln in russia.get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {"en", "fr", "ru"}
    y = np.asarray(lines["en"].get_ydata(), dtype=float)
    exp = make_stance(lang="en", shift=0.1).query("actor == 'Russia'").set_index("para_id").score
    np.testing.assert_allclose(y[list(exp.index)], exp)
    assert np.isnan(y[3])  # Russia not mentioned in paragraph 3
    with pytest.raises(InputError, match="one article per language"):
        plots.language_comparison(pd.concat([multi, make_stance(doc="x", lang="fr")]))


# --------------------------------------------------------------------------- evidence view
def test_evidence_html_escapes_highlights_and_colours(paragraphs, stance):
    paras = paragraphs.copy()
    paras.loc[1, "text"] = "<script>alert(1)</script> La Chine & la Russie"
    ms = pd.DataFrame([
        dict(doc_id=DOC, para_id=1, actor="China", surface="Chine", start=29, end=34, score=-0.9),
        dict(doc_id=DOC, para_id=1, actor="Russia", surface="Russie", start=40, end=46, score=0.9),
        dict(doc_id=DOC, para_id=2, actor="China", surface="Pékin", start=0, end=5, score=0.0),
        # overlapping span of another actor
        dict(doc_id=DOC, para_id=2, actor="West", surface="Pék", start=0, end=3, score=float("nan")),
    ])
    assert paras.loc[1, "text"][29:34] == "Chine" and paras.loc[1, "text"][40:46] == "Russie"
    view = evidence_html(paras, mention_scores=ms, stance=stance)
    html_text = view._repr_html_()
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "&amp; la" in html_text
    red = matplotlib.colors.to_hex(score_color(-0.9))
    blue = matplotlib.colors.to_hex(score_color(0.9))
    assert f'background:{red};color:#ffffff" title="China: stance \u22120.90 (Chine)"' in html_text
    assert f'title="Russia: stance +0.90 (Russie)"' in html_text and blue in html_text
    # overlap: "Pék" carries both actors, "in" only China
    assert 'title="China: stance +0.00 (Pékin); West: no score (Pék)"' in html_text
    # stance table evidence sentences are shown
    assert "“Les pays occidentaux accusent la Chine" in html_text


def test_evidence_html_saves_page(paragraphs, tmp_path):
    ms = pd.DataFrame([dict(doc_id=DOC, para_id=0, actor="China", surface="Pékin", start=0, end=5)])
    view = evidence_html(paragraphs, ms)  # plain mentions: grey highlight
    assert "#e0e0e0" in view.data and 'title="China: no score (Pékin)"' in view.data
    view.save(tmp_path / "e.html")
    text = (tmp_path / "e.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Pékin" in text


# --------------------------------------------------------------------------- layout at default size
LONG_MODEL = "hf:cardiffnlp/twitter-xlm-roberta-base-sentiment@f2f1202b1bdeb07b"


def _inside_figure(fig, artist) -> bool:
    fig.draw_without_rendering()
    box = artist.get_window_extent(fig.canvas.get_renderer())
    return (box.x0 >= fig.bbox.x0 - 0.5 and box.x1 <= fig.bbox.x1 + 0.5
            and box.y0 >= fig.bbox.y0 - 0.5 and box.y1 <= fig.bbox.y1 + 0.5)


@pytest.mark.parametrize("model", ["hf:s@1", LONG_MODEL])
def test_sentiment_title_reads_fully_at_default_size(sentiment, paragraphs, model):
    ax = plots.sentiment_bars(sentiment.assign(model=model), paragraphs=paragraphs)
    title = ax.title if ax.get_title() else ax._left_title
    text = title.get_text()
    assert _inside_figure(ax.figure, title), text
    # nothing is dropped by the wrapping: document and model id are all there
    assert DOC in text and model in text.replace("\n", "")
    assert text.startswith("Paragraph sentiment\n")


def test_heatmap_and_trajectory_titles_fit_with_long_model_id(stance, paragraphs):
    long = stance.assign(model=LONG_MODEL)
    for ax in (plots.stance_heatmap(long, paragraphs=paragraphs),
               plots.stance_trajectory(long, paragraphs=paragraphs)):
        assert _inside_figure(ax.figure, ax._left_title), ax.get_title(loc="left")
        assert LONG_MODEL in ax.get_title(loc="left").replace("\n", "")


def test_language_comparison_default_fits_report_page(stance):
    langs = ["fr", "en", "de", "ru", "zh", "es"]
    multi = pd.concat([make_stance(doc=f"ttn-{lg}-56", lang=lg, shift=0.05 * i)
                       for i, lg in enumerate(langs)])
    fig = plots.language_comparison(multi)
    width, height = fig.get_size_inches()
    assert width <= 13 and height <= 9
    assert _inside_figure(fig, fig.legends[0])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == sorted(langs)
    # more than three actors wrap onto a second row, panels stay in actor order
    five = pd.concat([multi, multi[multi.actor == "China"].assign(actor="Ukraine"),
                      multi[multi.actor == "Russia"].assign(actor="EU")])
    fig5 = plots.language_comparison(five)
    assert fig5.get_size_inches()[0] <= 13
    panels = [ax for ax in fig5.axes if ax.get_title(loc="center")]
    assert [ax.get_title(loc="center") for ax in panels] == ["China", "EU", "Russia", "Ukraine", "West"]
    rows = sorted({round(ax.get_position().y0, 3) for ax in panels})
    assert len(rows) == 2
    # the panel above the empty slot still shows its paragraph numbers
    assert any(t.get_visible() and t.get_text() for t in panels[2].get_xticklabels())


def test_lazy_api_exports_plotting_without_importing_matplotlib():
    import subprocess
    import sys

    import analysis

    names = ["stance_heatmap", "actor_summary", "stance_trajectory", "sentiment_bars",
             "language_comparison", "save_figure", "set_theme", "theme", "evidence_html",
             "aggregate_documents", "aggregate_corpus", "figure_name", "confusion_matrix_plot",
             "reliability_diagram", "write_standard_figures", "write_document_figures"]
    assert set(names) <= set(analysis.__all__)
    for name in names:
        assert callable(getattr(analysis, name)), name
    code = "import sys, analysis; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
