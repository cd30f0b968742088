"""The level rule as a plain function: it moves one step on a clear error rate, waits for enough
turns since the last change, needs real sentences to rise, and stays within A1..C2."""

from __future__ import annotations

import pytest

from tutor_app.language.levels import MIN_WORDS_TO_RISE, PROFILES, WINDOW, TurnOutcome, decide_level, shift

CLEAN = TurnOutcome(errors=0, words=8)
WRONG = TurnOutcome(errors=2, words=8)


@pytest.mark.parametrize("level, turns, expected", [
    ("A2", [WRONG, WRONG, WRONG, WRONG], "A1"),          # every message needed corrections
    ("A2", [WRONG, WRONG, CLEAN, WRONG], "A1"),          # three in four is still too many
    ("A2", [CLEAN, CLEAN, CLEAN, CLEAN], "B1"),          # none: time for something harder
    ("A2", [CLEAN, WRONG, CLEAN, CLEAN], "B1"),          # one slip in four is fine
    ("A2", [WRONG, CLEAN, WRONG, CLEAN], "A2"),          # half and half: stay
    ("B1", [WRONG, WRONG, WRONG], "B1"),                 # too few turns since the level was set
    ("A1", [WRONG] * 4, "A1"),                           # the floor
    ("C2", [CLEAN] * 4, "C2"),                           # the ceiling
    ("A2", [WRONG] * 6 + [CLEAN] * 4, "B1"),             # only the last four count
])
def test_the_level_follows_the_error_rate_of_the_last_turns(level, turns, expected):
    assert decide_level(level, turns).level == expected


def test_one_word_answers_do_not_raise_the_level():
    short = TurnOutcome(errors=0, words=MIN_WORDS_TO_RISE - 2)
    assert decide_level("A2", [short] * WINDOW).level == "A2"


def test_the_reason_says_what_happened_in_plain_words():
    down = decide_level("B1", [WRONG] * 4)
    assert down.changed and down.reason.startswith("Level A2:") and "4 of your last 4" in down.reason
    waiting = decide_level("B1", [CLEAN])
    assert not waiting.changed and "3 more messages" in waiting.reason
    up = decide_level("A1", [CLEAN] * 4)
    assert up.changed and "harder" in up.reason


def test_the_same_turns_always_give_the_same_level():
    turns = [CLEAN, WRONG, CLEAN, CLEAN]
    assert {decide_level("A2", turns) for _ in range(5)} == {decide_level("A2", turns)}


def test_shift_stays_within_the_cefr_scale():
    assert shift("A1", -1) == "A1" and shift("C2", 1) == "C2" and shift("B1", 1) == "B2" and shift("B1", -2) == "A1"


def test_each_level_is_at_least_as_permissive_as_the_one_below():
    order = list(PROFILES.values())
    for lower, higher in zip(order, order[1:]):
        assert (higher.min_zipf or 0) <= (lower.min_zipf or 0)
        assert higher.max_hard_share >= lower.max_hard_share
        assert (higher.max_sentence_words or 10**6) >= (lower.max_sentence_words or 10**6)
