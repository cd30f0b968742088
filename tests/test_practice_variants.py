"""Versions of parametric problems: distinct, answers worked out and checked, same for a seed."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tutor_app.checking import check_answer
from tutor_app.curriculum.loader import load_file
from tutor_app.curriculum.schema import Problem
from tutor_app.practice.variants import VariantError, assign_variants, generate_variants

from assessment_support import REPO

UNIT = load_file(REPO / "curricula" / "math" / "parametric-practice.yaml").item
PROBLEMS = {p.id: p for p in UNIT.problems}


def test_versions_are_distinct_and_their_answers_are_right():
    found = generate_variants(PROBLEMS["rectangle"], 8, seed=7)
    assert found.complete and not found.rejected and len(found.variants) == 8
    values = [(v.values["length"], v.values["width"]) for v in found.variants]
    assert len(set(values)) == 8
    for variant in found.variants:
        length, width = variant.values["length"], variant.values["width"]
        area, perimeter = variant.answers
        assert (area.step_id, area.answer) == ("area", str(length * width))
        assert perimeter.answer == str(2 * (length + width))
        assert variant.problem.statement == f"A rectangle is {length} cm long and {width} cm wide."
        for step in variant.problem.steps:
            assert check_answer(step, step.answer, step.answer).verdict == "correct"
    assert [v.number for v in found.variants] == list(range(1, 9))


def test_derived_answers_are_computed_exactly():
    for variant in generate_variants(PROBLEMS["one-step-fraction-answer"], 6, seed=3).variants:
        a, b = variant.values["a"], variant.values["b"]
        expected = Fraction(b, a)
        shown = str(expected.numerator) if expected.denominator == 1 else f"{expected.numerator}/{expected.denominator}"
        assert variant.answers[0].answer == f"x = {shown}"


def test_the_same_seed_gives_the_same_versions():
    first = generate_variants(PROBLEMS["two-step-variant"], 5, seed=11)
    again = generate_variants(PROBLEMS["two-step-variant"], 5, seed=11)
    other = generate_variants(PROBLEMS["two-step-variant"], 5, seed=12)
    assert [(v.seed, v.values, v.answers) for v in first.variants] == [(v.seed, v.values, v.answers)
                                                                       for v in again.variants]
    assert [v.values for v in first.variants] != [v.values for v in other.variants]


def test_a_small_parameter_space_runs_out_honestly():
    found = generate_variants(PROBLEMS["discount"], 20, seed=0)  # 4 prices x 3 percentages
    assert len(found.variants) == 12 and found.exhausted and not found.complete
    assert len({(v.values["price"], v.values["pct"]) for v in found.variants}) == 12


def test_versions_whose_answers_fail_the_checks_are_left_out():
    problem = Problem.model_validate({
        "id": "trap", "statement": "Write {a}.", "params": {"a": {"range": [1, 3]}, "b": "4 - a"},
        "steps": [{"id": "s", "prompt": "What is {a}?", "answer": "{a}", "check": "numeric",
                   "misconceptions": [{"id": "m", "answers": ["{b}"], "feedback": "no"}]}]})
    found = generate_variants(problem, 3, seed=0)
    assert sorted(v.values["a"] for v in found.variants) == [1, 3]  # a = 2 makes b equal the answer
    assert found.exhausted
    (seed, reason), = found.rejected
    assert "bug rule 'm' answer '2' equals the right answer '2'" in reason


def test_problems_without_params_or_bad_counts_are_refused():
    plain = Problem.model_validate({"id": "p", "statement": "2 + 2?",
                                    "steps": [{"id": "s", "prompt": "?", "answer": "4", "check": "numeric"}]})
    with pytest.raises(VariantError, match="has no params"):
        generate_variants(plain, 3)
    with pytest.raises(VariantError, match="between 1 and 500"):
        generate_variants(PROBLEMS["rectangle"], 0)


def test_each_student_gets_a_different_version():
    students = ["Ana", "Ben", "Cy", "Dee", "Eli"]
    assigned = assign_variants(PROBLEMS["two-step-variant"], students, seed=1)
    assert list(assigned) == students
    assert len({tuple(sorted(v.values.items())) for v in assigned.values()}) == 5
    assert assign_variants(PROBLEMS["two-step-variant"], students, seed=1) == assigned
    crowd = assign_variants(PROBLEMS["discount"], [f"s{i}" for i in range(15)], seed=0)
    assert crowd["s12"] == crowd["s0"]  # 12 versions exist: the 13th student shares the first one
