"""Whole-unit rules: each error of issue 2 is reported with file, line and field path, and the
broken unit is not served while the other files are."""

from __future__ import annotations

import pytest

from curriculum_helpers import UNIT, assert_error, broken, line_of, load, write

PARAMETRIC = """\
id: practice
title: Practice
subject: math
skills:
  - id: solving
    name: Solving
misconceptions:
  - id: added-instead
    description: Adds instead of subtracting
problems:
  - id: two-step
    params:
      a: {range: [2, 9]}
      x: {range: [1, 9]}
      b: {range: [1, 9]}
      c: "a*x + b"
    statement: 'Solve ${a}x + {b} = {c}$ where $\\frac{1}{2}$ stays LaTeX'
    steps:
      - id: solve
        prompt: 'Find $x$.'
        answer: x = {x}
        check: equation
        skills: [solving]
        hints:
          - {scaffold: 'What is {c} - {b}?', answer: '{c} - {b}', check: expression}
        misconceptions:
          - id: added-instead
            answers: ['x = {c} + {b}']
            feedback: You added {b}.
"""


def errors_for(tmp_path, text, name="unit.yaml"):
    path = write(tmp_path, name, text)
    library = load(tmp_path)
    return path, library


def test_the_helper_units_are_valid(tmp_path):
    write(tmp_path, "a.yaml", UNIT)
    write(tmp_path, "b.yaml", PARAMETRIC)
    library = load(tmp_path)
    assert library.errors == [] and set(library.units) == {"algebra", "practice"}


def test_duplicate_unit_id_across_files(tmp_path):
    first = write(tmp_path, "a/first.yaml", UNIT)
    second = write(tmp_path, "b/second.yaml", UNIT)
    library = load(tmp_path)
    error = assert_error(library.errors, second, 1, "id", "unit id 'algebra' is already used by")
    assert str(first) in error.message
    assert library.files["algebra"] == first and len(library.errors) == 1


@pytest.mark.parametrize("old, new, needle, occurrence, path, words", [
    ("    name: Solving equations\n", "    name: Solving equations\n  - id: solving\n    name: Again\n",
     "- id: solving", 2, "skills[1].id", "duplicate skill id 'solving' (first used on line 5)"),
    ("    description: Adds instead of subtracting\n", "    description: Adds\n  - id: added-instead\n    description: x\n",
     "- id: added-instead", 2, "misconceptions[1].id", "duplicate misconception id 'added-instead'"),
    ("      - id: solve\n", "      - id: isolate\n", "- id: isolate", 2, "problems[0].steps[1].id",
     "duplicate step id 'isolate'"),
])
def test_duplicate_ids_within_a_unit(tmp_path, old, new, needle, occurrence, path, words):
    text = broken(UNIT, old, new)
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, needle, occurrence), path, words)
    assert "algebra" not in library.units


def test_duplicate_problem_id(tmp_path):
    problem = UNIT[UNIT.index("  - id: two-step"):]
    text = UNIT + problem
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "- id: two-step", 2), "problems[1].id",
                 "duplicate problem id 'two-step'")


def test_bug_rule_naming_an_unknown_misconception(tmp_path):
    text = broken(UNIT, "          - id: added-instead", "          - id: added-insted")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "added-insted"), "problems[0].steps[0].misconceptions[0].id",
                 "bug rule names misconception 'added-insted', which is not in the unit's misconceptions: list "
                 "(added-instead)")


def test_skill_that_no_step_uses(tmp_path):
    text = broken(UNIT, "misconceptions:\n  - id: added", "  - id: graphing\n    name: Graphing\n"
                                                        "misconceptions:\n  - id: added")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "- id: graphing"), "skills[1].id",
                 "skill 'graphing' is not practised by any step")


def test_step_naming_an_unknown_skill(tmp_path):
    text = broken(UNIT, "answer: x = 4\n        check: equation\n        skills: [solving]",
                  "answer: x = 4\n        check: equation\n        skills: [solving, dividing]")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "dividing"), "problems[0].steps[1].skills[1]",
                 "unknown skill 'dividing' (the unit's skills: solving)")


def test_step_without_an_answer(tmp_path):
    text = broken(UNIT, "        answer: x = 4\n", "")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "- id: solve"), "problems[0].steps[1].answer",
                 "a 'equation' step needs an answer:")


def test_open_step_without_a_rubric_and_with_an_unknown_one(tmp_path):
    text = broken(UNIT, "answer: x = 4\n        check: equation", "check: open")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "- id: solve"), "problems[0].steps[1].rubric",
                 "an open step needs a rubric")
    text = broken(UNIT, "answer: x = 4\n        check: equation", "check: open\n        rubric: essay-rubrik")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "essay-rubrik"), "problems[0].steps[1].rubric",
                 "unknown rubric 'essay-rubrik' (no rubric files loaded)")


def test_open_step_with_a_rubric_file_or_an_inline_rubric(tmp_path):
    write(tmp_path, "rubrics/essay.yaml", "kind: rubric\nid: essay\ntitle: Essay\ncriteria:\n  - id: clarity\n"
                                          "    name: Clarity\n    levels:\n      - {score: 0, description: unclear}\n"
                                          "      - {score: 1, description: clear}\n")
    write(tmp_path, "by-id.yaml", broken(UNIT, "answer: x = 4\n        check: equation", "check: open\n        rubric: essay"))
    inline = broken(UNIT, "answer: x = 4\n        check: equation",
                    "check: open\n        rubric:\n          id: why\n          title: Why\n          criteria:\n"
                    "            - id: reason\n              name: Reason\n              levels:\n"
                    "                - {score: 0, description: none}\n                - {score: 0, description: some}\n")
    inline_file = write(tmp_path, "inline.yaml", broken(inline, "id: algebra", "id: algebra-inline"))
    library = load(tmp_path)
    assert "algebra" in library.units and "essay" in library.rubrics
    assert_error(library.errors, inline_file, line_of(inline, "{score: 0, description: some}"),
                 "problems[0].steps[1].rubric.criteria[0].levels[1].score", "score 0 is used by two levels")


@pytest.mark.parametrize("old, new, needle, path, words", [
    ("answer: x = 4\n        check: equation", "answer: four\n        check: numeric", "answer: four",
     "problems[0].steps[1].answer", "the numeric checker cannot read 'four'"),
    ("answer: x = 4\n        check: equation", "answer: x = = 4\n        check: equation", "x = = 4",
     "problems[0].steps[1].answer", "the equation checker cannot read 'x = = 4'"),
    ("answer: \"8\", check: numeric}", "answer: \"eight\", check: numeric}", "eight",
     "problems[0].steps[0].hints[1].answer", "the numeric checker cannot read 'eight'"),
    ("answers: [2x = 14]", "answers: ['2x = (14']", "(14", "problems[0].steps[0].misconceptions[0].answers[0]",
     "the equation checker cannot read '2x = (14'"),
    ("answer: x = 4\n        check: equation", "answer: x = 4\n        check: choice\n        choices: [x = 3, x = 5]",
     "answer: x = 4", "problems[0].steps[1].answer", "the choice checker cannot read 'x = 4'"),
    ("answer: x = 4\n        check: equation", "answer: '(x'\n        check: regex", "(x",
     "problems[0].steps[1].answer", "the regex checker cannot read '(x'"),
])
def test_answer_its_own_checker_cannot_read(tmp_path, old, new, needle, path, words):
    text = broken(UNIT, old, new)
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, needle), path, words)
    assert "algebra" not in library.units


def test_bug_rule_answer_equal_to_the_correct_answer(tmp_path):
    text = broken(UNIT, "answers: [2x = 14]", "answers: [8 = 2x]")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "8 = 2x"), "problems[0].steps[0].misconceptions[0].answers[0]",
                 "is equivalent to the correct answer '2x = 8'")


def test_choice_step_without_choices(tmp_path):
    text = broken(UNIT, "answer: x = 4\n        check: equation", "answer: x = 4\n        check: choice")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "- id: solve"), "problems[0].steps[1].choices",
                 "a choice step needs choices:")


def test_unknown_placeholder_in_a_parametric_problem(tmp_path):
    text = broken(PARAMETRIC, "feedback: You added {b}.", "feedback: You added {bb}.")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "{bb}"), "problems[0].steps[0].misconceptions[0].feedback",
                 "unknown placeholder {bb} (params: a, x, b, c)")


@pytest.mark.parametrize("old, new, needle, path, words", [
    ('c: "a*x + b"', 'c: "a*x + + * b"', "a*x + + * b", "problems[0].params.c", "cannot read"),
    ('c: "a*x + b"', 'c: "a*y + b"', "a*y + b", "problems[0].params.c", "unknown name 'y'"),
    ('c: "a*x + b"', 'c: "a*x / (b - b)"', "b - b", "problems[0].params.c", "division by zero"),
    ("x: {range: [1, 9]}", "x: {range: [9, 1]}", "[9, 1]", "problems[0].params.x", "must not be larger"),
    ("a: {range: [2, 9]}", "a: {range: [2, 9], exclude: [2, 3, 4, 5, 6, 7, 8, 9]}", "exclude",
     "problems[0].params.a", "every number"),
])
def test_parametric_template_that_does_not_render(tmp_path, old, new, needle, path, words):
    text = broken(PARAMETRIC, old, new)
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, needle), path, words)
    assert "practice" not in library.units


def test_parametric_answers_checked_on_seeded_variants(tmp_path):
    """An answer that only breaks for some numbers is caught, and the message names the variant."""
    text = broken(PARAMETRIC, "answer: x = {x}", "answer: x = 1/({x} - 2)")  # x = 2 in the variant of seed 1
    file, library = errors_for(tmp_path, text)
    error = assert_error(library.errors, file, line_of(text, "answer: x = 1/"), "problems[0].steps[0].answer",
                         "the equation checker cannot read")
    assert "divides by zero (in the variant with seed 1: a=" in error.message and "x=2," in error.message


def test_parametric_scaffold_and_bug_rule_answers_are_checked(tmp_path):
    text = broken(PARAMETRIC, "answer: '{c} - {b}', check: expression}", "answer: '{c} -- - {b}', check: numeric}")
    text = broken(text, "answers: ['x = {c} + {b}']", "answers: ['x = {c} + + {b})']")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "{c} -- - {b}"), "problems[0].steps[0].hints[0].answer",
                 "the numeric checker cannot read")
    assert_error(library.errors, file, line_of(text, "+ + {b})"), "problems[0].steps[0].misconceptions[0].answers[0]",
                 "the equation checker cannot read")


def test_parametric_bug_rule_that_matches_the_answer_for_some_numbers(tmp_path):
    text = broken(PARAMETRIC, "answers: ['x = {c} + {b}']", "answers: ['x = {c} - {b} - ({a} - 1) * {x}']")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "({a} - 1)"), "problems[0].steps[0].misconceptions[0].answers[0]",
                 "is equivalent to the correct answer")


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    write(tmp_path, "good.yaml", UNIT)
    write(tmp_path, "bad.yaml", broken(PARAMETRIC, "check: equation", "check: equasion"))
    library = load(tmp_path)
    assert list(library.units) == ["algebra"] and len(library.errors) == 1


def test_bkt_parameters_under_which_a_right_answer_lowers_mastery(tmp_path):
    text = broken(UNIT, "    name: Solving equations\n",
                  "    name: Solving equations\n    bkt: {p_init: 0.3, p_guess: 0.6, p_slip: 0.4}\n")
    file, library = errors_for(tmp_path, text)
    assert_error(library.errors, file, line_of(text, "bkt:"), "skills[0].bkt",
                 "p_guess + p_slip must be below 1 (here 0.6 + 0.4); otherwise a right answer would lower")
    assert "algebra" not in library.units
