"""One check for every piece of text a person sends: text that the database and the logs can keep.

A browser's text box cannot produce a lone surrogate, but a script can send ``"\\ud800"`` in
JSON, and Python keeps it in a ``str`` that no UTF-8 database, file or log line can encode: the
request would get as far as storage and fail there with a traceback. A NUL character is refused
by PostgreSQL and cut short by C libraries. So text is checked once, where a request enters the
app (``ui/text_guard.py`` applies this to every input of every event, the sign-in form too), and
the person is told which field held what, instead of "something went wrong".
"""

from __future__ import annotations

from typing import Any

from .errors import TutorError

MAX_DEPTH = 8  # chat histories are lists of dicts of text; nothing a page sends nests deeper


def text_problem(value: str) -> str | None:
    """What is wrong with ``value`` as stored text (the first bad character and where), or None."""
    for index, char in enumerate(value):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return f"a broken character (a lone surrogate, U+{code:04X}) at position {index + 1}"
        if code == 0:
            return f"an invisible NUL character at position {index + 1}"
    return None


def check_text(value: Any, *, field: str) -> None:
    """Raise ``TutorError`` naming ``field`` when ``value`` (text, or lists and dicts holding text)
    contains characters that cannot be stored; other values pass (their own checks are elsewhere)."""
    problem = _first_problem(value, MAX_DEPTH)
    if problem is not None:
        raise TutorError(f"The {field} contains {problem}, which is not valid text. "
                         "Please type it again (or paste it as plain text).")


def _first_problem(value: Any, depth: int) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if depth <= 0:
        return None
    if isinstance(value, dict):
        items = list(value.keys()) + list(value.values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        return None
    for item in items:
        found = _first_problem(item, depth - 1)
        if found is not None:
            return found
    return None
