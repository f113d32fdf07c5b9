"""Progress bars for long loops: on stderr (a widget in Jupyter), never on stdout.

``progress_bar`` is used by the classifiers' batch loops and by corpus scoring;
``progress(False)`` (what ``score_stance(progress=False)`` uses) or
``$ANALYSIS_NO_PROGRESS=1`` silences every bar; the libraries' own loading
bars and notices are silenced while models load (:func:`quiet_libraries`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Iterator

__all__ = ["MIN_PROGRESS_STEPS", "enabled", "progress", "progress_bar", "quiet_libraries"]

_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("analysis_progress", default=True)
_TRUE = {"1", "true", "yes", "on"}

#: Loops with fewer steps than this show no bar (they take a second or two at most).
MIN_PROGRESS_STEPS = 4


@contextlib.contextmanager
def progress(enabled: bool = True) -> Iterator[None]:
    """Switch the progress bars on or off inside a ``with`` block."""
    token = _PROGRESS.set(bool(enabled))
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def enabled() -> bool:
    """Whether bars may show: not inside ``progress(False)`` and ``$ANALYSIS_NO_PROGRESS`` unset."""
    return _PROGRESS.get() and os.environ.get("ANALYSIS_NO_PROGRESS", "").strip().lower() not in _TRUE


def progress_bar(total: int, desc: str, unit: str = "batch", min_total: int = MIN_PROGRESS_STEPS, leave: bool = False):
    """A ``tqdm.auto`` bar on stderr (a widget in Jupyter), or a silent one.

    Silent when ``total < min_total`` or when :func:`enabled` is false.
    """
    from tqdm.auto import tqdm

    show = enabled() and total >= min_total
    return tqdm(total=total, desc=desc, unit=unit, disable=not show, leave=leave, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5)


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """While loading models: no transformers / huggingface_hub bars, notices or FutureWarnings.

    Loading a model is not a long loop of the user's: transformers' "Loading weights" bar,
    its informational logging, huggingface_hub's bars and the libraries' FutureWarnings are
    silenced inside the block (notebooks and terminals alike) and restored after it.
    Errors still raise.
    """
    import warnings

    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    hub_bars_were_off = are_progress_bars_disabled()
    verbosity = hf_logging.get_verbosity()
    tf_bars_were_on = hf_logging.is_progress_bar_enabled()
    disable_progress_bars()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if tf_bars_were_on:
            hf_logging.enable_progress_bar()
        if not hub_bars_were_off:
            enable_progress_bars()
