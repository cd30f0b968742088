"""The expression and equation checkers: tricky equivalents and near misses."""

from __future__ import annotations

import pytest

from tutor_app.checking import answers_equivalent, check_answer, expected_answer_problem
from tutor_app.checking.options import CheckOptions

EXPRESSION = CheckOptions(check="expression")
EQUATION = CheckOptions(check="equation")


@pytest.mark.parametrize("expected, given", [
    ("2x + 2", "2(x+1)"),
    ("2x + 2", "2*x+2"),
    ("2x + 2", "x + x + 2"),
    ("2x + 2", "(4x + 4)/2"),
    ("2x + 2", "2 × (x + 1)"),
    ("x^2 - 1", "(x+1)(x-1)"),
    ("x^2 - 1", "x**2 - 1"),
    ("x^2 - 1", "x² − 1"),
    ("x^2 + 2x", "x(x+2)"),  # a letter before a bracket multiplies
    ("3x/4", "3 ÷ 4 × x"),
    ("x/2", "0.5x"),  # decimals are exact
    ("x/2", "\\frac{x}{2}"),  # a little LaTeX
    ("2xy", "2yx"),
    ("2xy", "2 x y"),
    ("sqrt(8)", "2√2"),
    ("a^2 + 2ab + b^2", "(a + b)^2"),
    ("1/(x+1) + 1/(x-1)", "2x/(x^2 - 1)"),
    ("2x + 6", "[2x + 6]"),
])
def test_equivalent_expressions_are_correct(expected, given):
    result = check_answer(EXPRESSION, expected, given)
    assert result.verdict == "correct", (expected, given, result)


@pytest.mark.parametrize("expected, given", [
    ("2x + 2", "2x + 1"),
    ("2x + 2", "2(x+2)"),
    ("2x + 6", "2x + 3"),  # the classic: only the first term multiplied
    ("x^2 - 1", "(x-1)^2"),
    ("x^2", "2x"),
    ("-x^2", "(-x)^2"),  # ^ binds tighter than the minus sign
    ("x/2", "2/x"),
    ("2xy", "2x + y"),
    ("sqrt(x^2)", "x"),  # not for negative x
    ("(a + b)^2", "a^2 + b^2"),
    ("x + 1", "y + 1"),
])
def test_different_expressions_are_incorrect(expected, given):
    assert check_answer(EXPRESSION, expected, given).verdict == "incorrect"


@pytest.mark.parametrize("given", ["2x = 8", "2x = 8", "8 = 2x", "x*2=8", "x·2 = 8", "2x - 8 = 0", "0 = 8 - 2x",
                                   "2x+3-3 = 11-3", "2(x) = 8", "x + x = 8", "2x = 8.", "$2 \\cdot x = 8$",
                                   "2x = 16/2"])
def test_equivalent_equations_are_correct(given):
    result = check_answer(EQUATION, "2x = 8", given)
    assert result.verdict == "correct", (given, result)


@pytest.mark.parametrize("given", [
    "x = 4",  # the next step's answer: true, but not the equation this step asks for
    "4 = x",
    "4x = 16",
    "2x + 3 = 11",  # copying the problem must not pass "subtract 3 from both sides"
    "-2x = -8",
    "x - 4 = 0",
])
def test_true_equations_in_another_form_are_incorrect_and_say_so(given):
    result = check_answer(EQUATION, "2x = 8", given)
    assert result.verdict == "incorrect"
    assert "true, but it isn't the one this step asks for" in result.message
    assert "2x = 8" not in result.message and "8" not in result.message


@pytest.mark.parametrize("given", ["2x = 14", "2x = 11", "x = 8", "2y = 8", "x^2 = 8", "2x = -8"])
def test_false_equations_are_incorrect_without_the_true_hint(given):
    result = check_answer(EQUATION, "2x = 8", given)
    assert result.verdict == "incorrect" and result.message is None


@pytest.mark.parametrize("given", ["x=4", "4 = x", "x = 8/2", "x - 4 = 0", "4", "8/2", "4.0", "\\frac{8}{2}"])
def test_a_solved_equation_accepts_its_value(given):
    assert check_answer(EQUATION, "x = 4", given).verdict == "correct"


def test_unicode_fractions_are_mixed_numbers():
    assert check_answer(EQUATION, "x = 1.5", "1½").verdict == "correct"
    assert check_answer(EXPRESSION, "5x/2", "2½x").verdict == "correct"
    assert check_answer(EXPRESSION, "x/2", "½x").verdict == "correct"


def test_a_solved_equation_rejects_other_values_and_forms():
    assert check_answer(EQUATION, "x = 4", "5").verdict == "incorrect"
    assert check_answer(EQUATION, "x = 4", "y = 4").verdict == "incorrect"
    assert check_answer(EQUATION, "x = 4", "2x = 8").verdict == "incorrect"
    assert check_answer(EQUATION, "x = 4", "x").verdict == "invalid"  # a name is not an answer


def test_a_bare_expression_for_an_unsolved_equation_is_invalid_not_wrong():
    result = check_answer(EQUATION, "2x = 8", "8")
    assert result.verdict == "invalid" and "no = sign" in result.message


def test_an_equation_where_an_expression_is_asked_is_invalid():
    result = check_answer(EXPRESSION, "2x + 6", "y = 2x + 6")
    assert result.verdict == "invalid" and "= sign" in result.message


def test_normalized_forms():
    assert check_answer(EQUATION, "2x = 8", "x*2=8").normalized == "2*x = 8"
    assert check_answer(EXPRESSION, "x^2", "x²").normalized == "x^2"


@pytest.mark.parametrize("given, reason", [
    ("2x = = (", "2 = signs"),
    ("2x = (14", "'(' is never closed"),
    ("2x) = 14", "')' has no '('"),
    ("x = ", "one side of the = is empty"),
    ("x = 4 / 0", "divides by zero"),
    ("2x = 8 # note", "character '#'"),
    ("2 3x = 8", "side by side"),
    ("x is 4", "word 'is'"),
    ("2x +* 3 = 8", "out of place"),
])
def test_unreadable_equations_get_a_friendly_message(given, reason):
    result = check_answer(EQUATION, "2x = 8", given)
    assert result.verdict == "invalid"
    assert result.message.startswith("I couldn't read that as an equation") and reason in result.message
    # an example that shows the form, and is not this step's answer (2x = 8 here): issue 12
    assert result.message.endswith("Try something like 3x - 1 = 5.")
    assert not answers_equivalent(EQUATION, "2x = 8", result.message.rsplit("like ", 1)[1].rstrip("."))


def test_bug_rules_compare_with_the_same_rules():
    assert answers_equivalent(EQUATION, "2x = 14", "14 = 2x")
    assert answers_equivalent(EQUATION, "2x = 14", "2x - 14 = 0")
    assert not answers_equivalent(EQUATION, "2x = 14", "x = 7")
    assert not answers_equivalent(EQUATION, "x = 1/4", "x = 4")
    assert answers_equivalent(EQUATION, "x = 1/4", "0.25")
    assert answers_equivalent(EXPRESSION, "2x + 3", "3 + 2x")
    assert not answers_equivalent(EXPRESSION, "2x + 3", "2(x + 3)")
    assert not answers_equivalent(EQUATION, "2x = 14", "2x = = 14")


def test_teacher_answers_that_cannot_be_read():
    assert expected_answer_problem(EQUATION, "2x = 8") is None
    assert expected_answer_problem(EQUATION, "x = = 4") == "it has 2 = signs; an equation has one"
    assert expected_answer_problem(EQUATION, "2x + 3") == "it has no = sign"
    assert expected_answer_problem(EQUATION, "x = 1/(1 - 1)") == "it divides by zero"
    assert expected_answer_problem(EXPRESSION, "2x = 3") == "it has an = sign; type just the expression"
    assert expected_answer_problem(EXPRESSION, "2x + 6") is None


def test_an_unreadable_answer_key_is_not_the_students_fault():
    result = check_answer(EQUATION, "x = = 4", "x = 4")
    assert result.verdict == "invalid" and "tell your teacher" in result.message
