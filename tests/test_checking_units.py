"""Numeric answers with units (issue 12, item 9), and a phone's capital letter in an equation.

A step with ``unit:`` accepts its unit in the usual spellings and a bare number; a unit of the
same kind is converted; another unit gets its own message (``invalid``: it does not count as a
wrong number). Checked through ``check_answer`` as the engine calls it, and through the
curriculum validator for the teacher's side."""

from __future__ import annotations

import pytest

from tutor_app.checking import answers_equivalent, check_answer
from tutor_app.checking.options import CheckOptions

from curriculum_helpers import UNIT, assert_error, broken, line_of, load, write

JOULES = CheckOptions(check="numeric", unit="J", tolerance=0.5)
EUROS = CheckOptions(check="numeric", unit="€")
DOLLARS = CheckOptions(check="numeric", unit="$")
SQUARE_CM = CheckOptions(check="numeric", unit="cm^2")


@pytest.mark.parametrize("options, expected, given", [
    (JOULES, "18", "18 J"),
    (JOULES, "18", "18J"),
    (JOULES, "18", "18 joules"),
    (JOULES, "18", "18 Joules"),
    (JOULES, "18", "18 joule."),
    (JOULES, "18", "E = 18 J"),
    (JOULES, "18", "18"),  # a bare number still counts
    (JOULES, "18", "0.018 kJ"),  # the same kind of unit is converted
    (EUROS, "20", "€20"),
    (EUROS, "20", "20€"),
    (EUROS, "20", "20 €"),
    (EUROS, "20", "20 euros"),
    (EUROS, "20", "EUR 20"),
    (EUROS, "12.50", "€12,50"),
    (DOLLARS, "5", "$5"),
    (DOLLARS, "5", "5 dollars"),
    (DOLLARS, "5", "5 USD"),
    (SQUARE_CM, "40", "40 cm²"),
    (SQUARE_CM, "40", "40 cm2"),
    (SQUARE_CM, "40", "40 square centimetres"),
    (CheckOptions(check="numeric", unit="m/s"), "10", "36 km/h"),
    (CheckOptions(check="numeric", unit="A", unit_names=["amps"]), "2", "2 amps"),  # a spelling the teacher adds
    (CheckOptions(check="numeric", unit="J", unit_names=["julios"]), "18", "18 julios"),
])
def test_the_steps_unit_in_any_usual_spelling_counts(options, expected, given):
    result = check_answer(options, expected, given)
    assert result.verdict == "correct", (given, result)


@pytest.mark.parametrize("options, given, unit", [
    (JOULES, "18 m/s", "m/s"),
    (JOULES, "18 N", "N"),
    (EUROS, "$20", "$"),
    (EUROS, "20 dollars", "dollars"),
    (SQUARE_CM, "40 cm", "cm"),
])
def test_a_wrong_unit_gets_its_own_message(options, given, unit):
    result = check_answer(options, "18" if options is JOULES else "20", given)
    assert result.verdict == "invalid"  # not counted as a wrong number
    assert result.message.startswith("Check the unit") and f'"{unit}"' in result.message
    assert "couldn't read" not in result.message


def test_an_unknown_word_after_the_number_is_named():
    result = check_answer(JOULES, "18", "18 bananas")
    assert result.verdict == "invalid" and 'unknown unit' not in result.message
    assert result.message.startswith("I don't know the unit \"bananas\"") and "J (joules)" in result.message


def test_a_wrong_number_with_the_right_unit_is_just_wrong():
    assert check_answer(JOULES, "18", "36 J").verdict == "incorrect"
    assert check_answer(EUROS, "20", "€25").verdict == "incorrect"


def test_without_unit_a_step_reads_numbers_as_before():
    result = check_answer(CheckOptions(check="numeric"), "18", "18 J")
    assert result.verdict == "invalid" and "letters" in result.message


def test_bug_rules_see_through_the_unit():
    assert answers_equivalent(JOULES, "36", "36 joules")
    assert not answers_equivalent(JOULES, "36", "36 m/s")


# a phone capitalises the first letter -----------------------------------------------------
EQUATION = CheckOptions(check="equation")


def test_a_capitalised_variable_counts_when_the_answer_uses_only_the_lower_case_one():
    assert check_answer(EQUATION, "y = 7", "Y = 7").verdict == "correct"
    assert check_answer(EQUATION, "x = 4", "X = 4").verdict == "correct"
    assert check_answer(CheckOptions(check="expression"), "2x + 1", "2X + 1").verdict == "correct"
    assert answers_equivalent(EQUATION, "2x = 14", "2X = 14")  # bug rules too


def test_a_capital_that_is_a_variable_of_its_own_is_not_lowered():
    assert check_answer(EQUATION, "y = 7", "Y = 7", names=frozenset({"y", "Y"})).verdict == "incorrect"
    assert check_answer(EQUATION, "Y = 2y", "Y = 2Y").verdict == "incorrect"  # the key itself uses Y
    assert check_answer(EQUATION, "x + y = 3", "X + x = 3").verdict == "incorrect"  # both written: case means something


# the teacher's side ------------------------------------------------------------------------
def test_units_are_validated_with_file_and_line(tmp_path):
    text = broken(UNIT, 'answer: "8", check: numeric}', 'answer: "8", check: numeric, unit: parsecs-per-fortnight}')
    text = broken(text, "        answer: x = 4\n", "        answer: x = 4\n        unit: J\n")
    path = write(tmp_path, "unit.yaml", text)
    errors = load(tmp_path).errors
    assert_error(errors, path, line_of(text, "parsecs-per-fortnight"), "problems[0].steps[0].hints[1].unit",
                 "unknown unit 'parsecs-per-fortnight'")
    assert_error(errors, path, line_of(text, "unit: J"), "problems[0].steps[1].unit",
                 "unit: only applies to numeric checks")


def test_a_unit_the_checker_does_not_know_is_fine_with_its_spellings(tmp_path):
    text = broken(UNIT, 'answer: "8", check: numeric}', 'answer: "8", check: numeric, unit: apples, '
                                                      'unit_names: [apple, apples]}')
    write(tmp_path, "unit.yaml", text)
    assert load(tmp_path).errors == []
