"""Checkers for answers in numbers and algebra: ``numeric``, ``expression`` and ``equation``.

- ``numeric``: exact comparison of values (``Fraction``), so ``0.5``, ``1/2`` and ``50%`` are
  the same answer; with ``tolerance:`` the values may differ by at most that much (absolute).
  When the teacher's answer is a percentage, a bare number is read as a percentage too ("What
  percent ...?" answered ``50`` means 50%). The formats are listed in ``numbers``.
- ``expression`` and ``equation``: sympy equivalence as defined in ``algebra``. An equation step
  whose answer is solved (``x = 4``) also accepts the bare value ``4``, since "Now find x" is
  answered that way; any other answer without ``=`` is ``invalid``, not wrong. An equation step
  with ``form: any`` accepts every equation with the same solutions (``solution_sets``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy

from . import algebra, solution_sets
from .base import Checker
from .mathparse import Equation, parse_math, show
from .numbers import Number, parse_number
from .options import CheckOptions
from .result import Unreadable

TRUE_BUT_NOT_THIS_STEP = ("That equation is true, but it isn't the one this step asks for. Read the step again: "
                          "what do you get after doing just this step?")


class NumericChecker(Checker):
    kind = "numeric"

    def read_given(self, options: CheckOptions, text: str) -> Number:
        return parse_number(text)

    def show(self, reading: Number) -> str:
        return reading.show()

    def same(self, options: CheckOptions, expected: Number, given: Number) -> bool:
        value = given.value
        if expected.percent and not given.percent:
            value = value / 100
        if options.tolerance is None:
            return value == expected.value
        return abs(value - expected.value) <= Fraction(repr(float(options.tolerance)))


class ExpressionChecker(Checker):
    kind = "expression"
    limited = True

    def read_given(self, options: CheckOptions, text: str) -> sympy.Expr:
        reading = parse_math(text)
        if isinstance(reading, Equation):
            raise Unreadable("it has an = sign; type just the expression")
        return reading

    def show(self, reading: sympy.Expr) -> str:
        return show(reading)

    def same(self, options: CheckOptions, expected: sympy.Expr, given: sympy.Expr) -> bool:
        return _same_expression(expected, given)


class EquationChecker(Checker):
    kind = "equation"
    limited = True

    def read_expected(self, options: CheckOptions, text: str) -> Equation:
        reading = parse_math(text)
        if not isinstance(reading, Equation):
            raise Unreadable("it has no = sign")
        return reading

    def read_given(self, options: CheckOptions, text: str) -> Equation | sympy.Expr:
        return parse_math(text)

    def show(self, reading: Equation | sympy.Expr) -> str:
        return reading.show() if isinstance(reading, Equation) else show(reading)

    def same(self, options: CheckOptions, expected: Equation, given: Equation | sympy.Expr) -> bool:
        if isinstance(given, Equation):
            return _same_equation(expected, given) or (options.form == "any" and _same_solution_set(expected, given))
        value = algebra.solved_value(expected)
        if value is None or given.free_symbols:
            raise Unreadable("it has no = sign")
        return _same_expression(value, given)

    def wrong_message(self, options: CheckOptions, expected: Equation, given: Equation | sympy.Expr) -> str | None:
        if options.form == "step" and isinstance(given, Equation) and algebra.same_solutions(expected, given):
            return TRUE_BUT_NOT_THIS_STEP
        return None


# The teacher's answers and bug rules meet the same student answers again and again (and the
# answer-leak guard asks about the same sentences while a reply streams).
@lru_cache(maxsize=4096)
def _same_expression(a: sympy.Expr, b: sympy.Expr) -> bool:
    return algebra.same_expression(a, b)


@lru_cache(maxsize=4096)
def _same_equation(a: Equation, b: Equation) -> bool:
    return algebra.same_equation(a, b)


@lru_cache(maxsize=4096)
def _same_solution_set(a: Equation, b: Equation) -> bool:
    return solution_sets.same_solution_set(a, b)
