"""The checking API the rest of the app calls: check an answer, compare two answers, and say
why a teacher's answer cannot be read.

None of these raise for any student text: a checker failure becomes an ``invalid`` verdict
(which does not count against the student) with a message, logged for the developers. The
sympy checkers run under a time limit on a worker thread (``limits``), so a slow answer costs
the student one "try writing it more simply" and never a hung page.
"""

from __future__ import annotations

import logging

from typing import Sequence

from .base import Checker
from .equivalence import CHECKERS, TIME_LIMIT_S, answers_equivalent
from .examples import safe_examples
from .limits import TimeLimitExceeded, run_with_time_limit
from .math_checkers import symbols_of
from .options import CheckOptions
from .result import CheckResult, Unreadable, WrongUnit
from .textnorm import clean

log = logging.getLogger(__name__)

__all__ = ["CHECKERS", "answers_equivalent", "check_answer", "expected_answer_problem", "variable_names"]
TOO_SLOW = "That answer took too long to check. Try writing it more simply."
BROKEN = "Something went wrong while checking that answer. Try writing it another way."
BAD_KEY = ("I can't check this step because its answer key can't be read. Please tell your teacher; "
           "you can ask for a hint or go on with the tutor meanwhile.")


def check_answer(options: CheckOptions, expected: str | None, given: str, *, avoid: Sequence[str | None] = (),
                 names: frozenset[str] = frozenset()) -> CheckResult:
    """Compare ``given`` with ``expected`` and ``options.alternatives``.

    ``avoid``: other answers an example in a message must not be equivalent to (the later steps'
    answers; this step's own are always avoided). ``names``: the variables of the whole problem,
    so that a capitalised ``Y`` is read as ``y`` only where ``Y`` is no variable of its own."""
    checker = CHECKERS.get(options.check)
    if checker is None:
        return CheckResult("invalid", None, BAD_KEY)
    if not isinstance(given, str):
        return _invalid(checker, options, "it is not text", [expected, *options.alternatives, *avoid])
    try:
        if checker.limited:
            return run_with_time_limit(_check, checker, options, expected, given, names, seconds=TIME_LIMIT_S)
        return _check(checker, options, expected, given, names)
    except WrongUnit as exc:
        return CheckResult("invalid", None, exc.message)
    except Unreadable as exc:
        return _invalid(checker, options, exc.reason, [expected, *options.alternatives, *avoid])
    except TimeLimitExceeded:
        log.info("checking %r (%s) ran out of time", given[:80], options.check)
        return CheckResult("invalid", None, TOO_SLOW)
    except Exception:
        log.exception("the %s checker failed on %r", options.check, given[:80])
        return CheckResult("invalid", None, BROKEN)


def _invalid(checker: Checker, options: CheckOptions, reason: str, avoid: list) -> CheckResult:
    """An unreadable answer's message, with examples that are none of the answers to avoid."""
    examples = safe_examples(options, avoid, count=5 if options.check == "numeric" else 1)
    return CheckResult("invalid", None, checker.invalid_message(options, reason, examples))


def _check(checker: Checker, options: CheckOptions, expected: str | None, given: str,
           names: frozenset[str]) -> CheckResult:
    """The comparison; an unreadable answer raises ``Unreadable`` (worded by the caller)."""
    reading = checker.read_given(options, given)
    if options.check == "open":
        return CheckResult("pending", checker.show(reading), None)
    keys = []
    for text in [expected, *options.alternatives]:
        try:
            keys.append(checker.read_expected(options, str(text if text is not None else "")))
        except Unreadable as exc:
            log.warning("the %s checker cannot read the answer key %r: %s", options.check, text, exc.reason)
    if not keys:
        return CheckResult("invalid", checker.show(reading), BAD_KEY)
    reading = checker.lowered_capitals(options, reading, keys, names)
    normalized = checker.show(reading)
    if any(checker.same(options, key, reading) for key in keys):
        return CheckResult("correct", normalized, None)
    return CheckResult("incorrect", normalized, checker.wrong_message(options, keys[0], reading))


def variable_names(options: CheckOptions, text: str | None) -> frozenset[str]:
    """The variables in a teacher's maths answer (``{"x", "y"}`` for ``y = 2x + 1``); empty
    for other kinds of answer and for one that cannot be read."""
    if options.check not in ("expression", "equation") or not text:
        return frozenset()
    try:
        reading = CHECKERS[options.check].read_expected(options, text)
    except Exception:  # unreadable (the validator reports it): it names no variable
        return frozenset()
    return frozenset(s.name for s in symbols_of(reading))


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
