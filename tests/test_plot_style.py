"""Tests of analysis.plot_style: the theme, the score colours and save_figure.

Saved files must be valid and not blank, hold no date and no absolute path,
be byte-identical when saved again, and bad names, formats or resolutions
must be refused before anything is written.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from plot_tables import make_stance, no_show_and_close  # noqa: E402, F401 (autouse fixture)

from analysis.errors import InputError  # noqa: E402
from analysis.plot_style import THEME_RC, save_figure, score_color, theme  # noqa: E402
from analysis.plots import stance_heatmap  # noqa: E402


@pytest.fixture
def heatmap():
    return stance_heatmap(make_stance())


def test_save_figure_writes_valid_non_blank_files(heatmap, tmp_path):
    out = tmp_path / "figs" / "sub"  # created when missing
    paths = save_figure(heatmap.figure, "seed_heatmap", dpi=60, directory=out)
    assert [p.name for p in paths] == ["seed_heatmap.png", "seed_heatmap.svg", "seed_heatmap.pdf"]
    img = mpimg.imread(paths[0])
    assert img.ndim == 3 and img.shape[0] > 100 and float(img[..., :3].var()) > 0.001
    root = ET.parse(paths[1]).getroot()
    assert root.tag.endswith("svg")
    pdf = paths[2].read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert sorted(os.listdir(out)) == sorted(p.name for p in paths)  # no temp files left
    for p in paths:
        data = p.read_bytes()
        assert str(tmp_path).encode() not in data  # no absolute paths in outputs
    assert b"<dc:date>" not in paths[1].read_bytes()
    assert b"CreationDate" not in pdf


def test_resaving_is_byte_identical_and_replaces_files(tmp_path):
    def render_and_save():
        ax = stance_heatmap(make_stance())
        paths = save_figure(ax.figure, "h", dpi=40, directory=tmp_path)
        plt.close(ax.figure)
        return [p.read_bytes() for p in paths]

    first = render_and_save()
    second = render_and_save()
    assert first == second  # PNG, SVG and PDF identical across runs (no dates, fixed SVG ids)
    assert sorted(os.listdir(tmp_path)) == ["h.pdf", "h.png", "h.svg"]


def test_saved_figures_get_the_usual_file_mode(heatmap, tmp_path):
    old = os.umask(0o022)
    try:
        paths = save_figure(heatmap, "m", formats=("png", "svg"), dpi=30, directory=tmp_path)
    finally:
        os.umask(old)
    assert [oct(p.stat().st_mode & 0o777) for p in paths] == [oct(0o644)] * 2  # as open(path, "w") gives


def test_save_figure_rejects_bad_names_and_formats(heatmap, tmp_path):
    with pytest.raises(InputError, match="name"):
        save_figure(heatmap.figure, "../escape", directory=tmp_path)
    with pytest.raises(InputError, match="valid options: png, svg, pdf") as err:
        save_figure(heatmap.figure, "x", formats=("jpg",), directory=tmp_path)
    assert "jpg" in str(err.value)
    assert list(tmp_path.iterdir()) == []
    # an Axes is accepted in place of its figure; format names in any case, with or without a dot
    assert [p.name for p in save_figure(heatmap, "x", formats=(".PNG", "svg"), dpi=30, directory=tmp_path)] == [
        "x.png", "x.svg"]


@pytest.mark.parametrize("dpi", [0, -5, float("nan"), "300"])
def test_save_figure_refuses_a_resolution_that_is_not_a_positive_number(heatmap, tmp_path, dpi):
    out = tmp_path / "out"
    with pytest.raises(InputError, match="dpi must be a positive number"):
        save_figure(heatmap, "x", formats=("png",), dpi=dpi, directory=out)
    assert not out.exists()  # checked before the folder is made


def test_theme_applies_inside_the_block_only_and_score_colours_keep_their_sign():
    keys = ("axes.titlelocation", "svg.hashsalt")
    with matplotlib.rc_context({"axes.titlelocation": "center", "svg.hashsalt": None}):
        with theme():
            assert {k: matplotlib.rcParams[k] for k in keys} == {k: THEME_RC[k] for k in keys}
        assert [matplotlib.rcParams[k] for k in keys] == ["center", None]
    red, blue = score_color(-0.9), score_color(0.9)
    assert red[0] > red[2] + 0.3 and blue[2] > blue[0] + 0.3
    assert score_color(float("nan")) == matplotlib.colors.to_rgba("#f0f0f0")  # unmentioned: grey
