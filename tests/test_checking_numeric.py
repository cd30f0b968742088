"""The numeric checker: every way a student writes a number, and what must not count."""

from __future__ import annotations

import pytest

from tutor_app.checking import answers_equivalent, check_answer, expected_answer_problem
from tutor_app.checking.options import CheckOptions

NUMERIC = CheckOptions(check="numeric")


@pytest.mark.parametrize("expected, given", [
    ("0.5", "1/2"),
    ("0.5", "50%"),
    ("0.5", "0.50"),
    ("0.5", ".5"),
    ("0.5", "0,5"),  # a decimal comma
    ("0.5", "½"),
    ("1/2", "2/4"),
    ("-3", "−3"),  # the Unicode minus from a phone keyboard
    ("-3", "- 3"),
    ("3", "+3"),
    ("1.5", "1 1/2"),  # a mixed number
    ("1.5", "1½"),
    ("-1.5", "-1 1/2"),
    ("1000", "1,000"),  # groups of three digits: a thousands separator
    ("12500000", "12,500,000"),
    ("1234.5", "1,234.5"),
    ("1234.5", "1.234,5"),  # the last separator is the decimal one
    ("0.125", "0,125"),  # a leading 0 cannot start a thousands group
    ("4", "x = 4"),  # "find x" answered as an equation
    ("4", "4."),  # a full stop ends the sentence, not the number
    ("1500", "1.5e3"),
    ("0.75", "3÷4"),
    ("5/6", "10/12"),
])
def test_same_value_is_correct(expected, given):
    result = check_answer(NUMERIC, expected, given)
    assert result.verdict == "correct", (expected, given, result)


@pytest.mark.parametrize("expected, given", [
    ("0.5", "0.51"),
    ("0.5", "5"),
    ("0.5", "-0.5"),
    ("5/6", "0.8333"),  # no tolerance: exact values only
    ("5/6", "2/5"),
    ("1000", "1.000"),  # one dot is a decimal point: this is 1
    ("1.5", "11/2"),  # not the mixed number 1 1/2
    ("3", "33"),
    ("0.1", "0.10000001"),
    ("50%", "0.5"),  # a percentage answer read in percent: 0.5 means 0.5%
    ("11", "1 1"),
])
def test_different_value_is_incorrect(expected, given):
    assert check_answer(NUMERIC, expected, given).verdict != "correct"


def test_tolerance_is_absolute_and_inclusive():
    options = CheckOptions(check="numeric", tolerance=0.005)
    verdicts = {given: check_answer(options, "0.67", given).verdict
                for given in ("0.665", "0.675", "0.6749", "2/3", "0.664", "0.676", "0.7")}
    assert verdicts == {"0.665": "correct", "0.675": "correct", "0.6749": "correct", "2/3": "correct",
                        "0.664": "incorrect", "0.676": "incorrect", "0.7": "incorrect"}


def test_percentage_answer_accepts_the_bare_number():
    assert check_answer(NUMERIC, "50%", "50").verdict == "correct"
    assert check_answer(NUMERIC, "50%", "50 %").verdict == "correct"
    assert check_answer(NUMERIC, "12.5%", "12.5").verdict == "correct"


def test_normalized_form_is_exact_and_readable():
    assert check_answer(NUMERIC, "0.5", "1/2").normalized == "0.5"
    assert check_answer(NUMERIC, "1/3", "2/6").normalized == "1/3"
    assert check_answer(NUMERIC, "0.5", "50%").normalized == "50%"
    assert check_answer(NUMERIC, "1000", "1,000").normalized == "1000"


def test_alternatives_are_accepted():
    options = CheckOptions(check="numeric", alternatives=["7"])
    assert check_answer(options, "5", "7").verdict == "correct"
    assert check_answer(options, "5", "6").verdict == "incorrect"


@pytest.mark.parametrize("given, reason", [
    ("four", "letters"),
    ("4 cm", "letters"),
    ("11 - 3", "calculation"),
    ("3/0", "divides by zero"),
    ("1,5,3", "more than one decimal comma"),
    ("1.2.3", "more than one decimal point"),
    ("", "empty"),
    ("   ", "empty"),
    ("1e999", "power of ten"),
    ("9" * 40, "digits"),
])
def test_unreadable_numbers_are_invalid_with_a_friendly_message(given, reason):
    result = check_answer(NUMERIC, "8", given)
    assert result.verdict == "invalid" and result.normalized is None
    assert result.message.startswith("I couldn't read that as a number") and reason in result.message
    assert "Try something like" in result.message


def test_bug_answers_match_by_value():
    assert answers_equivalent(NUMERIC, "2/5", "0.4")
    assert answers_equivalent(NUMERIC, "2/5", "4/10")
    assert not answers_equivalent(NUMERIC, "2/5", "5/6")
    assert not answers_equivalent(NUMERIC, "2/5", "two fifths")


def test_teacher_answers_that_cannot_be_read():
    assert expected_answer_problem(NUMERIC, "0.75") is None
    assert "letters" in expected_answer_problem(NUMERIC, "four")
    assert expected_answer_problem(NUMERIC, "5 -- - 3")  # a broken template, not a number
    assert expected_answer_problem(NUMERIC, "") == "it is empty"


def test_wrong_answers_are_not_told_the_answer():
    result = check_answer(NUMERIC, "42", "41")
    assert result.verdict == "incorrect" and (result.message is None or "42" not in result.message)
