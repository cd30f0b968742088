"""When two expressions, or two equations, count as the same answer.

Expressions: the same function of their variables (their difference simplifies to 0), so
``2(x+1)`` is ``2x+2``. Form is not judged: a step that wants the expanded form should say so
in its prompt, and a bug rule can catch the unexpanded form if the teacher wants.

Equations: the same equation up to rewriting each side, swapping the sides, or moving
everything to one side. Precisely, ``a = b`` matches ``c = d`` when

- ``a ≡ c`` and ``b ≡ d``, or ``a ≡ d`` and ``b ≡ c`` (each side is the same expression), or
- one of them has a side that is 0 and its other side is ``±`` the other equation's
  ``lhs - rhs`` (``2x - 8 = 0`` and ``0 = 8 - 2x`` match ``2x = 8``).

Why not "``lhs - rhs`` proportional", the usual test for equivalent equations: it would accept
``x = 4`` for a step that asks for ``2x = 8`` (2x - 8 = 2(x - 4)), and it would even accept the
unchanged ``2x + 3 = 11`` (its ``lhs - rhs`` is exactly 2x - 8), so a student could pass the
"subtract 3 from both sides" step by copying the problem. Proportionality is still useful: it
means "true, but not the form this step asks for", which the checker says without giving the
answer away (``same_solutions``).
"""

from __future__ import annotations

import sympy

from .mathparse import Equation

_PROBES = (sympy.Rational(7, 3), sympy.Rational(-5, 4), sympy.Rational(11, 7))


def same_expression(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Whether ``a - b`` is identically 0. Cheap exact tests first, then a numeric probe that
    rules out most differences before the (slow) ``simplify`` has to prove a zero."""
    difference = a - b
    if difference == 0:
        return True
    expanded = sympy.expand(difference)
    if expanded == 0:
        return True
    if not expanded.free_symbols:
        return bool(expanded.equals(0))
    if sympy.cancel(sympy.together(expanded)) == 0:
        return True
    if _clearly_nonzero(expanded):
        return False
    return sympy.simplify(difference) == 0


def _clearly_nonzero(expr: sympy.Expr) -> bool:
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    for shift, probe in enumerate(_PROBES):
        point = {s: probe + i * sympy.Rational(1, 3) + shift for i, s in enumerate(symbols)}
        try:
            value = complex(expr.subs(point).evalf(30))
        except (TypeError, ValueError):
            continue  # undefined at this point (a pole, a log of a negative number)
        if value != value or abs(value) == float("inf"):
            continue
        if abs(value) > 1e-9:
            return True
    return False


def same_equation(first: Equation, second: Equation) -> bool:
    """The rule in the module notes."""
    if same_expression(first.lhs, second.lhs) and same_expression(first.rhs, second.rhs):
        return True
    if same_expression(first.lhs, second.rhs) and same_expression(first.rhs, second.lhs):
        return True
    return _zero_side_matches(first, second) or _zero_side_matches(second, first)


def _zero_side_matches(zeroed: Equation, other: Equation) -> bool:
    if zeroed.rhs == 0:
        side = zeroed.lhs
    elif zeroed.lhs == 0:
        side = zeroed.rhs
    else:
        return False
    difference = other.lhs - other.rhs
    return same_expression(side, difference) or same_expression(side, -difference)


def same_solutions(first: Equation, second: Equation) -> bool:
    """``lhs - rhs`` of one is a nonzero constant multiple of the other's: the equations are
    equivalent as mathematics (``x = 4`` and ``2x = 8``) even when not the same written step."""
    d1, d2 = first.lhs - first.rhs, second.lhs - second.rhs
    if d1 == 0 or d2 == 0 or not (d1.free_symbols or d2.free_symbols):
        return False
    ratio = sympy.cancel(sympy.together(d1 / d2))
    return bool(ratio.is_number and ratio != 0 and ratio.is_finite)


def solved_value(equation: Equation) -> sympy.Expr | None:
    """``x = 4`` (or ``4 = x``) gives 4: the value a student may type on its own for "find x"."""
    for name, value in ((equation.lhs, equation.rhs), (equation.rhs, equation.lhs)):
        if isinstance(name, sympy.Symbol) and not value.free_symbols:
            return value
    return None
