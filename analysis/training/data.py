"""The embedded classifier's training and dev sets: sources, held-out splits, renaming, synthetic pairs.

Sources (:func:`assemble`):

* NewsMTSC ``train.jsonl`` (English), without the sentences whose translations are dev
  sentences (``primary_gid`` of ``--translations``' dev files);
* the translated NewsMTSC train files of ``--translations`` (``<lang>-train.jsonl``);
* the RuSentNE train file of ``--rusentne`` minus the Russian dev set held out of it by
  sentence (:func:`rusentne_split`);
* the hand-written multilingual contrast sentences of ``--extra`` CSVs.

Targets naming Russia or China are renamed with names from the ``--names`` pool in
NewsMTSC and its translations (their few such targets are mostly negative), targets
naming Russia, China or the West in RuSentNE (mostly neutral ones), renamed
copies of a share of the English sentences are added (:func:`_substitute_names`), and
synthetic two-target contrast sentences are made from the English ones
(:func:`_contrast_pairs`).

Dev sets: NewsMTSC ``dev_rw`` and ``dev_mt``, the Russian dev set and the translated dev
files; the selection score weighs them by :func:`selection_weights`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..evaluation import read_contrast
from ..io import read_table
from ..labelled import read_newsmtsc, read_rusentne
from ..schema import CLASSES
from .config import TrainConfig

#: Tone label of a sentence whose targets do not tell its tone.
NO_TONE = -100


@dataclass
class DevSet:
    """One dev set: its targets (:mod:`analysis.labelled` columns) and where they come from.

    ``kind`` is the :data:`analysis.labelled.READERS` format of ``file``; ``source`` the
    group it is weighed in (:func:`selection_weights`).
    """

    targets: pd.DataFrame
    lang: str
    source: str
    kind: str
    file: Path


@dataclass
class TrainingSet:
    """Training sentences, each with its source sentence ids, its origin and its loss weight.

    ``items`` are ``(sentence, [(start, end, label)], tone)``; ``gids`` the source
    sentence ids of each item (``""`` when it has none, ``"a+b"`` for a synthetic pair);
    ``sources`` names where each item comes from (``newsmtsc``, ``newsmtsc-renamed``,
    ``pairs``, ``translation-<lang>``, ``rusentne``, ``extra-<file stem>``).
    """

    items: list = field(default_factory=list)
    gids: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    weights: list = field(default_factory=list)

    def add(self, items, gids, source: str, weight: float) -> None:
        self.items += items
        self.gids += gids
        self.sources += [source] * len(items)
        self.weights += [weight] * len(items)

    def counts(self) -> dict:
        """Sentences and targets per source."""
        out: dict = {}
        for (_, targets, _), source in zip(self.items, self.sources):
            entry = out.setdefault(source, {"sentences": 0, "targets": 0})
            entry["sentences"] += 1
            entry["targets"] += len(targets)
        return out


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
            "gid": "",
        }
        for i, rec in enumerate(table.itertuples())
        for start, end, stance in ((rec.start_a, rec.end_a, rec.stance_a), (rec.start_b, rec.end_b, rec.stance_b))
    ]
    return pd.DataFrame(rows)


_PRONOUNS = frozenset(
    "he she it they his her him them its their we i you this that "  # en
    "il elle ils elles lui leur er sie es ihm ihn ihr él ella ellos ellas "  # fr, de, es
    "他 她 它 他们 她们 它们".split()  # zh
)
_TITLE_BEFORE = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov)\.|\b(?:President|Senator|Secretary|Governor|Speaker|Chancellor|Minister))\s+$"
)


def _load_names(path: Path) -> dict[str, list[str]]:
    """Name pool for :func:`_substitute_names`: a CSV with columns ``lang, name``."""
    table = read_table(path, columns=("lang", "name"))
    return {lang: group["name"].tolist() for lang, group in table.groupby("lang")}


def _substitute_names(items, names: list[str], rng: np.random.Generator, *, share: float, any_surface: bool,
                      only: frozenset[str] | None = None):
    """Put random names from the pool in place of the target mentions of a share of the items.

    A target's label then no longer goes with its name, so the model learns no prior
    about an actor (NewsMTSC mentions Russia and Putin mostly in negative sentences;
    without this the model reads "Moscow generously forgave the debts" as unfavourable).
    The pool holds the shipped actors' names in every language and many others.
    Only proper-name mentions (not starting in lower case, not a pronoun) are replaced
    unless ``any_surface``; with ``only``, just the mentions whose text is in it. Targets of
    one item get distinct names; overlapping targets leave the item as it is.
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
            wanted = only is None or surface in only
            if wanted and (any_surface or (not surface[:1].islower() and surface.lower() not in _PRONOUNS)):
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


def _rename_actor_targets(items, targets: pd.DataFrame, names: list[str], actors, rng: np.random.Generator,
                          lang: str = "en", *, whole_names: bool = False):
    """Rename, in place, every sentence with a target that the default lexicon finds as one of ``actors``.

    NewsMTSC's 73 Russia targets are 64 % negative and 5 % positive: kept as they are they
    teach the model that Russia is bad news whatever the sentence says. ``lang`` picks the
    lexicon's aliases (the targets' language). By default every proper-name target of such a
    sentence gets a new name; with ``whole_names`` only the targets that are an actor's name
    from end to end ("США", "России"; not "Президент США", not the sentence's other entities).
    """
    from ..mentions import find_mentions

    if not actors:
        return items
    surfaces = targets["mention"].drop_duplicates()
    table = pd.DataFrame({"doc_id": [str(i) for i in range(len(surfaces))], "para_id": 0, "text": surfaces.to_numpy(), "lang": lang})
    found = find_mentions(table)
    found = found[found["actor"].isin(actors)]
    if whole_names:
        lengths = table.set_index("doc_id")["text"].str.len()
        found = found[(found["start"] == 0) & (found["end"] == found["doc_id"].map(lengths))]
    actor_surfaces = frozenset(table.loc[table["doc_id"].isin(found["doc_id"]), "text"])
    order = targets["sentence_index"].drop_duplicates()
    flagged = set(targets.loc[targets["mention"].isin(actor_surfaces), "sentence_index"])
    only = actor_surfaces if whole_names else None
    return [
        _substitute_names([item], names, rng, share=1.0, any_surface=False, only=only)[0] if index in flagged else item
        for index, item in zip(order, items)
    ]


def sentence_items(targets: pd.DataFrame):
    """Group a target table into (sentence, [(start, end, label)], tone_label) items, in the
    order of each sentence's first target."""
    grouped: dict = {}
    for index, sentence, start, end, label in zip(
        targets["sentence_index"], targets["sentence"], targets["start"], targets["end"], targets["label"]
    ):
        grouped.setdefault(index, (sentence, []))[1].append((int(start), int(end), int(label)))
    return [
        (sentence, spans, spans[0][2] if len({label for *_, label in spans}) == 1 else NO_TONE)
        for sentence, spans in grouped.values()
    ]


def sentence_gids(targets: pd.DataFrame) -> list[str]:
    """The ``gid`` of each item of :func:`sentence_items` (same order)."""
    gids: dict = {}
    for index, gid in zip(targets["sentence_index"], targets["gid"]):
        gids.setdefault(index, gid)
    return list(gids.values())


_JOINERS = (" ", "; ", ", while ", ", whereas ", ". Meanwhile, ")


def _contrast_pairs(items, gids, n: int, rng: np.random.Generator):
    """Synthetic contrast sentences: two one-target training sentences of different
    polarity joined into one, each target keeping its own label.

    A sentence's overall tone then no longer tells a target's polarity, so the head has
    to read the target's own clause (what lets two actors of one sentence get opposite
    signs). Returns the new items and their gids (``"<gid a>+<gid b>"``).
    """
    by_label = {label: [] for label in range(len(CLASSES))}
    for (sentence, targets, _), gid in zip(items, gids):
        if len(targets) == 1 and targets[0][1] <= len(sentence.rstrip(" .")):
            by_label[targets[0][2]].append((sentence.rstrip(" ."), targets[0], gid))
    out, out_gids = [], []
    n = min(n, len(items) // 3)  # synthetic sentences stay a minority of the training set
    for _ in range(n if all(by_label.values()) else 0):
        first, second = rng.choice(len(CLASSES), size=2, replace=False)
        (a, (a_start, a_end, a_label), a_gid) = by_label[first][rng.integers(len(by_label[first]))]
        (b, (b_start, b_end, b_label), b_gid) = by_label[second][rng.integers(len(by_label[second]))]
        joiner = _JOINERS[rng.integers(len(_JOINERS))]
        shift = len(a) + len(joiner)
        targets = [(a_start, a_end, a_label), (b_start + shift, b_end + shift, b_label)]
        out.append((a + joiner + b + ".", targets, NO_TONE))
        out_gids.append(f"{a_gid}+{b_gid}")
    return out, out_gids


def first_sentences(targets: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """The rows of a target table for its first ``limit`` sentences (all when None)."""
    if limit is None:
        return targets
    keep = targets["sentence_index"].drop_duplicates().iloc[:limit]
    return targets[targets["sentence_index"].isin(keep)]


def rusentne_split(targets: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out ``share`` of the sentences of a RuSentNE table (every target of a sentence on
    one side), drawn with ``seed``. Returns ``(train, dev)``."""
    sentences = targets["sentence_index"].drop_duplicates().to_numpy()
    n_dev = int(round(share * len(sentences)))
    dev_sentences = sentences[np.random.default_rng(seed).permutation(len(sentences))[:n_dev]]
    in_dev = targets["sentence_index"].isin(dev_sentences)
    return targets[~in_dev], targets[in_dev]


def translation_files(folder: Path) -> dict[str, tuple[Path, Path]]:
    """``lang -> (train file, dev file)`` of a folder of ``<lang>-train.jsonl`` / ``<lang>-dev.jsonl``."""
    folder = Path(folder)
    pairs = {
        path.name[: -len("-dev.jsonl")]: (path.with_name(path.name.replace("-dev.jsonl", "-train.jsonl")), path)
        for path in sorted(folder.glob("*-dev.jsonl"))
    }
    pairs = {lang: files for lang, files in pairs.items() if files[0].is_file()}
    if not pairs:
        raise InputError(
            f"{folder}: no translated NewsMTSC files (<lang>-train.jsonl with <lang>-dev.jsonl); "
            "pass --translations DIR, or --translations '' to train without them"
        )
    return pairs


def selection_weights(dev: dict[str, DevSet]) -> dict[str, float]:
    """Weight of each dev set in the epoch-selection score (a weighted mean of macro-F1).

    The sources (NewsMTSC ``dev_rw`` + ``dev_mt``; the Russian dev set; the translated dev
    sets, which are translations of the same sentences) weigh the same; the sets of one
    source share its weight equally.
    """
    sources = sorted({d.source for d in dev.values()})
    size = {s: sum(d.source == s for d in dev.values()) for s in sources}
    return {name: 1.0 / (len(sources) * size[d.source]) for name, d in dev.items()}


def assemble(config: TrainConfig, newsmtsc_dir, rng: np.random.Generator) -> tuple[TrainingSet, dict[str, DevSet], dict]:
    """Read every source of ``config`` and build the training set and the dev sets.

    Returns
    -------
    (TrainingSet, dict, dict)
        The training set; the dev sets by name (``dev_rw``, ``dev_mt``, ``ru_dev``,
        ``<lang>_dev``); the files read, by role (``train``, ``dev_rw``, ``dev_mt``,
        ``rusentne``, ``<lang>-train``, ``<lang>-dev``, ``extra``, ``names``).

    Raises
    ------
    InputError
        A source file or folder missing, or a file that does not parse.
    """
    newsmtsc_dir = Path(newsmtsc_dir)
    files: dict = {name: newsmtsc_dir / f"{name}.jsonl" for name in ("train", "dev_rw", "dev_mt")}
    for path in files.values():
        if not path.is_file():
            raise InputError(f"{path}: NewsMTSC file not found (pass --data-dir)")
    dev = {name: DevSet(read_newsmtsc(files[name]), "en", "newsmtsc", "newsmtsc", files[name]) for name in ("dev_rw", "dev_mt")}
    translated = {}
    if config.translations:
        for lang, (train_file, dev_file) in translation_files(Path(config.translations)).items():
            files[f"{lang}-train"], files[f"{lang}-dev"] = train_file, dev_file
            translated[lang] = read_newsmtsc(train_file)
            dev[f"{lang}_dev"] = DevSet(read_newsmtsc(dev_file), lang, "translations", "newsmtsc", dev_file)
    dev_gids = {gid for d in dev.values() if d.source == "translations" for gid in d.targets["gid"]}
    rusentne_train = None
    if config.rusentne:
        path = Path(config.rusentne)
        if not path.is_file():
            raise InputError(
                f"{path}: RuSentNE train file not found; pass --rusentne FILE, or --rusentne '' to train without it"
            )
        files["rusentne"] = path
        rusentne_train, ru_dev = rusentne_split(read_rusentne(path), config.rusentne_dev_share, config.split_seed)
        dev["ru_dev"] = DevSet(ru_dev, "ru", "rusentne", "rusentne", path)
    for d in dev.values():
        d.targets = first_sentences(d.targets, config.max_dev_sentences)

    names = _load_names(Path(config.names)) if config.names else {}
    training = TrainingSet()
    english = first_sentences(read_newsmtsc(files["train"]), config.max_train_sentences)
    english = english[~english["gid"].isin(dev_gids)]
    items, gids = sentence_items(english), sentence_gids(english)
    if "en" in names:
        items = _rename_actor_targets(items, english, names["en"], config.rename_actors, rng)
    training.add(items, gids, "newsmtsc", 1.0)
    if "en" in names:
        renamed = _substitute_names(items, names["en"], rng, share=config.substitute, any_surface=False)
        kept = [(copy, gid) for copy, item, gid in zip(renamed, items, gids) if copy != item]
        training.add([c for c, _ in kept], [g for _, g in kept], "newsmtsc-renamed", 1.0)
    training.add(*_contrast_pairs(items, gids, config.contrast_pairs, rng), "pairs", 1.0)
    for lang, targets in translated.items():
        targets = first_sentences(targets[~targets["gid"].isin(dev_gids)], config.max_train_sentences)
        items = sentence_items(targets)
        if lang in names:
            items = _rename_actor_targets(items, targets, names[lang], config.rename_actors, rng, lang)
        training.add(items, sentence_gids(targets), f"translation-{lang}", config.translation_weight)
    if rusentne_train is not None:
        # an entity's label is not the sentence's tone (72 % of RuSentNE's targets are neutral)
        ru = first_sentences(rusentne_train, config.max_train_sentences)
        items = sentence_items(ru)
        if "ru" in names:
            items = _rename_actor_targets(items, ru, names["ru"], config.rusentne_rename_actors, rng, "ru", whole_names=True)
        items = [(sentence, targets, NO_TONE) for sentence, targets, _ in items]
        training.add(items, sentence_gids(ru), "rusentne", config.rusentne_weight)
    files["extra"] = [Path(p) for p in config.extra]
    for path in files["extra"]:
        for lang, part in _load_extra(path).groupby("lang", sort=True):
            originals = sentence_items(part)
            items = list(originals)
            if lang in names:
                for _ in range(config.extra_copies):
                    items += _substitute_names(originals, names[lang], rng, share=1.0, any_surface=True)
            training.add(items, [""] * len(items), f"extra-{path.stem}", config.extra_weight)
    files["names"] = Path(config.names) if config.names else None
    return training, dev, files
