"""Folders derived once into the user cache (the base weights, the ONNX exports): built whole or not at all.

A derived folder is built in a temporary folder (``<name>.tmp-*``) renamed at the end,
under a lock file (``<name>.lock``), so that concurrent first uses build it once and no
reader ever sees it half-written. Its record (``base.json``, the name the first derived
folders used) states what it was made from and every file's size, modification time and
sha256: each use compares the sizes (and hashes again a file whose modification time
changed), and a damaged folder is built again, with a warning. Temporary folders of
builds killed before their end are removed at the next build.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..io import sha256_file

__all__ = ["RECORD", "derived_folder", "folder_problem"]

#: The record of a derived folder: what it was made from, and every file's size, mtime and sha256.
RECORD = "base.json"
#: Folders of earlier versions' interrupted builds that nobody touched for this long are removed.
LEFTOVER_AGE_SECONDS = 3600


def derived_folder(root, name: str, build: Callable[[Path], None], source: dict, *, verb: str = "deriving") -> Path:
    """``root/name``, built by ``build`` when it is missing or damaged.

    Parameters
    ----------
    root : path
        The cache root (created when missing).
    name : str
        The folder's name; it should carry a hash of ``source``, so that another source
        gets another folder.
    build : callable
        ``build(folder)`` fills an empty temporary folder.
    source : dict
        What the folder is made from (JSON-serialisable), stored in its record.
    verb : str
        How the warning about a damaged folder names the rebuild ("deriving", "exporting").

    Returns
    -------
    Path
        The intact folder.

    Raises
    ------
    InputError
        When ``root`` cannot hold the folder (a file, read-only, missing parent...).
    """
    from filelock import FileLock

    root = Path(root)
    target = root / name
    if folder_problem(target) is None:
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        with FileLock(root / f"{name}.lock"):
            problem = folder_problem(target)
            if problem is None:  # another process built it while this one waited
                return target
            if os.path.lexists(target):
                warnings.warn(f"{target}: {problem}; {verb} it again", RuntimeWarning, stacklevel=3)
            _remove_leftovers(root, name)
            tmp = Path(tempfile.mkdtemp(prefix=f"{name}.tmp-", dir=root))
            try:
                build(tmp)
                _write_record(tmp, source)
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif os.path.lexists(target):
                    target.unlink()
                os.replace(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        reason = "not a folder" if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror or str(exc)
        raise InputError(
            f"cache folder {root} is not usable ({reason}); set ANALYSIS_CACHE_DIR to a writable folder"
        ) from exc
    return target


def folder_problem(folder) -> str | None:
    """Why ``folder`` is not a complete, intact derived folder (None when it is)."""
    folder = Path(folder)
    try:
        files = json.loads((folder / RECORD).read_text())["files"]
        for name, expected in files.items():
            path = folder / name
            stat = path.stat()
            if stat.st_size != expected["size"]:
                return f"{name} has {stat.st_size} bytes instead of {expected['size']}"
            if stat.st_mtime_ns != expected["mtime_ns"] and sha256_file(path) != expected["sha256"]:
                return f"{name} differs from the sha256 recorded in {RECORD}"
    except FileNotFoundError as exc:
        return f"{Path(exc.filename).name} is missing"
    except KeyError:
        return f"{RECORD} has no checksums (made by an earlier version)"
    except (OSError, ValueError, TypeError) as exc:
        return f"{RECORD} is unreadable ({exc})"
    return None


def _write_record(folder: Path, source: dict) -> None:
    """Write ``folder``'s record: ``source`` and every file's size, mtime and sha256."""
    files = {}
    for path in sorted(folder.iterdir()):
        stat = path.stat()
        files[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256_file(path)}
    (folder / RECORD).write_text(json.dumps({**source, "files": files}, indent=2) + "\n")


def _remove_leftovers(root: Path, name: str) -> None:
    """Remove the temporary folders of builds killed before their end.

    Called with the lock held, so no running process is filling a ``<name>.tmp-*``
    folder; the other ``<name>.*`` folders (earlier versions' temporary folders, made
    without the lock) go once nothing wrote to them for an hour.
    """
    for folder in root.glob(f"{name}.*"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        try:
            fresh = time.time() - folder.stat().st_mtime < LEFTOVER_AGE_SECONDS
        except FileNotFoundError:  # an earlier version's process renamed it meanwhile
            continue
        if folder.name.startswith(f"{name}.tmp-") or not fresh:
            shutil.rmtree(folder, ignore_errors=True)
