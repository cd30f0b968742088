"""Reading numbers and maths in text that is not an answer: a tutor's reply, a problem
statement, a student's question.

The readers are the checker's own (``numbers``, ``mathparse``), so "1 1/2", ".5", "1,000" and
"50%" mean to the answer-leak guard exactly what they mean to the checker. A piece that cannot
be read is simply not a number here, never an error. ``mathparse`` bounds the size of what it
evaluates before sympy runs, so these readings are quick enough to call without the checker's
time-limit thread (prose pieces are short: ``MAX_PIECE_CHARS``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy

from .mathparse import Equation, parse_math
from .numbers import Number, parse_number
from .result import Unreadable

MAX_PIECE_CHARS = 80


def read_number(text: str) -> Number | None:
    """The number ``text`` is, as the numeric checker would read it, or None."""
    try:
        return parse_number(text)
    except Unreadable:
        return None


@lru_cache(maxsize=8192)
def read_expression(text: str) -> sympy.Expr | None:
    """The expression ``text`` is, as the expression checker would read it (``2x + 3``,
    ``8/2``), or None when it is not one short, readable expression without ``=``."""
    if len(text) > MAX_PIECE_CHARS:
        return None
    try:
        reading = parse_math(text)
    except Unreadable:
        return None
    except Exception:  # sympy may fail in its own ways on odd input; that is "not maths" here
        return None
    return None if isinstance(reading, Equation) else reading
