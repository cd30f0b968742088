"""One checker per kind, and whether two answers are the same answer under a step's checker.

Kept apart from ``checkers`` (which judges a student's answer and words the messages) because
the example picker (``examples``) needs the comparison, and the messages need the examples.
"""

from __future__ import annotations

import logging

from .base import Checker
from .limits import DEFAULT_TIME_LIMIT_S, TimeLimitExceeded, run_with_time_limit
from .math_checkers import EquationChecker, ExpressionChecker, NumericChecker
from .options import CheckOptions
from .result import Unreadable
from .word_checkers import ChoiceChecker, OpenChecker, RegexChecker, TextChecker

log = logging.getLogger(__name__)

CHECKERS: dict[str, Checker] = {c.kind: c for c in (
    TextChecker(), NumericChecker(), ExpressionChecker(), EquationChecker(), ChoiceChecker(), RegexChecker(),
    OpenChecker())}

TIME_LIMIT_S = DEFAULT_TIME_LIMIT_S


def answers_equivalent(options: CheckOptions, a: str, b: str) -> bool:
    """Whether ``b`` is the same answer as the teacher-side answer ``a`` (a bug-rule answer, or
    the step's answer for the leak guard) under this step's checker. False when either cannot be
    read or the comparison runs out of time. For ``regex``, ``a`` is the pattern."""
    checker = CHECKERS.get(options.check)
    if checker is None or options.check == "open" or not isinstance(a, str) or not isinstance(b, str):
        return False

    def compare() -> bool:
        expected = checker.read_expected(options, a)
        given = checker.lowered_capitals(options, checker.read_given(options, b), [expected])
        return bool(checker.same(options, expected, given))

    try:
        return run_with_time_limit(compare, seconds=TIME_LIMIT_S) if checker.limited else compare()
    except (Unreadable, TimeLimitExceeded):
        return False
    except Exception:
        log.exception("comparing %r and %r with the %s checker failed", a[:80], b[:80], options.check)
        return False
