"""Derived parameters: small arithmetic a teacher writes in a file, such as ``"a*x + b"``.

The text comes from a file anyone with folder access may edit, so it is never handed to
Python's ``eval``: the characters are whitelisted, sympy's ``parse_expr`` reads it with a
restricted namespace (names become symbols, only a few math functions exist) and without
evaluating, and we then evaluate the tree ourselves so that ``9^9^9`` is refused before it
can use up the CPU. A thread-based time limit backs that up.
"""

from __future__ import annotations

import keyword
import re
import threading
from fractions import Fraction
from functools import lru_cache

import sympy
from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication, parse_expr,
                                        standard_transformations)

MAX_LENGTH = 200
MAX_EXPONENT = 64
MAX_DIGITS = 60  # a derived number a student is meant to work with is never longer than this
TIME_LIMIT_S = 2.0
ALLOWED_CHARS = re.compile(r"^[A-Za-z0-9_+\-*/^()., %!]*$")
FUNCTIONS = {"sqrt": sympy.sqrt, "abs": sympy.Abs, "Abs": sympy.Abs, "min": sympy.Min, "max": sympy.Max,
             "floor": sympy.floor, "ceil": sympy.ceiling, "ceiling": sympy.ceiling, "pi": sympy.pi}
_SYMPY_NAMES = {name: getattr(sympy, name) for name in ("Integer", "Float", "Rational", "Symbol", "Function",
                                                          "factorial", "Mod", "Add", "Mul", "Pow")}
TRANSFORMATIONS = standard_transformations + (implicit_multiplication, convert_xor)
Number = sympy.Expr


class DerivedError(ValueError):
    """A derived parameter that cannot be computed; the message is for the teacher."""


@lru_cache(maxsize=1024)
def parse_derived(text: str, known: tuple[str, ...]) -> sympy.Expr:
    """Parse ``text`` into an unevaluated expression over the params named in ``known``."""
    text = text.strip()
    if not text:
        raise DerivedError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise DerivedError(f"the expression is longer than {MAX_LENGTH} characters")
    if not ALLOWED_CHARS.match(text) or "__" in text or re.search(r"(?<![0-9])\.(?![0-9])", text):
        raise DerivedError("use only numbers, param names, + - * / ^ ( ) and sqrt, abs, min, max, floor, ceil")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    if any(keyword.iskeyword(w) for w in words):
        raise DerivedError("use only numbers, param names, + - * / ^ ( ) and sqrt, abs, min, max, floor, ceil")
    local = {name: sympy.Symbol(name) for name in known}
    local.update({name: f for name, f in FUNCTIONS.items() if name not in local})
    try:
        expr = _with_time_limit(lambda: parse_expr(text, local_dict=local, global_dict=dict(_SYMPY_NAMES),
                                                   transformations=TRANSFORMATIONS, evaluate=False))
    except DerivedError:
        raise
    except Exception as exc:  # sympy raises SyntaxError, TypeError, TokenError... on bad input
        raise DerivedError(f"cannot read the expression {text!r} ({type(exc).__name__})") from None
    if not isinstance(expr, sympy.Expr):
        raise DerivedError(f"{text!r} is not a single arithmetic expression")
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in known)
    if unknown:
        raise DerivedError(f"unknown name {unknown[0]!r}; a derived param may use only params defined above it"
                           + (f" ({', '.join(known)})" if known else " (none yet)"))
    undefined = sorted({type(f).__name__ for f in expr.atoms(sympy.Function)
                        if isinstance(f, sympy.core.function.AppliedUndef)})
    if undefined:
        raise DerivedError(f"unknown function {undefined[0]!r} (available: sqrt, abs, min, max, floor, ceil)")
    return expr


def evaluate_derived(expr: sympy.Expr, values: dict[str, Number]) -> Number:
    """The value of a parsed expression for these param values: a finite real sympy number."""
    try:
        result = _with_time_limit(lambda: _evaluate(expr, values))
    except DerivedError:
        raise
    except Exception as exc:  # sympy may raise TypeError/ValueError on odd combinations
        raise DerivedError(f"cannot compute the expression ({type(exc).__name__}: {exc})") from None
    if result.has(sympy.zoo, sympy.nan) or result.has(sympy.oo, -sympy.oo):
        raise DerivedError("division by zero")
    if not result.is_real:
        raise DerivedError("the result is not a real number")
    if result.free_symbols:
        raise DerivedError("the result is not a number")
    return result


def _evaluate(node: sympy.Basic, values: dict[str, Number]) -> Number:
    if isinstance(node, sympy.Symbol):
        value = values[node.name]
        if not isinstance(value, sympy.Expr):
            raise DerivedError(f"param {node.name!r} is text ({value!r}), not a number")
        return value
    if not node.args:
        return node
    args = [_evaluate(arg, values) for arg in node.args]
    if isinstance(node, sympy.Pow):
        _check_power(*args)
    if isinstance(node, sympy.factorial) and not (args[0].is_Integer and 0 <= args[0] <= 30):
        raise DerivedError("factorial works on whole numbers from 0 to 30 here")
    result = node.func(*args)
    if result.is_Rational and max(len(str(abs(result.p))), len(str(result.q))) > MAX_DIGITS:
        raise DerivedError(f"the result has more than {MAX_DIGITS} digits")
    return result


def _check_power(base: Number, exponent: Number) -> None:
    if not exponent.is_number or not exponent.is_real:
        raise DerivedError("an exponent must be a number")
    if abs(exponent) > MAX_EXPONENT:
        raise DerivedError(f"exponents larger than {MAX_EXPONENT} are not allowed")
    if base.is_number and base.is_real and abs(base) > 1:
        digits = float(sympy.log(abs(base), 10)) * float(abs(exponent))
        if digits > MAX_DIGITS:
            raise DerivedError(f"the power has more than {MAX_DIGITS} digits")


def _with_time_limit(work):
    """Run ``work`` in a daemon thread; give up after ``TIME_LIMIT_S`` (the thread is abandoned)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="derived-param")
    worker.start()
    worker.join(TIME_LIMIT_S)
    if worker.is_alive():
        raise DerivedError(f"the expression took longer than {TIME_LIMIT_S:g} s to compute")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def to_sympy(value: object) -> object:
    """A drawn param value as a sympy number for arithmetic; text stays text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        return sympy.Float(repr(value))
    return value


def to_python(value: object) -> object:
    """A sympy value as a plain Python value (int, Fraction, float); other reals as their text."""
    if isinstance(value, sympy.Integer):
        return int(value)
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sympy.Float):
        return float(value)
    if isinstance(value, sympy.Basic):
        return sympy.sstr(value)
    return value


def format_value(value: object) -> str:
    """How a value appears in a statement or answer: ``4``, ``-3/4``, ``1.5``, ``sqrt(2)``, or the text."""
    if isinstance(value, sympy.Basic):
        value = to_python(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = f"{value:.10g}"
        return f"{value:.12f}".rstrip("0").rstrip(".") if "e" in text else text
    return str(value)
