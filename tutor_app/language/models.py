"""The tables of conversation practice: conversations, their turns, the errors found, the goals met.

Each student turn is stored as typed, with the level in force when it was written; its
correction (the corrected sentence and one row per error with its span) is added to that row
before the character answers. Error categories are a unit's misconception ids or a general
category, plain strings like every curriculum id (units are files a teacher may edit).
The teacher's dashboard counts ``conversation_errors`` beside the math attempts' misconceptions.

The schema is owned by Alembic revisions ``0003_language`` and ``0007_conversation_reply_claim``;
a change needs a new revision.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..service.models import Student
from ..storage.base import Base, UTCDateTime, utcnow


class Conversation(Base):
    """One student practising one conversation unit. ``level`` is the level now in force."""

    __tablename__ = "conversation_sessions"
    __table_args__ = (sa.Index("ix_conversation_sessions_student", "student_id", "curriculum_id", "updated_at"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey(Student.id, ondelete="CASCADE", name="fk_conversation_sessions_student_id"))
    curriculum_id: Mapped[str] = mapped_column(sa.String(80))
    level: Mapped[str] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Who is writing the character's reply now, across a district's app processes
    # (``reply_claims.py``): a random token and when its holder last said it is still at it.
    reply_claim: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    reply_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ConversationTurn(Base):
    """A line of the conversation. Student turns carry their correction (``correction_status``:
    checked, failed, unavailable, other-language; None while it is being made); character turns
    say whether the difficulty check asked for a simpler retry and whether it still failed, and
    keep the translation a student asked for."""

    __tablename__ = "conversation_turns"
    __table_args__ = (sa.Index("ix_conversation_turns_session_time", "session_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE", name="fk_conversation_turns_session_id"))
    role: Mapped[str] = mapped_column(sa.String(16))  # "student" | "character"
    content: Mapped[str] = mapped_column(sa.Text)
    level: Mapped[str] = mapped_column(sa.String(2))
    corrected: Mapped[str | None] = mapped_column(sa.Text)
    correction_status: Mapped[str | None] = mapped_column(sa.String(16))
    simplified: Mapped[bool] = mapped_column(default=False)
    too_hard: Mapped[bool] = mapped_column(default=False)
    translation: Mapped[str | None] = mapped_column(sa.Text)
    explanation: Mapped[str | None] = mapped_column(sa.Text)
    # The model and LoRA adapter version that wrote a character's reply, or a student turn's correction.
    model_name: Mapped[str | None] = mapped_column(sa.String(200))
    adapter: Mapped[str | None] = mapped_column(sa.String(200))
    complete: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    errors: Mapped[list["CorrectedSpan"]] = relationship(
        back_populates="turn", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CorrectedSpan.span_start")


class CorrectedSpan(Base):
    """One error found in a student turn, with its correction: ``span_start``/``span_end`` are
    offsets into the turn's text. (A row of ``conversation_errors``; the class is not named
    after the table so that it never reads like an exception.)"""

    __tablename__ = "conversation_errors"
    __table_args__ = (sa.Index("ix_conversation_errors_category", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(
        sa.ForeignKey("conversation_turns.id", ondelete="CASCADE", name="fk_conversation_errors_turn_id"))
    span_start: Mapped[int]
    span_end: Mapped[int]
    span: Mapped[str] = mapped_column(sa.Text)
    correction: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(80))
    explanation: Mapped[str] = mapped_column(sa.Text)

    turn: Mapped[ConversationTurn] = relationship(back_populates="errors")


class ConversationGoalMet(Base):
    """A goal of the unit the student reached in a conversation, and the turn where they did."""

    __tablename__ = "conversation_goals"

    session_id: Mapped[str] = mapped_column(
        sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE", name="fk_conversation_goals_session_id"),
        primary_key=True)
    goal_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    turn_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("conversation_turns.id", ondelete="SET NULL", name="fk_conversation_goals_turn_id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
