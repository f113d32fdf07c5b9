"""Tests of the validation helpers used by notebooks 02 and 03, on synthetic data.

language_consistency (analysis.aggregate), seed_agreement / read_gold_stance /
calibration_table / expected_calibration_error / predict_newsmtsc
(analysis.evaluation), confusion_matrix_plot / reliability_diagram /
figure_name (analysis.plots).
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import analysis as plots  # noqa: E402
from analysis.aggregate import language_consistency  # noqa: E402
from analysis.errors import InputError  # noqa: E402
from analysis.evaluation import (  # noqa: E402
    calibration_table,
    expected_calibration_error,
    predict_newsmtsc,
    read_gold_stance,
    seed_agreement,
)
from analysis.paths import GOLD_DIR  # noqa: E402

MODEL = "embedded:test@000000000000"


def _label(s: float) -> str:
    return "favor" if s > 0.33 else "against" if s < -0.33 else "neutral"


def stance_rows(doc: str, lang: str, scores: dict) -> list[dict]:
    """scores: {(para_id, actor): score}."""
    return [
        dict(doc_id=doc, para_id=p, actor=a, score=s, label=_label(s), lang=lang, model=MODEL)
        for (p, a), s in scores.items()
    ]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- language_consistency
REF = {(0, "China"): 0.5, (1, "China"): -0.4, (1, "Russia"): -0.8, (2, "Russia"): 0.1, (3, "West"): 0.3}


def test_language_consistency_pearson_on_shared_pairs():
    en = {k: 0.5 * v + 0.1 for k, v in REF.items()}  # exact linear map: r = 1
    de = dict(REF)
    de[(2, "Russia")] = -0.9  # one disagreement
    del de[(3, "West")]  # one pair only in the reference
    de[(5, "West")] = 0.2  # one pair only in German
    stance = pd.DataFrame(
        stance_rows("a", "fr", REF) + stance_rows("a.en", "en", en) + stance_rows("a.de", "de", de)
    )
    out = language_consistency(stance, reference_lang="fr")
    assert list(out["lang"]) == ["de", "en"]
    assert list(out.columns) == ["lang", "n_pairs", "n_only_reference", "n_only_lang", "pearson_r",
                                 "mean_abs_diff", "sign_agreement"]
    en_row = out.set_index("lang").loc["en"]
    assert en_row["n_pairs"] == 5 and en_row["pearson_r"] == pytest.approx(1.0)
    de_row = out.set_index("lang").loc["de"]
    keys = [(0, "China"), (1, "China"), (1, "Russia"), (2, "Russia")]
    a = np.array([REF[k] for k in keys])
    b = np.array([de[k] for k in keys])
    assert de_row["n_pairs"] == 4
    assert de_row["n_only_reference"] == 1 and de_row["n_only_lang"] == 1
    assert de_row["pearson_r"] == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert de_row["mean_abs_diff"] == pytest.approx(np.mean(np.abs(a - b)))
    assert de_row["sign_agreement"] == pytest.approx(0.75)


def test_language_consistency_takes_lang_from_paragraphs_and_handles_degenerate():
    stance = pd.DataFrame(stance_rows("a", "fr", REF) + stance_rows("b", "es", {(0, "China"): 0.2,
                                                                                (1, "China"): 0.3}))
    paragraphs = pd.DataFrame(
        [dict(doc_id="a", para_id=p, lang="fr") for p in range(4)]
        + [dict(doc_id="b", para_id=p, lang="es") for p in range(4)]
    )
    out = language_consistency(stance.drop(columns="lang"), paragraphs=paragraphs)
    assert out["n_pairs"].tolist() == [2]
    assert np.isnan(out["pearson_r"].iloc[0])  # fewer than 3 pairs: no correlation


def test_language_consistency_errors():
    stance = pd.DataFrame(stance_rows("a", "fr", REF) + stance_rows("b", "fr", REF))
    with pytest.raises(InputError, match="one article per language"):
        language_consistency(stance)
    with pytest.raises(InputError, match="reference language 'it'"):
        language_consistency(pd.DataFrame(stance_rows("a", "fr", REF)), reference_lang="it")
    with pytest.raises(InputError, match="paragraphs="):
        language_consistency(pd.DataFrame(stance_rows("a", "fr", REF)).drop(columns="lang"))


# --------------------------------------------------------------------------- seed agreement
def make_gold() -> pd.DataFrame:
    rows = [
        ("d", 0, "China", 1, "clear"),
        ("d", 0, "Russia", -1, "clear"),
        ("d", 0, "West", None, "clear"),
        ("d", 1, "China", 0, "ambiguous"),
        ("d", 1, "Russia", -1, "ambiguous"),
        ("d", 1, "West", 1, "clear"),  # the model will not score this one
        ("d", 2, "China", -1, "clear"),
    ]
    g = pd.DataFrame(rows, columns=["doc_id", "para_id", "actor", "stance", "clarity"])
    g["stance"] = g["stance"].astype("Int64")
    return g


def make_model(doc: str = "d", lang: str = "fr") -> pd.DataFrame:
    scores = {
        (0, "China"): 0.6,     # favor   vs 1   exact, sign ok
        (0, "Russia"): 0.2,    # neutral vs -1  wrong, sign wrong
        (0, "West"): 0.1,      # gold NA -> extra
        (1, "China"): 0.1,     # neutral vs 0   exact
        (1, "Russia"): -0.5,   # against vs -1  exact, sign ok
        (2, "China"): -0.2,    # neutral vs -1  wrong, sign ok
    }
    return pd.DataFrame(stance_rows(doc, lang, scores))


def test_seed_agreement_counts_and_rates():
    out = seed_agreement(make_model(), make_gold()).set_index("judgements")
    assert list(out.index) == ["all", "clear"]
    a = out.loc["all"]
    assert (a["n_gold"], a["n_pairs"], a["n_unscored"], a["n_extra"]) == (6, 5, 1, 1)
    assert a["exact_agreement"] == pytest.approx(3 / 5)
    assert a["n_signed"] == 4 and a["sign_agreement"] == pytest.approx(3 / 4)
    from scipy.stats import spearmanr

    expected = spearmanr([1, -1, 0, -1, -1], [0.6, 0.2, 0.1, -0.5, -0.2]).statistic
    assert a["spearman"] == pytest.approx(expected)
    c = out.loc["clear"]  # (0,China), (0,Russia), (1,West unscored), (2,China)
    assert (c["n_gold"], c["n_pairs"], c["n_unscored"]) == (4, 3, 1)
    assert c["exact_agreement"] == pytest.approx(1 / 3)
    assert c["sign_agreement"] == pytest.approx(2 / 3)


def test_seed_agreement_by_language_on_aligned_translations():
    stance = pd.concat([make_model("d", "fr"), make_model("d.en", "en")], ignore_index=True)
    out = seed_agreement(stance, make_gold(), on=("para_id", "actor"), by="lang")
    assert out[["lang", "judgements"]].values.tolist() == [
        ["en", "all"], ["en", "clear"], ["fr", "all"], ["fr", "clear"]
    ]
    assert out["exact_agreement"].tolist() == pytest.approx([0.6, 1 / 3, 0.6, 1 / 3])
    with pytest.raises(InputError, match="several rows"):
        seed_agreement(stance, make_gold(), on=("para_id", "actor"))


def test_read_gold_stance_on_the_seed_gold():
    gold = read_gold_stance(GOLD_DIR / "ttn-fr-56.stance.csv")
    assert len(gold) == 42
    assert gold["stance"].isna().sum() == 11
    assert gold["label"].value_counts().to_dict() == {"neutral": 14, "against": 11, "favor": 6}
    assert gold["para_id"].dtype == np.int64


def test_read_gold_stance_rejects_bad_values(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("doc_id,para_id,actor,stance,clarity\nd,0,China,2,clear\n", encoding="utf-8")
    with pytest.raises(InputError, match="-1, 0, 1 or NA"):
        read_gold_stance(bad)


# --------------------------------------------------------------------------- calibration
def test_calibration_table_and_ece_by_hand():
    proba = np.array([
        [0.88, 0.07, 0.05],  # conf .88, pred 0
        [0.1, 0.85, 0.05],  # conf .85, pred 1
        [0.2, 0.2, 0.6],    # conf .6, pred 2
        [0.5, 0.4, 0.1],    # conf .5, pred 0
    ])
    y = [0, 2, 2, "negative"]  # names and indices both accepted
    table = calibration_table(y, proba, n_bins=10)
    assert len(table) == 10 and table["n"].sum() == 4
    b8 = table.set_index("bin").loc[8]
    assert b8["n"] == 2 and b8["confidence"] == pytest.approx(0.865) and b8["accuracy"] == 0.5
    assert np.isnan(table.set_index("bin").loc[0, "accuracy"])
    ece = expected_calibration_error(y, proba, n_bins=10)
    expected = 2 / 4 * abs(0.5 - 0.865) + 1 / 4 * abs(1 - 0.6) + 1 / 4 * abs(1 - 0.5)
    assert ece == pytest.approx(expected)


def test_ece_is_zero_when_confidence_matches_accuracy():
    rng = np.random.default_rng(0)
    proba = np.tile([0.7, 0.2, 0.1], (1000, 1))
    y = np.where(rng.random(1000) < 0.7, 0, 1)
    y[:700], y[700:] = 0, 1  # exactly 70 % right
    assert expected_calibration_error(y, proba) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(expected_calibration_error([], np.zeros((0, 3))))
    with pytest.raises(InputError, match="unknown label"):
        calibration_table(["bad"], np.array([[1.0, 0, 0]]))


class _FakeClassifier:
    model_id = "fake"

    def predict_proba(self, sentences, spans):
        out = np.full((len(sentences), 3), 0.2)
        out[:, 0] = 0.6
        return out


def test_predict_newsmtsc_adds_probabilities(tmp_path):
    path = tmp_path / "dev.jsonl"
    records = [
        {"sentence_normalized": "Putin praised Xi.", "targets": [
            {"from": 0, "to": 5, "polarity": 6.0}, {"from": 14, "to": 16, "polarity": 4.0}]},
        {"sentence_normalized": "NATO warned Moscow.", "targets": [{"from": 12, "to": 18, "polarity": 2.0}]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    out = predict_newsmtsc(_FakeClassifier(), path)
    assert len(out) == 3 and out["pred"].tolist() == [0, 0, 0]
    assert out[["p_negative", "p_neutral", "p_positive"]].sum(axis=1).tolist() == pytest.approx([1.0] * 3)
    assert out["label"].tolist() == [2, 1, 0]


# --------------------------------------------------------------------------- plots
def test_figure_name_is_safe_and_stable():
    assert plots.figure_name("ttn-fr-56.en", "stance_heatmap") == "ttn-fr-56.en_stance_heatmap"
    assert plots.figure_name("my article/2024", "x") == "my-article-2024_x"


def test_confusion_matrix_plot_counts_and_shares(tmp_path):
    data = pd.DataFrame({
        "gold": ["against", "against", "neutral", "favor", "favor", "favor"],
        "pred": ["against", "neutral", "neutral", "favor", "neutral", "favor"],
    })
    order = ["against", "neutral", "favor"]
    ax = plots.confusion_matrix_plot(data, labels=order)
    mesh = ax.collections[0]
    shares = np.asarray(mesh.get_array()).reshape(3, 3)
    assert shares[0].tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert shares[2].tolist() == pytest.approx([0.0, 1 / 3, 2 / 3])
    texts = [t.get_text() for t in ax.texts]
    assert "1\n50%" in texts and "2\n67%" in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    assert "n = 6" in ax.get_title(loc="left")
    counts_ax = plots.confusion_matrix_plot(
        pd.DataFrame({"y": [0, 1, 2, 2], "p": [0, 1, 1, 2]}), y_true="y", y_pred="p",
        labels=[0, 1, 2], display_labels=["negative", "neutral", "positive"], normalize=None,
    )
    assert np.asarray(counts_ax.collections[0].get_array()).reshape(3, 3)[2].tolist() == [0, 1, 1]
    assert plots.save_figure(ax, "cm", formats=["png"], directory=tmp_path)[0].stat().st_size > 0


def test_reliability_diagram_points_match_calibration_table():
    rng = np.random.default_rng(1)
    n = 300
    raw = rng.dirichlet([1, 1, 1], size=n)
    y = rng.integers(0, 3, size=n)
    data = pd.DataFrame(raw, columns=["p_negative", "p_neutral", "p_positive"])
    data["label"] = y
    data["split"] = np.where(np.arange(n) < 150, "dev_rw", "dev_mt")
    ax = plots.reliability_diagram(data, hue="split")
    assert len(ax.figure.axes) == 2  # curve + histogram panel
    lines = {ln.get_label().split(" ")[0]: ln for ln in ax.get_lines()}
    assert set(lines) >= {"dev_rw", "dev_mt", "perfect"}
    sub = data[data["split"] == "dev_rw"]
    p = sub[["p_negative", "p_neutral", "p_positive"]].to_numpy()
    table = calibration_table(sub["label"], p)
    used = table[table["n"] > 0]
    assert np.asarray(lines["dev_rw"].get_xdata()) == pytest.approx(used["confidence"].to_numpy())
    assert np.asarray(lines["dev_rw"].get_ydata()) == pytest.approx(used["accuracy"].to_numpy())
    assert ax.ece["dev_rw"] == pytest.approx(expected_calibration_error(sub["label"], p))
    assert f"ECE {ax.ece['dev_rw']:.3f}" in lines["dev_rw"].get_label()
    _, own = plt.subplots()
    assert plots.reliability_diagram(data, ax=own) is own and len(own.figure.axes) == 1


# --------------------------------------------------------------------------- shipped model, real data
def test_translations_track_the_french_scores(embedded_classifier):
    """Each translation's paragraph x actor scores correlate with the French ones (needs the
    trained artefact; a smoke model fails this)."""
    from analysis import find_mentions, read_articles, score_stance
    from analysis.paths import DATA_DIR

    langs = ["en", "de", "es", "ru", "zh"]
    paths = [DATA_DIR / "ttn-fr-56.txt", *(DATA_DIR / "translations" / f"ttn-fr-56.{lg}.txt" for lg in langs)]
    paragraphs = read_articles(paths)
    stance = score_stance(paragraphs, find_mentions(paragraphs), embedded_classifier)
    table = language_consistency(stance, "fr", paragraphs=paragraphs)
    assert sorted(table["lang"]) == sorted(langs)
    assert (table["n_pairs"] == 31).all(), table
    # every translation tracks the French (r >= 0.7), and on average at r >= 0.8; German falls
    # short of 0.8 (0.73 with the shipped artefact; en 0.95, es 0.90, ru 0.86, zh 0.85)
    assert (table["pearson_r"] >= 0.7).all(), "\n" + table.to_string()
    assert table["pearson_r"].mean() >= 0.8, "\n" + table.to_string()


# --------------------------------------------------------------------------- target dependence reports
class _NameReader:
    """A stand-in mention classifier: favourable to the targets it is told to like, against the others."""

    def __init__(self, liked):
        self.liked = set(liked)
        self.model_id = "stub"

    def predict_proba(self, sentences, spans):
        liked = [s[a:b] in self.liked for s, (a, b) in zip(sentences, spans)]
        return np.array([[0.1, 0.2, 0.7] if x else [0.6, 0.3, 0.1] for x in liked])


def _contrast_csv(path, rows):
    header = "id,lang,sentence,target_a,target_b,stance_a,stance_b,shape\n"
    path.write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_contrast_report_counts_right_signs_and_ranking(tmp_path):
    from analysis.evaluation import contrast_report, read_contrast, score_contrast

    path = _contrast_csv(tmp_path / "c.csv", [
        ("1", "en", "Oslo helped while Lima refused.", "Oslo", "Lima", "1", "-1", "p"),
        ("2", "fr", "Quito a menti et Accra a aidé.", "Quito", "Accra", "-1", "1", "o"),
        ("3", "fr", "Rome a aidé et Bonn aussi.", "Rome", "Bonn", "1", "1", "j"),  # not a contrast row
    ])
    table = read_contrast(path)
    assert table.loc[0, ["start_b", "end_b"]].tolist() == [18, 22]
    report = contrast_report(score_contrast(_NameReader({"Oslo", "Quito"}), table))
    assert report["n"] == 2
    assert report["right_signs"] == 0.5 and report["ranked"] == 0.5
    assert report["by_lang"]["en"] == {"n": 1, "right_signs": 1.0, "ranked": 1.0}
    assert report["by_lang"]["fr"] == {"n": 1, "right_signs": 0.0, "ranked": 0.0}


def test_contrast_file_errors_name_the_file_and_line(tmp_path):
    from analysis.evaluation import read_contrast

    path = _contrast_csv(tmp_path / "c.csv", [("1", "en", "Oslo helped.", "Oslo", "Lima", "1", "-1", "p")])
    with pytest.raises(InputError, match=r"c\.csv, line 2: target_b"):
        read_contrast(path)
    (tmp_path / "d.csv").write_text("id,sentence\n1,x\n")
    with pytest.raises(InputError, match=r"d\.csv: missing columns"):
        read_contrast(tmp_path / "d.csv")


def test_name_swap_report_measures_a_favourite_actor(tmp_path):
    from analysis.evaluation import name_swap_report, read_name_swap, score_name_swap

    (tmp_path / "t.csv").write_text('id,lang,template,polarity\nt1,en,"{} helped.",1\nt2,en,"{} lied.",-1\n')
    (tmp_path / "t_names.csv").write_text("lang,name,actor\nen,Moscow,Russia\nen,Oslo,\nen,Lima,\n")
    templates, names = read_name_swap(tmp_path / "t.csv")
    report = name_swap_report(score_name_swap(_NameReader({"Moscow"}), templates, names))
    # Moscow scores +0.6 against -0.5 for the others in both templates; half the pairs have the right sign
    assert report["actor_gap"] == {"Russia": pytest.approx(1.1)}
    assert report["right_sign"] == 0.5
    (tmp_path / "bad.csv").write_text('id,lang,template,polarity\nt1,en,"no slot",1\n')
    with pytest.raises(InputError, match=r"bad\.csv, line 2: a template needs exactly one"):
        read_name_swap(tmp_path / "bad.csv", tmp_path / "t_names.csv")


def test_evaluate_cli_contrast_prints_json_last(tiny_hf_model, capsys):
    from analysis.cli import main
    from analysis.paths import DATA_DIR

    argv = ["evaluate", "contrast", str(DATA_DIR / "contrast" / "contrast_test.csv"), "--model", str(tiny_hf_model())]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 54 and set(report["by_lang"]) == {"fr", "en", "de", "es", "ru", "zh"}
    assert 0 <= report["right_signs"] <= 1 and report["file"] == "contrast_test.csv"


def test_evaluate_cli_bad_file_exits_2_before_loading_a_model(tmp_path, capsys):
    from analysis.cli import main

    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert main(["evaluate", "name-swap", str(tmp_path / "x.csv"), "--model", "no/such-model"]) == 2
    assert "x.csv: missing columns" in capsys.readouterr().err
