"""Stance / sentiment classifiers behind one switch: :func:`load_classifier`.

``load_classifier("embedded")`` gives the model shipped with the project
(works offline); any other name is a Hugging Face model id or a local model
directory, handled by :mod:`analysis.classifiers.hf` (NLI models score stance
by entailment, sentiment classifiers by the mention's sentence).  Importing
this package does not import torch or transformers.
"""

from __future__ import annotations

import os
from typing import Any

from .base import CLASSES, MentionClassifier

__all__ = ["CLASSES", "LazyClassifier", "MentionClassifier", "load_classifier"]


def load_classifier(
    name: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
    lazy: bool = False,
    **kw: Any,
) -> MentionClassifier:
    """Load a stance classifier by name.

    Parameters
    ----------
    name : str, path or MentionClassifier
        ``"embedded"`` (default): the project's offline model.  Otherwise a
        Hugging Face model id (``"org/name"``) or a directory written by
        ``save_pretrained``; its kind (NLI or sentiment) is read from the
        config's ``id2label``.  An already-loaded classifier is returned as is.
    batch_size : int
        Sequences per forward pass.
    device : {"auto", "cpu", "cuda"}
        "auto" uses CUDA when available.
    **kw
        Passed to the loader, e.g. ``templates=``, ``revision=``,
        ``label_map=`` for hub/local models (see
        :func:`analysis.classifiers.hf.load_hf_classifier`).
    lazy : bool
        Return a :class:`LazyClassifier`: the model is located and checked now
        (a wrong name fails here) and its identity computed from its files, but
        the weights are loaded only when it first has to compute something --
        never, when every output comes from the cache (see :mod:`analysis.cache`).

    Returns
    -------
    MentionClassifier

    Raises
    ------
    InputError
        Unknown model, model missing offline (the message says how to get
        it), unsupported label set.
    """
    if isinstance(name, MentionClassifier):
        return name
    if lazy:
        return LazyClassifier(name, batch_size=batch_size, device=device, **kw)
    if isinstance(name, str) and name.strip().lower() == "embedded":
        from .embedded import EmbeddedClassifier

        return EmbeddedClassifier.load(batch_size=batch_size, device=device, **kw)
    from .hf import load_hf_classifier

    return load_hf_classifier(name, batch_size=batch_size, device=device, **kw)


class LazyClassifier(MentionClassifier):
    """A classifier that knows its identity now and loads its weights on first use.

    Made by ``load_classifier(name, lazy=True)``.  ``model_id``, ``metadata``
    (before loading: what the model's files say) and :meth:`cache_identity` are
    computed without loading weights (embedded: hash of the artefact files; Hugging
    Face: revision or local hash, from the config).  Any other attribute or method
    loads the real classifier (:attr:`loaded`) and is forwarded to it.
    """

    _OWN = ("name", "kwargs", "model_id", "pair_level", "_identity", "_meta", "_real", "classes_")

    def __init__(self, name: str | os.PathLike = "embedded", *, batch_size: int = 32, device: str = "auto", **kw: Any):
        kwargs = dict(kw, batch_size=batch_size, device=device)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "kwargs", kwargs)
        object.__setattr__(self, "_real", None)
        object.__setattr__(self, "classes_", CLASSES)
        if isinstance(name, str) and name.strip().lower() == "embedded":
            import json
            from pathlib import Path

            from . import embedded

            artifact = Path(kw.get("artifact", embedded.ARTIFACT_DIR))
            meta_path = artifact / "metadata.json"
            if not meta_path.is_file():
                raise FileNotFoundError(f"{meta_path}: the trained artefact is missing")
            digest = embedded.artifact_digest(artifact)
            model_id = f"embedded:e5-small-newsmtsc@{digest[:12]}"
            meta = json.loads(meta_path.read_text())
            identity_model = f"embedded:{digest}"
            pair_level = False
            settings = {k: v for k, v in kwargs.items() if k not in ("artifact", "cache")}
            settings.setdefault("quantize", True)
        else:
            from . import hf

            found = hf._resolve_model(name, kw.get("revision"))
            kind, info = hf.detect_kind(hf._id2label_list(found["config"]), kw.get("label_map"))
            if kind == "nli":  # bad templates fail now, as the eager loader does
                hf._check_templates(kw.get("templates") or hf.DEFAULT_TEMPLATES, hf._STANCE_KEYS, "templates", True)
                hf._check_templates(
                    kw.get("sentiment_templates") or hf.DEFAULT_SENTIMENT_TEMPLATES, hf._SENTIMENT_KEYS,
                    "sentiment_templates", False,
                )
            model_id = found["model_id"]
            meta = {"source": found["source"], "revision": found["model_revision"], "kind": kind,
                    "labels": hf._id2label_list(found["config"])}
            identity_model = model_id
            pair_level = kind == "nli"
            settings = {k: v for k, v in kwargs.items() if k != "revision"}
            settings.setdefault("evidence", True)
        import json as _json

        identity = f"{identity_model}|lazy|{_json.dumps(settings, sort_keys=True, default=repr)}"
        object.__setattr__(self, "model_id", model_id)
        object.__setattr__(self, "pair_level", pair_level)
        object.__setattr__(self, "_identity", identity)
        object.__setattr__(self, "_meta", meta)

    @property
    def loaded(self) -> MentionClassifier:
        """The real classifier (loaded now if it was not yet)."""
        if self._real is None:
            object.__setattr__(self, "_real", load_classifier(self.name, lazy=False, **self.kwargs))
        return self._real

    @property
    def is_loaded(self) -> bool:
        """Whether the weights have been loaded."""
        return self._real is not None

    @property
    def metadata(self) -> dict:  # type: ignore[override]
        return self._real.metadata if self._real is not None else self._meta

    def cache_identity(self) -> str:
        """Identity for :mod:`analysis.cache`: weights hash / revision + loader settings."""
        return self._identity

    def predict_proba(self, sentences, spans):
        return self.loaded.predict_proba(sentences, spans)

    def predict_sentiment(self, texts):
        return self.loaded.predict_sentiment(texts)

    def score_pairs(self, mentions):
        return self.loaded.score_pairs(mentions)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in LazyClassifier._OWN:
            raise AttributeError(name)
        return getattr(self.loaded, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in LazyClassifier._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.loaded, name, value)

    def __repr__(self) -> str:
        state = "loaded" if self.is_loaded else "not loaded"
        return f"LazyClassifier(model_id={self.model_id!r}, {state})"
