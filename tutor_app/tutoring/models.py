"""The tables of the tutoring state: what each student did, and what the tutor concluded.

Everything a student submits is kept as it was typed next to how it was judged, so a teacher
can read a transcript and so a change to a checker never rewrites history. Curriculum ids
(``curriculum_id``, ``problem_id``, ``step_id``, ``skill_id``) are plain strings, not foreign
keys: units live in YAML files a teacher edits and may rename, and old records must survive that.

Students themselves are shared by every area (``service/models.py``). The schema is owned by
Alembic (``storage/migrations/versions``); these classes describe it for queries. A change here
needs a new revision, never an edit of an old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..service.models import Student
from ..storage.base import Base, UTCDateTime, utcnow


class TutorSession(Base):
    """One student working one (seeded variant of a) problem. ``progress`` is the engine's
    ``ProblemProgress.to_dict()``; ``step_id`` and ``done`` repeat what it says so that the
    dashboard can filter without decoding JSON."""

    __tablename__ = "tutor_sessions"
    __table_args__ = (
        sa.Index("ix_tutor_sessions_resume", "student_id", "curriculum_id", "problem_id", "done"),
        sa.Index("ix_tutor_sessions_unit", "curriculum_id", "problem_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey(Student.id, ondelete="CASCADE", name="fk_tutor_sessions_student_id"))
    curriculum_id: Mapped[str] = mapped_column(sa.String(80))
    problem_id: Mapped[str] = mapped_column(sa.String(80))
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    progress: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    step_id: Mapped[str | None] = mapped_column(sa.String(80))
    done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Attempt(Base):
    """One answer as submitted. ``scaffold`` marks an answer to a scaffold hint's sub-question.
    ``diagnosis`` says where ``misconception_id`` came from: a teacher's bug rule or the model's
    classification (which never changes the verdict; the checker decides). A ``pending`` answer
    to an open step gets ``graded_by`` ("model" or "teacher") and ``grade_share`` (its share of
    the rubric's points) when it is graded; until then it waits, and moves no mastery."""

    __tablename__ = "attempts"
    __table_args__ = (
        sa.Index("ix_attempts_session_time", "session_id", "created_at"),
        sa.Index("ix_attempts_misconception", "misconception_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        sa.ForeignKey("tutor_sessions.id", ondelete="CASCADE", name="fk_attempts_session_id"))
    step_id: Mapped[str] = mapped_column(sa.String(80))
    answer: Mapped[str] = mapped_column(sa.Text)
    normalized: Mapped[str | None] = mapped_column(sa.Text)
    verdict: Mapped[str] = mapped_column(sa.String(16))
    misconception_id: Mapped[str | None] = mapped_column(sa.String(80))
    diagnosis: Mapped[str | None] = mapped_column(sa.String(16))  # "bug_rule" | "model"
    feedback: Mapped[str | None] = mapped_column(sa.Text)
    scaffold: Mapped[bool] = mapped_column(default=False)
    graded_by: Mapped[str | None] = mapped_column(sa.String(16))
    grade_share: Mapped[float | None] = mapped_column(sa.Float)
    # a model's diagnosis: the model and LoRA adapter version that made it (runtime/adapters.py)
    diagnosis_model: Mapped[str | None] = mapped_column(sa.String(200))
    diagnosis_adapter: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HintShown(Base):
    __tablename__ = "hints_shown"
    __table_args__ = (sa.Index("ix_hints_shown_session_time", "session_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        sa.ForeignKey("tutor_sessions.id", ondelete="CASCADE", name="fk_hints_shown_session_id"))
    step_id: Mapped[str] = mapped_column(sa.String(80))
    level: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text, default="")
    bottom_out: Mapped[bool] = mapped_column(default=False)
    scaffold: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Mastery(Base):
    """The current estimate per student and skill: what the student page and the class overview
    read. Kept beside the history so the common question needs no 'latest row' query."""

    __tablename__ = "mastery"

    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey(Student.id, ondelete="CASCADE", name="fk_mastery_student_id"), primary_key=True)
    curriculum_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    skill_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    p_known: Mapped[float] = mapped_column(sa.Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class MasterySnapshot(Base):
    """Every change of an estimate, so a teacher can see learning over time."""

    __tablename__ = "mastery_history"
    __table_args__ = (
        sa.Index("ix_mastery_history_student", "student_id", "curriculum_id", "skill_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey(Student.id, ondelete="CASCADE", name="fk_mastery_history_student_id"))
    curriculum_id: Mapped[str] = mapped_column(sa.String(80))
    skill_id: Mapped[str] = mapped_column(sa.String(80))
    p_known: Mapped[float] = mapped_column(sa.Float)
    session_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("tutor_sessions.id", ondelete="SET NULL", name="fk_mastery_history_session_id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TutorMessage(Base):
    """A chat turn. The model's cost is kept per reply for the teacher's model panel. A reply
    names the question it answers (``reply_to``): a student may send a second question while
    the first reply is written, and each reply belongs after its own question. It also names
    the model and adapter version that wrote it (``adapter``: None for the base model) and,
    when the answer-leak guard cut it, the guard's rule (``guard_rule``): the dashboard's trend
    of guard interventions per model version reads these two."""

    __tablename__ = "tutor_messages"
    __table_args__ = (sa.Index("ix_tutor_messages_session_time", "session_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        sa.ForeignKey("tutor_sessions.id", ondelete="CASCADE", name="fk_tutor_messages_session_id"))
    role: Mapped[str] = mapped_column(sa.String(16))  # "student" | "tutor"
    content: Mapped[str] = mapped_column(sa.Text)
    step_id: Mapped[str | None] = mapped_column(sa.String(80))
    model_name: Mapped[str | None] = mapped_column(sa.String(200))
    adapter: Mapped[str | None] = mapped_column(sa.String(200))
    guard_rule: Mapped[str | None] = mapped_column(sa.String(40))
    prompt_tokens: Mapped[int | None]
    evaluated_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    ttft_s: Mapped[float | None] = mapped_column(sa.Float)
    total_s: Mapped[float | None] = mapped_column(sa.Float)
    complete: Mapped[bool] = mapped_column(default=True)  # False: the stream stopped early
    reply_to: Mapped[int | None]  # the question's id (no foreign key: a message is never deleted alone)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MasteryParamsChange(Base):
    """One change of a skill's BKT parameters for the class: values adopted from a fit of the
    class's answers (``source`` "fit"), or a return to the unit file's values ("file", the new
    values empty). The newest row per unit and skill says what is in use; all rows are the
    history a teacher reads: who, when, the values before and after, and how much data a fit
    rested on. The unit's YAML is never rewritten: it stays the teacher's file."""

    __tablename__ = "mastery_params"
    __table_args__ = (sa.Index("ix_mastery_params_skill", "curriculum_id", "skill_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    curriculum_id: Mapped[str] = mapped_column(sa.String(80))
    skill_id: Mapped[str] = mapped_column(sa.String(80))
    source: Mapped[str] = mapped_column(sa.String(16))  # "fit" | "file"
    p_init: Mapped[float | None] = mapped_column(sa.Float)
    p_transit: Mapped[float | None] = mapped_column(sa.Float)
    p_guess: Mapped[float | None] = mapped_column(sa.Float)
    p_slip: Mapped[float | None] = mapped_column(sa.Float)
    old_p_init: Mapped[float] = mapped_column(sa.Float)
    old_p_transit: Mapped[float] = mapped_column(sa.Float)
    old_p_guess: Mapped[float] = mapped_column(sa.Float)
    old_p_slip: Mapped[float] = mapped_column(sa.Float)
    students: Mapped[int | None]  # the data a fit rested on
    observations: Mapped[int | None]
    changed_by: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
