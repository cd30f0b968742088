"""Answers to ``open`` steps: committed as ``pending`` and answered at once, then graded with the
step's rubric in the background when the model is free (the student reads per-criterion
feedback when it arrives, and only then does mastery move), or kept for the teacher to grade
later when it is not. Real curriculum files, real SQLite, the scripted model."""

from __future__ import annotations

import textwrap
import threading

import pytest

from tutor_app.assessment.service import AssessmentService
from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.engine.feedback import PENDING_DONE
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelInfo
from tutor_app.service.actor import Actor
from tutor_app.service.errors import TutorError
from tutor_app.storage.database import Database
from tutor_app.tutoring.service import MAX_ANSWER_CHARS, TutorService
from tutor_app.tutoring.store import TutoringStore

from assessment_support import enqueue_grading, grading_reply, json_calls

ADA = Actor(role="student", student="Ada")
TEACHER = Actor(role="teacher")
STEP_PROMPT = "Explain in two sentences why it is warmer in summer."
ANSWER = "The axis of the Earth is tilted. In summer our half leans toward the sun, so sunlight is more direct."

UNIT = textwrap.dedent(f"""\
    id: seasons
    title: Seasons
    subject: science
    language: en
    skills:
      - id: explain
        name: Explain the seasons
    problems:
      - id: why
        statement: "Why is it warmer in summer than in winter?"
        steps:
          - id: tilt
            prompt: "What part of the Earth is tilted? (one word)"
            answer: axis
            check: text
            skills: [explain]
          - id: explain
            prompt: "{STEP_PROMPT}"
            check: open
            skills: [explain]
            rubric: short-answer
    """)

RUBRIC = textwrap.dedent("""\
    kind: rubric
    id: short-answer
    title: Short answer
    subject: science
    criteria:
      - id: accuracy
        name: Accuracy
        weight: 2
        levels:
          - {score: 0, description: wrong}
          - {score: 1, description: partly right}
          - {score: 2, description: right}
      - id: clarity
        name: Clarity
        levels:
          - {score: 0, description: unclear}
          - {score: 2, description: clear}
    """)


def half_marks(name: str, _text: str, allowed: list[int]) -> int:
    return 1 if name == "Accuracy" else max(allowed)


class BusyModel(ScriptedBackend):
    """Students are waiting in the model's line until ``busy`` is cleared."""

    busy = True

    def waiting(self) -> int:
        return 3 if self.busy else 0


class UnavailableModel(ScriptedBackend):
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="none", backend="unavailable", available=False, problem="no model file")


@pytest.fixture
def library(tmp_path):
    (tmp_path / "seasons.yaml").write_text(UNIT, encoding="utf-8")
    (tmp_path / "short-answer.yaml").write_text(RUBRIC, encoding="utf-8")
    library = CurriculumLibrary(tmp_path)
    library.reload()
    assert library.errors == []
    return library


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request):
    db = Database("sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url"))
    yield TutoringStore(db)
    db.close()


def services(store, library, model, **kw) -> tuple[TutorService, AssessmentService]:
    assessment = AssessmentService(db=store.db, library=library, model=model, prompts=PromptLibrary())
    tutor = TutorService(db=store.db, library=library, model=model, prompts=PromptLibrary(), seed_source=lambda: 7,
                         assessment=assessment, **kw)
    return tutor, assessment


def at_open_step(tutor: TutorService) -> str:
    sid = tutor.start_session(ADA, "Ada", "seasons", "why").session_id
    assert tutor.submit_answer(ADA, sid, "axis").next_step_id == "explain"
    return sid


def test_an_open_answer_is_graded_and_the_student_reads_the_rubric_feedback(store, library, scripted_model):
    tutor, assessment = services(store, library, scripted_model)
    sid = at_open_step(tutor)
    release = threading.Event()  # the grader waits until the test has read mastery before the grade
    first = grading_reply(half_marks)
    scripted_model.enqueue_json(lambda messages, schema: release.wait(10) and first(messages, schema))
    enqueue_grading(scripted_model, 2, half_marks)
    before_answer = tutor.mastery(ADA, "Ada", "seasons")
    result = tutor.submit_answer(ADA, sid, ANSWER)

    # at once: saved and waiting, the step moved on, mastery untouched by an answer nobody has judged
    assert result.verdict == "pending" and result.problem_done  # the teacher confirms; the step moved on
    assert result.feedback == PENDING_DONE and "That was the last step." in result.feedback
    before = tutor.mastery(ADA, "Ada", "seasons")
    assert before["explain"] == before_answer["explain"]
    release.set()
    assert tutor.background.wait(30)
    graded = store.attempts(session_id=sid)[-1]
    assert "Rubric feedback: 4 of 6 points" in graded.feedback
    assert '**Accuracy** 1/2: The student writes "The axis of the".' in graded.feedback.replace("&quot;", '"')
    assert "**Clarity** 2/2" in graded.feedback
    assert "**Next steps**" in graded.feedback and "- Add one more piece of evidence." in graded.feedback
    # The grader saw the step's prompt as the task (the rubric file has none) and Ada's text.
    assert STEP_PROMPT in json_calls(scripted_model)[0].messages[0]["content"]

    attempts = store.attempts(session_id=sid)
    assert [a.verdict for a in attempts] == ["correct", "pending"]
    assert (graded.graded_by, graded.grade_share) == ("model", 4 / 6)  # a resumed page and the transcript show it
    assert tutor.mastery(ADA, "Ada", "seasons")["explain"] > before["explain"]  # the grade is the observation
    (row,) = assessment.list_grades(TEACHER, "short-answer")
    assert (row.student, row.source, row.graded, row.total) == ("Ada", "seasons/why/explain", True, 4)
    tutor.close()


def test_a_students_markup_quoted_back_by_the_model_is_escaped(store, library, scripted_model):
    tutor, _ = services(store, library, scripted_model)
    sid = at_open_step(tutor)
    enqueue_grading(scripted_model, 3)
    tutor.submit_answer(ADA, sid, "<img src=x onerror=alert(1)> the axis is tilted toward the sun")
    assert tutor.background.wait(30)
    feedback = store.attempts(session_id=sid)[-1].feedback
    assert "<img" not in feedback and "&lt;img" in feedback
    tutor.close()


@pytest.mark.parametrize("model_class", [BusyModel, UnavailableModel])
def test_a_busy_or_missing_model_leaves_the_answer_pending_for_the_teacher(store, library, model_class):
    model = model_class()
    tutor, assessment = services(store, library, model)
    sid = at_open_step(tutor)
    result = tutor.submit_answer(ADA, sid, ANSWER)
    assert (result.verdict, result.feedback) == ("pending", PENDING_DONE)  # at once, without the model
    assert model.calls == []
    (row,) = assessment.list_grades(TEACHER, "short-answer")
    assert (row.student, row.graded) == ("Ada", False)  # waiting in the teacher's review list
    tutor.close()


def test_the_teacher_grades_the_waiting_answers_later_with_the_steps_task(store, library):
    model = BusyModel()
    tutor, assessment = services(store, library, model)
    sid = at_open_step(tutor)
    tutor.submit_answer(ADA, sid, ANSWER)
    before = tutor.mastery(ADA, "Ada", "seasons")
    model.busy = False
    enqueue_grading(model, 3, half_marks)
    seen = []
    rows = assessment.grade_waiting(TEACHER, "short-answer", on_progress=lambda *a: seen.append(a))
    assert [(r.student, r.status) for r in rows] == [("Ada", "graded")] and seen == [(1, 1, "Ada")]
    assert STEP_PROMPT in json_calls(model)[0].messages[0]["content"]
    (row,) = assessment.list_grades(TEACHER, "short-answer")
    assert (row.graded, row.total) == (True, 4)
    assert assessment.grade_waiting(TEACHER, "short-answer") == []  # nothing left
    # the grade reaches the student's attempt, and it is the step's observation
    attempt = store.attempts(session_id=sid)[-1]
    assert attempt.graded_by == "model" and "Rubric feedback: 4 of 6 points" in attempt.feedback
    assert tutor.mastery(ADA, "Ada", "seasons")["explain"] > before["explain"]
    tutor.close()


def test_waiting_answers_stay_waiting_while_there_is_no_model(store, library):
    tutor, assessment = services(store, library, UnavailableModel())
    tutor.submit_answer(ADA, at_open_step(tutor), ANSWER)
    (row,) = assessment.grade_waiting(TEACHER, "short-answer")
    assert row.status == "not graded" and "no model" in row.error
    tutor.close()


def test_a_failing_grader_keeps_the_checkers_reply(store, library, scripted_model, caplog):
    tutor, assessment = services(store, library, scripted_model)
    sid = at_open_step(tutor)
    result = tutor.submit_answer(ADA, sid, ANSWER)  # no reply scripted: the model call fails
    assert (result.verdict, result.feedback) == ("pending", PENDING_DONE)
    assert tutor.background.wait(30)
    assert store.attempts(session_id=sid)[-1].verdict == "pending"
    assert store.attempts(session_id=sid)[-1].waiting  # still waiting for the teacher
    assert [r.graded for r in assessment.list_grades(TEACHER, "short-answer")] == [False]
    assert "grading an open answer failed" in caplog.text
    tutor.close()


def test_a_slow_grade_is_not_waited_for_and_arrives_for_the_teacher(store, library, scripted_model):
    tutor, assessment = services(store, library, scripted_model)
    sid = at_open_step(tutor)
    release = threading.Event()
    reply = grading_reply()

    def slow(messages, schema):
        release.wait(10)  # the grader is still on the first criterion when the budget runs out
        return reply(messages, schema)

    scripted_model.enqueue_json(slow)
    enqueue_grading(scripted_model, 2)
    result = tutor.submit_answer(ADA, sid, ANSWER)
    assert (result.verdict, result.feedback) == ("pending", PENDING_DONE)
    release.set()
    tutor.close()  # waits for the late grade
    (row,) = assessment.list_grades(TEACHER, "short-answer")
    assert row.graded and row.total == 6
    assert "Rubric feedback: 6 of 6 points" in store.attempts(session_id=sid)[-1].feedback


def test_open_answers_may_be_paragraphs_but_short_answers_stay_short(store, library):
    tutor, _ = services(store, library, BusyModel())
    sid = tutor.start_session(ADA, "Ada", "seasons", "why").session_id
    with pytest.raises(TutorError, match="too long"):
        tutor.submit_answer(ADA, sid, "axis " * (MAX_ANSWER_CHARS // 4))
    tutor.submit_answer(ADA, sid, "axis")
    long_answer = " ".join([ANSWER] * 12)
    assert len(long_answer) > MAX_ANSWER_CHARS
    assert tutor.submit_answer(ADA, sid, long_answer).verdict == "pending"
    tutor.close()


PARAMETRIC_UNIT = textwrap.dedent("""\
    id: rectangles
    title: Rectangles
    subject: math
    language: en
    skills:
      - id: explain
        name: Explain area
    problems:
      - id: garden
        statement: "A garden is {w} m wide and {h} m long."
        params:
          w: {range: [3, 9]}
          h: {range: [11, 19]}
        steps:
          - id: why
            prompt: "Explain why the area of the {w} m by {h} m garden is found by multiplying."
            check: open
            skills: [explain]
            rubric: short-answer
    """)


def test_the_grader_sees_the_open_step_with_the_students_own_numbers(tmp_path, store, scripted_model):
    (tmp_path / "rectangles.yaml").write_text(PARAMETRIC_UNIT, encoding="utf-8")
    (tmp_path / "short-answer.yaml").write_text(RUBRIC, encoding="utf-8")
    library = CurriculumLibrary(tmp_path)
    library.reload()
    assert library.errors == []
    tutor, _ = services(store, library, scripted_model)
    started = tutor.start_session(ADA, "Ada", "rectangles", "garden")
    enqueue_grading(scripted_model, 3)
    tutor.submit_answer(ADA, started.session_id, "Area counts the unit squares: rows times columns.")
    assert tutor.background.wait(30)

    task = json_calls(scripted_model)[0].messages[0]["content"]
    shown = started.statement.removeprefix("A garden is ").removesuffix(" m long.")  # "7 m wide and 13"
    width, length = shown.split(" m wide and ")
    assert f"the {width} m by {length} m garden" in task  # what Ada read, not the template
    assert "{w}" not in task and "{h}" not in task
    tutor.close()
