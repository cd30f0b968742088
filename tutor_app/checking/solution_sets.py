"""When two equations have the same solutions: the rule behind an equation step's ``form: any``.

"Write the equation of the line through (0, 1) with slope 2" has many right answers
(``y = 2x + 1``, ``y - 2x = 1``, ``2y = 4x + 2``); the default equation rule (``algebra``) accepts
only rewrites of one written step, so this module decides equivalence as mathematics.

The definition: write each equation ``a = b`` as ``d = 0`` with ``d = a - b``; two equations
count as the same when their solution sets over the complex numbers are equal, in the variables
that either one uses (so ``x = 3`` in a problem about ``x`` and ``y`` is the vertical line).
Equal complex solution sets give equal real ones, so nothing that differs for a student is ever
accepted; in return a few pairs that agree only over the reals (``x^2 + 1 = 0`` and
``x^2 + 4 = 0``, both without real solutions) are not accepted.

It is decided exactly, in two ways:

1. ``d1`` is a nonzero constant multiple of ``d2`` (``algebra.same_solutions``). This covers
   linear equations in any number of variables, where it is the whole story, and is the only
   rule for equations with roots, logarithms or trigonometry.
2. Otherwise, when both are rational functions: ``d = p/q`` in lowest terms (sympy's ``cancel``,
   so ``(x^2 - 1)/(x - 1) = 0`` is read as ``x + 1 = 0``), whose solutions are the zeros of
   ``p`` where ``q`` is not zero. Two polynomials vanish at the same points exactly when their
   square-free parts are constant multiples of each other (Hilbert's Nullstellensatz for one
   equation), so ``x^2 = 4`` matches ``(x - 2)(x + 2) = 0``. The excluded points are the same when
   the denominators have the same zeros too, or when neither equation's denominator vanishes at
   any of its own solutions (``y = 1/x`` and ``xy = 1``): a Groebner basis of ``{p, q}`` equal to
   ``[1]`` proves that.

Anything else is "not the same": the rule can reject an exotic true equivalence, never accept
a false one. The sympy work runs under the checker's time limit like every equation check.
"""

from __future__ import annotations

import sympy

from . import algebra
from .mathparse import Equation


def same_solution_set(first: Equation, second: Equation) -> bool:
    """The definition in the module notes."""
    if algebra.same_solutions(first, second):
        return True
    d1, d2 = first.lhs - first.rhs, second.lhs - second.rhs
    symbols = sorted(d1.free_symbols | d2.free_symbols, key=lambda s: s.name)
    if not symbols:
        return False  # no unknowns: an arithmetic fact, not an equation to solve
    parts1, parts2 = _fraction(d1, symbols), _fraction(d2, symbols)
    if parts1 is None or parts2 is None:
        return False
    (p1, q1), (p2, q2) = parts1, parts2
    if not _same_zeros(p1, p2):
        return False
    return _same_zeros(q1, q2) or (_no_common_zero(p1, q1) and _no_common_zero(p2, q2))


def _fraction(difference: sympy.Expr, symbols: list[sympy.Symbol]) -> tuple[sympy.Poly, sympy.Poly] | None:
    """``difference`` as numerator and denominator polynomials in lowest terms, or None when it
    is not a rational function of the symbols (a root, a logarithm, a symbol in an exponent)."""
    numerator, denominator = sympy.fraction(sympy.cancel(sympy.together(difference)))
    if not (numerator.is_polynomial(*symbols) and denominator.is_polynomial(*symbols)):
        return None
    try:
        return sympy.Poly(numerator, *symbols), sympy.Poly(denominator, *symbols)
    except sympy.PolynomialError:
        return None


def _same_zeros(p: sympy.Poly, q: sympy.Poly) -> bool:
    """Whether the polynomials vanish at the same complex points."""
    if p.is_zero or q.is_zero:
        return p.is_zero and q.is_zero  # 0 vanishes everywhere
    if p.is_ground or q.is_ground:
        return p.is_ground and q.is_ground  # a nonzero constant vanishes nowhere
    if _variables(p) != _variables(q):
        return False  # cheap: a square-free part keeps every variable its polynomial has
    a, b = p.sqf_part(), q.sqf_part()
    return (a * b.LC() - b * a.LC()).is_zero


def _variables(p: sympy.Poly) -> frozenset[sympy.Symbol]:
    return frozenset(gen for gen, degree in zip(p.gens, p.degree_list()) if degree > 0)


def _no_common_zero(p: sympy.Poly, q: sympy.Poly) -> bool:
    """No point where both vanish: the ideal they generate is the whole ring."""
    if q.is_ground:
        return not q.is_zero
    basis = sympy.groebner([p.as_expr(), q.as_expr()], *p.gens, order="grevlex")
    return list(basis.exprs) == [1]
