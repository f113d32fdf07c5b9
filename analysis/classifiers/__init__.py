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

__all__ = ["CLASSES", "MentionClassifier", "load_classifier"]


def load_classifier(
    name: str | os.PathLike | MentionClassifier = "embedded",
    *,
    batch_size: int = 32,
    device: str = "auto",
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
    if isinstance(name, str) and name.strip().lower() == "embedded":
        from .embedded import EmbeddedClassifier

        return EmbeddedClassifier.load(batch_size=batch_size, device=device, **kw)
    from .hf import load_hf_classifier

    return load_hf_classifier(name, batch_size=batch_size, device=device, **kw)
