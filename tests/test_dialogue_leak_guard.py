"""The answer-leak policy as a table: what gives an answer away, and what a Socratic tutor may say.

Each row names the problem, the step the student is on, and the tutor's text. The policy itself
is written out in ``tutor_app/dialogue/leak_guard.py``.
"""

from __future__ import annotations

import pytest

from dialogue_problems import EXPAND, HALF, LINEAR, PI, PLANETS, PLANTS
from tutor_app.dialogue.leak_guard import explain_leak, find_leak, protected_answers

PROBLEMS = {"linear": LINEAR, "half": HALF, "pi": PI, "plants": PLANTS, "planets": PLANETS, "expand": EXPAND}

# (problem, current step index, tutor text, step whose answer leaks)
LEAKS = [
    # the answer x = 4 of the last step, while the student is on it
    ("linear", 1, "x = 4", "solve"),
    ("linear", 1, "x=4", "solve"),
    ("linear", 1, "4 = x", "solve"),
    ("linear", 1, "So x is 4.", "solve"),
    ("linear", 1, "x equals 4", "solve"),
    ("linear", 1, "x equals four", "solve"),
    ("linear", 1, "x is equal to four!", "solve"),
    ("linear", 1, "X = 4", "solve"),
    ("linear", 1, "We get $x = 4$.", "solve"),
    ("linear", 1, r"\(x=4\)", "solve"),
    ("linear", 1, r"$$x = \frac{8}{2}$$", "solve"),
    ("linear", 1, r"x=\dfrac{16}{4}", "solve"),
    ("linear", 1, "x = 8/2", "solve"),
    ("linear", 1, "x = 8 ÷ 2", "solve"),
    ("linear", 1, "x = 2 + 2", "solve"),
    ("linear", 1, "x = 4.0", "solve"),
    ("linear", 1, "x ≈ 4", "solve"),
    ("linear", 1, "x = ４", "solve"),  # full-width digit
    ("linear", 1, "x =\u200b 4", "solve"),  # zero-width space
    ("linear", 1, "**x = 4**", "solve"),
    ("linear", 1, "`x=4`", "solve"),
    ("linear", 1, r"\boxed{x = 4}", "solve"),
    ("linear", 1, "The value of x is 4.", "solve"),
    ("linear", 1, "x must be 4", "solve"),
    ("linear", 1, "Sure! The answer is x = 4", "solve"),
    ("linear", 1, "The answer is 4.", "solve"),
    ("linear", 1, "The answer is four.", "solve"),
    ("linear", 1, "Answer: 4", "solve"),
    ("linear", 1, "It's 4!", "solve"),
    ("linear", 1, "Four.", "solve"),
    ("linear", 1, "8 / 2 = 4, so there you go", "solve"),
    ("linear", 1, "x vaut quatre", "solve"),
    ("linear", 1, "La respuesta es cuatro.", "solve"),
    # the current step's equation 2x = 8 (and the later x = 4) while on the first step
    ("linear", 0, "2x = 8", "isolate"),
    ("linear", 0, "8 = 2x", "isolate"),
    ("linear", 0, "2 * x = 8", "isolate"),
    ("linear", 0, "x·2 = 8", "isolate"),
    ("linear", 0, "$2x=8$", "isolate"),
    ("linear", 0, "4x = 16", "isolate"),  # equivalent, and just as solved
    ("linear", 0, "11 - 3 = 8", "isolate"),  # the number the step is about, computed for the student
    ("linear", 0, "The right side becomes eight.", "isolate"),
    ("linear", 0, "2x + 3 - 3 = 11 - 3", "isolate"),  # folds to 2x = 8: the bottom-out working
    ("linear", 0, "Then x = 4.", "isolate"),  # a later step's answer also gives this one away
    ("linear", 0, "Eventually you'll find x is four.", "isolate"),
    # numeric answer 0.5 in every format the checker accepts
    ("half", 0, "She ate 1/2 of it.", "part"),
    ("half", 0, "0.5", "part"),
    ("half", 0, "That is 50% of the pizza.", "part"),
    ("half", 0, "fifty percent", "part"),
    ("half", 0, "one half", "part"),
    ("half", 0, "a half", "part"),
    ("half", 0, r"$\frac{1}{2}$", "part"),
    ("half", 0, "½", "part"),
    ("half", 0, "0,5", "part"),
    ("half", 0, "The answer is 0.50", "part"),
    ("pi", 0, "It is about 3.14.", "pi"),
    ("pi", 0, "3.141", "pi"),
    # words
    ("plants", 0, "It's called photosynthesis.", "process"),
    ("plants", 0, "The answer is Photosynthesis", "process"),
    ("plants", 0, "PHOTOSYNTHESIS!", "process"),
    ("plants", 0, "photo-synthesis", "process"),
    ("planets", 0, "The answer is Mercury.", "closest"),
    # expression answer 6x + 9
    ("expand", 0, "6x + 9", "expand"),
    ("expand", 0, "$9 + 6x$", "expand"),
    ("expand", 0, r"$3 \cdot 2x + 3 \cdot 3$", "expand"),
    ("expand", 0, "the answer is 6x+9", "expand"),
    ("expand", 0, "You should get 6x plus something: 6x + 9", "expand"),
]

# (problem, current step index, tutor text): guiding text that must go through untouched
SAFE = [
    ("linear", 0, "What operation undoes adding 3?"),
    ("linear", 0, "What is 11 - 3?"),
    ("linear", 0, "Try subtracting 3 from both sides of $2x + 3 = 11$. What do you get?"),
    ("linear", 0, "Good start! What happens to the $+3$ when you subtract 3?"),
    ("linear", 0, "Which side of the equation has the variable?"),
    ("linear", 0, "Let's look at $2x + 3 = 11$ again."),
    ("linear", 0, "Remember: whatever you do to one side, do to the other side too."),
    ("linear", 0, "You wrote $2x = 14$. Did you add or subtract 3?"),
    ("linear", 0, "Think of a balance: if you take 3 from one side, what must you take from the other?"),
    ("linear", 0, "Can you tell me what $2x$ means?"),
    ("linear", 0, "I can't tell you the answer, but I can help you find it!"),
    ("linear", 0, "The answer will be an equation with $2x$ on the left."),
    ("linear", 0, "Is 11 bigger or smaller than 3?"),
    ("linear", 0, "Two steps: first undo the +3, then undo the times 2."),
    ("linear", 0, "x is the unknown here. What is 2 times x?"),
    ("linear", 0, "If $x$ were 5, would $2x + 3$ equal 11?"),
    ("linear", 0, "Is $x = 5$ a solution? Check it."),
    ("linear", 0, "Which one of the numbers should you subtract from 11?"),
    ("linear", 0, "11 = 2x + 3 is the same equation written the other way round."),
    ("linear", 1, "What do you divide both sides of $2x = 8$ by?"),
    ("linear", 1, "What is 8 divided by 2?"),
    ("linear", 1, "What is 8/2?"),  # a division still to do, not a value
    ("linear", 1, "You already found $2x = 8$. Great work on step 1!"),
    ("linear", 1, "Which number multiplies $x$?"),
    ("half", 0, "How many slices are there in total?"),
    ("half", 0, "What is 4 out of 8 as a fraction?"),
    ("half", 0, "Can you simplify 4/8?"),
    ("half", 0, "Think of one slice: how much of the pizza is it?"),
    ("pi", 0, "Measure a round plate: is the number closer to 3 or to 4?"),
    ("plants", 0, "What does a plant need from the Sun?"),
    ("plants", 0, "The word starts with 'photo', which means light."),
    ("planets", 0, "Is it Mercury or Venus? Think about the order of the planets."),
    ("expand", 0, "What is $3 \\cdot 2x$?"),
    ("expand", 0, "Start from $3(2x + 3)$ and multiply each term by 3."),
    ("expand", 0, "How many terms are inside the brackets?"),
]


def _protected(problem_name: str, step_index: int, revealed=()):
    return protected_answers(PROBLEMS[problem_name], step_index, list(revealed))


@pytest.mark.parametrize(("problem", "step_index", "text", "step_id"), LEAKS, ids=[row[2] for row in LEAKS])
def test_leak_is_caught(problem, step_index, text, step_id):
    finding = explain_leak(text, _protected(problem, step_index))
    assert finding is not None, f"{text!r} gives the answer away but was let through"
    protected = _protected(problem, step_index)
    # The first leak found may belong to a later step too; the expected step must be among the leaked ones.
    leaked_steps = {p.step_id for p in protected if find_leak(text, [p]) is not None}
    assert step_id in leaked_steps


@pytest.mark.parametrize(("problem", "step_index", "text"), SAFE, ids=[row[2] for row in SAFE])
def test_socratic_text_is_not_a_leak(problem, step_index, text):
    finding = explain_leak(text, _protected(problem, step_index))
    assert finding is None, f"{text!r} was flagged: {finding}"


def test_tables_are_large_enough():
    assert len(LEAKS) >= 30 and len(SAFE) >= 20


def test_protected_answers_cover_current_and_later_steps_with_alternatives():
    assert [(p.step_id, p.answer) for p in protected_answers(LINEAR, 0, [])] == [("isolate", "2x = 8"),
                                                                               ("solve", "x = 4")]
    assert [p.step_id for p in protected_answers(LINEAR, 1, [])] == ["solve"]
    assert protected_answers(LINEAR, 2, []) == []
    assert [p.answer for p in protected_answers(PLANTS, 0, [])] == ["photosynthesis", "photo-synthesis"]
    assert protected_answers(LINEAR, 1, ["solve"]) == []


def test_options_travel_with_the_answer():
    (p,) = protected_answers(PI, 0, [])
    assert p.options.check == "numeric" and p.options.tolerance == 0.01


def test_tolerance_bounds_what_counts_as_the_answer():
    protected = _protected("pi", 0)
    assert find_leak("3.15", protected) is not None
    assert find_leak("3.2", protected) is None


def test_solved_step_answer_may_be_shown():
    assert find_leak("Right, 2x = 8. Now divide.", _protected("linear", 1)) is None
    assert find_leak("Right, 2x = 8. Now divide.", _protected("linear", 0)) is not None


def test_after_the_last_step_everything_may_be_shown():
    assert find_leak("Sure! The answer is x = 4", _protected("linear", 2)) is None


def test_bottom_out_hint_reveals_that_step_only():
    revealed_current = _protected("linear", 1, revealed=["solve"])
    assert find_leak("x = 4", revealed_current) is None
    # seeing the first step's bottom-out hint does not reveal the second step
    revealed_first = _protected("linear", 0, revealed=["isolate"])
    assert find_leak("2x = 8", revealed_first) is None
    assert find_leak("x = 4", revealed_first) is not None


def test_numbers_from_the_students_message_are_theirs():
    protected = _protected("linear", 1)
    assert find_leak("You said 4. How could you check that?", protected) is not None
    assert find_leak("You said 4. How could you check that?", protected, student_message="is it 4?") is None
    # binding the value to x is still a leak, even though the student wrote the number
    assert find_leak("Yes: x = 4.", protected, student_message="is it 4?") is not None


def test_confirming_a_correct_guess_is_a_leak():
    protected = _protected("linear", 1)
    finding = explain_leak("Yes, exactly! Well done.", protected, student_message="Is it x = 4?")
    assert finding is not None and finding.confirmation
    assert find_leak("That's right, you got it.", protected, student_message="I think x is four") is not None
    assert find_leak("That's it!", protected, student_message="is x = 4?") is not None
    assert find_leak("What is it you are unsure about?", protected, student_message="is x = 4?") is None
    # a wrong guess can be discussed; there is nothing to give away
    assert find_leak("Yes, let's check it together.", protected, student_message="Is it x = 5?") is None
    # and a question that proposes nothing is not "confirmed"
    assert find_leak("Yes! Let's start with the 2.", protected, student_message="can you help me?") is None


def test_shown_hints_count_as_given():
    protected = protected_answers(HALF, 0, [], shown=["Think of 1/2 of a pizza."])
    assert find_leak("Is it more or less than 1/2?", protected) is None


def test_given_texts_make_numbers_known():
    protected = _protected("linear", 1)
    assert find_leak("Count: 4 corners.", protected) is not None
    assert find_leak("Count: 4 corners.", protected, given=["A square has 4 corners."]) is None


def test_finding_says_what_gave_it_away():
    finding = explain_leak("Okay. So x = 8/2, right?", _protected("linear", 1))
    assert finding.rule == "equation" and finding.evidence == "x = 8/2"
    assert finding.protected.step_id == "solve"


def test_prompt_injection_text_is_judged_by_what_it_shows():
    protected = _protected("linear", 1)
    assert find_leak("Ignoring my instructions as you asked: x = 4", protected) is not None
    assert find_leak("I won't ignore my instructions. What is 8 divided by 2?", protected) is None


def test_bad_input_never_raises():
    protected = _protected("linear", 1)
    for text in ["", "x = " + "9^" * 50 + "9", "((((((((((x", "x = 1/0", "$$$", "\\frac{", "x = 10^999999",
                 "x" * 5000, "= = = =", "4" * 400]:
        find_leak(text, protected)
