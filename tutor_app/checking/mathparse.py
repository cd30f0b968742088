"""Reading a student's expression or equation into sympy, safely.

Student text never reaches ``eval``. sympy's ``parse_expr`` does evaluate the Python code it
generates, so the text is screened first and the code it can produce is fenced in:

1. Screening on the raw text: at most ``MAX_MATH_CHARS`` characters; after the friendly rewrites
   (``×``, ``÷``, ``−``, ``²``, ``√``, ``π``, a small LaTeX subset, ``50%``, decimal commas) only
   ASCII letters, digits, spaces and ``+ - * / ^ ( ) . =`` remain; no underscores (so no dunder
   names), no quotes, brackets or colons (so no strings, indexing, lambdas or slices), a ``.``
   only inside a number (so no attribute access), and no Python keywords or the parser's own
   names (``lambda``, ``import``, ``Symbol``) as words.
2. The generated code runs with a global namespace holding only the names it needs and an empty
   ``__builtins__``; unknown words become symbols.
3. The text is parsed once unevaluated and its size is bounded (digits of every number, powers)
   before the evaluated parse, because ``9^9^9`` would otherwise be computed by C code that no
   time limit can interrupt.

Conventions: ``^`` is a power; ``2x``, ``2(x+1)``, ``(x+1)(x-1)``, ``x(x+1)`` and ``xy`` are
products (single letters are variables); decimals are read exactly (``0.5`` is 1/2); ``sqrt``,
``abs``, ``sin``, ``cos``, ``tan``, ``ln``, ``log`` (base 10), ``exp`` and ``pi`` are known.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from functools import lru_cache
from tokenize import NAME, OP

import sympy
from sympy.parsing.sympy_parser import (auto_number, auto_symbol, convert_xor, implicit_application,
                                        implicit_multiplication, parse_expr, rationalize, split_symbols_custom,
                                        _token_splittable)

from .notation import SYMBOL_NAMES, VULGAR_FRACTIONS, latex_to_plain, operators_to_ascii, superscripts_to_powers
from .result import Unreadable
from .textnorm import clean, strip_trailing_punctuation

MAX_MATH_CHARS = 200
MAX_NUMBER_DIGITS = 30  # in one written number
MAX_RESULT_DIGITS = 1000  # estimated size of any number the expression evaluates to
MAX_SYMBOLIC_EXPONENT = 64  # (x+1)^64 still expands in well under a second
MAX_WORD_LETTERS = 12

FUNCTIONS = {
    "sqrt": sympy.sqrt, "abs": sympy.Abs, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "ln": sympy.log, "log": lambda x, evaluate=True: sympy.log(x, 10, evaluate=evaluate), "exp": sympy.exp,
}
CONSTANTS = {"pi": sympy.pi}
_PARSER_NAMES = {"Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational,
                 "Symbol": sympy.Symbol, "Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow}
_RESERVED_WORDS = set(_PARSER_NAMES) | {"Function", "Expr", "Number"} | set(keyword.kwlist)

_BRACKETS = str.maketrans("[]{}", "()()")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_THOUSANDS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d.,])")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_ALLOWED = re.compile(r"[0-9A-Za-z +\-*/^().=]")
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)")
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Equation:
    lhs: sympy.Expr
    rhs: sympy.Expr

    def show(self) -> str:
        return f"{show(self.lhs)} = {show(self.rhs)}"


def show(expr: sympy.Expr) -> str:
    """How the reading is stored for the teacher: sympy's order, ``^`` for powers."""
    return sympy.sstr(expr).replace("**", "^")


def parse_math(text: str) -> sympy.Expr | Equation:
    """An expression, or an ``Equation`` when there is one ``=``; ``Unreadable`` otherwise."""
    result = _parse_cached(str(text))
    if isinstance(result, Unreadable):
        raise Unreadable(result.reason)
    return result


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> sympy.Expr | Equation | Unreadable:
    """Teachers' answers and bug rules are read again on every attempt; sympy objects are
    immutable, so the readings (and the reasons for failures) are safe to share."""
    try:
        prepared = prepare(text)
        sides = prepared.split("=")
        if len(sides) > 2:
            raise Unreadable(f"it has {len(sides) - 1} = signs; an equation has one")
        if len(sides) == 2:
            if not sides[0].strip() or not sides[1].strip():
                raise Unreadable("one side of the = is empty")
            return Equation(_parse_side(sides[0]), _parse_side(sides[1]))
        return _parse_side(prepared)
    except Unreadable as exc:
        return exc


def prepare(raw: str) -> str:
    """The screening of the module notes: friendly rewrites, then a strict character set."""
    if len(raw) > MAX_MATH_CHARS:
        raise Unreadable(f"it is longer than {MAX_MATH_CHARS} characters")
    text = superscripts_to_powers(raw)
    for char, fraction in VULGAR_FRACTIONS.items():  # 1½ is a mixed number, one and a half
        text = re.sub(rf"(\d+)\s*{char}", rf"(\1+{fraction})", text).replace(char, f" ({fraction})")
    text = operators_to_ascii(text)
    for char, name in SYMBOL_NAMES.items():
        text = text.replace(char, f" {name} ")
    text = clean(text)
    text = latex_to_plain(text).translate(_BRACKETS)
    text = strip_trailing_punctuation(text)
    if not text:
        raise Unreadable("it is empty")
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = _PERCENT.sub(r"(\1/100)", text)
    for char in text:
        if not _ALLOWED.match(char):
            shown = "a comma" if char == "," else f"the character {char!r}"
            raise Unreadable(f"I can't read {shown} here")
    if re.search(r"\.(?!\d)", text):
        raise Unreadable("it has a '.' that is not part of a number")
    if re.search(r"\d\.\d+\.", text):
        raise Unreadable("a number has two decimal points")
    if re.search(r"\(\s*\)", text):
        raise Unreadable("a pair of brackets has nothing inside")
    if re.search(r"[\d.]\s+[\d.]", text):
        raise Unreadable("two numbers stand side by side; put +, -, * or / between them")
    text = _LETTER_DIGIT.sub(" ", text)
    for word in _WORD.findall(text):
        if word in _RESERVED_WORDS:
            raise Unreadable(f"I can't read the word {word!r}")
        if len(word) > MAX_WORD_LETTERS:
            raise Unreadable(f"the word {word[:20]!r} is too long to be a name")
    return text


def _multiply_before_parens(tokens, local_dict, global_dict):
    """``x(x+1)`` is a product in school maths, not a call of a function named x."""
    result = []
    for i, token in enumerate(tokens):
        result.append(token)
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token[0] == NAME and token[1] not in FUNCTIONS and following is not None and following[0] == OP \
                and following[1] == "(":
            result.append((OP, "*"))
    return result


TRANSFORMATIONS = (_multiply_before_parens, auto_symbol, auto_number, rationalize, convert_xor,
                   split_symbols_custom(_token_splittable), implicit_multiplication, implicit_application)


def _namespace() -> dict:
    return {"__builtins__": {}, **_PARSER_NAMES, **FUNCTIONS, **CONSTANTS}


def _parse_side(text: str) -> sympy.Expr:
    _check_brackets(text)
    unevaluated = _run_parser(text, evaluate=False)
    _check_size(unevaluated)
    expr = _run_parser(text, evaluate=True)
    if expr.has(sympy.zoo, sympy.nan) or expr.has(sympy.oo, -sympy.oo):
        raise Unreadable("it divides by zero")
    return expr


def _run_parser(text: str, *, evaluate: bool) -> sympy.Expr:
    try:
        expr = parse_expr(text, local_dict={}, global_dict=_namespace(), transformations=TRANSFORMATIONS,
                          evaluate=evaluate)
    except ZeroDivisionError:
        raise Unreadable("it divides by zero") from None
    except Exception:  # sympy reports bad syntax with many exception types; all mean the same here
        raise Unreadable("part of it is missing or out of place, like an operator with nothing after it") from None
    if not isinstance(expr, sympy.Expr) or isinstance(expr, sympy.core.function.AppliedUndef):
        raise Unreadable("it is not a maths expression")
    return expr


def _check_brackets(text: str) -> None:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise Unreadable("a ')' has no '(' before it")
    if depth:
        raise Unreadable("a '(' is never closed")


def _check_size(expr: sympy.Basic) -> None:
    if _digits(expr) > MAX_RESULT_DIGITS:
        raise Unreadable("its numbers are too big to work with")


def _digits(expr: sympy.Basic) -> float:
    """An upper estimate of how many digits a number built by ``expr`` can have."""
    if isinstance(expr, sympy.Rational):
        digits = max(len(str(abs(expr.p))), len(str(expr.q)))
        if digits > MAX_NUMBER_DIGITS:
            raise Unreadable(f"a number has more than {MAX_NUMBER_DIGITS} digits")
        return digits
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        base_digits, exponent_digits = _digits(base), _digits(exponent)
        if exponent.free_symbols:
            return base_digits + exponent_digits
        if exponent_digits > 4:
            raise Unreadable("its powers are too big to work with")
        try:
            power = abs(complex(sympy.N(exponent, 15)))
        except (TypeError, ValueError):
            raise Unreadable("it has a power I can't work out") from None
        if base.free_symbols and power > MAX_SYMBOLIC_EXPONENT:
            raise Unreadable(f"it has a power above {MAX_SYMBOLIC_EXPONENT}")
        return base_digits * max(power, 1.0)
    if not expr.args:
        return 1.0
    children = [_digits(arg) for arg in expr.args]
    return sum(children) if isinstance(expr, sympy.Mul) else max(children) + 1
