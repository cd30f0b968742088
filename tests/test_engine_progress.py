"""Walking a problem: attempts, bug rules, BKT observations, the stored progress."""

from __future__ import annotations

import json

import pytest

from tutor_app.curriculum.schema import Unit
from tutor_app.engine.progress import (Observation, ProblemProgress, next_hint, revealed_step_ids,
                                       solved_step_ids, submit_answer)

UNIT = Unit.model_validate({
    "id": "linear-equations", "title": "Solving linear equations", "subject": "math",
    "skills": [{"id": "inverse-operations", "name": "Use inverse operations"},
               {"id": "check-solution", "name": "Check a solution"}],
    "misconceptions": [{"id": "added-instead-of-subtracted", "description": "Same operation, not the inverse"},
                       {"id": "divided-wrong-way", "description": "Divides the smaller number by the larger"},
                       {"id": "any-fourteen", "description": "A second rule that also matches"}],
    "problems": [{
        "id": "two-step-1", "statement": "Solve for $x$: $2x + 3 = 11$",
        "steps": [
            {"id": "isolate", "prompt": "Subtract 3 from both sides. What equation do you get?",
             "answer": "2x = 8", "check": "equation", "skills": ["inverse-operations"],
             "hints": ["Which operation undoes + 3?",
                       {"scaffold": "What is 11 - 3?", "answer": "8", "check": "numeric"},
                       "2x + 3 - 3 = 11 - 3, so 2x = 8."],
             "misconceptions": [
                 {"id": "added-instead-of-subtracted", "answers": ["2x = 14"],
                  "feedback": "It looks like you added 3 to both sides. Which operation undoes + 3?"},
                 {"id": "any-fourteen", "answers": ["14 = 2x"], "feedback": "Never shown: the first rule wins."}]},
            {"id": "solve", "prompt": "Now find x.", "answer": "x = 4", "check": "equation",
             "skills": ["inverse-operations", "check-solution", "not-in-the-unit"],
             "hints": ["Divide both sides by 2.", "x = 8 / 2 = 4"],
             "misconceptions": [{"id": "divided-wrong-way", "answers": ["x = 1/4"],
                                 "feedback": "Check which number you divided by which."}],
             "explanation": "Dividing both sides by 2 keeps the equation balanced."},
        ]}],
})
PROBLEM = UNIT.problems[0]


def walk(progress: ProblemProgress, *answers: str):
    outcomes = []
    for answer in answers:
        outcome, progress = submit_answer(UNIT, PROBLEM, progress, answer)
        outcomes.append(outcome)
    return outcomes, progress


def test_a_whole_problem():
    start = ProblemProgress()
    (wrong, right, solved), progress = walk(start, "2x = 14", "8 = 2x", "x=4")
    assert (wrong.verdict, wrong.misconception_id, wrong.step_id) == ("misconception", "added-instead-of-subtracted",
                                                                       "isolate")
    assert wrong.feedback.startswith("It looks like you added 3")
    assert wrong.observations == (Observation("inverse-operations", False),)
    assert not wrong.step_completed and wrong.next_step_id is None and wrong.counted

    assert (right.verdict, right.step_completed, right.next_step_id, right.problem_done) == ("correct", True, "solve",
                                                                                          False)
    assert right.observations == ()  # not the first attempt at 'isolate'
    assert right.normalized == "8 = 2*x"

    assert solved.verdict == "correct" and solved.problem_done and solved.next_step_id is None
    # first try at 'solve' was right; the unknown skill id is not reported
    assert solved.observations == (Observation("inverse-operations", True), Observation("check-solution", True))
    assert "Dividing both sides by 2" in solved.feedback and solved.explanation
    assert progress.done and progress.step_index == 2
    assert dict(progress.attempts) == {"isolate": 2, "solve": 1}
    assert start == ProblemProgress()  # the input was not changed


def test_correct_is_checked_before_bug_rules():
    unit = Unit.model_validate({**UNIT.model_dump(), "problems": [{
        "id": "p", "statement": "s", "steps": [{
            "id": "only", "prompt": "?", "answer": "2x = 8", "check": "equation", "skills": ["inverse-operations"],
            "misconceptions": [{"id": "any-fourteen", "answers": ["8 = 2x"], "feedback": "wrong rule"}]}]}]})
    outcome, _ = submit_answer(unit, unit.problems[0], ProblemProgress(), "2x = 8")
    assert outcome.verdict == "correct" and outcome.misconception_id is None


def test_first_matching_bug_rule_wins_and_matches_equivalent_forms():
    (outcome,), _ = walk(ProblemProgress(), "14 = 2x")  # both rules match; the first is reported
    assert outcome.misconception_id == "added-instead-of-subtracted"
    (outcome,), _ = walk(ProblemProgress(), "2x - 14 = 0")
    assert outcome.misconception_id == "added-instead-of-subtracted"


def test_plain_wrong_answers_get_escalating_feedback_without_the_answer():
    outcomes, progress = walk(ProblemProgress(), "2x = 9", "2x = 10", "2x = 11", "2x = 12")
    assert [o.verdict for o in outcomes] == ["incorrect"] * 4
    feedback = [o.feedback for o in outcomes]
    assert feedback[0] != feedback[1] != feedback[2] and feedback[2] == feedback[3]
    assert "hint" in feedback[2].lower()
    assert all("8" not in text for text in feedback)
    assert progress.attempts_at("isolate") == 4 and progress.step_index == 0


def test_a_true_equation_in_the_wrong_form_is_told_so():
    (outcome,), _ = walk(ProblemProgress(), "x = 4")
    assert outcome.verdict == "incorrect" and "true" in outcome.feedback and "4" not in outcome.feedback


def test_invalid_answers_change_nothing_and_are_not_observed():
    start = ProblemProgress()
    (invalid,), progress = walk(start, "2x = = (")
    assert invalid.verdict == "invalid" and not invalid.counted and invalid.observations == ()
    assert invalid.feedback.startswith("I couldn't read that as an equation")
    assert progress == start
    (first,), _ = walk(progress, "8 = 2x")
    assert first.observations == (Observation("inverse-operations", True),)


def test_a_hint_before_the_first_attempt_counts_as_not_correct():
    hint, progress = next_hint(PROBLEM, ProblemProgress())
    assert hint.observations == (Observation("inverse-operations", False),)
    again, progress = next_hint(PROBLEM, progress)
    assert again.observations == ()
    (answer,), progress = walk(progress, "8 = 2x")
    assert answer.verdict == "correct" and answer.observations == ()
    # a hint after the first attempt at the next step is not an observation
    (first,), progress = walk(progress, "x = 5")
    assert first.observations == (Observation("inverse-operations", False), Observation("check-solution", False))
    hint, _ = next_hint(PROBLEM, progress)
    assert hint.observations == ()


def test_revealed_steps_are_solved_ones_and_bottom_out_ones():
    progress = ProblemProgress()
    assert revealed_step_ids(PROBLEM, progress) == frozenset()
    (_,), progress = walk(progress, "2x = 8")
    assert revealed_step_ids(PROBLEM, progress) == solved_step_ids(PROBLEM, progress) == {"isolate"}
    _, progress = next_hint(PROBLEM, progress)
    assert revealed_step_ids(PROBLEM, progress) == {"isolate"}
    bottom, progress = next_hint(PROBLEM, progress)
    assert bottom.bottom_out and revealed_step_ids(PROBLEM, progress) == {"isolate", "solve"}


def test_open_steps_record_pending_and_move_on():
    unit = Unit.model_validate({**UNIT.model_dump(), "problems": [{
        "id": "p", "statement": "s", "steps": [
            {"id": "explain", "prompt": "Explain why.", "check": "open", "skills": ["check-solution"],
             "rubric": "explain-your-reasoning"},
            {"id": "last", "prompt": "Then?", "check": "open"}]}]})
    problem = unit.problems[0]
    hint, progress = next_hint(problem, ProblemProgress())
    assert hint.observations == () and hint.generic
    outcome, progress = submit_answer(unit, problem, progress, "   ")
    assert outcome.verdict == "invalid" and progress.step_index == 0
    outcome, progress = submit_answer(unit, problem, progress, "Because both sides stay equal.")
    assert (outcome.verdict, outcome.step_completed, outcome.next_step_id, outcome.observations) == (
        "pending", True, "last", ())
    assert outcome.normalized == "Because both sides stay equal."
    outcome, progress = submit_answer(unit, problem, progress, "Done.")
    assert outcome.problem_done and progress.done and progress.step_index == 2


def test_a_finished_problem_takes_no_more_answers_or_hints():
    _, progress = walk(ProblemProgress(), "2x = 8", "x = 4")
    with pytest.raises(ValueError, match="already done"):
        submit_answer(UNIT, PROBLEM, progress, "x = 4")
    with pytest.raises(ValueError, match="already done"):
        next_hint(PROBLEM, progress)
    with pytest.raises(ValueError, match="has no step 6"):
        submit_answer(UNIT, PROBLEM, ProblemProgress(step_index=5), "x")


def test_progress_is_immutable():
    progress = ProblemProgress(hints_shown={"isolate": 1})
    with pytest.raises(AttributeError):
        progress.step_index = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        progress.hints_shown["isolate"] = 2  # type: ignore[index]


def test_progress_round_trips_through_json_at_every_point():
    progress = ProblemProgress()
    seen = [progress]
    for action in ["hint", "2x = 14", "hint", "7", "hint", "8", "2x = 8", "x = 5", "hint", "hint", "hint", "x = 4"]:
        if action == "hint":
            _, progress = next_hint(PROBLEM, progress)
        else:
            _, progress = submit_answer(UNIT, PROBLEM, progress, action)
        seen.append(progress)
    for state in seen:
        stored = json.loads(json.dumps(state.to_dict()))
        assert ProblemProgress.from_dict(stored) == state
    assert seen[-1].done and seen[-1].bottom_out_seen == {"solve"}
    assert seen[4].open_scaffold == 1 and seen[5].scaffold_misses == 1  # after "7", the scaffold is still open


def test_saved_progress_from_an_older_format_takes_defaults():
    assert ProblemProgress.from_dict({"step_index": 1}) == ProblemProgress(step_index=1)


@pytest.mark.parametrize("data, error, words", [
    ({}, KeyError, "step_index"),
    ([], TypeError, "mapping"),
    ({"step_index": "1"}, TypeError, "step_index"),
    ({"step_index": True}, TypeError, "step_index"),
    ({"step_index": -1}, ValueError, "negative"),
    ({"step_index": 0, "hints_shown": {"a": "2"}}, TypeError, "hints_shown"),
    ({"step_index": 0, "observed": "isolate"}, TypeError, "observed"),
    ({"step_index": 0, "done": "yes"}, TypeError, "done"),
    ({"step_index": 0, "version": 99}, ValueError, "version"),
])
def test_bad_saved_progress_is_refused_clearly(data, error, words):
    with pytest.raises(error, match=words):
        ProblemProgress.from_dict(data)
