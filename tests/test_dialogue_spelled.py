"""Number words as the leak guard reads them: text2num's cardinals plus the project's own rules."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tutor_app.dialogue.spelled import find_spelled_numbers


def _read(text: str) -> list[tuple[str, Fraction, bool]]:
    return [(text[s.start:s.end], s.value, s.ambiguous) for s in find_spelled_numbers(text)]


@pytest.mark.parametrize(("text", "value"), [
    ("four", 4), ("twenty-one", 21), ("two thousand", 2000), ("one thousand, two hundred and sixty", 1260),
    ("twelve hundred", 1200), ("cuatro", 4), ("veintiuno", 21), ("mil doscientos sesenta", 1260), ("quatre", 4),
    ("quatre-vingt-dix-sept", 97), ("soixante-dix", 70), ("dreiundzwanzig", 23), ("siete", 7), ("sept", 7),
    ("minus four", -4), ("moins trois", -3), ("menos tres", -3), ("2 thousand", 2000),
    ("two fifths", Fraction(2, 5)), ("two-fifths", Fraction(2, 5)), ("three quarters", Fraction(3, 4)),
    ("a half", Fraction(1, 2)), ("one and a half", Fraction(3, 2)), ("una pizza y media", Fraction(3, 2)),
    ("une pizza et demie", Fraction(3, 2)), ("deux tiers", Fraction(2, 3)), ("tres cuartos", Fraction(3, 4)),
    ("zero point five", Fraction(1, 2)), ("cero coma cinco", Fraction(1, 2)),
])
def test_numbers_in_words(text, value):
    found = _read(text)
    assert [(v, a) for _, v, a in found] == [(Fraction(value), False)], found


@pytest.mark.parametrize("text", ["the third step", "wait one second", "First, divide.", "le deuxième jour",
                                  "trente pour cent", "treinta por ciento"])
def test_ordinals_and_percent_words_are_no_bare_numbers(text):
    assert all(v not in (2, 3, 1, 100) or a for _, v, a in _read(text)), _read(text)
    assert not any(word in ("cent", "ciento", "second", "third", "First", "deuxième") for word, _, _ in _read(text))


@pytest.mark.parametrize(("text", "word"), [("Which one do you think?", "one"), ("Once upon a time", "Once"),
                                            ("un gâteau", "un"), ("una manzana", "una"), ("ein Apfel", "ein"),
                                            ("the due date", "due")])
def test_words_that_are_also_articles_or_other_words_are_ambiguous(text, word):
    assert (word, True) in [(w, a) for w, _, a in _read(text)]


def test_a_free_standing_minus_separates_two_numbers():
    assert [v for _, v, _ in _read("twenty - five")] == [20, 5]
