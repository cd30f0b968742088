"""Numbers written as words ("four", "twenty-one", "three quarters", "cuatro").

A model asked to hide an answer will happily write it out in words instead, so the leak guard
reads number words as numbers. English is covered up to the hundreds and simple fractions; the
other common school languages up to twenty and the tens, which is where tutoring answers live.

Words that double as an article or pronoun ("one", "un", "ein", "een") are reported as
``ambiguous``: the guard counts them only where they are bound to a variable ("x is one"),
never as a bare number, or every "which one do you think?" would look like a leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}

_OTHER = {
    # Spanish
    "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "treinta": 30,
    "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90, "cien": 100,
    # French
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20,
    "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100,
    # German
    "null": 0, "eins": 1, "ein": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "zwanzig": 20, "dreißig": 30,
    "vierzig": 40, "fünfzig": 50, "hundert": 100,
    # Italian
    "zero ": 0, "due": 2, "tre": 3, "quattro": 4, "sei": 6, "sette": 7, "otto": 8, "nove": 9, "dieci": 10,
    "undici": 11, "dodici": 12, "venti": 20, "trenta": 30,
    # Portuguese
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "quatro ": 4, "oito": 8, "dez": 10, "vinte": 20,
    # Dutch
    "een": 1, "twee": 2, "drie": 3, "vijf": 5, "zes": 6, "zeven": 7, "negen": 9, "tien": 10, "twaalf": 12,
    "twintig": 20,
}
_OTHER = {k.strip(): v for k, v in _OTHER.items()}

# Words that are also articles or pronouns in their language.
AMBIGUOUS = frozenset({"one", "un", "une", "uno", "una", "ein", "eine", "een", "um", "uma", "once", "sei",
                       "due", "sept", "null", "cent", "elf", "otto", "dos"})

_DENOMINATORS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4,
                 "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7,
                 "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10}

_WORD = r"[^\W\d_]+"
_NEGATIVE = {"minus", "negative", "menos", "moins", "meno", "negativo", "negativa", "négatif", "min"}


@dataclass(frozen=True)
class SpelledNumber:
    start: int
    end: int
    value: Fraction
    ambiguous: bool


def _word_value(word: str) -> int | None:
    w = word.lower()
    if w in _EN_UNITS:
        return _EN_UNITS[w]
    if w in _EN_TENS:
        return _EN_TENS[w]
    return _OTHER.get(w)


def _parse_english_compound(words: list[str]) -> tuple[int, int] | None:
    """Longest English cardinal at the start of ``words``: (value, words used)."""
    total, used, i = 0, 0, 0
    current = None
    while i < len(words):
        w = words[i].lower()
        if w in _EN_TENS and current is None:
            current = _EN_TENS[w]
            i += 1
            if i < len(words) and words[i].lower() in _EN_UNITS and 0 < _EN_UNITS[words[i].lower()] < 10:
                current += _EN_UNITS[words[i].lower()]
                i += 1
            used = i
            continue
        if w in _EN_UNITS and current is None:
            current = _EN_UNITS[w]
            i += 1
            used = i
            continue
        if w == "hundred" and current is not None and current < 10:
            current *= 100
            i += 1
            used = i
            if i < len(words) and words[i].lower() == "and":
                i += 1
            more = _parse_english_compound(words[i:]) if i < len(words) else None
            if more and more[0] < 100:
                current += more[0]
                i += more[1]
                used = i
            break
        break
    if current is None:
        return None
    return total + current, used


def find_spelled_numbers(text: str) -> list[SpelledNumber]:
    """Every number written in words, with its span in ``text``."""
    words = [(m.group(0), m.start(), m.end()) for m in re.finditer(rf"{_WORD}(?:-{_WORD})*", text)]
    # Split hyphenated compounds ("twenty-one") into words while keeping spans.
    flat: list[tuple[str, int, int]] = []
    for word, start, _end in words:
        offset = start
        for part in word.split("-"):
            flat.append((part, offset, offset + len(part)))
            offset += len(part) + 1
    found: list[SpelledNumber] = []
    i = 0
    while i < len(flat):
        word, start, end = flat[i]
        lowered = word.lower()
        value: int | None = None
        used = 0
        english = _parse_english_compound([w for w, _, _ in flat[i:i + 6]])
        if english:
            value, used = english
        elif (single := _word_value(word)) is not None:
            value, used = single, 1
        if value is None:
            i += 1
            continue
        ambiguous = used == 1 and lowered in AMBIGUOUS
        number = Fraction(value)
        last_end = flat[i + used - 1][2]
        # "three quarters", "one half", "a half" style fractions
        if i + used < len(flat) and flat[i + used][0].lower() in _DENOMINATORS and value > 0:
            number = Fraction(value, _DENOMINATORS[flat[i + used][0].lower()])
            last_end = flat[i + used][2]
            used += 1
            ambiguous = False
        if i > 0 and flat[i - 1][0].lower() in _NEGATIVE and text[flat[i - 1][2]:start].strip() == "":
            start = flat[i - 1][1]
            number = -number
        found.append(SpelledNumber(start, last_end, number, ambiguous))
        i += used
    # "a half" (the article is not a number on its own)
    for m in re.finditer(r"\ba\s+(half|third|quarter|fourth|fifth)\b", text, flags=re.IGNORECASE):
        found.append(SpelledNumber(m.start(), m.end(), Fraction(1, _DENOMINATORS[m.group(1).lower()]), False))
    found.sort(key=lambda s: s.start)
    return found


def _digits(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def replace_spelled_numbers(text: str, *, ambiguous_marker: str) -> str:
    """``text`` with number words replaced by digits; ambiguous words are prefixed with
    ``ambiguous_marker`` so that a bare-number scan can skip them."""
    out, last = [], 0
    for s in find_spelled_numbers(text):
        if s.start < last:
            continue
        out.append(text[last:s.start])
        digits = _digits(s.value)
        if s.value.denominator != 1:
            digits = f"({digits})"
        out.append((ambiguous_marker if s.ambiguous else "") + digits)
        last = s.end
    out.append(text[last:])
    return "".join(out)
