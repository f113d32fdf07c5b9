"""Training the embedded classifier: the ``analysis train`` command, its options and budget, the
training and dev sets (sources, the Russian dev split, no dev sentence in training), the target
renaming, the head correction on dev, and the artefact reproducing its recorded dev samples."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from analysis.cli import main
from analysis.paths import DATA_DIR
from analysis.training.config import DEFAULT_RUSENTNE, DEFAULT_TRANSLATIONS, TrainConfig

CONTRAST_TRAIN = DATA_DIR / "contrast" / "contrast_train.csv"
NAMES = DATA_DIR / "contrast" / "names.csv"
TRANSLATED_LANGS = ["de", "es", "fr", "zh"]

requires_rusentne = pytest.mark.skipif(
    not DEFAULT_RUSENTNE.is_file(), reason=f"needs the RuSentNE train file {DEFAULT_RUSENTNE} (../shared absent)"
)


def test_train_help_lists_its_options(capsys):
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--out", "--data-dir", "--extra", "--names", "--max-steps", "--max-train-sentences",
                   "--max-dev-sentences", "--epochs", "--rank", "--rusentne", "--translations",
                   "--rusentne-dev-share", "--split-seed", "--calibrate"):
        assert option in out


@pytest.mark.parametrize(
    "option, value, message",
    [("--max-steps", "0", "at least 1"), ("--substitute", "1.5", "from 0 to 1"), ("--epochs", "two", "invalid int")],
)
def test_train_rejects_bad_option_values(tmp_path, capsys, option, value, message):
    assert main(["train", "--out", str(tmp_path / "out"), option, value]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_train_refuses_to_replace_a_folder_that_is_not_an_artifact(tmp_path, capsys):
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    assert main(["train", "--out", str(tmp_path), "--data-dir", str(tmp_path / "absent")]) == 2
    assert "is not a trained artefact" in capsys.readouterr().err
    assert keep.read_text() == "mine"


def test_the_command_line_does_not_import_the_training_code():
    """``analysis train --help`` lists the options from analysis.training.config (stdlib only);
    the training code itself is imported only when training runs."""
    code = (
        "import json, sys; from analysis.cli import build_parser; build_parser().parse_args(['train', '--out', 'x']); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('analysis.training'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded) == ["analysis.training", "analysis.training.config"]


def _locate(newsmtsc_dir):
    """Where the dev files recorded in an artefact's ``dev_samples`` live."""
    return lambda kind, file: {
        "newsmtsc": (newsmtsc_dir if file in ("dev_rw.jsonl", "dev_mt.jsonl") else DEFAULT_TRANSLATIONS) / file,
        "rusentne": DEFAULT_RUSENTNE,
    }[kind]


@requires_rusentne
def test_train_smoke_run_writes_a_loadable_artifact(newsmtsc_dir, tmp_path, capsys):
    """``analysis train`` end to end on a tiny budget with every source (the full run is ``make train``)."""
    from analysis.classifiers.embedded import EmbeddedClassifier
    from analysis.labelled import read_newsmtsc
    from analysis.training.embedded import check_dev_samples

    out = tmp_path / "artifact"
    status = main([
        "train", "--out", str(out), "--data-dir", str(newsmtsc_dir),
        "--extra", str(CONTRAST_TRAIN), "--names", str(NAMES),
        "--max-train-sentences", "16", "--max-dev-sentences", "4", "--max-steps", "1",
        "--batch-size", "4", "--max-length", "64", "--rank", "2", "--alpha", "4",
    ])
    assert status == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["selected_epoch"] == 1
    meta = json.loads((out / "metadata.json").read_text())
    hyper = meta["hyperparameters"]
    assert (hyper["max_steps"], hyper["max_train_sentences"], hyper["max_dev_sentences"]) == (1, 16, 4)
    assert (hyper["rusentne"], hyper["translations"]) == ("train.csv", "newsmtsc-translated")
    assert [epoch["steps"] for epoch in meta["history"]] == [1], "the budget stops training after one step"
    data = meta["training_data"]
    assert data["extra"][0]["file"] == CONTRAST_TRAIN.name
    assert data["rusentne"]["file"] == "train.csv" and data["fr-dev"]["file"] == "fr-dev.jsonl"
    assert {"newsmtsc", "rusentne", *(f"translation-{lang}" for lang in TRANSLATED_LANGS)} <= set(data["by_source"])
    dev_sets = ["dev_rw", "dev_mt", "ru_dev", *(f"{lang}_dev" for lang in TRANSLATED_LANGS)]
    assert sorted(meta["dev_metrics_shipped"]) == sorted(dev_sets) == sorted(meta["selection_weights"])
    for name in dev_sets:
        assert {"macro_f1", "macro_f1_pn", "accuracy", "n", "lang"} <= set(meta["dev_metrics_shipped"][name])
    assert meta["dev_metrics_shipped"]["ru_dev"]["lang"] == "ru"
    dev_rw = read_newsmtsc(newsmtsc_dir / "dev_rw.jsonl")
    first_four = dev_rw[dev_rw["sentence_index"].isin(dev_rw["sentence_index"].unique()[:4])]
    assert meta["dev_metrics_shipped"]["dev_rw"]["n"] == len(first_four) < len(dev_rw), "checks ran on the budget"
    assert set(meta["head_correction"]["kept"]) == {"temperature", "offsets"}

    umask = os.umask(0)
    os.umask(umask)
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes == {name: (0o777 if (out / name).is_dir() else 0o666) & ~umask for name in modes}, "the umask's modes"

    clf = EmbeddedClassifier.load(artifact=out)
    assert set(meta["dev_samples"]) == set(dev_sets)
    gaps = check_dev_samples(clf, meta["dev_samples"], _locate(newsmtsc_dir))
    assert set(gaps) == set(dev_sets) and max(gaps.values()) < 1e-3, gaps
    sentences = ["Moscow was praised for its help.", "Critics blamed Beijing for the delay."]
    proba = clf.predict_proba(sentences, [(0, 6), (15, 22)])
    assert proba.shape == (2, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)


def test_train_without_the_shared_rusentne_file_fails_clearly(newsmtsc_dir, tmp_path, capsys):
    status = main(["train", "--out", str(tmp_path / "out"), "--data-dir", str(newsmtsc_dir),
                   "--rusentne", str(tmp_path / "absent.csv")])
    assert status == 2
    err = capsys.readouterr().err
    assert "absent.csv: RuSentNE train file not found" in err and "--rusentne ''" in err
    assert not (tmp_path / "out").exists()


def test_shipped_artifact_reproduces_its_recorded_dev_samples(request, newsmtsc_dir):
    """Every dev set's recorded sample (a few sentences per language and their probabilities)
    comes out again from the shipped artefact."""
    from analysis.classifiers.artifact import ARTIFACT_DIR
    from analysis.training.embedded import check_dev_samples

    meta = json.loads((ARTIFACT_DIR / "metadata.json").read_text())
    if "dev_samples" not in meta:
        pytest.skip("the shipped artefact predates per-language dev samples (retrain with make train)")
    locate = _locate(newsmtsc_dir)
    if not DEFAULT_RUSENTNE.is_file():
        locate = lambda kind, file, base=locate: None if kind == "rusentne" else base(kind, file)  # noqa: E731
    gaps = check_dev_samples(request.getfixturevalue("embedded_classifier"), meta["dev_samples"], locate)
    assert gaps and max(gaps.values()) < 1e-3, gaps


# --------------------------------------------------------------------------- training and dev sets
def test_rusentne_dev_split_is_by_sentence_and_seeded():
    import pandas as pd

    from analysis.training.data import rusentne_split

    targets = pd.DataFrame({"sentence_index": np.repeat(np.arange(200), 3), "label": 1})
    train, dev = rusentne_split(targets, 0.15, seed=5)
    assert set(train["sentence_index"]).isdisjoint(dev["sentence_index"]), "every target of a sentence on one side"
    assert dev["sentence_index"].nunique() == 30 and len(train) + len(dev) == len(targets)
    again, other = rusentne_split(targets, 0.15, seed=5)[1], rusentne_split(targets, 0.15, seed=6)[1]
    assert again["sentence_index"].tolist() == dev["sentence_index"].tolist()
    assert set(other["sentence_index"]) != set(dev["sentence_index"])


@pytest.fixture(scope="module")
def assembled(newsmtsc_dir):
    """The full training and dev sets of the shipped recipe (no model involved)."""
    from analysis.training.data import assemble

    if not DEFAULT_RUSENTNE.is_file():
        pytest.skip(f"needs the RuSentNE train file {DEFAULT_RUSENTNE} (../shared absent)")
    config = TrainConfig(extra=[str(CONTRAST_TRAIN)], names=str(NAMES), rusentne=str(DEFAULT_RUSENTNE),
                         translations=str(DEFAULT_TRANSLATIONS))
    return assemble(config, newsmtsc_dir, np.random.default_rng(config.seed))


def test_no_dev_sentence_is_trained_on_in_any_language(assembled):
    from analysis.labelled import read_newsmtsc

    training, dev, _ = assembled
    dev_gids = set(read_newsmtsc(DEFAULT_TRANSLATIONS / "fr-dev.jsonl")["gid"])
    assert len(dev_gids) == 233
    for lang in TRANSLATED_LANGS:
        assert set(dev[f"{lang}_dev"].targets["gid"]) == dev_gids, "the same sentences in every language"
    sources = set(training.sources)
    assert {"newsmtsc", "newsmtsc-renamed", "pairs", "rusentne", *(f"translation-{lang}" for lang in TRANSLATED_LANGS)} <= sources
    trained_gids = {part for gid in training.gids for part in gid.split("+") if part}
    assert len(trained_gids) > 7000, "NewsMTSC and translated sentences carry their gid"
    assert not trained_gids & dev_gids, "a translated dev sentence (or its English original) is in training"
    # the English originals of the dev sentences are in NewsMTSC train, and left out of it
    assert dev_gids <= set(read_newsmtsc(assembled[2]["train"])["gid"])
    trained_text = {sentence for sentence, _, _ in training.items}
    for name, d in dev.items():
        if name not in ("dev_rw", "dev_mt"):  # NewsMTSC's own dev_rw shares one sentence with its train
            assert not trained_text & set(d.targets["sentence"]), f"a {name} sentence is in training"


def test_russian_dev_set_holds_15_percent_of_the_rusentne_sentences(assembled):
    from analysis.labelled import read_rusentne

    training, dev, _ = assembled
    ru_dev = dev["ru_dev"].targets
    rusentne = read_rusentne(DEFAULT_RUSENTNE)
    assert ru_dev["sentence_index"].nunique() == round(0.15 * rusentne["sentence_index"].nunique())
    n_ru_train = sum(source == "rusentne" for source in training.sources)
    assert n_ru_train + ru_dev["sentence_index"].nunique() == rusentne["sentence_index"].nunique()
    assert all(tone == -100 for (_, _, tone), source in zip(training.items, training.sources) if source == "rusentne")


def test_selection_weighs_the_three_sources_alike(assembled):
    from analysis.training.data import selection_weights

    weights = selection_weights(assembled[1])
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["ru_dev"] == pytest.approx(1 / 3)
    assert weights["dev_rw"] == weights["dev_mt"] == pytest.approx(1 / 6)
    assert all(weights[f"{lang}_dev"] == pytest.approx(1 / 12) for lang in TRANSLATED_LANGS)


# --------------------------------------------------------------------------- head correction
def test_head_correction_folds_temperature_and_offsets_into_the_last_layer():
    import torch

    from analysis.classifiers.torch_runtime import build_head
    from analysis.training.calibration import fold_into_head

    torch.manual_seed(0)
    head = build_head(8, dropout=0.0, sentence_features=False).eval()
    hidden, mask = torch.randn(2, 5, 8), torch.ones(2, 5)
    span, row = torch.tensor([[0, 1, 1, 0, 0], [0, 0, 0, 1, 0.0]]), torch.tensor([0, 1])
    before, tone_before = head(hidden, mask, span, row)
    fold_into_head(head, 2.0, [0.5, 0.0, -0.25])
    after, tone_after = head(hidden, mask, span, row)
    torch.testing.assert_close(after, before / 2.0 + torch.tensor([0.5, 0.0, -0.25]))
    torch.testing.assert_close(tone_after, tone_before)


def test_calibration_keeps_offsets_only_when_they_help_out_of_sample():
    from analysis.training.calibration import calibrate

    rng = np.random.default_rng(0)

    def dev_set(n, shift):
        labels = rng.integers(0, 3, n)
        logits = rng.normal(0, 1, (n, 3)) + 2.0 * np.eye(3)[labels]
        logits[:, 0] += shift  # a model that over-reads the negative class by `shift`
        proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return proba, labels, np.arange(n)

    biased = calibrate({"a": dev_set(600, 1.5), "b": dev_set(600, 1.5)}, {"a": 0.5, "b": 0.5}, seed=1)
    assert biased["kept"]["offsets"] and biased["offsets"][0] < -0.5
    cross = biased["cross_fit"]
    assert cross["weighted_macro_f1_cross_fitted"] > cross["weighted_macro_f1"] + 0.005
    fair = calibrate({"a": dev_set(600, 0.0), "b": dev_set(600, 0.0)}, {"a": 0.5, "b": 0.5}, seed=1)
    assert not fair["kept"]["offsets"] and fair["offsets"] == [0.0, 0.0, 0.0]
    assert fair["temperature"] > 0 and len(fair["fitted_offsets"]) == 3


def test_name_substitution_moves_labels_with_their_spans():
    from analysis.training.data import _substitute_names

    pool = ["Moscow", "Beijing", "the West", "Kenya"]
    first = "President Trump praised Alice, and he blamed Bob."
    spans = {word: (first.index(word), first.index(word) + len(word)) for word in ("Trump", "Alice", " he ", "Bob")}
    spans[" he "] = (spans[" he "][0] + 1, spans[" he "][1] - 1)
    items = [
        (first, [(*spans["Trump"], 2), (*spans["Bob"], 0), (*spans["Alice"], 1), (*spans[" he "], 1)], -100),
        ("Carol met reporters.", [(0, 5, 1)], 1),
    ]
    out = _substitute_names(items, pool, np.random.default_rng(0), share=1.0, any_surface=False)
    for (sentence, targets, tone), (_, old, old_tone) in zip(out, items):
        assert tone == old_tone
        assert sorted(label for *_, label in targets) == sorted(label for *_, label in old)
    sentence, targets, _ = out[0]
    surfaces = {sentence[a:b]: label for a, b, label in targets}
    assert surfaces["he"] == 1, "pronouns stay"
    renamed = [s for s in surfaces if s in pool]
    assert len(renamed) == 3 and len(set(renamed)) == 3, "each proper-name target gets its own pool name"
    assert not sentence.startswith("President"), "a title goes with the name it precedes"
    assert surfaces[sentence.split(" praised")[0]] == 2
    unchanged = _substitute_names(items, pool, np.random.default_rng(0), share=0.0, any_surface=False)
    assert unchanged == items


def test_newsmtsc_targets_naming_russia_or_china_are_always_renamed():
    import pandas as pd

    from analysis.training.data import _rename_actor_targets, sentence_items

    targets = pd.DataFrame({
        "sentence_index": ["a", "b", "c"],
        "sentence": ["Putin lied again.", "Trump lied again.", "Beijing kept its word."],
        "start": [0, 0, 0],
        "end": [5, 5, 7],
        "mention": ["Putin", "Trump", "Beijing"],
        "label": [0, 0, 2],
    })
    items = sentence_items(targets)
    renamed = _rename_actor_targets(items, targets, ["Kenya", "Peru"], ("Russia", "China"), np.random.default_rng(0))
    assert renamed[1] == items[1], "other actors' targets stay"
    for (sentence, [(start, end, label)], _), old in zip(renamed[::2], items[::2]):
        assert sentence[start:end] in ("Kenya", "Peru") and label == old[1][0][2]


def test_rusentne_renames_only_targets_that_are_an_actors_name():
    import pandas as pd

    from analysis.training.data import _rename_actor_targets, sentence_items

    first = "Президент США встретился с представителями Китая и Турции."
    second = "Власти России и Индии подписали договор."
    surfaces = [("Президент США", first), ("Китая", first), ("Турции", first), ("России", second), ("Индии", second)]
    targets = pd.DataFrame({
        "sentence_index": ["a", "a", "a", "b", "b"],
        "sentence": [sentence for _, sentence in surfaces],
        "start": [sentence.index(word) for word, sentence in surfaces],
        "end": [sentence.index(word) + len(word) for word, sentence in surfaces],
        "mention": [word for word, _ in surfaces],
        "label": [1, 0, 2, 1, 2],
    })
    items = sentence_items(targets)
    pool = ["Бразилия", "Кения", "Перу"]
    renamed = _rename_actor_targets(items, targets, pool, ("Russia", "China", "West"), np.random.default_rng(0),
                                    "ru", whole_names=True)
    (sentence_a, targets_a, _), (sentence_b, targets_b, _) = renamed
    got_a = [(sentence_a[s:e], label) for s, e, label in targets_a]
    assert got_a[0] == ("Президент США", 1), "a role that contains an actor's name stays"
    assert got_a[1][0] in pool and got_a[1][1] == 0, "the actor's own name is renamed, its label kept"
    assert got_a[2] == ("Турции", 2), "the sentence's other entities stay"
    got_b = [(sentence_b[s:e], label) for s, e, label in targets_b]
    assert got_b[0][0] in pool and got_b[1] == ("Индии", 2)
    whole = _rename_actor_targets(items, targets, pool, ("Russia", "China", "West"), np.random.default_rng(0), "ru")
    assert whole[1][0].count("Индии") == 0, "without whole_names every proper-name target of the sentence is renamed"
