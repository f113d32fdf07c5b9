"""Locating a Hugging Face model: a local folder, the local Hugging Face cache, or the hub.

:func:`locate_model` reads only the model's config (never its weights) and
names the revision it found:

- a **local folder** (written by ``save_pretrained``) is used as is; its
  revision is ``local-<hash12>`` (:func:`folder_fingerprint`), or the commit
  when the folder is a snapshot inside a Hugging Face cache;
- a **hub id** (``org/name``) is looked up in the local Hugging Face cache
  first (``huggingface_hub.try_to_load_from_cache``: no network); when absent,
  the hub is probed (:func:`hub_reachable`, a few seconds at most) and, when it
  answers, the config is downloaded; when it does not (or ``HF_HUB_OFFLINE=1``)
  an :class:`~analysis.errors.InputError` says how to get the model
  (:func:`offline_message`) -- never a hang.

Commits are read with ``huggingface_hub.scan_cache_dir``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import InputError

__all__ = [
    "HUB_PROBE_TIMEOUT",
    "ModelLocation",
    "folder_fingerprint",
    "hub_reachable",
    "locate_model",
    "offline_message",
]

#: Seconds allowed for the "is the hub reachable" probe.
HUB_PROBE_TIMEOUT = 3.0

#: Weight file suffixes hashed by :func:`folder_fingerprint`.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack")

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ModelLocation:
    """Where a model's files are and which revision they are.

    Attributes
    ----------
    load : str
        What to pass to ``from_pretrained`` first: a folder (a hub model found in the
        local cache loads from its snapshot folder) or a hub id.
    revision : str or None
        The commit found for a hub model (None for folders outside the cache).
    local_files_only : bool
        True when everything should come from disk (a folder, or a hub id found
        in the local cache).
    config : transformers.PretrainedConfig
        The model's config.
    source : str
        Hub id, or the folder's name (never its full path).
    model_revision : str
        Commit, or ``local-<hash12>`` for a folder outside the cache.
    """

    load: str
    revision: str | None
    local_files_only: bool
    config: Any
    source: str
    model_revision: str

    @property
    def model_id(self) -> str:
        """``hf:<source>@<model_revision>``: what the ``model`` column reads."""
        return f"hf:{self.source}@{self.model_revision}"

    @property
    def hub_id(self) -> bool:
        """Whether the model comes from the hub (so the hub can supply files the cache lacks)."""
        return self.revision is not None


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT) -> bool:
    """Whether the Hugging Face hub answers, decided within about ``timeout`` seconds.

    ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` set to 1 -> False without
    probing.  Otherwise one HTTPS ``HEAD`` request to the hub endpoint
    (``HF_ENDPOINT``, default https://huggingface.co; proxies from the
    environment are honoured) with certificate verification: any HTTP answer
    means reachable; DNS failure, refused / intercepted connections and
    timeouts mean unreachable.  The request runs in a daemon thread, so
    neither a slow DNS lookup nor a black-holed route can block longer than
    ``timeout`` (+0.5) seconds.
    """
    import urllib.error
    import urllib.request

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    if not urlparse(endpoint).hostname:
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            request = urllib.request.Request(endpoint + "/", method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout):
                result.append(True)
        except urllib.error.HTTPError:
            result.append(True)  # the server answered (401, 404, ...): reachable
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def offline_message(name: str) -> str:
    """What to do when hub model ``name`` is neither cached nor downloadable."""
    return (
        f"model {name!r} is not in the local Hugging Face cache and the hub cannot be reached; "
        f"download it on a connected machine with `hf download {name}` (older huggingface_hub: "
        f"`huggingface-cli download {name}`) "
        f"(or `python -c \"from transformers import AutoModelForSequenceClassification as M, "
        f"AutoTokenizer as T; M.from_pretrained('{name}'); T.from_pretrained('{name}')\"`) "
        "and copy the Hugging Face cache folder ($HF_HOME, by default ~/.cache/huggingface) "
        "to this machine, "
        "or pass a local directory (one made with save_pretrained) as the model"
    )


def folder_fingerprint(path: Path) -> str:
    """Short hash of a model folder: config.json + each weight file's name, size, first and last MiB."""
    h = hashlib.sha256()
    config = path / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    chunk = 1 << 20
    for weights in sorted(path.iterdir()):
        if weights.suffix not in WEIGHT_SUFFIXES:
            continue
        size = weights.stat().st_size
        h.update(weights.name.encode() + str(size).encode())
        with open(weights, "rb") as fh:
            h.update(fh.read(chunk))
            if size > 2 * chunk:
                fh.seek(size - chunk)
                h.update(fh.read(chunk))
    return h.hexdigest()[:12]


def _cache_revision(snapshot: Path) -> tuple[str, str] | None:
    """(hub id, commit) when ``snapshot`` is a model snapshot folder of a Hugging Face cache.

    The cache is ``snapshot/../../..`` (``<cache>/models--org--name/snapshots/<commit>``);
    ``huggingface_hub.scan_cache_dir`` reads it.
    """
    from huggingface_hub import scan_cache_dir

    snapshot = snapshot.resolve()
    if snapshot.parent.name != "snapshots":
        return None
    try:
        cache = scan_cache_dir(snapshot.parents[2])
    except Exception:  # noqa: BLE001 - not a readable cache: an ordinary folder
        return None
    for repo in cache.repos:
        for rev in repo.revisions:
            if repo.repo_type == "model" and Path(rev.snapshot_path).resolve() == snapshot:
                return repo.repo_id, rev.commit_hash
    return None


def _read_config(folder: Path, text: str) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(folder, local_files_only=True)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read the model config in {text!r}: {exc}") from None


def _locate_folder(path: Path, text: str) -> ModelLocation:
    if not (path / "config.json").is_file():
        raise InputError(
            f"model directory {text!r} has no config.json; expected a folder written by "
            "save_pretrained (config.json, tokenizer files, weights)"
        )
    folder = path.resolve()
    config = _read_config(folder, text)
    in_cache = _cache_revision(folder)
    if in_cache is not None:
        return ModelLocation(str(folder), None, True, config, *in_cache)
    return ModelLocation(str(folder), None, True, config, folder.name, f"local-{folder_fingerprint(folder)}")


def _cached_config(hub_id: str, revision: str | None) -> Path | None:
    """The cached ``config.json`` of ``hub_id`` (no network), or None."""
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(hub_id, "config.json", revision=revision)
    return Path(hit) if isinstance(hit, str) and Path(hit).is_file() else None


def _locate_hub(hub_id: str, revision: str | None) -> ModelLocation:
    config_file = _cached_config(hub_id, revision)
    was_cached = config_file is not None
    if config_file is None:
        if not hub_reachable():
            raise InputError(offline_message(hub_id))
        from huggingface_hub import hf_hub_download

        try:
            config_file = Path(hf_hub_download(hub_id, "config.json", revision=revision))
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"cannot load model {hub_id!r} from the Hugging Face hub: {exc}") from None
    in_cache = _cache_revision(config_file.parent)
    if in_cache is None:
        raise InputError(f"cannot tell the commit of model {hub_id!r} in the Hugging Face cache {config_file.parent}")
    commit = in_cache[1]
    config = _read_config(config_file.parent, hub_id)
    # a cached model loads from its snapshot folder: transformers then asks the network nothing
    load = str(config_file.parent) if was_cached else hub_id
    return ModelLocation(load, commit, was_cached, config, hub_id, commit)


def locate_model(name: str | os.PathLike, revision: str | None = None) -> ModelLocation:
    """Find model ``name`` and read its config; fail fast and clearly when impossible.

    Parameters
    ----------
    name : str or path
        A folder written by ``save_pretrained`` or a hub id ``org/name``.
    revision : str, optional
        Hub branch, tag or commit (ignored for folders).

    Returns
    -------
    ModelLocation

    Raises
    ------
    InputError
        Empty name, a file, a folder without config.json, neither a folder nor a
        valid hub id, or a hub id neither cached nor downloadable.
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    text = os.fspath(name)
    if not text.strip():
        raise InputError(
            "model name is empty; use 'embedded', a Hugging Face id (org/name) or a local model folder"
        )
    path = Path(text).expanduser()
    if path.is_dir():
        return _locate_folder(path, text)
    if path.exists():
        raise InputError(f"model path {text!r} is a file; expected a model directory or a hub id")
    try:
        validate_repo_id(text)
    except HFValidationError:
        raise InputError(
            f"model {text!r} is neither an existing directory nor a Hugging Face model id "
            "(like 'org/name'); check the path"
        ) from None
    return _locate_hub(text, revision)
