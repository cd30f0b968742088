"""The tables of curation: a teacher's judgement of a model output, stored beside it, never in it.

A tutor reply, a misconception diagnosis or a language correction stays as the student saw it;
what the teacher thinks of it is a row here, with who and when. Rows are append-only (the
newest per item is the one in force, as with grade overrides), so the history of a teacher's
mind is kept and the pairs (model said, teacher said) are data for the training export and the
dashboard's agreement trends. Confirming a model's *grade* is the assessment area's
(``assessment_confirmations``), next to its overrides.

The schema is owned by Alembic; a change needs a new revision.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base, UTCDateTime, utcnow

REPLY_VERDICTS = ("good", "bad", "rewritten")
DIAGNOSIS_VERDICTS = ("confirmed", "corrected")
CORRECTION_VERDICTS = ("approved", "rejected")


class ReplyReview(Base):
    """A tutor reply marked good or bad, or rewritten: ``better_reply`` is what the tutor should
    have said (only with ``rewritten``)."""

    __tablename__ = "curation_reply_reviews"
    __table_args__ = (sa.Index("ix_curation_reply_reviews_message", "message_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tutor_messages.id", ondelete="CASCADE", name="fk_curation_reply_reviews_message_id"))
    verdict: Mapped[str] = mapped_column(sa.String(16))
    better_reply: Mapped[str | None] = mapped_column(sa.Text)
    teacher: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DiagnosisReview(Base):
    """A misconception diagnosis of an attempt (the bug rule's or the model's, or a wrong answer
    nobody diagnosed) confirmed, or corrected to ``misconception_id`` (an id of the unit's
    library, or "none"), with the feedback the student should have read when the teacher gives one."""

    __tablename__ = "curation_diagnosis_reviews"
    __table_args__ = (sa.Index("ix_curation_diagnosis_reviews_attempt", "attempt_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="CASCADE", name="fk_curation_diagnosis_reviews_attempt_id"))
    verdict: Mapped[str] = mapped_column(sa.String(16))
    misconception_id: Mapped[str | None] = mapped_column(sa.String(80))
    feedback: Mapped[str | None] = mapped_column(sa.Text)
    teacher: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CorrectionReview(Base):
    """The model's correction of a student's message in a conversation, approved or rejected."""

    __tablename__ = "curation_correction_reviews"
    __table_args__ = (sa.Index("ix_curation_correction_reviews_turn", "turn_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(
        sa.ForeignKey("conversation_turns.id", ondelete="CASCADE", name="fk_curation_correction_reviews_turn_id"))
    verdict: Mapped[str] = mapped_column(sa.String(16))
    teacher: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
