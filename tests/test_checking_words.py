"""The text, choice, regex and open checkers."""

from __future__ import annotations

import time

import pytest

from tutor_app.checking import answers_equivalent, check_answer, expected_answer_problem
from tutor_app.checking.options import CheckOptions

TEXT = CheckOptions(check="text", alternatives=["the denominator"])
CHOICE = CheckOptions(check="choice", choices=["bigger", "smaller", "the same"])


@pytest.mark.parametrize("given", ["denominator", "Denominator", "DENOMINATOR", "  denominator  ", "denominator.",
                                   "Denominator!", '"denominator"', "the   Denominator", "deno\u00adminator",
                                   "ｄｅｎｏｍｉｎａｔｏｒ"])
def test_text_ignores_case_spacing_punctuation_and_lookalikes(given):
    assert check_answer(TEXT, "denominator", given).verdict == "correct"


@pytest.mark.parametrize("given", ["numerator", "denominators", "the numerator", "denom"])
def test_text_near_misses_are_incorrect(given):
    assert check_answer(TEXT, "denominator", given).verdict == "incorrect"


def test_text_ignores_all_spaces_so_sums_can_be_typed_either_way():
    options = CheckOptions(check="text")
    assert check_answer(options, "3/6 + 2/6", "3/6+2/6").verdict == "correct"
    assert check_answer(options, "3/6 + 2/6", "2/6 + 3/6").verdict == "incorrect"


def test_text_keeps_accents_and_honours_case_sensitive():
    assert check_answer(CheckOptions(check="text"), "café", "cafe").verdict == "incorrect"
    assert check_answer(CheckOptions(check="text"), "café", "CAFÉ").verdict == "correct"
    strict = CheckOptions(check="text", case_sensitive=True)
    assert check_answer(strict, "NaCl", "NaCl").verdict == "correct"
    assert check_answer(strict, "NaCl", "nacl").verdict == "incorrect"


def test_text_curly_quotes_and_dashes_are_plain():
    assert check_answer(CheckOptions(check="text"), "don't", "don\u2019t").verdict == "correct"
    assert check_answer(CheckOptions(check="text"), "x-ray", "x\u2013ray").verdict == "correct"


def test_text_empty_or_huge_answers_are_invalid():
    assert check_answer(TEXT, "denominator", "  ...  ").verdict == "invalid"
    assert check_answer(TEXT, "denominator", "a" * 501).verdict == "invalid"


@pytest.mark.parametrize("given", ["smaller", "Smaller.", "B", "b", "b)", "(b)", "B.", "2", "2)", "B) smaller",
                                   "b smaller"])
def test_choice_by_text_letter_or_number(given):
    result = check_answer(CHOICE, "smaller", given)
    assert (result.verdict, result.normalized) == ("correct", "smaller"), given


@pytest.mark.parametrize("given", ["bigger", "A", "1", "the same", "C"])
def test_other_choices_are_incorrect(given):
    assert check_answer(CHOICE, "smaller", given).verdict == "incorrect"


@pytest.mark.parametrize("given", ["D", "4", "much smaller", "A) smaller"])
def test_not_a_choice_is_invalid_and_lists_the_choices(given):
    result = check_answer(CHOICE, "smaller", given)
    assert result.verdict == "invalid"
    assert result.message == "Pick one of the choices: A) bigger, B) smaller, C) the same."


def test_choice_numbers_are_not_labels_when_a_choice_is_a_number():
    options = CheckOptions(check="choice", choices=["1/4", "1/8", "they are equal"])
    assert check_answer(options, "1/4", "1/4").verdict == "correct"
    assert check_answer(options, "1/4", "A").verdict == "correct"
    assert check_answer(options, "1/4", "1").verdict == "invalid"  # "1" would be ambiguous


def test_choice_letters_are_not_labels_when_a_choice_is_a_letter():
    options = CheckOptions(check="choice", choices=["a", "b", "c"])
    assert check_answer(options, "b", "B").verdict == "correct"  # the choice itself
    assert check_answer(options, "b", "2").verdict == "correct"
    assert check_answer(options, "b", "1").verdict == "incorrect"


def test_choice_teacher_answer_must_be_a_choice():
    assert expected_answer_problem(CHOICE, "smaller") is None
    assert expected_answer_problem(CHOICE, "B") == "it is not one of the choices (bigger, smaller, the same)"
    assert expected_answer_problem(CheckOptions(check="choice"), "x") == "the step has no choices: to pick from"
    assert answers_equivalent(CHOICE, "bigger", "a")
    assert not answers_equivalent(CHOICE, "bigger", "b")


REGEX = CheckOptions(check="regex")


@pytest.mark.parametrize("given, verdict", [
    ("Mitochondria", "correct"),
    ("the mitochondrion.", "correct"),
    ("THE MITOCHONDRIA", "correct"),
    ("mitochondrias", "incorrect"),
    ("in the mitochondria", "incorrect"),  # a full match, not a search
])
def test_regex_matches_the_whole_answer(given, verdict):
    assert check_answer(REGEX, "(the )?mitochondri(a|on)", given).verdict == verdict


def test_regex_honours_case_sensitive():
    strict = CheckOptions(check="regex", case_sensitive=True)
    assert check_answer(strict, "H2O|H₂O", "H2O").verdict == "correct"
    assert check_answer(strict, "H2O", "h2o").verdict == "incorrect"


def test_catastrophic_pattern_gives_up_quickly():
    start = time.perf_counter()
    for pattern in ["(a+)+b", "(a|a)*b", "(a*)*b", "(x+x+)+y"]:
        result = check_answer(REGEX, pattern, ("a" if "a" in pattern else "x") * 60 + "c")
        assert result.verdict == "incorrect"
    assert time.perf_counter() - start < 3


def test_regex_teacher_pattern_must_compile():
    assert "not a valid regular expression" in expected_answer_problem(REGEX, "(x")
    assert expected_answer_problem(REGEX, "x" * 301).startswith("the pattern is longer")
    assert expected_answer_problem(REGEX, "[0-9]+ (cm|centimet(er|re)s)") is None
    assert check_answer(REGEX, "(x", "x").verdict == "invalid"


def test_regex_student_input_is_length_limited():
    assert check_answer(REGEX, "a+", "a" * 201).verdict == "invalid"


def test_open_answers_are_pending():
    options = CheckOptions(check="open")
    result = check_answer(options, None, "  Energy is   conserved because... ")
    assert (result.verdict, result.normalized) == ("pending", "Energy is conserved because...")
    assert check_answer(options, None, "   ").verdict == "invalid"
    assert expected_answer_problem(options, None) is None
    assert not answers_equivalent(options, "anything", "anything")
