"""The student page's state folding (ProblemView) and its Markdown, as plain functions."""

from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tutor_app.curriculum.schema import Problem
from tutor_app.engine.mastery_levels import LEVELS
from tutor_app.tutoring.shapes import HintResult, StartSessionResult, SubmitAnswerResult
from tutor_app.ui import render
from tutor_app.ui.mastery_chart import LEVEL_COLOURS, mastery_chart_html, mastery_key_html, mastery_rows, rising
from tutor_app.ui.problem_view import AnswerForm, StepForms, apply_answer, apply_hint, replay, view_from_start
from tutor_app.ui.session_history import answer_forms

STEPS = [("isolate", "Subtract 3 from both sides."), ("solve", "Now find $x$.")]


def start() -> StartSessionResult:
    return StartSessionResult(session_id="s1", curriculum_id="lin", problem_id="p1", statement="Solve $2x+3=11$",
                              step_id="isolate", step_prompt=STEPS[0][1])


def fresh():
    return view_from_start(start(), student="Ana", step_ids=[s for s, _ in STEPS], problem_title="Two-step")


def wrong(verdict="misconception", feedback="You added 3.", mid="added-instead"):
    return SubmitAnswerResult(verdict=verdict, misconception_id=mid, feedback=feedback)


def right(next_id="solve", next_prompt=STEPS[1][1], done=False):
    return SubmitAnswerResult(verdict="correct", feedback="Yes.", next_step_id=next_id, next_step_prompt=next_prompt,
                              problem_done=done, mastery={"inverse": 0.6})


def test_a_wrong_answer_stays_on_the_step_and_becomes_the_latest_feedback():
    view = apply_answer(fresh(), "2x = 14", wrong())
    assert view.step_id == "isolate" and view.step_number == 1
    assert view.last.verdict == "misconception" and view.attempts == (view.last,)
    html = render.feedback_markdown(view)
    assert "verdict-misconception latest" in html and "You added 3." in html and "2x = 14" in html


def test_a_correct_answer_moves_on_and_records_the_done_step():
    view = apply_answer(apply_answer(fresh(), "2x = 14", wrong()), "2x = 8", right())
    assert view.step_id == "solve" and view.step_number == 2 and view.steps_total == 2
    assert [d.answer for d in view.done_steps] == ["2x = 8"]
    assert view.attempts == () and view.hints == ()  # the new step starts clean
    assert view.last.verdict == "correct"  # but the verdict stays visible across the change
    assert view.mastery == {"inverse": 0.6}
    progress = render.progress_markdown(view)
    assert progress.count("done-step") == 1 and "1 of 2 steps done" in progress
    assert "Step 2 of 2" in render.step_markdown(view)


def test_the_last_correct_answer_finishes_the_problem():
    view = apply_answer(fresh(), "2x = 8", right())
    view = apply_answer(view, "x = 4", right(next_id=None, next_prompt=None, done=True))
    assert view.problem_done and view.step_id is None
    assert len(view.done_steps) == 2
    assert "Problem solved" in render.step_markdown(view)
    assert "2 of 2 steps done" in render.progress_markdown(view)


def test_a_scaffold_hint_opens_a_sub_question_that_a_correct_answer_closes():
    view = apply_hint(fresh(), HintResult(level=1, text="Which operation undoes +3?", bottom_out=False, scaffold=False))
    assert view.scaffold_question is None
    view = apply_hint(view, HintResult(level=2, text="What is 11 - 3?", bottom_out=False, scaffold=True))
    assert view.scaffold_question == "What is 11 - 3?"
    assert "What is 11 - 3?" in render.scaffold_markdown(view)
    still_open = apply_answer(view, "7", SubmitAnswerResult(verdict="incorrect", feedback="Try again.", scaffold=True))
    assert still_open.scaffold_question == "What is 11 - 3?" and still_open.step_id == "isolate"
    closed = apply_answer(still_open, "8", SubmitAnswerResult(verdict="correct", feedback="Right.", scaffold=True))
    assert closed.scaffold_question is None and closed.step_id == "isolate" and closed.done_steps == ()
    assert render.scaffold_markdown(closed) == ""
    assert "(sub-question)" in render.feedback_markdown(closed)


def test_hints_are_listed_in_order_with_the_bottom_out_marked():
    view = fresh()
    for level, bottom in ((1, False), (2, True)):
        view = apply_hint(view, HintResult(level=level, text=f"hint {level}", bottom_out=bottom, scaffold=False))
    text = render.hints_markdown(view)
    assert text.index("Hint 1") < text.index("Hint 2")
    assert text.count("bottom-out") == 1 and "worked step" in text


def test_what_a_student_typed_is_escaped_but_teacher_markdown_is_kept():
    view = apply_answer(fresh(), "<img src=x onerror=alert(1)>", wrong(verdict="incorrect", feedback="**Check** $x$"))
    html = render.feedback_markdown(view)
    assert "<img" not in html and "&lt;img" in html
    assert "**Check** $x$" in html


def test_before_any_problem_the_page_welcomes_and_shows_nothing_else():
    assert "Start" in render.problem_markdown(None)
    assert render.progress_markdown(None) == render.step_markdown(None) == render.feedback_markdown(None) == ""


def test_the_mastery_chart_lists_every_skill_in_words_and_marks_the_mastered_ones():
    rows = mastery_rows({"a": 0.97, "c": 0.5999999999}, {"a": "Alpha", "b": "Beta", "c": "Gamma"})
    assert [(r.name, r.percent, r.level.label) for r in rows] == [
        ("Alpha", 97, "mastered"), ("Beta", 0, "just starting"), ("Gamma", 60, "getting there")]
    chart = mastery_chart_html(rows)
    assert "Alpha ✓" in chart and "Beta ✓" not in chart
    assert "<b>97%</b> mastered" in chart and "<b>0%</b> just starting" in chart and "<b>60%</b> getting there" in chart
    # each bar is drawn from the number printed beside it, in its level's colour
    assert re.findall(r'data-percent="(\d+)"', chart) == ["97", "0", "60"]
    assert re.findall(r'data-share="([0-9.]+)"', chart) == ["0.9700", "0.0000", "0.6000"]
    assert re.findall(r'fill:(#[0-9a-f]{6})', chart) == [LEVEL_COLOURS["mastered"], LEVEL_COLOURS["starting"],
                                                         LEVEL_COLOURS["getting-there"]]
    key = mastery_key_html()  # the key names the same colours and words
    for level in LEVELS:
        assert f"background:{LEVEL_COLOURS[level.id]}\"></span>{level.label}" in key


def test_a_skill_that_climbs_a_level_is_marked_as_progress():
    assert [c.skill_id for c in rising({"a": 0.3, "b": 0.9, "c": 0.2}, {"a": 0.6, "b": 0.6, "c": 0.3})] == ["a"]
    chart = mastery_chart_html(mastery_rows({"a": 0.6, "b": 0.6}, {"a": "Alpha", "b": "Beta"}, reached=["a"]))
    assert "Progress! Alpha is now <b>getting there</b>." in chart
    assert chart.count("new level: getting there") == 1 and 'class="mastery-row level-getting-there reached"' in chart
    assert "Progress!" not in mastery_chart_html(mastery_rows({"a": 0.6}, {"a": "Alpha"}))


@dataclass
class Att:
    step_id: str
    answer: str
    verdict: str
    misconception_id: str | None
    feedback: str | None
    scaffold: bool
    created_at: datetime


@dataclass
class Hint:
    step_id: str
    level: int
    text: str
    bottom_out: bool
    scaffold: bool
    created_at: datetime


def test_replay_rebuilds_a_resumed_session_from_its_records():
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    events = [
        Att("isolate", "2x = 14", "misconception", "added-instead", "You added 3.", False, t0),
        Hint("isolate", 1, "What is 11 - 3?", False, True, t0 + timedelta(seconds=1)),
        Att("isolate", "8", "correct", None, "Right.", True, t0 + timedelta(seconds=2)),
        Att("isolate", "2x = 8", "correct", None, "Yes.", False, t0 + timedelta(seconds=3)),
        Hint("solve", 1, "Divide both sides by 2.", False, False, t0 + timedelta(seconds=4)),
    ]
    resumed = StartSessionResult(session_id="s1", curriculum_id="lin", problem_id="p1", statement="Solve",
                                 step_id="solve", step_prompt=STEPS[1][1])
    view = replay(resumed, student="Ana", steps=STEPS, problem_title="Two-step", events=events,
                  mastery={"inverse": 0.5})
    assert view.step_id == "solve" and view.step_prompt == STEPS[1][1]
    assert [(d.step_id, d.answer) for d in view.done_steps] == [("isolate", "2x = 8")]
    assert [h.text for h in view.hints] == ["Divide both sides by 2."]
    assert view.scaffold_question is None and view.mastery == {"inverse": 0.5}


def test_replay_that_disagrees_with_the_stored_step_starts_clean_at_that_step():
    resumed = StartSessionResult(session_id="s1", curriculum_id="lin", problem_id="p1", statement="Solve",
                                 step_id="solve", step_prompt=STEPS[1][1])
    view = replay(resumed, student="Ana", steps=STEPS, problem_title="", events=[], mastery={})
    assert view.step_id == "solve" and view.done_steps == () and view.attempts == ()


def test_an_open_step_moves_on_with_a_pending_verdict_because_the_service_says_so():
    pending = SubmitAnswerResult(verdict="pending", feedback="Saved for your teacher.", next_step_id="solve",
                                 next_step_prompt=STEPS[1][1])
    view = apply_answer(fresh(), "Because energy is transferred...", pending)
    assert view.step_id == "solve" and view.done_steps[0].answer.startswith("Because")
    assert "Saved for the teacher" in render.feedback_markdown(view)


def test_the_answer_form_follows_the_step_and_an_open_scaffold_question():
    forms = {"isolate": StepForms(step=AnswerForm("choice", ("2x = 8", "2x = 14")),
                                  hints=(None, AnswerForm("numeric"))),
             "solve": StepForms(step=AnswerForm("open"))}
    view = view_from_start(start(), student="Ana", step_ids=["isolate", "solve"], forms=forms)
    assert view.answer_form.picks and view.answer_form.choices == ("2x = 8", "2x = 14")
    view = apply_hint(view, HintResult(level=1, text="Think.", bottom_out=False, scaffold=False))
    assert view.answer_form.picks  # a plain hint asks nothing
    view = apply_hint(view, HintResult(level=2, text="What is 11 - 3?", bottom_out=False, scaffold=True))
    assert view.answer_form == AnswerForm("numeric") and not view.answer_form.picks
    view = apply_answer(view, "8", SubmitAnswerResult(verdict="correct", feedback="Yes.", scaffold=True))
    assert view.answer_form.picks  # back to the step's choices
    view = apply_answer(view, "2x = 8", right())
    assert view.answer_form.check == "open"


def test_answer_forms_come_from_the_steps_and_their_scaffold_hints():
    problem = Problem.model_validate({
        "id": "p", "statement": "s",
        "steps": [{"id": "a", "prompt": "Pick", "answer": "b", "check": "choice", "choices": ["a", "b"],
                   "hints": ["look", {"scaffold": "Which is bigger, 2 or 3?", "answer": "3", "check": "choice",
                                      "choices": ["2", "3"]}]},
                  {"id": "b", "prompt": "Explain", "check": "open"}]})
    forms = answer_forms(problem)
    assert forms["a"].step == AnswerForm("choice", ("a", "b"))
    assert forms["a"].hints == (None, AnswerForm("choice", ("2", "3")))
    assert forms["b"].step.check == "open"
