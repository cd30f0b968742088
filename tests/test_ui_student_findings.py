"""The student page's handlers on the app's real services (scripted model, SQLite file), for the
findings of issue 12 that live on the page: the answer box's example, the Problem list after
"Next problem", a hint asked past the bottom-out hint, an open answer shown as waiting and then
graded, and the teacher's switch for the model."""

from __future__ import annotations

import pytest

from tutor_app.checking import answers_equivalent
from tutor_app.checking.options import CheckOptions
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.ui import model_panel, student_view
from tutor_app.ui.chat_view import PlaceInLine

from assessment_support import enqueue_grading
from student_units import FINDINGS_ID, write_findings
from ui_harness import UNIT_ID, build_services

ANA = Actor(role="student", student="Ana")
TEACHER = Actor(role="teacher")


@pytest.fixture
def model() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def services(tmp_path, model):
    write_findings(tmp_path)
    services = build_services(tmp_path, model)
    assert services.library.errors == []
    yield services
    services.close()


def explicit(update) -> dict:
    return update.constructor_args


def placeholder_examples(updates) -> list[str]:
    text = explicit(updates["answer"])["placeholder"]
    return text.split("e.g. ", 1)[1].split(" or ") if "e.g. " in text else []


def test_the_answer_boxs_example_is_never_the_answer_of_this_step_or_a_later_one(services):
    started = student_view.start(services, ANA, "Ana", UNIT_ID, "two-step-1")
    examples = placeholder_examples(started)
    assert examples and explicit(started["answer"])["placeholder"].startswith("An equation, e.g. ")
    for example in examples:
        for answer in ("2x = 8", "x = 4"):
            assert not answers_equivalent(CheckOptions(check="equation"), answer, example), (example, answer)
    quarters = student_view.start(services, ANA, "Ana", FINDINGS_ID, "quarters")
    assert not any(answers_equivalent(CheckOptions(check="numeric"), "3/4", e) for e in placeholder_examples(quarters))
    assert placeholder_examples(quarters)  # still an example, just not the answer


def test_the_problem_list_shows_the_problem_that_next_problem_started(services):
    started = student_view.start(services, ANA, "Ana", UNIT_ID, "two-step-1")
    assert explicit(started["problem"])["value"] == "two-step-1"
    view = student_view.check_answer(services, ANA, started["view"], "2x = 8", None)["view"]
    view = student_view.check_answer(services, ANA, view, "x = 4", None)["view"]
    following = student_view.next_problem(services, ANA, view, UNIT_ID)
    assert following["view"].problem_id == "two-step-2"
    assert explicit(following["problem"])["value"] == "two-step-2"  # not the one picked before


def test_a_hint_past_the_bottom_out_hint_is_not_shown_twice(services):
    view = student_view.start(services, ANA, "Ana", UNIT_ID, "two-step-1")["view"]
    view = student_view.check_answer(services, ANA, view, "2x = 8", None)["view"]  # on to "solve": two hints
    for _ in range(4):
        shown = student_view.give_hint(services, ANA, view)
        view = shown["view"]
    assert [h.level for h in view.hints] == [1, 2]
    assert shown["hints_md"].count("Hint 2") == 1


def test_a_one_step_problem_says_step_not_steps(services):
    started = student_view.start(services, ANA, "Ana", FINDINGS_ID, "quarters")
    assert "0 of 1 step done" in started["progress_md"] and "steps" not in started["progress_md"]


def test_an_open_answer_is_shown_waiting_and_then_graded_when_the_poll_finds_the_grade(services, model):
    started = student_view.start(services, ANA, "Ana", FINDINGS_ID, "pendulum")
    assert explicit(started["answer"])["elem_classes"] == ["written-answer-box"]  # sentences, not a code font
    model_busy = services.model.waiting
    services.model.waiting = lambda: 1  # the model is busy: the answer waits for the teacher
    try:
        done = student_view.check_answer(services, ANA, started["view"],
                                         "The energy is transferred to the air by air resistance.", None)
    finally:
        services.model.waiting = model_busy
    assert "Problem finished" in done["step_md"] and "Problem solved" not in done["step_md"]
    assert "waiting for your teacher or the tutor" in done["progress_md"] and "✓" not in done["progress_md"]
    assert explicit(done["poll"])["active"] is True  # the page looks for the grade
    assert student_view.late_news(services, ANA, done["view"]) == {}  # nothing yet: nothing redrawn

    # the teacher grades it from the Review page: the model grades the waiting answers
    enqueue_grading(model, 2)
    rows = services.assessment.grade_waiting(TEACHER, "pendulum-rubric")
    assert [r.status for r in rows] == ["graded"]
    news = student_view.late_news(services, ANA, done["view"])
    assert "Graded: 2 of 2 points" in news["progress_md"] and "waiting for" not in news["progress_md"]
    assert "Rubric feedback: 2 of 2 points" in news["feedback_md"] and "Read and graded" in news["feedback_md"]
    assert news["view"].mastery["explaining"] > done["view"].mastery.get("explaining", 0.2)
    assert explicit(news["poll"])["active"] is False  # nothing left to wait for


def test_the_teachers_switch_turns_the_chat_off_for_a_unit_and_the_page_says_so(services):
    class_off, units_off, note = model_panel.set_switches(services, TEACHER, False, [UNIT_ID])
    assert explicit(units_off)["value"] == [UNIT_ID] and "off for: Two-step equations" in note
    started = student_view.start(services, ANA, "Ana", UNIT_ID, "two-step-1")
    assert "your teacher turned it off" in started["model_line"]
    with pytest.raises(Exception, match="turned the tutor chat off"):
        services.tutor.store_question(ANA, started["view"].session_id, "help")
    other = student_view.start(services, ANA, "Ana", FINDINGS_ID, "quarters")
    assert "turned it off" not in other["model_line"]
    with pytest.raises(Exception, match="Only the teacher"):
        model_panel.set_switches(services, ANA, True, [])


def test_a_students_own_background_work_is_not_a_student_ahead():
    class Line:
        parallel = 1  # one model place

        def waiting(self):
            return 1  # only this student's own diagnosis is with the model
    assert PlaceInLine(Line(), own=lambda: 1).ahead == 0
    assert PlaceInLine(Line()).ahead == 1  # someone else's call is
