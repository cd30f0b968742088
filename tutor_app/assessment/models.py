"""The tables of rubric grading: what was submitted, what the model said, what the teacher said.

The model's grades and the teacher's overrides live in separate tables on purpose. An override
never edits a model grade: the pairs (model said, teacher said) are the agreement report's data
and the training data that later fine-tunes the grader, so both sides must survive as written.
Overrides are append-only too; the newest per criterion is the one in force.

Students here are names as they appear in the uploaded file, not rows of ``students``: a class
set of essays may come from outside the tutor's roster, and a name typo must not block grading.
The schema is owned by Alembic revision ``0002_assessment``; a change needs a new revision.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..storage.base import Base, UTCDateTime, utcnow


class GradingBatch(Base):
    """One run over an uploaded file or folder; a resumed run is a new batch."""

    __tablename__ = "assessment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[str] = mapped_column(sa.String(80))
    source: Mapped[str] = mapped_column(sa.Text)
    model_name: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Submission(Base):
    """A student's text for one rubric. The same text from the same student is one submission,
    which is what lets an interrupted batch skip what it already graded."""

    __tablename__ = "assessment_submissions"
    __table_args__ = (
        sa.UniqueConstraint("rubric_id", "student", "content_hash", name="uq_assessment_submissions_identity"),
        sa.Index("ix_assessment_submissions_rubric", "rubric_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessment_batches.id", ondelete="SET NULL", name="fk_assessment_submissions_batch_id"))
    rubric_id: Mapped[str] = mapped_column(sa.String(80))
    student: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    source_file: Mapped[str | None] = mapped_column(sa.Text)
    source_row: Mapped[int | None] = mapped_column(sa.Integer)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    grades: Mapped[list["ModelGrade"]] = relationship(back_populates="submission", cascade="all, delete-orphan",
                                                      passive_deletes=True)


class ModelGrade(Base):
    """The model's grade of a submission under one version of the rubric (``rubric_hash``):
    an edited rubric grades again instead of reusing scores given against other levels."""

    __tablename__ = "assessment_model_grades"
    __table_args__ = (sa.UniqueConstraint("submission_id", "rubric_hash", name="uq_assessment_model_grades_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessment_submissions.id", ondelete="CASCADE", name="fk_assessment_model_grades_submission_id"))
    rubric_hash: Mapped[str] = mapped_column(sa.String(64))
    model_name: Mapped[str] = mapped_column(sa.String(200))
    adapter: Mapped[str | None] = mapped_column(sa.String(200))  # the LoRA adapter version; None: the base model
    total: Mapped[float] = mapped_column(sa.Float)
    max_total: Mapped[float] = mapped_column(sa.Float)
    next_steps: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    parts: Mapped[int] = mapped_column(sa.Integer, default=1)
    summary_from_model: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="grades")
    criteria: Mapped[list["ModelCriterionGrade"]] = relationship(
        back_populates="grade", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ModelCriterionGrade.id")


class ModelCriterionGrade(Base):
    __tablename__ = "assessment_model_criteria"
    __table_args__ = (sa.UniqueConstraint("grade_id", "criterion_id", name="uq_assessment_model_criteria_criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessment_model_grades.id", ondelete="CASCADE", name="fk_assessment_model_criteria_grade_id"))
    criterion_id: Mapped[str] = mapped_column(sa.String(80))
    score: Mapped[int] = mapped_column(sa.Integer)
    justification: Mapped[str] = mapped_column(sa.Text)
    next_step: Mapped[str] = mapped_column(sa.Text)
    quote_verified: Mapped[bool] = mapped_column(default=False)
    part_scores: Mapped[list[int]] = mapped_column(sa.JSON, default=list)

    grade: Mapped[ModelGrade] = relationship(back_populates="criteria")


class TeacherOverride(Base):
    """A teacher's score and/or comment for one criterion of a submission. ``score`` or
    ``comment`` may be NULL: editing only the comment keeps the score in force and vice versa."""

    __tablename__ = "assessment_overrides"
    __table_args__ = (sa.Index("ix_assessment_overrides_lookup", "submission_id", "criterion_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessment_submissions.id", ondelete="CASCADE", name="fk_assessment_overrides_submission_id"))
    criterion_id: Mapped[str] = mapped_column(sa.String(80))
    score: Mapped[int | None] = mapped_column(sa.Integer)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    teacher: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)



class GradeConfirmation(Base):
    """A teacher's word that a model grade is right as it stands: the grade is not changed and
    no override is written, so agreement and the training export can tell "checked and kept"
    from "never looked at". Per grade (a version of the rubric); criteria the teacher overrode
    keep their overrides, the confirmation covers the rest. Append-only like overrides."""

    __tablename__ = "assessment_confirmations"
    __table_args__ = (sa.Index("ix_assessment_confirmations_grade", "grade_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessment_model_grades.id", ondelete="CASCADE", name="fk_assessment_confirmations_grade_id"))
    teacher: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
