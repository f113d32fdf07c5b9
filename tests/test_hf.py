"""Hub / local transformers models: label conventions, NLI stance, sentiment, windowing, locating, identity."""

from __future__ import annotations

import re
import time
import warnings

import numpy as np
import pytest

from analysis.classifiers import load_classifier
from analysis.classifiers.hf import describe_hf, load_hf_classifier
from analysis.classifiers.hub import hub_reachable
from analysis.classifiers.labels import detect_kind
from analysis.classifiers.nli import DEFAULT_TEMPLATES, HFNLIClassifier
from analysis.classifiers.sentiment import HFSentimentClassifier
from analysis.errors import InputError
from analysis.scoring import score_stance

S1 = "La Russie et la Chine critiquent l'Occident."
S2 = "Le président russe a rencontré son homologue chinois à Moscou."
S3 = "Die Europäische Union und die NATO verurteilen Russland."


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def nli_dir(tiny_hf_model):
    return tiny_hf_model()


@pytest.fixture(scope="module")
def nli(nli_dir):
    return load_classifier(nli_dir, device="cpu", batch_size=8)


@pytest.fixture
def mentions(make_mentions):
    return make_mentions(
        {
            ("fr", 1): [(S1, [("russia", "Russie"), ("china", "Chine"), ("west", "Occident")]),
                        (S2, [("russia", "russe"), ("china", "chinois"), ("russia", "Moscou")])],
            ("de", 0): [(S3, [("russia", "Russland"), ("west", "NATO"), ("west", "Europäische Union")])],
        }
    )


# --- label conventions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "labels, entailment_id",
    [
        (["entailment", "neutral", "contradiction"], 0),
        (["CONTRADICTION", "NEUTRAL", "ENTAILMENT"], 2),
        (["contradict", "entail"], 1),
        (["Entailment", "not_entailment"], 0),
    ],
)
def test_detect_nli(labels, entailment_id):
    assert detect_kind(labels) == ("nli", {"entailment_id": entailment_id})


@pytest.mark.parametrize(
    "labels, expected",
    [
        (["negative", "neutral", "positive"], ["negative", "neutral", "positive"]),
        (["Positive", "Negative", "Neutral"], ["positive", "negative", "neutral"]),
        (["NEG", "NEU", "POS"], ["negative", "neutral", "positive"]),
        (["NEGATIVE", "POSITIVE"], ["negative", "positive"]),
        (["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
         ["negative", "negative", "neutral", "positive", "positive"]),
        (["Very Negative", "Negative", "Neutral", "Positive", "Very Positive"],
         ["negative", "negative", "neutral", "positive", "positive"]),
    ],
)
def test_detect_sentiment_conventions(labels, expected):
    kind, info = detect_kind(labels)
    assert kind == "sentiment" and not info["assumed"]
    assert [info["mapping"][x] for x in labels] == expected
    assert info["matrix"].sum(axis=1).tolist() == [1.0] * len(labels)


def test_generic_labels_assumed_only_for_three():
    with pytest.warns(UserWarning, match="assuming"):
        kind, info = detect_kind(["LABEL_0", "LABEL_1", "LABEL_2"])
    assert kind == "sentiment" and info["assumed"]
    assert info["mapping"] == {"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"}
    with pytest.raises(InputError, match="LABEL_0.*LABEL_1"):
        detect_kind(["LABEL_0", "LABEL_1"])


@pytest.mark.parametrize("labels", [["joy", "anger", "fear"], ["neutral", "positive"], []])
def test_unknown_labels_are_listed(labels):
    with pytest.raises(InputError) as err:
        detect_kind(labels)
    for lab in labels:
        assert repr(lab) in str(err.value)
    assert "Supported conventions" in str(err.value) or "at least a negative" in str(err.value)


def test_explicit_label_map():
    kind, info = detect_kind(["joy", "anger"], {"joy": "positive", "anger": "negative"})
    assert kind == "sentiment" and info["mapping"] == {"joy": "positive", "anger": "negative"}
    with pytest.raises(InputError, match="fear"):
        detect_kind(["joy", "fear"], {"joy": "positive"})


# --- NLI --------------------------------------------------------------------------


def test_nli_model_identity_and_metadata(nli, nli_dir):
    assert isinstance(nli, HFNLIClassifier)
    assert re.fullmatch(r"hf:[^/@]+@local-[0-9a-f]{12}", nli.model_id)
    assert nli.model_id.startswith(f"hf:{nli_dir.name}@")
    assert str(nli_dir) not in nli.model_id
    assert nli.metadata["templates"] == {k: DEFAULT_TEMPLATES[k] for k in ("against", "neutral", "favor")}
    assert {"torch", "transformers"} <= set(nli.metadata["versions"])
    assert nli.metadata["kind"] == "nli"
    # the identity follows the weights: same folder -> same id
    assert load_classifier(nli_dir, device="cpu").model_id == nli.model_id


def test_nli_matches_zero_shot_pipeline(nli, nli_dir, mentions):
    from transformers import pipeline

    out = score_stance(None, mentions, nli)
    assert len(out) == 5
    zsc = pipeline("zero-shot-classification", model=str(nli_dir), device="cpu")
    spread = []
    for row in out.itertuples():
        rows = mentions[(mentions.doc_id == row.doc_id) & (mentions.para_id == row.para_id) & (mentions.actor == row.actor)]
        premise = " ".join(rows.sort_values("sentence_id").drop_duplicates("sentence_id").sentence)
        hyps = nli.hypotheses(row.actor)
        res = zsc(premise, candidate_labels=hyps, hypothesis_template="{}")
        naive = dict(zip(res["labels"], res["scores"]))
        ours = [row.p_against, row.p_neutral, row.p_favor]
        np.testing.assert_allclose(ours, [naive[h] for h in hyps], atol=1e-4)
        spread.append(ours)
    # the tiny model is not constant: equality above is meaningful
    assert np.ptp(np.array(spread), axis=0).max() > 0.01


def test_nli_batch_size_does_not_change_scores(nli_dir, mentions):
    a = score_stance(None, mentions, nli_dir, batch_size=1, device="cpu")
    b = score_stance(None, mentions, nli_dir, batch_size=64, device="cpu")
    np.testing.assert_allclose(a[["p_against", "p_neutral", "p_favor"]], b[["p_against", "p_neutral", "p_favor"]], atol=1e-5)


def test_nli_each_actor_on_its_own_and_evidence(nli, mentions):
    full = score_stance(None, mentions, nli)
    part = score_stance(None, mentions[mentions.actor != "china"], nli)
    cols = ["p_against", "p_neutral", "p_favor"]
    np.testing.assert_allclose(full[full.actor != "china"][cols].to_numpy(), part[cols].to_numpy(), atol=1e-6)
    russia_fr = full[(full.doc_id == "fr") & (full.actor == "russia")].iloc[0]
    assert russia_fr.n_mentions == 3
    assert russia_fr.evidence in (S1, S2)
    assert full[(full.doc_id == "de")].evidence.tolist() == [S3, S3]


def test_custom_templates(nli_dir, mentions):
    templates = {"favor": "{actor} est présenté positivement.", "neutral": "{actor} est présenté de façon neutre.",
                 "against": "{actor} est présenté négativement."}
    clf = load_classifier(nli_dir, device="cpu", templates=templates, actor_names={"russia": "la Russie"})
    assert clf.metadata["templates"] == {k: templates[k] for k in ("against", "neutral", "favor")}
    assert clf.hypotheses("russia")[2] == "la Russie est présenté positivement."
    assert clf.hypotheses("the_west")[0] == "The West est présenté négativement."
    out = score_stance(None, mentions, clf)
    default = score_stance(None, mentions, nli_dir, device="cpu")
    assert not np.allclose(out.p_favor, default.p_favor)
    with pytest.raises(InputError, match="actor"):
        load_classifier(nli_dir, device="cpu", templates={"favor": "Good.", "neutral": "Meh.", "against": "Bad."})
    with pytest.raises(InputError, match="keys"):
        load_classifier(nli_dir, device="cpu", templates={"favor": "{actor} good."})


def test_nli_sentiment_and_mention_level(nli):
    probs = nli.predict_sentiment([S1, S2, S3])
    assert probs.shape == (3, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    p = nli.predict_proba([S1, S1], [(3, 9), (16, 21)])
    assert p.shape == (2, 3) and not np.allclose(p[0], p[1])
    assert nli.predict([S1], [(3, 9)])[0] in ("negative", "neutral", "positive")


def test_long_premise_is_windowed_not_cut(tiny_hf_model):
    folder = tiny_hf_model(max_position_embeddings=24)
    clf = load_classifier(folder, device="cpu", batch_size=4)
    assert clf.max_length == 24
    long_text = " ".join([S1, S2, S3] * 4)
    hyps = clf.hypotheses("russia")
    budget = clf.max_length - clf._n_special_pair - max(clf._n_tokens(hyps))
    windows = clf._windows([long_text], [budget])[0]
    assert len(windows) > 3
    assert long_text.startswith(windows[0]) and long_text.endswith(windows[-1])
    assert all(n <= budget + 1 for n in clf._n_tokens(windows))
    got = clf.nli_probs([long_text], [hyps])[0]
    per_window = clf.nli_probs(windows, [hyps] * len(windows))
    np.testing.assert_allclose(got, per_window.mean(axis=0), atol=1e-9)
    # the tail of the text matters (it would be silently dropped by truncation)
    changed = clf.nli_probs([long_text + " " + S2 + " " + S1], [hyps])[0]
    assert not np.allclose(got, changed)


# --- sentiment models ------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        ("negative", "neutral", "positive"),
        ("NEGATIVE", "POSITIVE"),
        ("1 star", "2 stars", "3 stars", "4 stars", "5 stars"),
    ],
)
def test_sentiment_models(tiny_hf_model, labels, mentions):
    clf = load_classifier(tiny_hf_model(labels), device="cpu")
    assert isinstance(clf, HFSentimentClassifier)
    # a mention is scored from its sentence: two mentions in one sentence agree
    p = clf.predict_proba([S1, S1, S2], [(3, 9), (16, 21), (14, 19)])
    np.testing.assert_allclose(p[0], p[1])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    if "neutral" not in [x.lower() for x in labels] and "3 stars" not in labels:
        assert (p[:, 1] == 0).all()
    # star ratings are collapsed by summing probabilities
    if len(labels) == 5:
        logits = clf._forward([S2])
        raw = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        np.testing.assert_allclose(p[2], [raw[0, :2].sum(), raw[0, 2], raw[0, 3:].sum()], atol=1e-6)
    out = score_stance(None, mentions, clf)
    assert len(out) == 5 and out.model.str.startswith("hf:").all()
    assert clf.predict_sentiment([S1, S3]).shape == (2, 3)


def test_generic_labels_model_warns_and_records(tiny_hf_model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = load_classifier(tiny_hf_model(("LABEL_0", "LABEL_1", "LABEL_2")), device="cpu")
    assert any("assuming" in str(w.message) for w in caught)
    assert clf.metadata["label_mapping_assumed"] is True


def test_unknown_label_model_is_refused(tiny_hf_model):
    with pytest.raises(InputError, match="'joy'"):
        load_classifier(tiny_hf_model(("joy", "anger")), device="cpu")


def test_long_sentence_windowed_for_sentiment(tiny_hf_model):
    clf = load_classifier(tiny_hf_model(("negative", "neutral", "positive"), max_position_embeddings=16), device="cpu")
    text = " ".join([S1, S2, S3] * 3)
    probs = clf.predict_sentiment([text])
    windows = clf._windows([text], [clf.max_length - clf._n_special_single])[0]
    assert len(windows) > 1
    np.testing.assert_allclose(probs[0], clf.predict_sentiment(windows).mean(axis=0), atol=1e-9)


# --- locating models, offline ------------------------------------------------------


def test_bad_paths(tmp_path):
    with pytest.raises(InputError, match="config.json"):
        load_classifier(tmp_path)
    afile = tmp_path / "model.bin"
    afile.write_bytes(b"x")
    with pytest.raises(InputError, match="is a file"):
        load_classifier(afile)
    with pytest.raises(InputError, match="neither an existing directory"):
        load_classifier(str(tmp_path / "missing" / "model"))


def test_offline_missing_model_fails_fast_with_instructions(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(InputError) as err:
        load_classifier("example-org/surely-not-cached-model", device="cpu")
    assert time.monotonic() - start < 10
    message = str(err.value)
    assert "huggingface-cli download example-org/surely-not-cached-model" in message
    assert "local directory" in message


def test_unreachable_hub_probe_is_bounded(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://10.255.255.1")  # not the hub: no valid answer
    start = time.monotonic()
    assert hub_reachable(timeout=0.5) is False
    assert time.monotonic() - start < 3
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_reachable() is False


def test_missing_model_without_offline_flag_fails_fast(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    start = time.monotonic()
    with pytest.raises(InputError, match="example-org/not-cached-either"):
        load_classifier("example-org/not-cached-either", device="cpu")
    assert time.monotonic() - start < 10


def test_default_actor_names(nli):
    assert nli.hypotheses("West")[2] == "This text is favourable to the West."
    assert nli.hypotheses("Russia")[0] == "This text is unfavourable to Russia."


# --- command line --------------------------------------------------------------------


def _cli(*argv):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, argv)],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )


needs_pipeline = pytest.mark.skipif(
    not all(__import__("importlib").util.find_spec(m) for m in ("analysis.mentions", "analysis.corpus")),
    reason="needs analysis.mentions and analysis.corpus",
)


@needs_pipeline
@pytest.mark.parametrize("labels", [("entailment", "neutral", "contradiction"), ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")])
def test_cli_score_with_local_model(tmp_path, tiny_hf_model, seed_path, labels):
    import pandas as pd

    from analysis.schema import STANCE

    folder = tiny_hf_model(labels)
    out = tmp_path / "stance.csv"
    done = _cli("score", seed_path, "--model", folder, "--batch-size", "8", "--device", "cpu", "--out", out)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert list(table.columns[: len(STANCE)]) == list(STANCE)  # then the paragraphs' metadata
    assert len(table) > 0
    assert set(table.actor) <= {"Russia", "China", "West"}
    assert table.model.str.fullmatch(rf"hf:{re.escape(folder.name)}@local-[0-9a-f]{{12}}").all()
    assert str(tmp_path) not in out.read_text()
    np.testing.assert_allclose(table.score, table.p_favor - table.p_against, atol=1e-9)


@needs_pipeline
def test_cli_score_offline_missing_model_exits_2(tmp_path, seed_path):
    out = tmp_path / "stance.csv"
    start = time.monotonic()
    done = _cli("score", seed_path, "--model", "example-org/surely-not-cached-model", "--out", out)
    assert time.monotonic() - start < 30  # includes interpreter start and imports
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "huggingface-cli download" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_nli_label_order_and_case_from_config(tiny_hf_model, mentions):
    from transformers import pipeline

    folder = tiny_hf_model(("CONTRADICTION", "NEUTRAL", "ENTAILMENT"), seed=1)
    clf = load_classifier(folder, device="cpu")
    assert isinstance(clf, HFNLIClassifier) and clf.entailment_id == 2
    out = score_stance(None, mentions, clf)
    zsc = pipeline("zero-shot-classification", model=str(folder), device="cpu")
    row = out[(out.doc_id == "de") & (out.actor == "russia")].iloc[0]
    hyps = clf.hypotheses("russia")
    res = zsc(S3, candidate_labels=hyps, hypothesis_template="{}")
    naive = dict(zip(res["labels"], res["scores"]))
    np.testing.assert_allclose([row.p_against, row.p_neutral, row.p_favor], [naive[h] for h in hyps], atol=1e-4)


@needs_pipeline
def test_cli_score_with_hub_id_from_local_cache(tmp_path, seed_path):
    """A hub id present in the HF cache loads from its snapshot, without any network call."""
    import os
    import subprocess
    import sys

    import pandas as pd

    from tiny_models import build_tiny_model

    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--example-org--tiny-nli"
    build_tiny_model(repo / "snapshots" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    out = tmp_path / "stance.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_HUB_CACHE=str(tmp_path / "hub"), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "score", str(seed_path), "--model", "example-org/tiny-nli",
         "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Retrying" not in done.stderr  # no download attempt
    table = pd.read_csv(out)
    assert (table.model == f"hf:example-org/tiny-nli@{sha}").all()


# --- identity: every output-shaping setting, the same before and after loading -------------

_TEMPLATES_FR = {"favor": "{actor} est présenté positivement.", "neutral": "{actor} est présenté de façon neutre.",
                 "against": "{actor} est présenté négativement."}

#: One change of each setting that shapes an NLI model's outputs (the first entry: defaults).
NLI_SETTINGS = [
    {},
    {"batch_size": 8},
    {"max_length": 64},
    {"stride": 3},
    {"templates": _TEMPLATES_FR},
    {"sentiment_templates": {"positive": "Good.", "neutral": "So so.", "negative": "Bad."}},
    {"actor_names": {"russia": "la Russie"}},
    {"evidence": False},
]
#: The same for a sentiment model.
SENTIMENT_SETTINGS = [
    {},
    {"batch_size": 8},
    {"max_length": 64},
    {"stride": 3},
    {"label_map": {"negative": "negative", "neutral": "negative", "positive": "positive"}},
]


@pytest.fixture(scope="module")
def sentiment_dir(tiny_hf_model):
    return tiny_hf_model(("negative", "neutral", "positive"))


@pytest.mark.parametrize("kind", ["nli", "sentiment"])
def test_each_setting_has_its_own_identity(kind, nli_dir, sentiment_dir):
    folder, settings = (nli_dir, NLI_SETTINGS) if kind == "nli" else (sentiment_dir, SENTIMENT_SETTINGS)
    keys = []
    for setting in settings:
        identity, meta = describe_hf(folder, device="cpu", **setting)
        assert describe_hf(folder, device="cpu", **setting)[0] == identity  # same settings, same identity
        loaded = load_hf_classifier(folder, device="cpu", **setting)
        assert loaded.identity == identity
        assert loaded.cache_identity() == identity.key and loaded.model_id == identity.model_id
        assert identity.pair_level is (kind == "nli") and loaded.pair_level is (kind == "nli")
        assert meta == {k: loaded.metadata[k] for k in ("source", "revision", "kind", "labels")}
        keys.append(identity.key)
    assert len(set(keys)) == len(settings)


def test_identity_settings_are_normalised(nli_dir, sentiment_dir):
    base = describe_hf(nli_dir, device="cpu")[0]
    assert describe_hf(nli_dir, device="auto")[0] == base  # no CUDA here: auto is cpu
    assert base.settings["device"] == "cpu"
    # the default templates, spelled with aliases and in another order
    spelled = {"negative": DEFAULT_TEMPLATES["against"], "favour": DEFAULT_TEMPLATES["favor"],
               "neutral": DEFAULT_TEMPLATES["neutral"]}
    assert describe_hf(nli_dir, device="cpu", templates=spelled)[0] == base
    # a label map saying what the labels already say changes nothing
    plain = {"negative": "negative", "neutral": "neutral", "positive": "positive"}
    assert describe_hf(sentiment_dir, device="cpu", label_map=plain)[0] == describe_hf(sentiment_dir, device="cpu")[0]


def test_identity_follows_the_weights(tiny_hf_model, nli_dir):
    other = describe_hf(tiny_hf_model(seed=2), device="cpu")[0]
    assert other.model_id != describe_hf(nli_dir, device="cpu")[0].model_id
    assert other.content != describe_hf(nli_dir, device="cpu")[0].content


def test_describe_checks_settings_without_loading(nli_dir, monkeypatch):
    import transformers

    def no_weights(*args, **kwargs):
        raise AssertionError("describe_hf loaded weights")

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", no_weights)
    assert describe_hf(nli_dir, device="cpu")[1]["kind"] == "nli"
    with pytest.raises(InputError, match="actor"):
        describe_hf(nli_dir, templates={"favor": "Good.", "neutral": "Meh.", "against": "Bad."})
    with pytest.raises(InputError, match="label_map does not map model label 'entailment'"):
        describe_hf(nli_dir, label_map={"joy": "positive"})
    with pytest.raises(InputError, match="stride must be an integer >= 0, got -1"):
        describe_hf(nli_dir, stride=-1)


# --- small defects (issue 18 item 12) --------------------------------------------------


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_model_name_is_named(name):
    message = "model name is empty; use 'embedded', a Hugging Face id (org/name) or a local model folder"
    with pytest.raises(InputError, match=re.escape(message)):
        load_hf_classifier(name, device="cpu")
    with pytest.raises(InputError, match=re.escape(message)):
        describe_hf(name)


@pytest.mark.parametrize("batch_size", [0, -3])
def test_batch_size_must_be_positive(nli_dir, batch_size):
    message = f"batch_size must be a positive integer, got {batch_size}"
    with pytest.raises(InputError, match=re.escape(message)):
        load_hf_classifier(nli_dir, batch_size=batch_size, device="cpu")
    with pytest.raises(InputError, match=re.escape(message)):
        describe_hf(nli_dir, batch_size=batch_size)


# --- windows from the tokenizer's own overflow ------------------------------------------


def test_windows_cover_the_text_with_the_stride(tiny_hf_model):
    folder = tiny_hf_model(max_position_embeddings=24)
    text = " ".join([S1, S2, S3])  # no repeated sentence: each window is found once
    budget = 8

    def windows(stride):
        return load_hf_classifier(folder, device="cpu", stride=stride)._windows([text, S1], [budget, 100])

    apart, shared = windows(0), windows(4)
    assert apart[1] == shared[1] == [S1]  # a text that fits is its own window
    # no overlap: the windows are the text cut at token boundaries, nothing dropped
    assert "".join(apart[0]).replace(" ", "") == text.replace(" ", "")
    # overlap: more windows, each starting inside the previous one
    assert len(shared[0]) > len(apart[0])
    starts = [text.index(w) for w in shared[0]]
    assert starts == sorted(starts) and all(b < a + len(w) for a, b, w in zip(starts, starts[1:], shared[0]))


# --- a hub id in the Hugging Face cache ------------------------------------------------------


@pytest.fixture
def hub_cache(tmp_path, monkeypatch, nli_dir):
    """A Hugging Face cache holding example-org/tiny-nli (full) and example-org/config-only."""
    import shutil

    import huggingface_hub.constants

    sha = "0123456789abcdef0123456789abcdef01234567"
    for repo, files in (("tiny-nli", sorted(nli_dir.iterdir())), ("config-only", [nli_dir / "config.json"])):
        snapshot = tmp_path / f"models--example-org--{repo}" / "snapshots" / sha
        snapshot.mkdir(parents=True)
        for file in files:
            shutil.copy(file, snapshot)
        (snapshot.parents[1] / "refs").mkdir()
        (snapshot.parents[1] / "refs" / "main").write_text(sha)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path, sha


def test_hub_id_and_snapshot_folder_name_the_commit(hub_cache, nli_dir):
    cache, sha = hub_cache
    identity, meta = describe_hf("example-org/tiny-nli", device="cpu")
    assert identity.model_id == f"hf:example-org/tiny-nli@{sha}"
    assert meta["source"] == "example-org/tiny-nli" and meta["revision"] == sha
    snapshot = cache / "models--example-org--tiny-nli" / "snapshots" / sha
    assert describe_hf(snapshot, device="cpu")[0] == identity  # the same files, the same identity
    loaded = load_hf_classifier("example-org/tiny-nli", device="cpu")
    assert loaded.identity == identity
    np.testing.assert_allclose(loaded.predict_sentiment([S1]), load_hf_classifier(nli_dir, device="cpu").predict_sentiment([S1]))


def test_cached_config_without_weights_offline(hub_cache):
    _, sha = hub_cache
    assert describe_hf("example-org/config-only", device="cpu")[0].model_id == f"hf:example-org/config-only@{sha}"
    with pytest.raises(InputError, match="not in the local Hugging Face cache and the hub cannot be reached"):
        load_hf_classifier("example-org/config-only", device="cpu")
