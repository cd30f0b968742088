"""The teacher's side of grading: each grade next to its text, and the teacher's corrections.

A correction is stored as an override beside the model's grade (see ``models.py``); what the
teacher sees and exports is the grade in force: the teacher's score or comment where there is
one, the model's otherwise, with ``by`` saying whose it is. A teacher who finds the model's
grade right confirms it instead: a confirmation changes nothing in the grade, and says it was
checked (``confirmed_by``), which the training export and the override-rate trend need.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..curriculum.schema import Rubric
from .grader import level_scores, max_total, weighted_total
from .store import (AssessmentStore, ConfirmationRecord, ModelGradeRecord, OverrideRecord, SubmissionRecord,
                    TeacherView, rubric_hash)

COMMENT_MAX_CHARS = 2000


class ReviewError(ValueError):
    """A correction that cannot be stored; the message says which value is wrong and why."""


@dataclass(frozen=True)
class ReviewCriterion:
    criterion_id: str
    name: str
    levels: tuple[int, ...]
    score: int | None  # in force: the teacher's when set, else the model's
    comment: str
    by: str  # "teacher", "model" or "" (not graded yet)
    model_score: int | None
    model_comment: str
    next_step: str
    quote_verified: bool
    teacher_score: int | None
    teacher_comment: str | None


@dataclass(frozen=True)
class ReviewRow:
    submission_id: int
    student: str
    text: str
    source: str
    graded: bool
    stale: bool  # graded against an earlier version of the rubric
    model_name: str
    total: float | None  # in force (teacher overrides applied)
    max_total: float
    model_total: float | None
    next_steps: tuple[str, ...]
    criteria: tuple[ReviewCriterion, ...] = field(default=())
    grade_id: int | None = None  # the model grade shown
    confirmed_by: str | None = None  # the teacher who confirmed that grade as it stands
    confirmed_at: datetime | None = None

    def criterion(self, criterion_id: str) -> ReviewCriterion:
        return next(c for c in self.criteria if c.criterion_id == criterion_id)


def source_of(submission: SubmissionRecord) -> str:
    if not submission.source_file:
        return ""
    return submission.source_file + (f":{submission.source_row}" if submission.source_row else "")


def build_row(rubric: Rubric, submission: SubmissionRecord, grade: ModelGradeRecord | None,
              views: dict[tuple[int, str], TeacherView],
              confirmations: dict[int, ConfirmationRecord] | None = None) -> ReviewRow:
    criteria = []
    for criterion in rubric.criteria:
        model = grade.criterion(criterion.id) if grade else None
        view = views.get((submission.id, criterion.id))
        teacher_score = view.score if view else None
        teacher_comment = view.comment if view else None
        if teacher_score is not None:
            score, by = teacher_score, "teacher"
        elif model is not None:
            score, by = model.score, "model"
        else:
            score, by = None, ""
        criteria.append(ReviewCriterion(
            criterion_id=criterion.id, name=criterion.name, levels=tuple(level_scores(criterion)), score=score,
            comment=teacher_comment if teacher_comment is not None else (model.justification if model else ""),
            by=by, model_score=model.score if model else None, model_comment=model.justification if model else "",
            next_step=model.next_step if model else "", quote_verified=model.quote_verified if model else False,
            teacher_score=teacher_score, teacher_comment=teacher_comment))
    scores = {c.criterion_id: c.score for c in criteria}
    complete = all(s is not None for s in scores.values())
    confirmed = (confirmations or {}).get(grade.id) if grade else None
    total = weighted_total(rubric, scores)[0] if complete else None
    return ReviewRow(submission_id=submission.id, student=submission.student, text=submission.text,
                     source=source_of(submission), graded=grade is not None,
                     stale=grade is not None and grade.rubric_hash != rubric_hash(rubric),
                     model_name=grade.model_name if grade else "", total=total, max_total=max_total(rubric),
                     model_total=grade.total if grade else None,
                     next_steps=grade.next_steps if grade else (), criteria=tuple(criteria),
                     grade_id=grade.id if grade else None, confirmed_by=confirmed.teacher if confirmed else None,
                     confirmed_at=confirmed.created_at if confirmed else None)


def _grade_in_force(astore: AssessmentStore, rubric: Rubric, submission_id: int,
                    latest: dict[int, ModelGradeRecord]) -> ModelGradeRecord | None:
    current = astore.find_grade(submission_id=submission_id, rubric_hash=rubric_hash(rubric))
    return current or latest.get(submission_id)


def list_grades(astore: AssessmentStore, rubric: Rubric) -> list[ReviewRow]:
    """Every submission for the rubric with its grade in force, by student."""
    latest = astore.latest_grades(rubric_id=rubric.id)
    views = astore.teacher_views(rubric_id=rubric.id)
    confirmations = astore.confirmations(rubric_id=rubric.id)
    return [build_row(rubric, s, _grade_in_force(astore, rubric, s.id, latest), views, confirmations)
            for s in astore.submissions(rubric_id=rubric.id)]


def review_row(astore: AssessmentStore, rubric: Rubric, submission_id: int) -> ReviewRow:
    submission = _submission(astore, rubric, submission_id)
    latest = astore.latest_grades(rubric_id=rubric.id)
    return build_row(rubric, submission, _grade_in_force(astore, rubric, submission_id, latest),
                     astore.teacher_views(rubric_id=rubric.id), astore.confirmations(rubric_id=rubric.id))


def confirm_grade(astore: AssessmentStore, rubric: Rubric, *, submission_id: int, teacher: str) -> ReviewRow:
    """Record that the model grade of a submission is right as it stands (nothing in it changes)."""
    submission = _submission(astore, rubric, submission_id)
    grade = astore.find_grade(submission_id=submission.id, rubric_hash=rubric_hash(rubric))
    if grade is None:
        stale = astore.latest_grades(rubric_id=rubric.id).get(submission.id)
        raise ReviewError(f"{submission.student}'s text has no model grade to confirm" if stale is None else
                          f"{submission.student}'s grade was given against an earlier version of rubric "
                          f"{rubric.id!r}; grade it again before confirming it")
    astore.add_confirmation(grade_id=grade.id, teacher=teacher)
    return review_row(astore, rubric, submission_id)


def _submission(astore: AssessmentStore, rubric: Rubric, submission_id: int) -> SubmissionRecord:
    submission = astore.get_submission(submission_id=submission_id)
    if submission is None or submission.rubric_id != rubric.id:
        raise ReviewError(f"there is no submission {submission_id} graded with rubric {rubric.id!r}")
    return submission


def _criterion(rubric: Rubric, criterion_id: str):
    for criterion in rubric.criteria:
        if criterion.id == criterion_id:
            return criterion
    raise ReviewError(f"rubric {rubric.id!r} has no criterion {criterion_id!r} "
                      f"(its criteria: {', '.join(c.id for c in rubric.criteria)})")


def validate_score(rubric: Rubric, criterion_id: str, score: object) -> int:
    criterion = _criterion(rubric, criterion_id)
    levels = level_scores(criterion)
    try:
        value = int(str(score).strip()) if not isinstance(score, int) else score
    except ValueError:
        raise ReviewError(f"{criterion.name}: {score!r} is not a score; use one of {levels}") from None
    if isinstance(score, bool) or value not in levels:
        raise ReviewError(f"{criterion.name}: {score!r} is not one of this criterion's levels {levels}")
    return value


def override_score(astore: AssessmentStore, rubric: Rubric, *, submission_id: int, criterion_id: str,
                   score: object, teacher: str, comment: str | None = None) -> OverrideRecord:
    """Set the teacher's score (and optionally comment) for one criterion, kept apart from the model's."""
    _submission(astore, rubric, submission_id)
    value = validate_score(rubric, criterion_id, score)
    return astore.add_override(submission_id=submission_id, criterion_id=criterion_id, score=value,
                               comment=_clean_comment(comment) if comment is not None else None, teacher=teacher)


def edit_comment(astore: AssessmentStore, rubric: Rubric, *, submission_id: int, criterion_id: str, comment: str,
                 teacher: str) -> OverrideRecord:
    _submission(astore, rubric, submission_id)
    _criterion(rubric, criterion_id)
    return astore.add_override(submission_id=submission_id, criterion_id=criterion_id, score=None,
                               comment=_clean_comment(comment), teacher=teacher)


def _clean_comment(comment: str) -> str:
    text = comment.strip()
    if not text:
        raise ReviewError("the comment is empty; write what the student should read")
    if len(text) > COMMENT_MAX_CHARS:
        raise ReviewError(f"the comment has {len(text)} characters; at most {COMMENT_MAX_CHARS} are kept")
    return text


# importing a teacher's own grades ---------------------------------------------------------
@dataclass
class ImportReport:
    stored: int = 0
    problems: list[str] = field(default_factory=list)


STUDENT_COLUMNS = ("student", "name", "student name", "learner", "pupil")
CRITERION_COLUMNS = ("criterion", "criterion id", "criteria")


def import_teacher_grades(astore: AssessmentStore, rubric: Rubric, path: Path, *, teacher: str) -> ImportReport:
    """Read a CSV of the teacher's own grades (student, criterion, score[, comment]) as overrides,
    so a teacher who graded on paper can compare with the model. Bad rows are reported, not fatal."""
    path = Path(path)
    report = ImportReport()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise ReviewError(f"teacher grades file not found: {path}") from None
    except UnicodeDecodeError:
        raise ReviewError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    if not rows:
        raise ReviewError(f"{path}: no rows (expected columns student, criterion, score, comment)")
    columns = {_normal(c): c for c in rows[0] if c}
    student_col = next((columns[c] for c in STUDENT_COLUMNS if c in columns), None)
    criterion_col = next((columns[c] for c in CRITERION_COLUMNS if c in columns), None)
    score_col, comment_col = columns.get("score"), columns.get("comment")
    if not (student_col and criterion_col and score_col):
        raise ReviewError(f"{path}: needs the columns student, criterion and score (found: {', '.join(rows[0])})")
    by_student: dict[str, list[SubmissionRecord]] = {}
    for submission in astore.submissions(rubric_id=rubric.id):
        by_student.setdefault(submission.student, []).append(submission)
    for line, row in enumerate(rows, start=2):
        student = (row.get(student_col) or "").strip()
        found = by_student.get(student)
        if not found:
            report.problems.append(f"{path}:{line}: no submission from {student!r} for rubric {rubric.id!r}")
            continue
        try:
            comment = (row.get(comment_col) or "").strip() if comment_col else ""
            override_score(astore, rubric, submission_id=found[-1].id, criterion_id=(row.get(criterion_col) or "").strip(),
                           score=row.get(score_col), teacher=teacher, comment=comment or None)
            report.stored += 1
        except ReviewError as exc:
            report.problems.append(f"{path}:{line}: {exc}")
    return report


def _normal(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").replace("-", " ").split())
