"""Mastery in words, and marking progress when a skill reaches another level."""

from __future__ import annotations

import math

import pytest

from tutor_app.curriculum.schema import BKTParams
from tutor_app.engine.mastery import MASTERY_THRESHOLD, bkt_update
from tutor_app.engine.mastery_levels import LEVELS, level_changes, mastery_level


@pytest.mark.parametrize("p, words", [
    (0.0, "just starting"), (0.2, "just starting"), (0.3999, "just starting"),
    (0.4, "getting there"), (0.6, "getting there"), (0.6999, "getting there"),
    (0.7, "solid"), (0.89, "solid"), (0.9499, "solid"),
    (0.95, "mastered"), (0.98, "mastered"), (1.0, "mastered"),
])
def test_each_estimate_has_its_words(p, words):
    assert mastery_level(p).label == words


def test_levels_are_ordered_and_the_top_one_is_the_mastery_threshold():
    assert [level.id for level in LEVELS] == ["starting", "getting-there", "solid", "mastered"]
    assert [level.rank for level in LEVELS] == [0, 1, 2, 3]
    assert [level.floor for level in LEVELS] == sorted(level.floor for level in LEVELS)
    assert LEVELS[-1].floor == MASTERY_THRESHOLD


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, math.inf])
def test_a_value_that_is_not_a_probability_is_refused(bad):
    with pytest.raises(ValueError, match="between 0 and 1"):
        mastery_level(bad)


def test_with_default_parameters_each_right_first_attempt_climbs_one_level():
    p, reached = 0.2, [mastery_level(0.2).id]
    for _ in range(3):
        p = bkt_update(p, True, BKTParams())
        reached.append(mastery_level(p).id)
    assert reached == ["starting", "getting-there", "solid", "mastered"]


def test_a_crossing_is_reported_with_its_direction():
    before = {"undo-addition": 0.6, "undo-multiplication": 0.3, "check-solution": 0.98}
    after = {"undo-addition": 0.89, "undo-multiplication": 0.19, "check-solution": 0.87}
    changes = level_changes(before, after)
    assert [(c.skill_id, c.before.id, c.after.id, c.up) for c in changes] == [
        ("undo-addition", "getting-there", "solid", True),
        ("check-solution", "mastered", "solid", False),
    ]  # 0.3 -> 0.19 stays "just starting": no crossing
    assert changes[0].describe("Undo adding or subtracting") == "Undo adding or subtracting: solid"


def test_no_crossing_without_a_change_of_level_or_without_a_before_value():
    assert level_changes({"a": 0.41}, {"a": 0.69}) == []
    assert level_changes({}, {"a": 0.99}) == []
    assert [c.after.id for c in level_changes({"a": 0.2, "gone": 0.9}, {"a": 0.95})] == ["mastered"]
