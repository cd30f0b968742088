"""The grading service behind ``/grade_submission``, open steps and the teacher view."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tutor_app.assessment import models
from tutor_app.assessment.grader import Grader, GraderConfig
from tutor_app.assessment.service import API_STUDENT, AssessmentService
from tutor_app.assessment.shapes import GradeResult
from tutor_app.curriculum.schema import Rubric, Unit
from tutor_app.prompting import PromptLibrary
from tutor_app.service.actor import Actor
from tutor_app.service.errors import Forbidden, NotFound, TutorError
from tutor_app.storage.base import Base
from tutor_app.storage.database import Database

from assessment_support import SAMPLES, enqueue_grading, json_calls, sample_rubric, small_rubric, submission_in

TEACHER = Actor(role="teacher")
ADA = Actor(role="student", student="Ada")

UNIT = Unit.model_validate({
    "id": "seasons", "title": "Seasons", "subject": "science",
    "skills": [{"id": "explain", "name": "Explain"}],
    "problems": [{"id": "why-seasons", "statement": "Why do we have seasons?", "steps": [
        {"id": "explain", "prompt": "Explain in two sentences why it is warmer in summer.", "check": "open",
         "skills": ["explain"], "rubric": "short-answer"},
        {"id": "inline", "prompt": "Name the cause in one word.", "check": "open", "skills": ["explain"],
         "rubric": {"id": "one-word", "title": "One word", "criteria": [
             {"id": "cause", "name": "Cause", "levels": [{"score": 0, "description": "wrong"},
                                                        {"score": 1, "description": "tilt"}]}]}},
        {"id": "angle", "prompt": "How many degrees is the tilt?", "answer": "23.5", "check": "numeric",
         "skills": ["explain"]},
    ]}]})


@dataclass
class Library:
    """The parts of ``CurriculumLibrary`` the service reads."""

    rubrics: dict[str, Rubric] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)

    def get_unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise KeyError(f"no curriculum unit {unit_id!r}") from None


@pytest.fixture
def service(scripted_model):
    db = Database("sqlite://")
    library = Library(rubrics={"short-answer": small_rubric(), "explain-your-reasoning": sample_rubric()},
                      units={"seasons": UNIT})
    yield AssessmentService(db=db, library=library, model=scripted_model, prompts=PromptLibrary())
    db.close()


def test_grade_submission_returns_the_api_shape_and_reuses_a_stored_grade(service, scripted_model):
    enqueue_grading(scripted_model, 3)
    result = service.grade_submission(ADA, "short-answer", "The tilt of the axis.")
    assert isinstance(result, GradeResult)
    assert result.model_dump() == {
        "rubric_id": "short-answer", "total": 8, "max_total": 8,
        "criteria": [{"id": "accuracy", "score": 2, "comment": 'The student writes "The tilt of the".'},
                     {"id": "clarity", "score": 4, "comment": 'The student writes "The tilt of the".'}],
        "next_steps": ["Add one more piece of evidence.", "Explain how heat moves."]}
    calls = len(scripted_model.calls)
    assert service.grade_submission(ADA, "short-answer", "The tilt of the axis.\n") == result
    assert len(scripted_model.calls) == calls  # same text, same rubric: the stored grade
    assert [s.student for s in service.astore.submissions(rubric_id="short-answer")] == ["Ada"]
    enqueue_grading(scripted_model, 3)
    service.grade_submission(TEACHER, "short-answer", "The tilt of the axis.")  # no student: stored apart
    assert [s.student for s in service.astore.submissions(rubric_id="short-answer")] == [API_STUDENT, "Ada"]


def test_grade_submission_errors_are_plain(service, scripted_model):
    with pytest.raises(NotFound, match=r"unknown rubric 'nope' \(known rubric ids: explain-your-reasoning, short-answer\)"):
        service.grade_submission(TEACHER, "nope", "text")
    with pytest.raises(TutorError, match="the text to grade is empty"):
        service.grade_submission(TEACHER, "short-answer", "   ")
    with pytest.raises(TutorError, match="at most 200,000"):
        service.grade_submission(TEACHER, "short-answer", "word " * 50_000)
    with pytest.raises(TutorError, match="criterion 'Accuracy'"):  # the model gave nothing usable
        service.grade_submission(TEACHER, "short-answer", "text")
    assert service.astore.latest_grades(rubric_id="short-answer") == {}


def test_open_steps_are_graded_with_their_rubric_and_prompt(service, scripted_model):
    enqueue_grading(scripted_model, 3)
    result = service.grade_open_step(ADA, "seasons", "why-seasons", "explain", "The axis is tilted.")
    assert result.rubric_id == "short-answer" and result.total == 8
    # The rubric's own task wins over the step's prompt; the submission is what Ada wrote.
    first = json_calls(scripted_model)[0]
    assert "Why do we have seasons?" in first.messages[0]["content"]
    assert submission_in(first.messages) == "The axis is tilted."

    enqueue_grading(scripted_model, 2)
    inline = service.grade_open_step(ADA, "seasons", "why-seasons", "inline", "Tilt")
    assert (inline.rubric_id, inline.total, inline.max_total) == ("one-word", 1, 1)
    assert "Name the cause in one word." in json_calls(scripted_model)[3].messages[0]["content"]  # no task: the prompt
    assert [r.student for r in service.list_grades(TEACHER, "one-word")] == ["Ada"]


@pytest.mark.parametrize("args, error, message", [
    (("seasons", "why-seasons", "angle"), TutorError, "checked by 'numeric'; only open steps"),
    (("seasons", "why-seasons", "nope"), NotFound, "has no step 'nope'"),
    (("seasons", "nope", "explain"), NotFound, "has no problem 'nope'"),
    (("nope", "why-seasons", "explain"), NotFound, "no curriculum unit 'nope'"),
])
def test_open_step_errors(service, args, error, message):
    with pytest.raises(error, match=message):
        service.grade_open_step(ADA, *args, "text")


def test_students_cannot_grade_for_others_or_review(service, tmp_path):
    with pytest.raises(Forbidden):
        service.grade_open_step(ADA, "seasons", "why-seasons", "explain", "text", student="Ben")
    for call in (lambda: service.list_grades(ADA, "short-answer"),
                 lambda: service.override(ADA, 1, "accuracy", score=1, rubric_id="short-answer"),
                 lambda: service.agreement(ADA, "short-answer"),
                 lambda: service.export(ADA, "short-answer", tmp_path / "x.csv"),
                 lambda: service.grade_file(ADA, "short-answer", SAMPLES / "submissions.csv")):
        with pytest.raises(Forbidden):
            call()


def test_teacher_flow_upload_review_agreement_export(service, scripted_model, tmp_path):
    rubric = sample_rubric()
    enqueue_grading(scripted_model, 10 * (len(rubric.criteria) + 1),
                    lambda name, _t, allowed: 2 if name != "Communication" else 1)
    seen = []
    report = service.grade_file(TEACHER, "explain-your-reasoning", SAMPLES / "submissions.csv",
                                on_progress=lambda done, total, student: seen.append((done, total, student)))
    assert report.count("graded") == 10 and seen[-1] == (10, 10, "Jonah")

    imported = service.import_teacher_grades(TEACHER, "explain-your-reasoning", SAMPLES / "teacher_grades.csv")
    assert imported.stored == 32
    agreement = service.agreement(TEACHER, "explain-your-reasoning")
    assert [c.n for c in agreement.criteria] == [8, 8, 8, 8]

    rows = service.list_grades(TEACHER, "explain-your-reasoning")
    hiro = next(r for r in rows if r.student == "Hiro")
    updated = service.override(TEACHER, hiro.submission_id, "claim", score=2, comment="Good claim.",
                               rubric_id="explain-your-reasoning", teacher="ms-lee")
    assert (updated.criterion("claim").score, updated.criterion("claim").by) == (2, "teacher")
    with pytest.raises(TutorError, match="not one of this criterion's levels"):
        service.override(TEACHER, hiro.submission_id, "claim", score=9, rubric_id="explain-your-reasoning")
    with pytest.raises(TutorError, match="give a score or a comment"):
        service.override(TEACHER, hiro.submission_id, "claim", rubric_id="explain-your-reasoning")

    out = service.export(TEACHER, "explain-your-reasoning", tmp_path / "class.csv")
    text = out.read_text(encoding="utf-8-sig")
    assert text.count("\n") == 11 and "Good claim." in text
    with pytest.raises(TutorError, match="input not found"):
        service.grade_file(TEACHER, "explain-your-reasoning", tmp_path / "missing.csv")


def test_prompt_templates_render_with_what_the_grader_passes(scripted_model):
    prompts = PromptLibrary()
    grader = Grader(scripted_model, prompts, GraderConfig())
    rubric = sample_rubric()
    for parts in (1, 3):
        messages = grader.criterion_messages(rubric, rubric.criteria[0], "My answer.", part=1, parts=parts)
        assert [m["role"] for m in messages] == ["system", "user"]
        assert ("part 1 of 3" in messages[0]["content"]) == (parts == 3)
        for level in rubric.criteria[0].levels:
            for exemplar in level.exemplars:
                assert exemplar in messages[-1]["content"]
    enqueue_grading(scripted_model, 5)
    grader.grade(rubric, "My answer.")
    summary = json_calls(scripted_model)[-1].messages
    assert summary[0]["content"].startswith("You are an experienced science teacher")
    assert "Total: " in summary[-1]["content"] and "{{" not in summary[-1]["content"]


def test_assessment_declares_the_six_grading_tables():
    """``assessment/models.py`` describes the grading tables; that revisions 0002_assessment and
    0004 (confirmations) build exactly them is checked with every area's tables in test_storage_migrations."""
    mine = {m.local_table.name for m in Base.registry.mappers if m.class_.__module__ == models.__name__}
    assert mine == {"assessment_batches", "assessment_submissions", "assessment_model_grades",
                    "assessment_model_criteria", "assessment_overrides", "assessment_confirmations"}
