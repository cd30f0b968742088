"""Checkers for answers in numbers and algebra: ``numeric``, ``expression`` and ``equation``.

- ``numeric``: exact comparison of values (``Fraction``), so ``0.5``, ``1/2`` and ``50%`` are
  the same answer; with ``tolerance:`` the values may differ by at most that much (absolute).
  When the teacher's answer is a percentage, a bare number is read as a percentage too ("What
  percent ...?" answered ``50`` means 50%). The formats are listed in ``numbers``. A step with
  ``unit:`` also reads the number with a unit (``18 J``, ``18 joules``, ``€20``; ``units``): the
  same kind of unit is converted, another unit is ``invalid`` with a message of its own.
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
from .result import Unreadable, WrongUnit
from .units import match_unit, split_unit, unit_label

TRUE_BUT_NOT_THIS_STEP = ("That equation is true, but it isn't the one this step asks for. Read the step again: "
                          "what do you get after doing just this step?")


class NumericChecker(Checker):
    kind = "numeric"

    def read_given(self, options: CheckOptions, text: str) -> Number:
        try:
            return parse_number(text)
        except Unreadable:
            if not options.unit:
                raise
        written = split_unit(text)
        if written.unit is None:
            return parse_number(text)
        number = parse_number(written.number)
        found = match_unit(options, written.unit)
        if found.kind == "unknown":
            raise WrongUnit(f"it has an unknown unit {written.unit!r}",
                            f"I don't know the unit \"{written.unit}\". This step's answer is in {unit_label(options)}: "
                            f"write the number with that unit, or just the number.")
        if found.kind == "other":
            raise WrongUnit(f"it has another unit ({written.unit})",
                            f"Check the unit: this step asks for {unit_label(options)}, and \"{written.unit}\" is "
                            f"a different unit. Write the number in {unit_label(options)}, or just the number.")
        return Number(number.value * found.factor + found.offset, number.percent)

    def show(self, reading: Number) -> str:
        return reading.show()

    def same(self, options: CheckOptions, expected: Number, given: Number) -> bool:
        value = given.value
        if expected.percent and not given.percent:
            value = value / 100
        if options.tolerance is None:
            return value == expected.value
        return abs(value - expected.value) <= Fraction(repr(float(options.tolerance)))


def symbols_of(reading) -> set:
    if isinstance(reading, Equation):
        return set(reading.lhs.free_symbols) | set(reading.rhs.free_symbols)
    return set(getattr(reading, "free_symbols", ()))


def lower_capitals(reading, keys, names: frozenset[str]):
    """``Y = 7`` read as ``y = 7``: a capital single-letter variable becomes its lower-case
    letter when the answer key uses only the lower-case one, the capital is no variable of the
    problem (``names``), and the student did not write both (then the case means something)."""
    written = {s.name for s in symbols_of(reading)}
    key_names = {s.name for key in keys for s in symbols_of(key)}
    swap = {sympy.Symbol(n): sympy.Symbol(n.lower()) for n in written
            if len(n) == 1 and n.isupper() and n.lower() in key_names and n not in key_names
            and n not in names and n.lower() not in written}
    if not swap:
        return reading
    if isinstance(reading, Equation):
        return Equation(reading.lhs.xreplace(swap), reading.rhs.xreplace(swap))
    return reading.xreplace(swap)


class _AlgebraChecker(Checker):
    limited = True

    def lowered_capitals(self, options: CheckOptions, given, keys, names: frozenset[str] = frozenset()):
        return lower_capitals(given, keys, names)


class ExpressionChecker(_AlgebraChecker):
    kind = "expression"

    def read_given(self, options: CheckOptions, text: str) -> sympy.Expr:
        reading = parse_math(text)
        if isinstance(reading, Equation):
            raise Unreadable("it has an = sign; type just the expression")
        return reading

    def show(self, reading: sympy.Expr) -> str:
        return show(reading)

    def same(self, options: CheckOptions, expected: sympy.Expr, given: sympy.Expr) -> bool:
        return _same_expression(expected, given)


class EquationChecker(_AlgebraChecker):
    kind = "equation"

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
