"""Teacher review: overrides are validated, stored apart from the model's grade, and win in views."""

from __future__ import annotations

import sqlalchemy as sa
import pytest

from tutor_app.assessment.batch import BatchGrader
from tutor_app.assessment.grader import Grader
from tutor_app.assessment.models import ModelCriterionGrade, ModelGrade, TeacherOverride
from tutor_app.assessment.review import (ReviewError, edit_comment, import_teacher_grades, list_grades,
                                         override_score, review_row)
from tutor_app.assessment.store import AssessmentStore
from tutor_app.prompting import PromptLibrary
from tutor_app.storage.database import Database

from assessment_support import (CALLS_PER_SUBMISSION, CLASS, SAMPLES, enqueue_grading, sample_rubric, small_rubric)
from tutor_app.assessment.inputs import read_submissions


@pytest.fixture
def graded(scripted_model):
    """The three-student class graded by the scripted model: accuracy 1, clarity 2 for everyone."""
    db = Database("sqlite://")
    astore = AssessmentStore(db)
    enqueue_grading(scripted_model, 3 * CALLS_PER_SUBMISSION,
                    lambda name, _t, allowed: 1 if name == "Accuracy" else 2)
    BatchGrader(astore, Grader(scripted_model, PromptLibrary())).run(small_rubric(), CLASS, source="class.csv")
    yield astore, {s.student: s.id for s in astore.submissions(rubric_id="short-answer")}
    db.close()


def model_rows(astore):
    with astore.db.session() as session:
        return sorted((g.submission_id, c.criterion_id, c.score, c.justification)
                      for g in session.scalars(sa.select(ModelGrade))
                      for c in session.scalars(sa.select(ModelCriterionGrade).where(ModelCriterionGrade.grade_id == g.id)))


def test_each_grade_is_listed_next_to_its_text(graded):
    astore, ids = graded
    rows = list_grades(astore, small_rubric())
    assert [(r.student, r.text, r.total, r.max_total) for r in rows] == [
        ("Ana", "The tilt of the axis.", 4, 8), ("Ben", "The sun is closer in summer.", 4, 8), ("Cy", "Axis tilt.", 4, 8)]
    ana = rows[0].criterion("accuracy")
    assert (ana.score, ana.by, ana.model_score, ana.teacher_score) == (1, "model", 1, None)
    assert ana.comment == 'The student writes "The tilt of the".' and ana.quote_verified
    assert rows[0].source == "class.csv:2" and not rows[0].stale


def test_an_override_wins_but_the_models_grade_stays_as_it_was(graded):
    astore, ids = graded
    before = model_rows(astore)
    override_score(astore, small_rubric(), submission_id=ids["Ben"], criterion_id="accuracy", score=0,
                   teacher="ms-lee", comment="Distance is not the reason: look at the axis.")
    assert model_rows(astore) == before  # the model's side is untouched

    row = review_row(astore, small_rubric(), ids["Ben"])
    accuracy = row.criterion("accuracy")
    assert (accuracy.score, accuracy.by, accuracy.model_score, accuracy.teacher_score) == (0, "teacher", 1, 0)
    assert accuracy.comment == "Distance is not the reason: look at the axis."
    assert accuracy.model_comment == 'The student writes "The sun is closer".'
    assert (row.total, row.model_total) == (2, 4)  # 0*2 + 2 in force; the model said 1*2 + 2
    with astore.db.session() as session:
        (stored,) = session.scalars(sa.select(TeacherOverride)).all()
        assert (stored.score, stored.teacher, stored.criterion_id) == (0, "ms-lee", "accuracy")


def test_editing_only_the_comment_keeps_the_score_in_force(graded):
    astore, ids = graded
    rubric = small_rubric()
    override_score(astore, rubric, submission_id=ids["Ana"], criterion_id="clarity", score=4, teacher="t")
    edit_comment(astore, rubric, submission_id=ids["Ana"], criterion_id="clarity", comment="  Very clear.  ",
                 teacher="t")
    clarity = review_row(astore, rubric, ids["Ana"]).criterion("clarity")
    assert (clarity.score, clarity.by, clarity.comment) == (4, "teacher", "Very clear.")
    edit_comment(astore, rubric, submission_id=ids["Cy"], criterion_id="clarity", comment="Say more.", teacher="t")
    cy = review_row(astore, rubric, ids["Cy"]).criterion("clarity")
    assert (cy.score, cy.by, cy.comment) == (2, "model", "Say more.")
    assert len(astore.overrides(submission_id=ids["Ana"])) == 2  # the history is kept


@pytest.mark.parametrize("criterion, score, message", [
    ("clarity", 3, r"Clarity: 3 is not one of this criterion's levels \[0, 2, 4\]"),
    ("clarity", "lots", r"'lots' is not a score; use one of \[0, 2, 4\]"),
    ("clarity", True, "not one of this criterion's levels"),
    ("style", 1, "rubric 'short-answer' has no criterion 'style' \\(its criteria: accuracy, clarity\\)"),
])
def test_invalid_overrides_are_refused_with_a_reason(graded, criterion, score, message):
    astore, ids = graded
    with pytest.raises(ReviewError, match=message):
        override_score(astore, small_rubric(), submission_id=ids["Ana"], criterion_id=criterion, score=score,
                       teacher="t")
    assert astore.overrides(submission_id=ids["Ana"]) == []


def test_overrides_need_a_real_submission_and_comment(graded):
    astore, ids = graded
    with pytest.raises(ReviewError, match="no submission 999"):
        override_score(astore, small_rubric(), submission_id=999, criterion_id="clarity", score=2, teacher="t")
    with pytest.raises(ReviewError, match="no submission"):  # exists, but for another rubric
        override_score(astore, sample_rubric(), submission_id=ids["Ana"], criterion_id="claim", score=2, teacher="t")
    with pytest.raises(ReviewError, match="comment is empty"):
        edit_comment(astore, small_rubric(), submission_id=ids["Ana"], criterion_id="clarity", comment=" ", teacher="t")


def test_the_sample_teacher_grades_import_as_overrides(scripted_model):
    db = Database("sqlite://")
    astore = AssessmentStore(db)
    rubric = sample_rubric()
    class_set = read_submissions(SAMPLES / "submissions.csv")
    enqueue_grading(scripted_model, len(class_set) * (len(rubric.criteria) + 1))
    BatchGrader(astore, Grader(scripted_model, PromptLibrary())).run(rubric, class_set, source="submissions.csv")

    report = import_teacher_grades(astore, rubric, SAMPLES / "teacher_grades.csv", teacher="sample")
    assert report.problems == [] and report.stored == 32
    rows = {r.student: r for r in list_grades(astore, rubric)}
    ben = rows["Ben"].criterion("reasoning")
    assert (ben.teacher_score, ben.model_score, ben.by) == (0, 3, "teacher")
    assert "misconception" in ben.comment
    assert rows["Hiro"].criterion("claim").by == "model"  # the teacher has not graded Hiro
    db.close()


def test_bad_rows_of_a_teacher_grades_file_are_reported(graded, tmp_path):
    astore, _ids = graded
    path = tmp_path / "grades.csv"
    path.write_text("student,criterion,score\nAna,accuracy,2\nZoe,accuracy,1\nBen,accuracy,9\n", encoding="utf-8")
    report = import_teacher_grades(astore, small_rubric(), path, teacher="t")
    assert report.stored == 1
    assert report.problems == [f"{path}:3: no submission from 'Zoe' for rubric 'short-answer'",
                               f"{path}:4: Accuracy: '9' is not one of this criterion's levels [0, 1, 2]"]
