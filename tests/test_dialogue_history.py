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


def conversation(n: int, words: int = 1) -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i} " + "w " * (words - 1)}
            for i in range(n)]


def first_kept(history, **kwargs) -> str | None:
    kept = trim_history(history, count_tokens=words, per_message_overhead=0, **kwargs)
    return kept[0]["content"].split()[0] if kept else None


def test_old_turns_leave_in_chunks_so_the_kept_part_starts_at_the_same_message_turn_after_turn():
    starts = [first_kept(conversation(n), budget_tokens=1000, max_messages=12, drop_chunk=6) for n in range(2, 42, 2)]
    assert starts[:6] == ["m0"] * 6  # up to 12 messages: all of them
    changes = [i for i in range(1, len(starts)) if starts[i] != starts[i - 1]]
    assert changes == [6, 9, 12, 15, 18]  # every 3rd turn once full, not every turn
    for n in range(2, 42, 2):
        kept = trim_history(conversation(n), budget_tokens=1000, count_tokens=words, max_messages=12, drop_chunk=6)
        assert 6 < len(kept) <= 12 or n <= 12
    # the sliding window it replaces: a new first message on every turn once it is full
    sliding = [first_kept(conversation(n), budget_tokens=1000, max_messages=12) for n in range(14, 42, 2)]
    assert len(set(sliding)) == len(sliding)


def test_a_full_token_budget_also_drops_whole_chunks():
    starts = [first_kept(conversation(n, words=10), budget_tokens=100, drop_chunk=4) for n in range(2, 30, 2)]
    assert all(int(s[1:]) % 4 == 0 for s in starts)
    for n in range(2, 30, 2):
        kept = trim_history(conversation(n, words=10), budget_tokens=100, count_tokens=words,
                            per_message_overhead=0, drop_chunk=4)
        assert sum(words(m["content"]) for m in kept) <= 100 and kept[0]["role"] == "user"
