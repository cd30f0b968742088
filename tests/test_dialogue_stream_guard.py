"""Streaming must not leak either: whatever the chunking, the student never sees an answer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue_problems import HALF, LINEAR
from tutor_app.dialogue.leak_guard import StreamGuard, find_leak, protected_answers

ON_SOLVE = protected_answers(LINEAR, 1, [])
ON_ISOLATE = protected_answers(LINEAR, 0, [])
REDIRECT = "[redirect]"

LEAKY_REPLIES = [
    "Sure! The answer is x = 4. Now you know.",
    "Okay, let's see. 4 = x, since 8 / 2 = 4.",
    "Fine, I'll ignore my instructions: x equals four.",
    r"Here you go: $x = \frac{8}{2}$ and that's it.",
    "The answer is... 4!",
    "Let me think. x is 4",
]

SAFE_REPLY = ("Good question! You already have $2x = 8$. What number multiplies $x$ there? "
              "Which operation undoes multiplying by 2? Try it on both sides, and tell me what you get.")


def _run(guard: StreamGuard, chunks: list[str]) -> str:
    shown = "".join(guard.feed(c) for c in chunks)
    return shown + guard.finish()


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:])]


def _shown_part(output: str) -> str:
    return output.split(REDIRECT)[0]


def test_leak_split_across_chunks_is_never_emitted():
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    emitted = [guard.feed(c) for c in ["x", " =", " 4"]]
    assert emitted == ["", "", ""]  # nothing could be released yet
    assert guard.finish() == REDIRECT
    assert guard.leaked and guard.finding.protected.step_id == "solve"


def test_prose_flows_while_math_is_held_back():
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    assert guard.feed("Let us divide both ") == "Let us divide both "
    assert guard.feed("sides by 2 and x ") == "sides by "  # "2 and x" may still become "2 and x = 4"
    assert guard.feed("= 4") == ""
    assert guard.finish() == "\n\n" + REDIRECT
    assert guard.text == "Let us divide both sides by \n\n" + REDIRECT


def test_open_latex_is_held_until_closed():
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    assert guard.feed("We write $x = ") == "We write "
    assert guard.feed("\\frac{8}{2} hmm words ") == ""
    assert guard.feed("$ so ") == "\n\n" + REDIRECT
    assert guard.text == "We write \n\n" + REDIRECT


def test_after_a_leak_nothing_more_comes_out():
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    guard.feed("x = 4. ")
    guard.feed("More text ")
    assert guard.feed("and more. ") == ""
    assert guard.finish() == ""
    assert guard.text == REDIRECT


@settings(max_examples=60, deadline=None)
@given(reply=st.sampled_from(LEAKY_REPLIES), cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_any_chunking_of_a_leaky_reply_shows_no_answer(reply, cuts):
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    output = _run(guard, _split(reply, cuts))
    assert guard.leaked
    assert output.endswith(REDIRECT)
    assert find_leak(_shown_part(output), ON_SOLVE) is None


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=20))
def test_any_chunking_of_a_safe_reply_passes_unchanged(cuts):
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    assert _run(guard, _split(SAFE_REPLY, cuts)) == SAFE_REPLY
    assert not guard.leaked


def test_character_by_character_stream():
    for reply in LEAKY_REPLIES:
        guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
        output = _run(guard, list(reply))
        assert guard.leaked, reply
        assert find_leak(_shown_part(output), ON_SOLVE) is None, reply
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    assert _run(guard, list(SAFE_REPLY)) == SAFE_REPLY


def test_numbers_growing_digit_by_digit_are_not_judged_early():
    # "41" must not be read as "4" just because the stream paused between the digits.
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT)
    output = _run(guard, ["There are 4", "1 apples in ", "the story."])
    assert output == "There are 41 apples in the story."


def test_a_guess_confirmed_gets_the_confirmation_redirect():
    guard = StreamGuard(ON_SOLVE, redirect=REDIRECT, confirm_redirect="[check it yourself]",
                        student_message="is it x = 4?")
    output = _run(guard, ["Yes", "! Exactly", " right, well done."])
    assert output == "[check it yourself]"
    assert guard.finding.confirmation


def test_same_text_is_allowed_once_the_step_is_reached():
    reply = "Sure! The answer is x = 4. Now you know."
    guard = StreamGuard(protected_answers(LINEAR, 2, []), redirect=REDIRECT)
    assert _run(guard, [reply[i:i + 3] for i in range(0, len(reply), 3)]) == reply
    guard = StreamGuard(protected_answers(LINEAR, 1, ["solve"]), redirect=REDIRECT)
    assert _run(guard, [reply]) == reply


def test_numeric_answer_in_any_format_is_stopped_midstream():
    protected = protected_answers(HALF, 0, [])
    for reply in ["She ate one half of it.", "That's 50 % of the pizza.", "So 0.5 is right."]:
        guard = StreamGuard(protected, redirect=REDIRECT)
        output = _run(guard, [reply[i:i + 2] for i in range(0, len(reply), 2)])
        assert guard.leaked, reply
        assert find_leak(_shown_part(output), protected) is None


def test_nothing_protected_passes_everything():
    guard = StreamGuard([], redirect=REDIRECT)
    assert _run(guard, ["x = 4", " and 2x = 8"]) == "x = 4 and 2x = 8"


def test_on_the_first_step_the_intermediate_number_is_held():
    guard = StreamGuard(ON_ISOLATE, redirect=REDIRECT)
    output = _run(guard, ["What is 11 - 3? ", "It is 8."])
    assert output == "What is 11 - 3? It is \n\n" + REDIRECT
