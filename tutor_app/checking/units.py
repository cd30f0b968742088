"""Units written after (or, for money, before) a number: ``18 J``, ``18 joules``, ``€20``, ``20 euros``.

A numeric step may name its unit (``unit: J``, a symbol). Then an answer may carry that unit
in any usual spelling, or none at all (a bare number still counts); a unit of the same kind is
converted (``0.018 kJ`` for ``18 J``); any other unit is not a wrong number but a wrong unit,
and the student is told so instead of "I couldn't read that".

Who knows which names:
- SI and other physical units: ``pint``'s registry (symbols, names, plurals, prefixes, "metres
  per second"). Its parser is generous ("amps" reads as attometres per second), so what it
  finds is only trusted when it has the dimension of the step's unit; otherwise the student's
  words are a different unit, and the message says which unit the step wants.
- Money: a small table of currencies (symbols, codes, names); pint has none.
- A step may list more spellings with ``unit_names:`` ("julios", "amps").

Matching ignores case for names ("Joules"), never for symbols where case is meaning (mJ, MJ).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from .numbers import without_name
from .options import CheckOptions
from .textnorm import clean, strip_trailing_punctuation

MAX_UNIT_CHARS = 40
CONVERSION_DENOMINATOR = 10**9  # conversion factors (1/3.6) are read back as exact fractions

# code -> (symbols written before or after the number, names and codes, singular first)
CURRENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "EUR": (("€",), ("euro", "euros", "eur")),
    "USD": (("$", "US$"), ("dollar", "dollars", "usd", "us dollars")),
    "GBP": (("£",), ("pound", "pounds", "gbp", "pounds sterling", "quid")),
    "JPY": (("¥",), ("yen", "jpy")),
    "CHF": ((), ("swiss franc", "swiss francs", "franc", "francs", "chf", "fr.")),
    "INR": (("₹",), ("rupee", "rupees", "inr")),
    "PLN": ((), ("zloty", "zlotys", "złoty", "złotys", "pln", "zł")),
    "SEK": ((), ("krona", "kronor", "sek")),
}
_CURRENCY_SYMBOLS = sorted({s for symbols, _ in CURRENCIES.values() for s in symbols}, key=len, reverse=True)
_NUMBER_CHARS = r"[\d½¼¾⅓⅔⅛⅜⅝⅞]"
_LEADING = re.compile(r"^(?P<sign>[-+]?)\s*(?P<money>" + "|".join(re.escape(s) for s in _CURRENCY_SYMBOLS)
                      + r"|[A-Za-z]{3}(?=\s*[-+]?\d))\s*(?P<rest>.+)$")
_TRAILING = re.compile(r"^(?P<number>[-+]?\s*[\d½¼¾⅓⅔⅛⅜⅝⅞.,/ ]*" + _NUMBER_CHARS
                       + r"(?:[eE][-+]?\d+)?\s*%?)\s*(?P<unit>[^\d\s.,/].*)$")


@dataclass(frozen=True)
class Written:
    """An answer split into its number and the unit written with it (None: a bare number)."""

    number: str
    unit: str | None


def split_unit(text: str) -> Written:
    """``€20`` -> ("20", "€"); ``18 joules`` -> ("18", "joules"); ``18`` -> ("18", None)."""
    text = without_name(strip_trailing_punctuation(clean(_powers(text))))
    leading = _LEADING.match(text)
    if leading and (leading["money"] in _CURRENCY_SYMBOLS or currency_of(leading["money"])):
        return Written(leading["sign"] + leading["rest"].strip(), leading["money"])
    trailing = _TRAILING.match(text)
    if trailing:
        return Written(trailing["number"].strip(), trailing["unit"].strip())
    return Written(text, None)


def currency_of(written: str) -> str | None:
    """The currency code a symbol, code or name stands for, or None."""
    key = _key(written)
    for code, (symbols, names) in CURRENCIES.items():
        if written in symbols or key in names or key == code.lower():
            return code
    return None


Match = Literal["same", "other", "unknown"]


@dataclass(frozen=True)
class UnitMatch:
    """How the student's unit relates to the step's: the same (``factor`` converts the number
    into the step's unit: 1000 for kJ to J), another unit, or words no one knows as a unit."""

    kind: Match
    factor: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)


def match_unit(options: CheckOptions, written: str) -> UnitMatch:
    step_unit = options.unit or ""
    if written == step_unit or _key(written) in {_key(n) for n in options.unit_names}:
        return UnitMatch("same")
    step_currency, given_currency = currency_of(step_unit), currency_of(written)
    if step_currency or given_currency:
        return UnitMatch("same" if step_currency == given_currency else "other" if given_currency else "unknown")
    step_physical, given_physical = physical_unit(step_unit), physical_unit(written)
    if given_physical is None:
        return UnitMatch("unknown")
    if step_physical is None or given_physical.dimensionality != step_physical.dimensionality:
        return UnitMatch("other")
    if given_physical == step_physical:
        return UnitMatch("same")
    return _conversion(given_physical, step_physical)


def known_unit(unit: str) -> bool:
    """Whether the checker knows ``unit`` by itself (the validator asks for ``unit_names:`` otherwise)."""
    return currency_of(unit) is not None or physical_unit(unit) is not None


def unit_label(options: CheckOptions) -> str:
    """How a message names the step's unit: ``J (joules)``, ``€``, or the teacher's word."""
    unit = options.unit or ""
    currency = currency_of(unit)
    if currency:
        symbols, names = CURRENCIES[currency]
        return f"{symbols[0]} ({names[1]})" if symbols else names[1]
    physical = physical_unit(unit)
    if physical is not None:
        name = str(physical).replace("_", " ")
        if name != unit and " " not in name and "/" not in name:
            return f"{_shown(unit)} ({name}s)"
    return _shown(unit)


# pint --------------------------------------------------------------------------------------
_registry = None
_registry_lock = threading.Lock()


def _ureg():
    """pint's registry, built once on first use (about half a second)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            import pint

            _registry = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
        return _registry


def physical_unit(written: str):
    """pint's unit for ``written``, or None. Names may be capitalised ("Joules"); symbols keep
    their case. Numbers, powers of ten and bare dimensionless words are not units here."""
    text = _POWER_DIGIT.sub(r"^\1", clean(_powers(written)).replace("·", "*"))
    if not text or len(text) > MAX_UNIT_CHARS or not re.search(r"[A-Za-zµμΩ°]", text):
        return None
    ureg = _ureg()
    for candidate in dict.fromkeys((text, text.lower())):
        try:
            unit = ureg.parse_units(candidate)
        except Exception:  # pint raises several kinds of error for words it does not know
            continue
        if unit.dimensionless:
            continue
        return unit
    return None


def _conversion(given, step) -> UnitMatch:
    ureg = _ureg()
    zero = ureg.Quantity(0, given).to(step).magnitude
    one = ureg.Quantity(1, given).to(step).magnitude
    offset = Fraction(zero).limit_denominator(CONVERSION_DENOMINATOR)
    factor = Fraction(one - zero).limit_denominator(CONVERSION_DENOMINATOR)
    return UnitMatch("same", factor=factor, offset=offset)


_POWER_DIGIT = re.compile(r"(?<=[A-Za-z])([23])\b")  # cm2: a phone keyboard has no ²


def _powers(text: str) -> str:
    """``cm²`` -> ``cm^2`` before NFKC would turn the superscript into a plain ``2``."""
    return text.replace("²", "^2").replace("³", "^3")


def _shown(unit: str) -> str:
    return unit.replace("^2", "²").replace("^3", "³")


def _key(text: str) -> str:
    return " ".join(clean(text).casefold().split())
