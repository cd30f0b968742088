"""``form: any`` on equation steps: every equation with the same solutions counts, nothing else
does, and the default form still wants the written step."""

from __future__ import annotations

from pathlib import Path

import pytest

from curriculum_helpers import UNIT, assert_error, broken, line_of, load, write
from tutor_app.checking import answers_equivalent, check_answer
from tutor_app.checking.math_checkers import TRUE_BUT_NOT_THIS_STEP
from tutor_app.curriculum.loader import load_file
from tutor_app.curriculum.schema import CheckOptions
from tutor_app.engine.progress import ProblemProgress, submit_answer

ANY = CheckOptions(check="equation", form="any")
STEP = CheckOptions(check="equation")
LINE = "y = 2x + 1"  # through (0, 1) with slope 2


@pytest.mark.parametrize("given", [
    "y - 2x = 1", "2y = 4x + 2", "y = 2x + 1", "2x + 1 = y", "2x - y + 1 = 0", "0 = 4x - 2y + 2",
    "(y - 1)/2 = x", "y - 1 = 2(x - 0)", "y/2 = x + 1/2", "-y = -2x - 1", "3y - 6x = 3", "y = 1 + 2x",
])
def test_every_form_of_the_line_counts(given):
    assert check_answer(ANY, LINE, given).verdict == "correct", given


@pytest.mark.parametrize("given", [
    "y = 2x",  # parallel
    "y = x + 1",  # same intercept, other slope
    "y = 2x - 1",
    "x - 2y = 1",  # the roles swapped
    "y = 2x + 1 + z",  # another variable
    "x = 0",
    "y^2 = (2x + 1)^2",  # contains the line and one more
    "y = 2x^2 + 1",
])
def test_other_equations_are_incorrect(given):
    result = check_answer(ANY, LINE, given)
    assert result.verdict == "incorrect", given
    assert result.message is None  # no "true, but not this step": any true form would have counted


@pytest.mark.parametrize("expected, given", [
    ("x + y = 3", "2x + 2y = 6"),  # several variables: nonzero multiples
    ("x^2 = 4", "(x - 2)(x + 2) = 0"),  # same roots, polynomial
    ("x^2 = 4", "x^2 - 4 = 0"),
    ("x = 2", "x^2 - 4x + 4 = 0"),  # a double root is still the one solution x = 2
    ("y = 1/x", "xy = 1"),  # clearing a denominator that is never 0 on the curve
    ("(x - 1)/(x - 2) = 0", "x = 1"),
    ("x^2 + y^2 = 25", "25 - x^2 = y^2"),
    ("y = sqrt(x)", "2y = 2sqrt(x)"),  # beyond polynomials, constant multiples still count
])
def test_same_solution_sets_beyond_lines(expected, given):
    assert check_answer(ANY, expected, given).verdict == "correct", (expected, given)


@pytest.mark.parametrize("expected, given", [
    ("x^2 = 4", "x = 2"),  # loses a solution
    ("x = 2", "x^2 = 4"),  # gains one
    ("y = 1/x", "y = x"),
    ("x = 1", "(x - 1)/(x - 1) = 0"),  # cancels to 1 = 0: no solutions
    ("x + y = 0", "(x + y)/x = 0"),  # the same line without the point (0, 0)
    ("y = sqrt(x)", "y^2 = x"),  # squaring adds the negative branch
    ("x^2 + 1 = 0", "x^2 + 4 = 0"),  # no real solutions either, but not the same equation
])
def test_different_solution_sets_are_incorrect(expected, given):
    assert check_answer(ANY, expected, given).verdict == "incorrect", (expected, given)


def test_the_default_form_still_wants_this_steps_equation():
    assert check_answer(STEP, LINE, "2x + 1 = y").verdict == "correct"
    for given in ("y - 2x = 1", "2y = 4x + 2"):
        result = check_answer(STEP, LINE, given)
        assert result.verdict == "incorrect" and result.message == TRUE_BUT_NOT_THIS_STEP
    assert check_answer(STEP, "2x = 8", "2x + 3 = 11").verdict == "incorrect"


def test_a_solved_answer_still_accepts_its_bare_value_and_reads_the_same():
    assert check_answer(ANY, "x = 4", "4").verdict == "correct"
    assert check_answer(ANY, "x = 4", "2x = 8").verdict == "correct"
    result = check_answer(ANY, LINE, "2x + 1")
    assert result.verdict == "invalid" and "no = sign" in result.message


def test_bug_rules_match_by_solution_set_too():
    assert answers_equivalent(ANY, "y = 2x", "2y = 4x")  # a rule for the parallel line
    assert not answers_equivalent(ANY, "y = 2x", "2y = 4x + 2")
    assert not answers_equivalent(STEP, "y = 2x", "2y = 4x")


def test_a_huge_answer_runs_out_of_time_instead_of_hanging():
    result = check_answer(ANY, LINE, "(x+1)^64 (y+2)^64 = (x-1)^64")
    assert result.verdict in ("invalid", "incorrect")


LINE_STEP = """\
      - id: line
        prompt: Write the equation of the line through (0, 1) with slope 2.
        answer: y = 2x + 1
        check: equation
        form: any
        skills: [solving]
"""


def test_a_unit_with_form_any_loads_and_checks_by_solution_set(tmp_path):
    write(tmp_path, "unit.yaml", UNIT + LINE_STEP)
    library = load(tmp_path)
    assert library.errors == []
    step = library.units["algebra"].problems[0].steps[-1]
    assert step.form == "any" and check_answer(step, step.answer, "2y = 4x + 2").verdict == "correct"


@pytest.mark.parametrize("old, new, path", [
    ("        answer: x = 4\n        check: equation\n", "        answer: '4'\n        check: numeric\n        form: any\n",
     "problems[0].steps[1].form"),
    ('{scaffold: \'What is 11 - 3?\', answer: "8", check: numeric}',
     '{scaffold: \'What is 11 - 3?\', answer: "8", check: numeric, form: any}', "problems[0].steps[0].hints[1].form"),
], ids=["step", "scaffold question"])
def test_form_outside_an_equation_check_is_reported_with_its_line(tmp_path, old, new, path):
    text = broken(UNIT, old, new)
    file = write(tmp_path, "unit.yaml", text)
    library = load(tmp_path)
    assert_error(library.errors, file, line_of(text, "form: any"), path,
                 "form: only applies to equation checks (this one is check: numeric); remove it or set check: equation")
    assert "algebra" not in library.units


def test_an_unknown_form_is_a_schema_error(tmp_path):
    text = broken(UNIT, "        answer: x = 4\n        check: equation\n",
                  "        answer: x = 4\n        check: equation\n        form: anything\n")
    file = write(tmp_path, "unit.yaml", text)
    library = load(tmp_path)
    error = assert_error(library.errors, file, line_of(text, "form: anything"), "problems[0].steps[1].form", "")
    assert "'step'" in error.message and "'any'" in error.message


def test_the_shipped_line_problem_takes_any_form_and_catches_its_misconceptions():
    unit = load_file(Path(__file__).resolve().parent.parent / "curricula" / "math" / "linear-equations.yaml").item
    problem = next(p for p in unit.problems if p.id == "line-through-a-point")
    on_equation = ProblemProgress(step_index=1)
    for given in ("y - 2x = 1", "2y = 4x + 2", "y = 2x + 1"):
        assert submit_answer(unit, problem, on_equation, given)[0].verdict == "correct", given
    assert submit_answer(unit, problem, on_equation, "y - x = 2")[0].misconception_id == "slope-and-intercept-swapped"
    assert submit_answer(unit, problem, on_equation, "2y = 4x")[0].misconception_id == "intercept-left-out"
    assert submit_answer(unit, problem, on_equation, "y = 2x + 2")[0].verdict == "incorrect"
