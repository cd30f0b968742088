"""Reading a number the way a student writes it, exactly (as a ``Fraction``), without sympy.

Accepted: ``12``, ``-3``, ``+3``, ``0.5``, ``.5``, ``1/2``, ``1 1/2`` and ``-1 1/2`` (mixed
numbers), ``½`` and ``1½``, ``50%``, ``1.5e3``, and ``x = 4`` (the value after a name, since
"find x" invites it). Not arithmetic: ``11 - 3`` is what the student was asked to work out.

Separators (decided here, documented for teachers in the checker's docstring):
- a comma followed by groups of exactly three digits is a thousands separator: ``1,000`` and
  ``12,500,000``; any other single comma is a decimal comma: ``0,5``, ``3,75``, ``0,125``
  (a leading ``0`` cannot start a thousands group);
- when both ``.`` and ``,`` appear, the last one is the decimal separator and the other must
  group thousands: ``1,234.5`` and ``1.234,5`` are both 1234.5;
- several dots in three-digit groups (``1.000.000``) are thousands separators too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .notation import VULGAR_FRACTIONS, operators_to_ascii
from .result import Unreadable
from .textnorm import clean, strip_trailing_punctuation

MAX_NUMBER_CHARS = 60
MAX_DIGITS = 30
MAX_EXPONENT = 30

_NAME_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,11}\s*=\s*(?=\S)")
_SIGN = r"(?P<sign>[+-]?)\s*"
_MIXED = re.compile(_SIGN + r"(?P<whole>\d+)\s+(?P<num>\d+)\s*/\s*(?P<den>\d+)$")
_FRACTION = re.compile(_SIGN + r"(?P<num>\d+)\s*/\s*(?P<den>\d+)$")
_DECIMAL = re.compile(_SIGN + r"(?P<body>[\d.,]*\d[\d.,]*)(?:[eE](?P<exp>[+-]?\d+))?\s*(?P<pct>%?)$")
_THOUSANDS = {",": re.compile(r"^[1-9]\d{0,2}(,\d{3})+$"), ".": re.compile(r"^[1-9]\d{0,2}(\.\d{3})+$")}


@dataclass(frozen=True)
class Number:
    value: Fraction
    percent: bool = False  # written with % (the value is already divided by 100)

    def show(self) -> str:
        return format_number(self.value * 100) + "%" if self.percent else format_number(self.value)


def format_number(value: Fraction) -> str:
    """``4``, ``0.125`` or ``1/3``: a decimal only when it is exact."""
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1 or max(twos, fives) > 12:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = abs(value) * 10**places
    text = f"{scaled.numerator // scaled.denominator:0{places + 1}d}"
    return ("-" if value < 0 else "") + text[:-places] + "." + text[-places:]


def without_name(text: str) -> str:
    """``x = 4`` -> ``4``: the value after a name, since "find x" invites writing it so."""
    return _NAME_PREFIX.sub("", text, count=1)


def parse_number(raw: str) -> Number:
    text = str(raw)
    for char, fraction in VULGAR_FRACTIONS.items():
        text = text.replace(char, " " + fraction)
    text = strip_trailing_punctuation(operators_to_ascii(clean(text)))
    if not text:
        raise Unreadable("it is empty")
    if len(text) > MAX_NUMBER_CHARS:
        raise Unreadable(f"it is longer than {MAX_NUMBER_CHARS} characters")
    text = _NAME_PREFIX.sub("", text, count=1)
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise Unreadable(f"it has more than {MAX_DIGITS} digits")
    for pattern in (_MIXED, _FRACTION):
        match = pattern.match(text)
        if match:
            return Number(_signed(match["sign"], _fraction(match)))
    match = _DECIMAL.match(text)
    if not match:
        raise Unreadable(_why_not(text))
    value = _decimal(match["body"])
    if match["exp"]:
        exponent = int(match["exp"])
        if abs(exponent) > MAX_EXPONENT:
            raise Unreadable(f"its power of ten is beyond {MAX_EXPONENT}")
        value *= Fraction(10) ** exponent
    percent = bool(match["pct"])
    return Number(_signed(match["sign"], value / 100 if percent else value), percent)


def _fraction(match: re.Match) -> Fraction:
    den = int(match["den"])
    if den == 0:
        raise Unreadable("it divides by zero")
    whole = int(match.groupdict().get("whole") or 0)
    return whole + Fraction(int(match["num"]), den)


def _signed(sign: str, value: Fraction) -> Fraction:
    return -value if sign == "-" else value


def _decimal(body: str) -> Fraction:
    """Digits with at most one decimal separator and optional thousands grouping (module notes)."""
    if "." in body and "," in body:
        point = "." if body.rfind(".") > body.rfind(",") else ","
        group = "," if point == "." else "."
        whole, _, frac = body.rpartition(point)
        if not _THOUSANDS[group].match(whole) or not frac.isdigit():
            raise Unreadable(f"I can't tell which of '.' and ',' is the decimal point in {body!r}")
        return Fraction(whole.replace(group, "") + "." + frac)
    for sep in (",", "."):
        if sep not in body:
            continue
        if _THOUSANDS[sep].match(body) and (sep == "," or body.count(sep) > 1):
            return Fraction(body.replace(sep, ""))
        if body.count(sep) > 1:
            raise Unreadable(f"{body!r} has more than one {'decimal comma' if sep == ',' else 'decimal point'}")
        body = body.replace(",", ".")
    return Fraction(body)


def _why_not(text: str) -> str:
    if any(c.isalpha() for c in text):
        return "it has letters in it; type just the number"
    if re.search(r"\d\s*[-+*x×^]\s*\d", text):
        return "it is a calculation; type the result"
    return "it is not a number"
