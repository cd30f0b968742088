"""Fitting BKT parameters from a class's answers: known parameters are recovered, thin or
degenerate data are refused with a reason, and adopting a fit is a plain data change.

Recovery tolerance: with 1,000 simulated students answering 12 steps each, every fitted
parameter is within 0.05 of the value the answers were simulated from (the worst of 40 seeded
runs over these four parameter sets was 0.034), and within the fit's own 95% interval.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tutor_app.curriculum.schema import BKTParams, Unit
from tutor_app.engine.bkt_fit import (MAX_MARGIN, MIN_OBSERVATIONS, MIN_STUDENTS, Estimate, FitResult, adoption,
                                      degeneracy, fit_skill_params, fit_unit, simulate_answers)
from tutor_app.engine.mastery import apply_observations, bkt_update, initial_mastery, skill_params

TOLERANCE = 0.05
TRUTHS = [
    BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1),
    BKTParams(p_init=0.5, p_transit=0.1, p_guess=0.25, p_slip=0.05),
    BKTParams(p_init=0.1, p_transit=0.3, p_guess=0.15, p_slip=0.15),
    BKTParams(p_init=0.2, p_transit=0.05, p_guess=0.3, p_slip=0.2),
]


@pytest.mark.parametrize("truth", TRUTHS, ids=lambda t: f"L0={t.p_init},T={t.p_transit},G={t.p_guess},S={t.p_slip}")
def test_parameters_simulated_answers_came_from_are_recovered(truth):
    result = fit_skill_params(simulate_answers(truth, students=1000, steps=12, seed=7), seed=7)
    assert result.status == "fitted" and result.reason is None
    assert (result.students, result.observations) == (1000, 12000)
    for name in Estimate._fields:
        fitted, true, margin = getattr(result.estimate, name), getattr(truth, name), getattr(result.margins, name)
        assert abs(fitted - true) <= TOLERANCE, (name, fitted, true)
        assert abs(fitted - true) <= margin <= MAX_MARGIN, (name, fitted, true, margin)
    assert result.params == result.estimate.as_params()


def forward_log_likelihood(params: Estimate, rows) -> float:
    """The BKT likelihood computed the plain way: predict, observe, update, one answer at a time."""
    total = 0.0
    for row in rows:
        p = params.p_init
        for right in row:
            p_right = p * (1 - params.p_slip) + (1 - p) * params.p_guess
            total += math.log(p_right if right else 1 - p_right)
            posterior = p * (1 - params.p_slip) / p_right if right else p * params.p_slip / (1 - p_right)
            p = posterior + (1 - posterior) * params.p_transit
    return total


def test_the_fit_is_a_maximum_of_the_bkt_likelihood():
    rows = simulate_answers(TRUTHS[0], students=300, steps=10, seed=3)
    rows = [row[:4 + i % 7] for i, row in enumerate(rows)]  # students with different numbers of steps
    result = fit_skill_params(rows)
    best = forward_log_likelihood(result.estimate, rows)
    assert result.log_likelihood == pytest.approx(best, rel=1e-9)
    for name in Estimate._fields:  # every nearby point explains the answers less well
        for delta in (-0.02, 0.02):
            moved = result.estimate._replace(**{name: getattr(result.estimate, name) + delta})
            assert forward_log_likelihood(moved, rows) < best
    assert forward_log_likelihood(Estimate(*TRUTHS[0].model_dump().values()), rows) < best


def test_too_little_data_is_not_fitted_and_says_how_much_there_is():
    few_students = fit_skill_params(simulate_answers(TRUTHS[0], students=MIN_STUDENTS - 1, steps=20, seed=1))
    assert (few_students.status, few_students.students, few_students.observations) == (
        "too-little-data", MIN_STUDENTS - 1, (MIN_STUDENTS - 1) * 20)
    assert few_students.estimate is None and few_students.params is None
    assert f"at least {MIN_STUDENTS} students and {MIN_OBSERVATIONS} observations" in few_students.reason
    short = fit_skill_params([row[:MIN_OBSERVATIONS // 40] for row in simulate_answers(TRUTHS[0], students=40,
                                                                                        steps=20, seed=1)])
    assert short.status == "too-little-data" and short.observations < MIN_OBSERVATIONS
    assert fit_skill_params([[], [], []]).students == 0  # students without observations do not count


def test_one_class_is_enough_to_try_but_too_uncertain_to_adopt():
    result = fit_skill_params(simulate_answers(TRUTHS[0], students=30, steps=10, seed=3))
    assert result.status == "rejected" and result.params is None
    assert result.reason.startswith("too uncertain: p_init 0.35 ± 0.19")
    assert result.estimate is not None and result.margins.p_init > MAX_MARGIN  # shown to the teacher anyway


def test_answers_unrelated_to_learning_are_not_identified():
    coin_flips = (np.random.default_rng(0).random((300, 10)) < 0.5).tolist()
    result = fit_skill_params(coin_flips)
    assert result.status == "rejected" and "do not pin the parameters down" in result.reason


@pytest.mark.parametrize("rows, words", [
    ([[True] * 10] * 100, "p_guess reached its limit of 0.5"),  # everyone right: guessing looks like knowing
    ([[False] * 10] * 100, "p_slip reached its limit of 0.5"),
    ([[True] * 5 + [False] * 5] * 100, "p_guess reached its limit of 0.5"),  # getting worse with practice
])
def test_degenerate_data_are_rejected_with_a_reason(rows, words):
    result = fit_skill_params(rows)
    assert result.status == "rejected" and words in result.reason and result.params is None
    assert result.estimate.p_guess <= 0.5 and result.estimate.p_slip <= 0.5  # the bounds held inside the fit


def test_degeneracy_of_values_by_hand():
    assert degeneracy(Estimate(0.2, 0.15, 0.2, 0.1)) is None
    assert "p_init reached 1" in degeneracy(Estimate(1.0, 0.1, 0.2, 0.1))
    # G = S = 0.45, T = 0: each right answer multiplies the odds of knowing by 0.55/0.45 = 11/9.
    # From odds 1/9: (1/9)(11/9)^10 = 11^10 / 9^11 = 0.8265, so P = 0.8265 / 1.8265 = 0.4525.
    reason = degeneracy(Estimate(0.1, 0.0, 0.45, 0.45))
    assert reason.startswith("ten right answers in a row would leave the estimate at 0.45, below mastery")


UNIT = Unit.model_validate({
    "id": "u", "title": "U", "subject": "math",
    "skills": [{"id": "a", "name": "A"}, {"id": "b", "name": "B", "bkt": {"p_init": 0.4}}, {"id": "c", "name": "C"}],
    "problems": [{"id": "p", "statement": "s", "steps": [
        {"id": "s1", "prompt": "?", "answer": "1", "check": "numeric", "skills": ["a", "b", "c"]}]}],
})


@pytest.fixture(scope="module")
def fits() -> dict[str, FitResult]:
    rows = simulate_answers(TRUTHS[1], students=1000, steps=12, seed=11)
    sequences = {"a": {f"s{i}": row for i, row in enumerate(rows)},
                 "b": {f"s{i}": row for i, row in enumerate(rows[:5])}}
    return fit_unit(UNIT, sequences)


def test_fit_unit_fits_every_skill_and_reports_the_unpractised_ones(fits):
    assert list(fits) == ["a", "b", "c"]
    assert fits["a"].status == "fitted"
    assert (fits["b"].status, fits["b"].students) == ("too-little-data", 5)
    assert (fits["c"].status, fits["c"].students, fits["c"].observations) == ("too-little-data", 0, 0)


def test_adopting_all_takes_every_usable_fit_with_the_data_it_rests_on(fits):
    current = skill_params(UNIT)
    (change,) = adoption(current, fits)
    assert (change.skill_id, change.before, change.after) == ("a", BKTParams(), fits["a"].params)
    assert (change.students, change.observations) == (1000, 12000)
    adopted = {change.skill_id: change.after}
    assert skill_params(UNIT, adopted) == {"a": fits["a"].params, "b": BKTParams(p_init=0.4), "c": BKTParams()}
    assert adoption(skill_params(UNIT, adopted), fits) == []  # adopting again changes nothing


def test_adopting_one_skill_needs_a_usable_fit(fits):
    assert [c.skill_id for c in adoption(skill_params(UNIT), fits, ["a"])] == ["a"]
    with pytest.raises(ValueError, match="skill 'b' has no fit to adopt: 5 students and 60 observations"):
        adoption(skill_params(UNIT), fits, ["b"])
    with pytest.raises(ValueError, match="skill 'zzz' is not in this unit"):
        adoption(skill_params(UNIT), fits, ["zzz"])


def test_adopted_parameters_drive_the_update():
    adopted = {"a": BKTParams(p_init=0.5, p_transit=0.0, p_guess=0.25, p_slip=0.25)}
    assert initial_mastery(UNIT, adopted) == {"a": 0.5, "b": 0.4, "c": 0.2}
    # 0.5·0.75 / (0.5·0.75 + 0.5·0.25) = 0.75, no learning
    after = apply_observations(UNIT, {}, [("a", True)], adopted)
    assert after["a"] == pytest.approx(0.75)
    assert apply_observations(UNIT, {}, [("a", True)])["a"] == pytest.approx(bkt_update(0.2, True, BKTParams()))
