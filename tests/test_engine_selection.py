"""Choosing the next problem from the mastery model."""

from __future__ import annotations

import pytest

from tutor_app.curriculum.schema import Unit
from tutor_app.engine.selection import REVIEW_EVERY, choose_problem, is_review_turn, problem_score


def step(step_id: str, *skills: str) -> dict:
    return {"id": step_id, "prompt": "?", "answer": "1", "check": "numeric", "skills": list(skills)}


UNIT = Unit.model_validate({
    "id": "u", "title": "U", "subject": "math",
    "skills": [{"id": "add", "name": "Add"}, {"id": "times", "name": "Multiply"},
               {"id": "share", "name": "Divide", "bkt": {"p_init": 0.5}}],
    "problems": [
        {"id": "adding", "statement": "s", "difficulty": 1, "steps": [step("a", "add")]},
        {"id": "times-hard", "statement": "s", "difficulty": 3, "steps": [step("a", "times")]},
        {"id": "times-easy", "statement": "s", "difficulty": 2, "steps": [step("a", "times")]},
        {"id": "mixed", "statement": "s", "steps": [step("a", "add"), step("b", "times"), step("c", "add")]},
        {"id": "sharing", "statement": "s", "steps": [step("a", "share")]},
        {"id": "essay", "statement": "s", "steps": [{"id": "w", "prompt": "Why?", "check": "open"}]},
    ],
})
NORMAL_SEED = 0  # not a review turn


def test_least_mastered_skill_first():
    mastery = {"add": 0.9, "times": 0.3, "share": 0.8}
    assert choose_problem(UNIT, mastery, set(), NORMAL_SEED) == "times-easy"  # ties: the easier one


def test_problems_are_scored_by_the_mean_of_their_skills():
    mastery = {"add": 0.9, "times": 0.3, "share": 0.8}
    # 'mixed' practises add and times once each, whatever the number of steps: (0.9 + 0.3) / 2
    assert problem_score(UNIT, UNIT.problems[3], mastery) == pytest.approx(0.6)
    # 'essay' practises nothing: the unit's average, (0.9 + 0.3 + 0.8) / 3
    assert problem_score(UNIT, UNIT.problems[5], mastery) == pytest.approx(2.0 / 3)
    solved = {"times-easy", "times-hard"}
    assert choose_problem(UNIT, mastery, solved, NORMAL_SEED) == "mixed"


def test_unpractised_skills_start_at_their_prior():
    # add and times at the default 0.2, share at its own 0.5: 'adding' (difficulty 1) comes first
    assert choose_problem(UNIT, {}, set(), NORMAL_SEED) == "adding"
    assert choose_problem(UNIT, {"add": 0.6, "times": 0.6}, set(), NORMAL_SEED) == "sharing"


def test_solved_problems_are_skipped_until_all_are_solved():
    mastery = {"add": 0.1, "times": 0.9, "share": 0.9}
    assert choose_problem(UNIT, mastery, {"adding"}, NORMAL_SEED) == "mixed"
    everything = {p.id for p in UNIT.problems}
    assert choose_problem(UNIT, mastery, everything, NORMAL_SEED) == "adding"


def test_every_fourth_seed_reviews_a_mastered_skill():
    mastery = {"add": 0.97, "times": 0.3, "share": 0.99}
    assert [is_review_turn(s) for s in range(8)] == [False, False, False, True] * 2
    normal = {choose_problem(UNIT, mastery, set(), seed) for seed in range(40) if not is_review_turn(seed)}
    assert normal == {"times-easy"}
    reviews = [choose_problem(UNIT, mastery, set(), seed) for seed in range(40) if is_review_turn(seed)]
    assert set(reviews) == {"adding", "sharing"}  # only problems whose skills are all mastered
    assert len(reviews) == 40 // REVIEW_EVERY


def test_a_review_turn_without_mastered_skills_chooses_normally():
    mastery = {"add": 0.5, "times": 0.3, "share": 0.6}
    assert choose_problem(UNIT, mastery, set(), 3) == choose_problem(UNIT, mastery, set(), 0) == "times-easy"


def test_the_choice_is_deterministic():
    mastery = {"add": 0.97, "times": 0.3, "share": 0.99}
    for seed in range(12):
        assert choose_problem(UNIT, mastery, {"adding"}, seed) == choose_problem(UNIT, dict(mastery), {"adding"}, seed)
