"""Queries over the grading tables (``models.py``), on the app's one ``Database``.

Like every store, every method takes keyword arguments, runs in its own short transaction,
commits before returning and hands back frozen records, never ORM objects. A grade is written
as soon as it exists, so an interrupted batch loses at most the submission being graded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..curriculum.schema import Rubric
from ..storage.base import utcnow
from ..storage.database import Database
from .grader import CriterionGrade, Grading
from .models import GradeConfirmation, GradingBatch, ModelCriterionGrade, ModelGrade, Submission, TeacherOverride


def normalize_text(text: str) -> str:
    """Line endings and surrounding blank space are how a file was saved, not what was written."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def rubric_hash(rubric: Rubric) -> str:
    """Changes whenever anything the grader sees changes (levels, exemplars, weights, task); not
    with ``max_chars``, which only decides what may be sent (grades made before it existed stay valid)."""
    return hashlib.sha256(rubric.model_dump_json(exclude={"max_chars"}).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SubmissionRecord:
    id: int
    rubric_id: str
    student: str
    text: str
    content_hash: str
    source_file: str | None
    source_row: int | None
    batch_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class ModelGradeRecord:
    id: int
    submission_id: int
    rubric_hash: str
    model_name: str
    total: float
    max_total: float
    next_steps: tuple[str, ...]
    parts: int
    summary_from_model: bool
    created_at: datetime
    criteria: tuple[CriterionGrade, ...]  # the grader's own record of each criterion
    adapter: str | None = None  # the LoRA adapter version that graded (None: the base model)

    def criterion(self, criterion_id: str) -> CriterionGrade | None:
        return next((c for c in self.criteria if c.criterion_id == criterion_id), None)


@dataclass(frozen=True)
class OverrideRecord:
    id: int
    submission_id: int
    criterion_id: str
    score: int | None
    comment: str | None
    teacher: str
    created_at: datetime


@dataclass(frozen=True)
class ConfirmationRecord:
    """A teacher's word that a model grade is right as it stands."""

    id: int
    grade_id: int
    submission_id: int
    teacher: str
    created_at: datetime


@dataclass(frozen=True)
class TeacherView:
    """The overrides in force for one criterion: the newest score and the newest comment,
    each from whichever override last set it."""

    score: int | None
    comment: str | None
    teacher: str
    at: datetime


class AssessmentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # batches ------------------------------------------------------------------------------
    def create_batch(self, *, rubric_id: str, source: str, model_name: str | None) -> int:
        with self.db.session() as session:
            batch = GradingBatch(rubric_id=rubric_id, source=source, model_name=model_name)
            session.add(batch)
            session.flush()
            return batch.id

    def finish_batch(self, *, batch_id: int) -> None:
        with self.db.session() as session:
            batch = session.get(GradingBatch, batch_id)
            if batch is not None:
                batch.finished_at = utcnow()

    # submissions ----------------------------------------------------------------------------
    def ensure_submission(self, *, rubric_id: str, student: str, text: str, batch_id: int | None = None,
                          source_file: str | None = None, source_row: int | None = None) -> SubmissionRecord:
        """The stored submission with this rubric, student and text, created if new."""
        digest = content_hash(text)
        for _ in range(2):  # a second try reads the row a concurrent caller just created
            try:
                with self.db.session() as session:
                    row = self._submission_by_identity(session, rubric_id, student, digest)
                    if row is None:
                        row = Submission(rubric_id=rubric_id, student=student, text=normalize_text(text),
                                         content_hash=digest, batch_id=batch_id, source_file=source_file,
                                         source_row=source_row)
                        session.add(row)
                        session.flush()
                    return _submission_record(row)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not store the submission of {student!r}")

    @staticmethod
    def _submission_by_identity(session: Session, rubric_id: str, student: str, digest: str) -> Submission | None:
        return session.scalar(sa.select(Submission).where(
            Submission.rubric_id == rubric_id, Submission.student == student, Submission.content_hash == digest))

    def get_submission(self, *, submission_id: int) -> SubmissionRecord | None:
        with self.db.session() as session:
            row = session.get(Submission, submission_id)
            return _submission_record(row) if row is not None else None

    def submissions(self, *, rubric_id: str) -> list[SubmissionRecord]:
        with self.db.session() as session:
            rows = session.scalars(sa.select(Submission).where(Submission.rubric_id == rubric_id)
                                   .order_by(Submission.student, Submission.id))
            return [_submission_record(row) for row in rows]

    def rubric_ids(self) -> list[str]:
        """Rubrics that have submissions, for the teacher's picker."""
        with self.db.session() as session:
            return list(session.scalars(sa.select(Submission.rubric_id).distinct().order_by(Submission.rubric_id)))

    # model grades ---------------------------------------------------------------------------
    def find_grade(self, *, submission_id: int, rubric_hash: str) -> ModelGradeRecord | None:
        with self.db.session() as session:
            row = session.scalar(self._grades_query().where(ModelGrade.submission_id == submission_id,
                                                            ModelGrade.rubric_hash == rubric_hash))
            return _grade_record(row) if row is not None else None

    def latest_grades(self, *, rubric_id: str) -> dict[int, ModelGradeRecord]:
        """The newest model grade of each submission for this rubric, by submission id."""
        with self.db.session() as session:
            rows = session.scalars(self._grades_query().join(Submission)
                                   .where(Submission.rubric_id == rubric_id).order_by(ModelGrade.id))
            return {row.submission_id: _grade_record(row) for row in rows}

    @staticmethod
    def _grades_query():
        return sa.select(ModelGrade).options(selectinload(ModelGrade.criteria))

    def save_grade(self, *, submission_id: int, rubric_hash: str, grading: Grading) -> ModelGradeRecord:
        """Store the model's grade; if this version was graded meanwhile, keep the first one."""
        try:
            with self.db.session() as session:
                row = ModelGrade(submission_id=submission_id, rubric_hash=rubric_hash, model_name=grading.model_name,
                                 adapter=grading.adapter, total=grading.total, max_total=grading.max_total,
                                 next_steps=list(grading.next_steps), parts=grading.parts,
                                 summary_from_model=grading.summary_from_model)
                row.criteria = [ModelCriterionGrade(criterion_id=c.criterion_id, score=c.score,
                                                    justification=c.justification, next_step=c.next_step,
                                                    quote_verified=c.quote_verified, part_scores=list(c.part_scores))
                                for c in grading.criteria]
                session.add(row)
                session.flush()
                return _grade_record(row)
        except IntegrityError:
            existing = self.find_grade(submission_id=submission_id, rubric_hash=rubric_hash)
            if existing is None:
                raise
            return existing

    # teacher overrides ----------------------------------------------------------------------
    def add_override(self, *, submission_id: int, criterion_id: str, teacher: str, score: int | None = None,
                     comment: str | None = None) -> OverrideRecord:
        with self.db.session() as session:
            row = TeacherOverride(submission_id=submission_id, criterion_id=criterion_id, score=score,
                                  comment=comment, teacher=teacher)
            session.add(row)
            session.flush()
            return _override_record(row)

    def overrides(self, *, submission_id: int) -> list[OverrideRecord]:
        """Every override of a submission, oldest first (the full history)."""
        with self.db.session() as session:
            rows = session.scalars(sa.select(TeacherOverride).where(TeacherOverride.submission_id == submission_id)
                                   .order_by(TeacherOverride.created_at, TeacherOverride.id))
            return [_override_record(row) for row in rows]

    # teacher confirmations ------------------------------------------------------------------
    def add_confirmation(self, *, grade_id: int, teacher: str) -> ConfirmationRecord:
        with self.db.session() as session:
            row = GradeConfirmation(grade_id=grade_id, teacher=teacher)
            session.add(row)
            session.flush()
            return _confirmation_record(row, session.get(ModelGrade, grade_id).submission_id)

    def confirmations(self, *, rubric_id: str | None = None) -> dict[int, ConfirmationRecord]:
        """The newest confirmation of each confirmed model grade (of one rubric's submissions), by grade id."""
        query = (sa.select(GradeConfirmation, ModelGrade.submission_id).join(ModelGrade).join(Submission)
                 .order_by(GradeConfirmation.created_at, GradeConfirmation.id))
        if rubric_id is not None:
            query = query.where(Submission.rubric_id == rubric_id)
        with self.db.session() as session:
            return {row.grade_id: _confirmation_record(row, submission_id) for row, submission_id in session.execute(query)}

    def teacher_views(self, *, rubric_id: str) -> dict[tuple[int, str], TeacherView]:
        """The overrides in force, by (submission id, criterion id)."""
        with self.db.session() as session:
            rows = session.scalars(sa.select(TeacherOverride).join(Submission)
                                   .where(Submission.rubric_id == rubric_id)
                                   .order_by(TeacherOverride.created_at, TeacherOverride.id))
            views: dict[tuple[int, str], TeacherView] = {}
            for row in rows:
                key = (row.submission_id, row.criterion_id)
                before = views.get(key)
                views[key] = TeacherView(
                    score=row.score if row.score is not None else (before.score if before else None),
                    comment=row.comment if row.comment is not None else (before.comment if before else None),
                    teacher=row.teacher, at=row.created_at)
            return views


def _submission_record(row: Submission) -> SubmissionRecord:
    return SubmissionRecord(id=row.id, rubric_id=row.rubric_id, student=row.student, text=row.text,
                            content_hash=row.content_hash, source_file=row.source_file, source_row=row.source_row,
                            batch_id=row.batch_id, created_at=row.created_at)


def _grade_record(row: ModelGrade) -> ModelGradeRecord:
    return ModelGradeRecord(
        id=row.id, submission_id=row.submission_id, rubric_hash=row.rubric_hash, model_name=row.model_name,
        total=row.total, max_total=row.max_total, next_steps=tuple(row.next_steps or ()), parts=row.parts,
        summary_from_model=row.summary_from_model, created_at=row.created_at, adapter=row.adapter,
        criteria=tuple(CriterionGrade(criterion_id=c.criterion_id, score=c.score, justification=c.justification,
                                      next_step=c.next_step, quote_verified=c.quote_verified,
                                      part_scores=tuple(c.part_scores or ()))
                       for c in row.criteria))


def _confirmation_record(row: GradeConfirmation, submission_id: int) -> ConfirmationRecord:
    return ConfirmationRecord(id=row.id, grade_id=row.grade_id, submission_id=submission_id, teacher=row.teacher,
                              created_at=row.created_at)


def _override_record(row: TeacherOverride) -> OverrideRecord:
    return OverrideRecord(id=row.id, submission_id=row.submission_id, criterion_id=row.criterion_id,
                          score=row.score, comment=row.comment, teacher=row.teacher, created_at=row.created_at)
