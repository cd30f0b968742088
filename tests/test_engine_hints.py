"""The hint ladder: order, scaffold questions, the bottom-out hint and steps without hints."""

from __future__ import annotations

from tutor_app.curriculum.schema import Unit
from tutor_app.engine import feedback
from tutor_app.engine.progress import ProblemProgress, next_hint, submit_answer

UNIT = Unit.model_validate({
    "id": "u", "title": "U", "subject": "math",
    "skills": [{"id": "inverse-operations", "name": "Inverse operations"}],
    "problems": [
        {"id": "ladder", "statement": "Solve $2x + 3 = 11$.", "steps": [
            {"id": "isolate", "prompt": "Subtract 3 from both sides.", "answer": "2x = 8", "check": "equation",
             "skills": ["inverse-operations"],
             "hints": ["Which operation undoes + 3?",
                       {"scaffold": "What is 11 - 3?", "answer": "8", "check": "numeric"},
                       "2x + 3 - 3 = 11 - 3, so 2x = 8."]},
            {"id": "solve", "prompt": "Now find x.", "answer": "x = 4", "check": "equation",
             "skills": ["inverse-operations"]}]},
        {"id": "ends-in-scaffold", "statement": "s", "steps": [
            {"id": "only", "prompt": "What is 3 times 5?", "answer": "15", "check": "numeric",
             "skills": ["inverse-operations"],
             "hints": ["Count in threes.", {"scaffold": "What is 3 + 3 + 3 + 3 + 3?", "answer": "15",
                                            "check": "numeric"}]}]},
        {"id": "choose", "statement": "s", "steps": [
            {"id": "pick", "prompt": "Which is bigger, 1/4 or 1/8?", "answer": "1/4", "check": "choice",
             "choices": ["1/4", "1/8"], "skills": ["inverse-operations"]}]},
    ],
})
LADDER, ENDS_IN_SCAFFOLD, CHOOSE = UNIT.problems


def hints(problem, progress, n):
    outcomes = []
    for _ in range(n):
        outcome, progress = next_hint(problem, progress)
        outcomes.append(outcome)
    return outcomes, progress


def test_the_ladder_in_order_with_its_scaffold():
    (first, scaffold), progress = hints(LADDER, ProblemProgress(), 2)
    assert (first.level, first.text, first.scaffold, first.bottom_out) == (1, "Which operation undoes + 3?", False,
                                                                           False)
    assert (scaffold.level, scaffold.text, scaffold.scaffold, scaffold.bottom_out) == (2, "What is 11 - 3?", True,
                                                                                       False)
    assert progress.open_scaffold == 1

    # Until the scaffold question is answered, asking again repeats it.
    repeat, progress = next_hint(LADDER, progress)
    assert (repeat.level, repeat.text, repeat.scaffold, repeat.repeated) == (2, "What is 11 - 3?", True, True)

    answer, progress = submit_answer(UNIT, LADDER, progress, "8")
    assert (answer.scaffold, answer.verdict, answer.step_completed, answer.counted) == (True, "correct", False, False)
    assert progress.open_scaffold is None and progress.step_index == 0

    bottom, progress = next_hint(LADDER, progress)
    assert (bottom.level, bottom.bottom_out, bottom.scaffold) == (3, True, False)
    assert bottom.text == "2x + 3 - 3 = 11 - 3, so 2x = 8."
    again, progress = next_hint(LADDER, progress)
    assert (again.level, again.text, again.bottom_out, again.repeated) == (3, bottom.text, True, True)
    assert progress.bottom_out_seen == {"isolate"}


def test_only_the_bottom_out_hint_is_marked_as_showing_the_answer():
    outcomes, progress = hints(LADDER, ProblemProgress(), 2)
    _, progress = submit_answer(UNIT, LADDER, progress, "8")
    outcomes += hints(LADDER, progress, 1)[0]
    assert [o.bottom_out for o in outcomes] == [False, False, True]
    assert all("2x = 8" not in o.text for o in outcomes[:2])


def test_a_wrong_scaffold_answer_keeps_the_question_open_and_hides_its_answer():
    _, progress = hints(LADDER, ProblemProgress(), 2)
    wrong, progress = submit_answer(UNIT, LADDER, progress, "14")
    assert (wrong.scaffold, wrong.verdict, wrong.counted, wrong.observations) == (True, "incorrect", False, ())
    assert "What is 11 - 3?" in wrong.feedback and "8" not in wrong.feedback.replace("11 - 3", "")
    assert progress.open_scaffold == 1 and progress.attempts_at("isolate") == 0


def test_an_unreadable_scaffold_answer_points_back_to_the_question():
    _, progress = hints(LADDER, ProblemProgress(), 2)
    outcome, after = submit_answer(UNIT, LADDER, progress, "eleven minus three")
    assert (outcome.scaffold, outcome.verdict) == (True, "invalid")
    assert outcome.feedback.startswith("First answer the hint's question: What is 11 - 3?")
    assert after == progress


def test_after_two_misses_a_hint_request_moves_the_ladder_on():
    _, progress = hints(LADDER, ProblemProgress(), 2)
    _, progress = submit_answer(UNIT, LADDER, progress, "14")
    repeat, progress = next_hint(LADDER, progress)
    assert repeat.scaffold and repeat.repeated
    second_miss, progress = submit_answer(UNIT, LADDER, progress, "9")
    assert "ask for the next hint" in second_miss.feedback
    moved_on, progress = next_hint(LADDER, progress)
    assert (moved_on.level, moved_on.bottom_out) == (3, True) and progress.open_scaffold is None


def test_the_step_answer_is_accepted_while_a_scaffold_is_open():
    _, progress = hints(LADDER, ProblemProgress(), 2)
    outcome, progress = submit_answer(UNIT, LADDER, progress, "8 = 2x")
    assert (outcome.scaffold, outcome.verdict, outcome.next_step_id) == (False, "correct", "solve")
    assert progress.open_scaffold is None and progress.step_index == 1


def test_a_ladder_ending_in_a_scaffold_has_no_bottom_out():
    (first, scaffold), progress = hints(ENDS_IN_SCAFFOLD, ProblemProgress(), 2)
    assert scaffold.scaffold and not scaffold.bottom_out
    _, progress = submit_answer(UNIT, ENDS_IN_SCAFFOLD, progress, "15")  # answers the scaffold...
    assert progress.open_scaffold is None and not progress.done  # ...not the step
    past_end, progress = next_hint(ENDS_IN_SCAFFOLD, progress)
    assert past_end.text == feedback.LADDER_END_WITHOUT_ANSWER and not past_end.bottom_out
    assert progress.bottom_out_seen == frozenset()


def test_a_step_without_hints_gets_generic_nudges_never_the_answer():
    _, progress = submit_answer(UNIT, LADDER, ProblemProgress(), "2x = 8")
    outcomes, progress = hints(LADDER, progress, 3)
    assert [(o.level, o.generic, o.bottom_out, o.repeated) for o in outcomes] == [
        (1, True, False, False), (2, True, False, False), (2, True, False, True)]
    assert "Now find x." in outcomes[0].text
    assert "equation" in outcomes[1].text and outcomes[2].text == outcomes[1].text
    assert all("4" not in o.text for o in outcomes)
    assert progress.bottom_out_seen == frozenset()


def test_the_second_generic_nudge_fits_the_kind_of_answer():
    (first, second), _ = hints(CHOOSE, ProblemProgress(), 2)
    assert "Which is bigger, 1/4 or 1/8?" in first.text
    assert "Rule out the choices" in second.text


def test_hints_are_counted_per_step():
    _, progress = hints(LADDER, ProblemProgress(), 1)
    assert dict(progress.hints_shown) == {"isolate": 1}
    _, progress = submit_answer(UNIT, LADDER, progress, "2x = 8")
    _, progress = hints(LADDER, progress, 1)
    assert dict(progress.hints_shown) == {"isolate": 1, "solve": 1}
