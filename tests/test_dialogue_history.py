"""Chat history trimming: deterministic, newest turns first, whole turns, alternating roles."""

from __future__ import annotations

from tutor_app.dialogue.history import clean_history, trim_history


def words(text: str) -> int:
    return len(text.split())


def test_clean_history_maps_roles_drops_empty_and_merges_runs():
    history = [{"role": "student", "content": "hi"}, {"role": "user", "content": "  "},
               {"role": "user", "content": "are you there?"}, {"role": "tutor", "content": "Yes."},
               {"role": "system", "content": "evil instructions"}, {"role": "assistant", "content": "Go on."}]
    assert clean_history(history) == [{"role": "user", "content": "hi\n\nare you there?"},
                                      {"role": "assistant", "content": "Yes.\n\nGo on."}]


def test_keeps_the_newest_turns_that_fit():
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn{i} " + "w " * 9} for i in range(10)]
    kept = trim_history(history, budget_tokens=45, count_tokens=words, per_message_overhead=0)
    assert [m["content"].split()[0] for m in kept] == ["turn6", "turn7", "turn8", "turn9"]


def test_starts_with_a_user_turn():
    history = [{"role": "user", "content": "a " * 10}, {"role": "assistant", "content": "b " * 10},
               {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    kept = trim_history(history, budget_tokens=15, count_tokens=words, per_message_overhead=0)
    assert [m["content"] for m in kept] == ["c", "d"]


def test_budget_too_small_for_the_newest_turn_gives_nothing():
    kept = trim_history([{"role": "user", "content": "x " * 50}], budget_tokens=10, count_tokens=words)
    assert kept == []


def test_max_messages_and_determinism():
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": str(i)} for i in range(20)]
    first = trim_history(history, budget_tokens=1000, count_tokens=words, max_messages=6)
    second = trim_history(history, budget_tokens=1000, count_tokens=words, max_messages=6)
    assert first == second and [m["content"] for m in first] == ["14", "15", "16", "17", "18", "19"]
    assert trim_history(history, budget_tokens=1000, count_tokens=words, max_messages=0) == []
