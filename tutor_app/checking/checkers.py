"""The checking API the rest of the app calls: check an answer, compare two answers, and say
why a teacher's answer cannot be read.

None of these raise for any student text: a checker failure becomes an ``invalid`` verdict
(which does not count against the student) with a message, logged for the developers. The
sympy checkers run under a time limit on a worker thread (``limits``), so a slow answer costs
the student one "try writing it more simply" and never a hung page.
"""

from __future__ import annotations

import logging

from .base import Checker
from .limits import DEFAULT_TIME_LIMIT_S, TimeLimitExceeded, run_with_time_limit
from .math_checkers import EquationChecker, ExpressionChecker, NumericChecker
from .options import CheckOptions
from .result import CheckResult, Unreadable
from .textnorm import clean
from .word_checkers import ChoiceChecker, OpenChecker, RegexChecker, TextChecker

log = logging.getLogger(__name__)

CHECKERS: dict[str, Checker] = {c.kind: c for c in (
    TextChecker(), NumericChecker(), ExpressionChecker(), EquationChecker(), ChoiceChecker(), RegexChecker(),
    OpenChecker())}

TIME_LIMIT_S = DEFAULT_TIME_LIMIT_S
TOO_SLOW = "That answer took too long to check. Try writing it more simply."
BROKEN = "Something went wrong while checking that answer. Try writing it another way."
BAD_KEY = ("I can't check this step because its answer key can't be read. Please tell your teacher; "
           "you can ask for a hint or go on with the tutor meanwhile.")


def check_answer(options: CheckOptions, expected: str | None, given: str) -> CheckResult:
    """Compare ``given`` with ``expected`` and ``options.alternatives``."""
    checker = CHECKERS.get(options.check)
    if checker is None:
        return CheckResult("invalid", None, BAD_KEY)
    if not isinstance(given, str):
        return CheckResult("invalid", None, checker.invalid_message(options, "it is not text"))
    try:
        if checker.limited:
            return run_with_time_limit(_check, checker, options, expected, given, seconds=TIME_LIMIT_S)
        return _check(checker, options, expected, given)
    except TimeLimitExceeded:
        log.info("checking %r (%s) ran out of time", given[:80], options.check)
        return CheckResult("invalid", None, TOO_SLOW)
    except Exception:
        log.exception("the %s checker failed on %r", options.check, given[:80])
        return CheckResult("invalid", None, BROKEN)


def _check(checker: Checker, options: CheckOptions, expected: str | None, given: str) -> CheckResult:
    try:
        reading = checker.read_given(options, given)
    except Unreadable as exc:
        return CheckResult("invalid", None, checker.invalid_message(options, exc.reason))
    normalized = checker.show(reading)
    if options.check == "open":
        return CheckResult("pending", normalized, None)
    keys = []
    for text in [expected, *options.alternatives]:
        try:
            keys.append(checker.read_expected(options, str(text if text is not None else "")))
        except Unreadable as exc:
            log.warning("the %s checker cannot read the answer key %r: %s", options.check, text, exc.reason)
    if not keys:
        return CheckResult("invalid", normalized, BAD_KEY)
    try:
        if any(checker.same(options, key, reading) for key in keys):
            return CheckResult("correct", normalized, None)
    except Unreadable as exc:
        return CheckResult("invalid", None, checker.invalid_message(options, exc.reason))
    return CheckResult("incorrect", normalized, checker.wrong_message(options, keys[0], reading))


def answers_equivalent(options: CheckOptions, a: str, b: str) -> bool:
    """Whether ``b`` is the same answer as the teacher-side answer ``a`` (a bug-rule answer, or
    the step's answer for the leak guard) under this step's checker. False when either cannot be
    read or the comparison runs out of time. For ``regex``, ``a`` is the pattern."""
    checker = CHECKERS.get(options.check)
    if checker is None or options.check == "open" or not isinstance(a, str) or not isinstance(b, str):
        return False

    def compare() -> bool:
        return bool(checker.same(options, checker.read_expected(options, a), checker.read_given(options, b)))

    try:
        return run_with_time_limit(compare, seconds=TIME_LIMIT_S) if checker.limited else compare()
    except (Unreadable, TimeLimitExceeded):
        return False
    except Exception:
        log.exception("comparing %r and %r with the %s checker failed", a[:80], b[:80], options.check)
        return False


def expected_answer_problem(options: CheckOptions, expected: str | None) -> str | None:
    """Why this step's checker cannot read the teacher's ``expected`` answer, or None when it can.
    The curriculum validator shows it after "the <kind> checker cannot read '<answer>': "."""
    checker = CHECKERS.get(options.check)
    if checker is None:
        return f"there is no checker called {options.check!r}"
    if options.check == "open":
        return None
    if expected is None or not clean(str(expected)):
        return "it is empty"
    try:
        if checker.limited:
            run_with_time_limit(checker.read_expected, options, str(expected), seconds=TIME_LIMIT_S)
        else:
            checker.read_expected(options, str(expected))
    except Unreadable as exc:
        return exc.reason
    except TimeLimitExceeded:
        return "it takes too long to read; write it more simply"
    except Exception as exc:
        log.exception("reading the answer key %r failed", expected)
        return f"reading it failed ({type(exc).__name__})"
    return None
