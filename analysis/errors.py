"""Errors raised for bad user input.

Every function that reads a user-supplied file, folder or table raises
:class:`InputError` when the input cannot be used. The message names the file
(or field) and the problem, so the command line can print it as is.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input: a missing path, an empty or binary file, a missing column...

    The message is meant for the user; it always names the offending file,
    folder or field and says what is wrong with it. The CLI prints it as
    ``error: <message>`` on stderr and exits with status 2.
    """
