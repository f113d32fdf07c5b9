"""The training settings: :class:`TrainConfig` and the ``analysis train`` options made from it.

Stdlib and :mod:`analysis.paths` only, so that the command line can list the options
(``analysis train --help``) without importing the training code.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields

from ..paths import DATA_DIR, PROJECT_ROOT

#: ``--rusentne`` default: the RuSentNE-2023 train file in ../shared beside the checkout.
DEFAULT_RUSENTNE = PROJECT_ROOT.parent / "shared" / "datasets" / "rusentne" / "train.csv"
#: ``--translations`` default: the committed translations of NewsMTSC train sentences.
DEFAULT_TRANSLATIONS = DATA_DIR / "newsmtsc-translated"


def _number(kind: type, minimum: float, maximum: float | None = None):
    """An argparse type: ``kind`` (int or float) from ``minimum`` up to ``maximum``."""

    def parse(text: str):
        value = kind(text)
        if not (minimum <= value and (maximum is None or value <= maximum)):  # NaN fails too
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names it in "invalid int value: 'x'"
    return parse


_POSITIVE = _number(int, 1)
_COUNT = _number(int, 0)
_SHARE = _number(float, 0, 1)
_WEIGHT = _number(float, 0)


def _option(default, parse, help: str):
    """A :class:`TrainConfig` field that is also an ``analysis train`` option."""
    return field(default=default, metadata={"parse": parse, "help": help})


@dataclass
class TrainConfig:
    """Hyper-parameters and budget of a training run (all recorded in the artefact's metadata)."""

    epochs: int = _option(2, _POSITIVE, "passes over the training set")
    lr: float = _option(3e-4, _WEIGHT, "learning rate of the LoRA weights")
    head_lr: float = _option(1e-3, _WEIGHT, "learning rate of the head")
    warmup: float = _option(0.06, _SHARE, "share of the steps with a rising learning rate")
    weight_decay: float = _option(0.01, _SHARE, "AdamW weight decay")
    rank: int = _option(32, _POSITIVE, "LoRA rank")
    alpha: int = _option(64, _POSITIVE, "LoRA alpha")
    lora_dropout: float = _option(0.1, _SHARE, "dropout of the LoRA layers")
    dropout: float = _option(0.1, _SHARE, "dropout of the head")
    batch_size: int = _option(16, _POSITIVE, "sentences per optimiser step")
    max_length: int = _option(256, _POSITIVE, "tokens per training sentence (longer ones are windowed)")
    tone_weight: float = _option(0.5, _WEIGHT, "weight of the sentence-tone loss")
    extra_weight: float = _option(2.0, _WEIGHT, "loss weight of the --extra sentences")
    label_smoothing: float = _option(0.05, _SHARE, "label smoothing of both losses")
    sentence_features: bool = _option(False, bool, "give the head the sentence mean as well as the mention")
    contrast_pairs: int = _option(2500, _COUNT, "synthetic two-target contrast sentences to add (at most a third)")
    substitute: float = _option(0.3, _SHARE, "share of NewsMTSC sentences that get a renamed copy")
    rename_actors: tuple[str, ...] = ("Russia", "China")
    #: RuSentNE's actor targets (США, России, НАТО…) are mostly neutral: kept, they teach
    #: that these names mean "neutral" whatever the sentence says (name-swap gaps 0.05-0.10).
    rusentne_rename_actors: tuple[str, ...] = ("Russia", "China", "West")
    extra_copies: int = _option(1, _COUNT, "renamed copies of each --extra sentence")
    translation_weight: float = _option(0.5, _WEIGHT, "loss weight of the --translations sentences")
    rusentne_weight: float = _option(1.0, _WEIGHT, "loss weight of the --rusentne sentences")
    rusentne_dev_share: float = _option(0.15, _SHARE, "share of the RuSentNE sentences held out as the Russian dev set")
    split_seed: int = _option(2023, int, "seed of the Russian dev split (apart from --seed, so the dev set stays put)")
    calibrate: bool = _option(
        True, bool, "fit a temperature and class offsets of the head on the dev sets, kept where cross-fitting shows a gain"
    )
    seed: int = _option(13, int, "random seed")
    max_train_sentences: int | None = _option(
        None, _POSITIVE, "budget: read only the first N train sentences of each source (default all)"
    )
    max_dev_sentences: int | None = _option(
        None, _POSITIVE, "budget: select and check on the first N sentences of each dev split (default all)"
    )
    max_steps: int | None = _option(None, _POSITIVE, "budget: stop after N optimiser steps (default all epochs)")
    extra: list[str] = field(default_factory=list)
    names: str | None = None
    rusentne: str | None = None
    translations: str | None = None


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options of ``analysis train`` to ``parser`` (the one definition of them)."""
    parser.add_argument("--out", required=True,
                        help="artefact folder to write (an existing artefact there is replaced)")
    parser.add_argument(
        "--data-dir", default=None,
        help="NewsMTSC folder with train.jsonl, dev_rw.jsonl, dev_mt.jsonl "
             "(default $ANALYSIS_NEWSMTSC_DIR or ../shared/datasets/newsmtsc)",
    )
    parser.add_argument("--extra", action="append", default=[], metavar="CSV",
                        help="hand-written contrast sentences to train on (repeatable)")
    parser.add_argument("--names", default=None, metavar="CSV",
                        help="name pool (columns lang, name) for renaming targets")
    parser.add_argument("--rusentne", default=str(DEFAULT_RUSENTNE), metavar="FILE",
                        help="RuSentNE-2023 train file (tab-separated); ~15 %% of its sentences become the "
                             f"Russian dev set; '' leaves it out (default {DEFAULT_RUSENTNE})")
    parser.add_argument("--translations", default=str(DEFAULT_TRANSLATIONS), metavar="DIR",
                        help="folder of translated NewsMTSC files <lang>-train.jsonl / <lang>-dev.jsonl; "
                             "'' leaves them out (default data/newsmtsc-translated)")
    parser.add_argument("--threads", type=_POSITIVE, default=None, metavar="N", help="torch CPU threads")
    for spec in fields(TrainConfig):
        if "parse" not in spec.metadata:
            continue
        flag = "--" + spec.name.replace("_", "-")
        parse, help_text = spec.metadata["parse"], spec.metadata["help"]
        if parse is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=spec.default, help=help_text)
        else:
            default = "" if spec.default is None else f" (default {spec.default})"
            metavar = "N" if parse.__name__ == "int" else "X"
            parser.add_argument(flag, type=parse, default=spec.default, metavar=metavar, help=help_text + default)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of parsed ``analysis train`` options."""
    options = {spec.name: getattr(args, spec.name) for spec in fields(TrainConfig) if "parse" in spec.metadata}
    return TrainConfig(**options, extra=list(args.extra), names=args.names,
                       rusentne=args.rusentne or None, translations=args.translations or None)
