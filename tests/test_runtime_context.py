"""Keeping conversations inside n_ctx: a pure function, driven here with a word counter."""

from __future__ import annotations

import pytest

from tutor_app.runtime.context import OMITTED_NOTE, fit_to_context


def words(text: str) -> int:
    return len(text.split())


def conversation(turns: int, words_per_message: int = 20, system: bool = True) -> list[dict]:
    msgs = [{"role": "system", "content": "You are a tutor. " * 5}] if system else []
    for i in range(turns):
        msgs.append({"role": "user", "content": f"question{i} " + "w " * (words_per_message - 1)})
        msgs.append({"role": "assistant", "content": f"answer{i} " + "w " * (words_per_message - 1)})
    msgs.append({"role": "user", "content": f"latest question {turns}"})
    return msgs


def fit(msgs, n_ctx=400, max_tokens=100):
    return fit_to_context(msgs, n_ctx=n_ctx, max_tokens=max_tokens, count_tokens=words, per_message_tokens=4)


def prompt_size(msgs) -> int:
    return sum(words(m["content"]) + 4 for m in msgs)


def test_short_conversation_is_untouched():
    msgs = conversation(2)
    fitted = fit(msgs)
    assert fitted.messages == msgs and fitted.dropped_messages == 0 and fitted.max_tokens == 100


def test_long_conversation_keeps_system_and_latest_turns_with_a_note():
    msgs = conversation(30)
    fitted = fit(msgs)
    out = fitted.messages
    assert prompt_size(out) + fitted.max_tokens <= 400
    assert out[0] == msgs[0]  # the system message stays first
    assert out[1] == {"role": "system", "content": OMITTED_NOTE}
    assert out[2]["role"] == "user"  # the kept part starts a turn
    assert out[-1] == msgs[-1]  # the student's latest message is always kept
    assert out[2:] == msgs[len(msgs) - len(out) + 2:]  # a contiguous tail, in order
    assert fitted.dropped_messages == len(msgs) - len(out) + 1


def test_without_system_message_the_note_comes_first():
    fitted = fit(conversation(30, system=False))
    assert fitted.messages[0]["content"] == OMITTED_NOTE and fitted.messages[1]["role"] == "user"


def test_deterministic():
    msgs = conversation(25)
    assert fit(msgs) == fit([dict(m) for m in msgs])


def test_cut_is_stable_between_turns_so_the_prompt_prefix_is_reused():
    """Once turns were dropped, the next turns keep the same cut until the window fills again:
    consecutive prompts then share their prefix (the KV state the backend reuses)."""
    cuts = []
    for extra in range(12):
        grown = conversation(12 + extra)
        fitted = fit(grown)
        assert prompt_size(fitted.messages) + fitted.max_tokens <= 400
        cuts.append(fitted.dropped_messages)
    changes = sum(1 for a, b in zip(cuts, cuts[1:]) if a != b)
    assert cuts == sorted(cuts)  # only ever drops more
    assert changes <= len(cuts) // 3, cuts  # re-cut rarely, not on every turn
    # between two re-cuts the older prompt is a prefix of the newer one (minus its last message)
    for extra in range(11):
        a, b = fit(conversation(12 + extra)), fit(conversation(13 + extra))
        if a.dropped_messages == b.dropped_messages:
            assert b.messages[:len(a.messages) - 1] == a.messages[:-1]
    assert cuts[0] > 0


def test_huge_latest_message_is_shortened_in_the_middle_and_never_fails():
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "START " + "blah " * 2000 + "END?"}]
    fitted = fit(msgs, n_ctx=300, max_tokens=100)
    assert fitted.truncated
    assert prompt_size(fitted.messages) + fitted.max_tokens <= 300
    text = fitted.messages[-1]["content"]
    assert text.startswith("START") and text.endswith("END?") and "…" in text


def test_reply_budget_shrinks_before_text_is_cut():
    msgs = [{"role": "user", "content": "w " * 250}]
    fitted = fit(msgs, n_ctx=300, max_tokens=200)
    assert not fitted.truncated and fitted.messages == msgs
    assert 32 <= fitted.max_tokens <= 300 - prompt_size(msgs)


@pytest.mark.parametrize("n_ctx", [8, 16, 64, 128])
def test_tiny_windows_still_return_something_usable(n_ctx):
    fitted = fit(conversation(10, words_per_message=50), n_ctx=n_ctx, max_tokens=64)
    assert fitted.max_tokens >= 1
    assert fitted.messages[-1]["role"] == "user"
