"""The embedded model's trained artefact: where it ships, its content hash, its metadata."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import InputError

__all__ = ["ARTIFACT_DIR", "MODEL_NAME", "artifact_digest", "read_artifact_metadata"]

#: The artefact in the repository: the LoRA adapter (``adapter/``), the heads
#: (``head.safetensors``) and ``metadata.json``.
ARTIFACT_DIR = Path(__file__).parent / "artifacts" / "e5-newsmtsc"
#: Name of the model in ``model_id`` (``embedded:<name>@<sha12 of the artefact>``).
MODEL_NAME = "e5-small-newsmtsc"


def artifact_digest(directory: Path = ARTIFACT_DIR) -> str:
    """sha256 over every file of the artefact but ``metadata.json`` (adapter included),
    each under its path relative to the artefact: the model's identity in caches and outputs."""
    directory = Path(directory)
    h = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative != "metadata.json":
            h.update(relative.encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


def read_artifact_metadata(artifact=ARTIFACT_DIR) -> dict:
    """The artefact's ``metadata.json``.

    Raises
    ------
    InputError
        When the artefact has no ``metadata.json``.
    """
    path = Path(artifact) / "metadata.json"
    if not path.is_file():
        raise InputError(f"{path}: the trained artefact is missing (expected metadata.json, adapter/, head.safetensors)")
    return json.loads(path.read_text(encoding="utf-8"))
