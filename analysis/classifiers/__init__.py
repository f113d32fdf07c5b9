"""Stance / sentiment classifiers behind one switch: :func:`load_classifier`.

``load_classifier("embedded")`` gives the model shipped with the project
(works offline); any other name is a Hugging Face model id or a local model
directory, loaded by :mod:`analysis.classifiers.hf` (NLI models score stance
by entailment, :mod:`~analysis.classifiers.nli`; sentiment classifiers by the
mention's sentence, :mod:`~analysis.classifiers.sentiment`).  Importing
this package does not import torch or transformers.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import InputError
from .base import Identity, MentionClassifier

__all__ = ["LazyClassifier", "MentionClassifier", "describe_classifier", "is_embedded", "load_classifier"]


def is_embedded(name: Any) -> bool:
    """Whether ``name`` asks for the embedded model (``"embedded"``, any case and spacing)."""
    return isinstance(name, str) and name.strip().lower() == "embedded"


def _check_settings(name: Any, batch_size: Any) -> None:
    if not isinstance(name, (str, os.PathLike)):
        raise InputError(f"model must be a name or a path, got {type(name).__name__}")
    if not os.fspath(name).strip():
        raise InputError("model name is empty; use 'embedded', a Hugging Face id (org/name) or a local model folder")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")


def describe_classifier(
    name: str | os.PathLike = "embedded", *, batch_size: int = 32, device: str = "auto", **kw: Any
) -> tuple[Identity, dict]:
    """The identity and metadata of a classifier, without loading its weights.

    Same arguments as :func:`load_classifier`. A wrong name or setting fails here.

    Returns
    -------
    (Identity, dict)
        What :attr:`MentionClassifier.identity` of the loaded classifier will be, and
        what the model's files say about it (artefact metadata, hub revision, labels).
    """
    _check_settings(name, batch_size)
    if is_embedded(name):
        from .embedded import describe_embedded

        return describe_embedded(batch_size=batch_size, device=device, **kw)
    from .hf import describe_hf

    return describe_hf(name, batch_size=batch_size, device=device, **kw)


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
        Sequences per forward pass (a positive integer).
    device : {"auto", "cpu", "cuda"}
        "auto" uses CUDA when available.
    lazy : bool
        Return a :class:`LazyClassifier`: the model is located and checked now
        (a wrong name fails here) and its identity computed from its files, but
        the weights are loaded only when it first has to compute something --
        never, when every output comes from the cache (see :mod:`analysis.cache`).
    **kw
        Passed to the loader: ``quantize=``, ``artifact=`` for the embedded model;
        ``templates=``, ``revision=``, ``label_map=``... for hub/local models (see
        :func:`analysis.classifiers.hf.load_hf_classifier`).

    Returns
    -------
    MentionClassifier
        With ``predict_proba``, ``predict``, ``classes_``, ``score_pairs`` and
        ``identity`` (what :func:`describe_classifier` returns for the same arguments).

    Raises
    ------
    InputError
        Empty or unknown model, model missing offline (the message says how to get
        it), unsupported label set, bad setting.
    """
    if isinstance(name, MentionClassifier):
        return name
    if lazy:
        return LazyClassifier(name, batch_size=batch_size, device=device, **kw)
    _check_settings(name, batch_size)
    if is_embedded(name):
        from .embedded import EmbeddedClassifier

        return EmbeddedClassifier.load(batch_size=batch_size, device=device, **kw)
    from ..progress import quiet_libraries
    from .hf import load_hf_classifier

    with quiet_libraries():
        return load_hf_classifier(name, batch_size=batch_size, device=device, **kw)


class LazyClassifier(MentionClassifier):
    """A classifier that knows its identity now and loads its weights on first use.

    Made by ``load_classifier(name, lazy=True)``.  ``model_id``, ``identity``,
    ``pair_level`` and ``metadata`` (before loading: what the model's files say)
    come from :func:`describe_classifier`, the function the loaders themselves use,
    so the lazy handle and the loaded classifier share one cache identity.  Any
    other attribute or method loads the real classifier (:attr:`loaded`) and is
    forwarded to it.
    """

    _OWN = ("name", "kwargs", "model_id", "identity", "pair_level", "_meta", "_real", "classes_")

    def __init__(self, name: str | os.PathLike = "embedded", *, batch_size: int = 32, device: str = "auto", **kw: Any):
        identity, meta = describe_classifier(name, batch_size=batch_size, device=device, **kw)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "kwargs", dict(kw, batch_size=batch_size, device=device))
        object.__setattr__(self, "_real", None)
        object.__setattr__(self, "_meta", meta)
        object.__setattr__(self, "classes_", MentionClassifier.classes_)
        object.__setattr__(self, "model_id", identity.model_id)
        object.__setattr__(self, "identity", identity)
        object.__setattr__(self, "pair_level", identity.pair_level)

    @property
    def loaded(self) -> MentionClassifier:
        """The real classifier (loaded now if it was not yet)."""
        if self._real is None:
            real = load_classifier(self.name, lazy=False, **self.kwargs)
            if real.identity != self.identity:  # the files changed between describing and loading
                raise RuntimeError(
                    f"model {self.name!r} changed since it was located: {self.identity.model_id} "
                    f"is now {real.identity.model_id}; load it again"
                )
            object.__setattr__(self, "_real", real)
        return self._real

    @property
    def is_loaded(self) -> bool:
        """Whether the weights have been loaded."""
        return self._real is not None

    @property
    def metadata(self) -> dict:  # type: ignore[override]
        return self._real.metadata if self._real is not None else self._meta

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
