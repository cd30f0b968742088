"""Numbers written as words ("four", "twenty-one", "two thousand", "three quarters", "cuatro").

A model asked to hide an answer will happily write it out in words instead, so the leak guard
reads number words as numbers. Cardinals in English, French, Spanish, German, Italian,
Portuguese and Dutch come from ``text2num`` (its ``find_numbers``); every language is read in
every reply, because a student can ask for the answer "in French". What is ours:

- **fractions**: a cardinal and a denominator word ("two fifths", "deux tiers", "tres cuartos",
  "a half"), and "one and a half"; ordinals on their own ("the third step", "one second") are
  not numbers;
- **words that are not only numbers**: articles and pronouns ("one", "un", "una", "ein",
  "een") and words that are everyday words in English or French ("once", "due", "seize",
  "neuf") are reported as ``ambiguous``: the guard counts them only where they are
  bound to a name ("x is one"), never as a bare number, or every "which one do you think?"
  would look like a leak;
- a sign word before a number ("minus four", "moins trois"), and digits before a scale word
  ("2 thousand").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from text_to_num import Token, find_numbers

from ..checking.values import read_number

LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl")

# Words that are also articles or pronouns in their language, or everyday words in another
# language the guard reads ("once", "due", "sept" ...).
AMBIGUOUS = frozenset({"one", "un", "une", "uno", "una", "ein", "eine", "een", "um", "uma",  # articles
                       "once", "due", "seize", "cent", "null", "elf", "otto", "tien", "neuf"})

# Denominator words: "two fifths" is 2/5. Ordinals that are also other words ("second") are
# left out: "wait one second" is no fraction.
_DENOMINATORS = {
    # English
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
    "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8,
    "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10, "hundredth": 100, "hundredths": 100,
    # Spanish
    "medio": 2, "media": 2, "medios": 2, "tercio": 3, "tercios": 3, "cuarto": 4, "cuartos": 4, "quinto": 5,
    "quintos": 5, "sexto": 6, "sextos": 6, "séptimo": 7, "séptimos": 7, "octavo": 8, "octavos": 8,
    "noveno": 9, "novenos": 9, "décimo": 10, "décimos": 10,
    # French
    "demi": 2, "demie": 2, "demis": 2, "tiers": 3, "quart": 4, "quarts": 4, "cinquième": 5, "cinquièmes": 5,
    "sixième": 6, "sixièmes": 6, "septième": 7, "septièmes": 7, "huitième": 8, "huitièmes": 8,
    "neuvième": 9, "neuvièmes": 9, "dixième": 10, "dixièmes": 10, "centième": 100, "centièmes": 100,
    # German
    "hälfte": 2, "halb": 2, "halbe": 2, "drittel": 3, "viertel": 4, "fünftel": 5, "sechstel": 6, "siebtel": 7,
    "achtel": 8, "neuntel": 9, "zehntel": 10,
    # Italian, Portuguese, Dutch
    "mezzo": 2, "mezzi": 2, "terzo": 3, "terzi": 3, "quarti": 4, "quinti": 5, "meio": 2, "meia": 2,
    "terço": 3, "terços": 3, "quarto": 4, "quartos": 4, "derde": 3, "derden": 3, "kwart": 4, "vijfde": 5,
}
# "a half", "une demie": the article is one only in front of a denominator.
_ONE_ARTICLES = frozenset({"a", "an", "un", "une", "una", "ein", "eine", "een", "um", "uma"})
# "one and a half", "one pizza and a half", "una pizza y media", "une pizza et demie"
_AND_A_HALF = re.compile(r"(?:\s+[^\W\d_]+)?\s+(?:and\s+a\s+half|y\s+medi[oa]|et\s+demie?|und\s+ein\s+halb|"
                         r"e\s+mezzo|e\s+meio)\b", re.IGNORECASE)
_NEGATIVE = frozenset({"minus", "negative", "menos", "moins", "meno", "negativo", "negativa", "négatif", "négative",
                       "min", "negativ"})
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "cien": 100, "mil": 1000, "cent": 100,
           "mille": 1000, "hundert": 100, "tausend": 1000, "cento": 100, "mila": 1000, "honderd": 100,
           "duizend": 1000}
_PER, _CENT = frozenset({"per", "pour", "por"}), frozenset({"cent", "ciento", "cento"})
_THOUSAND_WORDS = frozenset({"thousand", "million", "billion"})
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+|\S")


@dataclass(frozen=True)
class SpelledNumber:
    start: int
    end: int
    value: Fraction
    ambiguous: bool


class _Word(Token):
    """A word for text2num, with where it stands in the text."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.word, self.start, self.end = text, start, end

    def text(self) -> str:
        return self.word

    def nt_separated(self, previous: "_Word") -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


def _tokens(text: str) -> list[_Word]:
    words: list[_Word] = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        head, _, tail = word.rpartition("-")
        if head and tail.lower() in _DENOMINATORS:  # "two-fifths" is "two fifths"
            words += [_Word(head, m.start(), m.start() + len(head)), _Word(tail, m.end() - len(tail), m.end())]
        elif word[0].isalnum() or word == ",":
            words.append(_Word(word, m.start(), m.end()))
        else:  # a free-standing "-" is a minus sign between numbers, not a hyphen inside one
            words.append(_Word("¦", m.start(), m.end()))
    # "one thousand, two hundred": the comma groups thousands, it does not end the number
    return [w for i, w in enumerate(words)
            if not (w.word == "," and i > 0 and words[i - 1].word.lower() in _THOUSAND_WORDS)]


@dataclass
class _Found:
    first: int  # token indices, end exclusive
    last: int
    value: Fraction
    ordinal: bool


def _cardinals(words: list[_Word]) -> list[_Found]:
    """Every language's numbers, the longest reading of each stretch kept."""
    found: list[_Found] = []
    ordinals: set[int] = set()  # "second" is an ordinal in English: no other language's cardinal
    for language in LANGUAGES:
        for occurrence in find_numbers(words, language, 0):
            if occurrence.is_ordinal:
                ordinals.update(range(occurrence.start, occurrence.end))
                continue
            number = read_number(occurrence.text)
            if number is not None:
                found.append(_Found(occurrence.start, occurrence.end, number.value, False))
    found = [f for f in found if not (f.last - f.first == 1 and f.first in ordinals)]
    found.sort(key=lambda f: (f.first, -(f.last - f.first)))
    kept: list[_Found] = []
    for f in found:
        if kept and f.first < kept[-1].last:
            continue
        if any(w.word.isdigit() for w in words[f.first:f.last]):
            continue  # text2num's reading of digits; the digit scan reads those
        kept.append(f)
    return kept


@lru_cache(maxsize=2048)
def _find(text: str) -> tuple[SpelledNumber, ...]:
    words = _tokens(text)
    if not words:
        return ()
    out: list[SpelledNumber] = []
    for f in _cardinals(words):
        if f.first > 0 and words[f.first - 1].word.lower() in _PER and words[f.first].word.lower() in _CENT:
            continue  # "pour cent", "por ciento": percent, not a hundred
        start, end = words[f.first].start, words[f.last - 1].end
        value = f.value
        single = f.last - f.first == 1
        ambiguous = single and words[f.first].word.lower() in AMBIGUOUS
        following = words[f.last] if f.last < len(words) else None
        if following is not None and following.word.lower() in _DENOMINATORS and value > 0:
            value = value / _DENOMINATORS[following.word.lower()]
            end, ambiguous = following.end, False
        elif (half := _AND_A_HALF.match(text, end)) is not None:
            value, end, ambiguous = value + Fraction(1, 2), half.end(), False
        before = words[f.first - 1] if f.first > 0 else None
        if before is not None and before.word.isdigit() and single and value in _SCALES.values() \
                and words[f.first].word.lower() in _SCALES:
            start, value, ambiguous = before.start, int(before.word) * value, False  # "2 thousand"
        elif before is not None and before.word.lower() in _NEGATIVE and text[before.end:start].strip() == "":
            start, value = before.start, -value
        out.append(SpelledNumber(start, end, value, ambiguous))
    out.extend(a for a in _article_fractions(words) if not any(s.start < a.end and a.start < s.end for s in out))
    out.sort(key=lambda s: (s.start, -s.end))
    return tuple(out)


def _article_fractions(words: list[_Word]) -> list[SpelledNumber]:
    """ "a half", "a quarter": an article that means one only before a denominator."""
    out = []
    for first, second in zip(words, words[1:]):
        if first.word.lower() in _ONE_ARTICLES and second.word.lower() in _DENOMINATORS:
            out.append(SpelledNumber(first.start, second.end, Fraction(1, _DENOMINATORS[second.word.lower()]), False))
    return out


def find_spelled_numbers(text: str) -> list[SpelledNumber]:
    """Every number written in words, with its span in ``text``."""
    return list(_find(text))


def _digits(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def replace_spelled_numbers(text: str, *, ambiguous_marker: str, spelled_marker: str = "") -> str:
    """``text`` with number words replaced by digits (a fraction in brackets: "(2/5)").
    Ambiguous words are prefixed with ``ambiguous_marker`` so that a bare-number scan can skip
    them, and every replaced number with ``spelled_marker``."""
    out, last = [], 0
    for s in _find(text):
        if s.start < last:
            continue
        out.append(text[last:s.start])
        digits = (ambiguous_marker if s.ambiguous else "") + spelled_marker + _digits(s.value)
        out.append(f"({digits})" if s.value.denominator != 1 else digits)
        last = s.end
    out.append(text[last:])
    return "".join(out)
