"""Loading a Hugging Face model (hub id or local folder) as a stance scorer, its identity stated first.

One parameter switches models: ``load_classifier("MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7")``
or ``analysis score ... --model PATH_OR_ID``.  :func:`describe_hf` locates the
model (:mod:`.hub`; config only, no weights), reads its kind from the config's
``id2label`` (:mod:`.labels`: NLI or sentiment), checks every setting and
returns the model's :class:`~analysis.classifiers.base.Identity`;
:func:`load_hf_classifier` does the same and then loads the weights into an
:class:`~analysis.classifiers.nli.HFNLIClassifier` (zero-shot stance by
entailment) or an :class:`~analysis.classifiers.sentiment.HFSentimentClassifier`
(a mention scored from its sentence), whose ``identity`` is what
:func:`describe_hf` returned -- so a lazy handle and the loaded classifier share
one identity by construction.

The ``model`` column reads ``hf:<id>@<commit>`` for hub models and
``hf:<folder name>@local-<hash12>`` for local folders (hash of config.json and
of the weight files' sizes and first/last MiB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .base import Identity, resolve_device
from .batching import HFClassifier, checked_count
from .hub import ModelLocation, hub_reachable, locate_model, offline_message
from .labels import config_labels, detect_kind
from .nli import HFNLIClassifier, checked_templates
from .sentiment import HFSentimentClassifier

__all__ = ["HFSettings", "describe_hf", "load_hf_classifier"]


@dataclass(frozen=True)
class HFSettings:
    """The keyword arguments of :func:`describe_hf` and :func:`load_hf_classifier`.

    Attributes
    ----------
    batch_size : int
        Sequences per forward pass (>= 1).
    device : {"auto", "cpu", "cuda"}
        "auto" = CUDA when available.
    revision : str, optional
        Hub revision (branch, tag or commit); ignored for local folders.
    templates, sentiment_templates, actor_names, evidence
        NLI models only, see :class:`~analysis.classifiers.nli.HFNLIClassifier`.
    label_map : mapping, optional
        Sentiment models only: explicit ``{label: class}``
        (see :func:`~analysis.classifiers.labels.detect_kind`).
    max_length : int, optional
        Token limit per sequence (default: the model's own limit); longer
        inputs are read in overlapping windows.
    stride : int, optional
        Tokens shared by consecutive windows (default: a quarter of a window).
    """

    batch_size: int = 32
    device: str = "auto"
    revision: str | None = None
    templates: Mapping[str, str] | None = None
    sentiment_templates: Mapping[str, str] | None = None
    label_map: Mapping[str, str] | None = None
    actor_names: Mapping[str, str] | None = None
    max_length: int | None = None
    stride: int | None = None
    evidence: bool = True


def _describe(
    name: str | os.PathLike, given: HFSettings
) -> tuple[Identity, dict[str, Any], ModelLocation, dict[str, Any]]:
    """:func:`describe_hf`, plus the location and :func:`detect_kind` info the loader needs."""
    counts = {
        "batch_size": checked_count(given.batch_size, "batch_size"),
        "max_length": None if given.max_length is None else checked_count(given.max_length, "max_length"),
        "stride": None if given.stride is None else checked_count(given.stride, "stride", minimum=0),
    }
    location = locate_model(name, given.revision)
    labels = config_labels(location.config)
    kind, info = detect_kind(labels, given.label_map)
    settings: dict[str, Any] = {"kind": kind, **counts, "device": resolve_device(given.device)}
    if kind == "nli":
        settings["templates"] = checked_templates(given.templates)
        settings["sentiment_templates"] = checked_templates(given.sentiment_templates, sentiment=True)
        settings["actor_names"] = {str(k): str(v) for k, v in dict(given.actor_names or {}).items()}
        settings["evidence"] = bool(given.evidence)
    else:
        settings["label_mapping"] = dict(info["mapping"])
    identity = Identity(
        model_id=location.model_id, content=location.model_id, settings=settings, pair_level=kind == "nli"
    )
    metadata = {"source": location.source, "revision": location.model_revision, "kind": kind, "labels": labels}
    return identity, metadata, location, info


def describe_hf(name: str | os.PathLike, **settings: Any) -> tuple[Identity, dict[str, Any]]:
    """The identity of a Hugging Face model with these settings, without loading its weights.

    Reads the model's config (a download of config.json at most), detects its
    kind and checks every setting exactly as :func:`load_hf_classifier` does,
    so a bad value fails here.

    Parameters
    ----------
    name : str or path
        Local folder (``save_pretrained`` output) or hub id ``org/name``.
    **settings
        The fields of :class:`HFSettings` (batch_size=32, device="auto", revision,
        templates, sentiment_templates, label_map, actor_names, max_length, stride,
        evidence=True).

    Returns
    -------
    (Identity, dict)
        The identity (``model_id`` ``hf:<id>@<commit>`` or ``hf:<folder>@local-<hash12>``;
        ``content`` the same; ``settings`` every setting that shapes outputs, normalised:
        kind, batch_size, device (resolved), max_length, stride, and for NLI models the
        templates, sentiment templates, actor names and evidence, for sentiment models the
        label mapping; ``pair_level`` for NLI models) and the metadata known before loading
        (source, revision, kind, labels).

    Raises
    ------
    InputError
        Empty name, missing folder, model not available offline, unknown label convention,
        invalid templates, batch_size < 1, unknown or unavailable device.
    TypeError
        A keyword that is not a field of :class:`HFSettings`.
    """
    identity, metadata, _, _ = _describe(name, HFSettings(**settings))
    return identity, metadata


def _load_files(location: ModelLocation, name: str) -> tuple[Any, Any]:
    """(tokenizer, model) from ``location``; a hub model whose config alone is cached is downloaded."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    def load(source: str, local_files_only: bool) -> tuple[Any, Any]:
        kwargs: dict[str, Any] = {"local_files_only": local_files_only}
        if location.revision and source == location.source:  # a hub id, pinned to the commit found
            kwargs["revision"] = location.revision
        return (AutoTokenizer.from_pretrained(source, **kwargs),
                AutoModelForSequenceClassification.from_pretrained(source, **kwargs))

    try:
        return load(location.load, location.local_files_only)
    except Exception as exc:  # noqa: BLE001
        weights_not_cached = isinstance(exc, OSError) and location.local_files_only and location.hub_id
        if not weights_not_cached:
            raise InputError(f"cannot load model {name!r}: {exc}") from None
    if not hub_reachable():
        raise InputError(offline_message(location.source))
    try:
        return load(location.source, False)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot load model {name!r} from the Hugging Face hub: {exc}") from None


def load_hf_classifier(name: str | os.PathLike, **settings: Any) -> HFClassifier:
    """Load a transformers sequence classifier as a stance / sentiment scorer.

    Parameters
    ----------
    name : str or path
        Local folder (``save_pretrained`` output) or hub id ``org/name``.
    **settings
        The fields of :class:`HFSettings`, as for :func:`describe_hf`.

    Returns
    -------
    HFNLIClassifier or HFSentimentClassifier
        With ``identity`` equal to ``describe_hf(name, same settings)[0]``.

    Raises
    ------
    InputError
        As :func:`describe_hf`, or the weights / tokenizer cannot be loaded.
    TypeError
        A keyword that is not a field of :class:`HFSettings`.
    """
    identity, metadata, location, info = _describe(name, HFSettings(**settings))
    used = identity.settings  # validated and normalised
    tokenizer, model = _load_files(location, os.fspath(name))
    model.eval()
    model.to(used["device"])
    common = {
        "model_id": identity.model_id,
        "device": used["device"],
        "batch_size": used["batch_size"],
        "max_length": used["max_length"],
        "stride": used["stride"],
        "metadata": metadata,
    }
    if used["kind"] == "nli":
        classifier: HFClassifier = HFNLIClassifier(
            model, tokenizer, entailment_id=info["entailment_id"], templates=used["templates"],
            sentiment_templates=used["sentiment_templates"], actor_names=used["actor_names"],
            evidence=used["evidence"], **common,
        )
    else:
        classifier = HFSentimentClassifier(
            model, tokenizer, matrix=info["matrix"], mapping=info["mapping"], assumed=info["assumed"], **common
        )
    classifier.identity = identity
    return classifier
