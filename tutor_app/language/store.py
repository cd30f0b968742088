"""Queries over the conversation tables (``models.py``), on the app's one ``Database``.

Like every store: keyword arguments only, one short transaction per call that commits before it
returns, frozen records out, never ORM objects. A student's message is written the moment it
arrives (``add_student_turn``); its correction, the goals it met and the level it led to are
written together by ``record_correction``, before the character's reply is asked for.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..service.models import Student
from ..service.people import student_row
from ..storage.base import utcnow
from ..storage.database import Database
from .corrections import PlacedError
from .models import Conversation, ConversationGoalMet, ConversationTurn, CorrectedSpan


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    student: str
    curriculum_id: str
    level: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TurnRecord:
    id: int
    session_id: str
    role: str
    content: str
    level: str
    corrected: str | None
    correction_status: str | None
    simplified: bool
    too_hard: bool
    translation: str | None
    explanation: str | None
    model_name: str | None
    complete: bool
    created_at: datetime
    errors: tuple[PlacedError, ...] = ()  # as the correction placed them: the same record in and out
    adapter: str | None = None  # with model_name: what wrote the reply, or a student turn's correction


@dataclass(frozen=True)
class GoalRecord:
    goal_id: str
    turn_id: int | None  # the student turn that met it (None if that turn was deleted)
    at: datetime


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # conversations -------------------------------------------------------------------
    def create(self, *, session_id: str, student: str, curriculum_id: str, level: str,
               opening: str) -> ConversationRecord:
        """A new conversation with the character's opening line as its first turn."""
        with self.db.session() as session:
            row = Conversation(id=session_id, student_id=student_row(session, student, create=True).id, curriculum_id=curriculum_id, level=level)
            session.add(row)
            session.flush()
            session.add(ConversationTurn(session_id=row.id, role="character", content=opening, level=level))
            session.flush()
            return _conversation_record(row, student)

    def get(self, *, session_id: str) -> ConversationRecord | None:
        with self.db.session() as session:
            found = session.execute(
                sa.select(Conversation, Student.name).join(Student, Conversation.student_id == Student.id)
                .where(Conversation.id == session_id)).first()
            return _conversation_record(*found) if found else None

    def latest(self, *, student: str, curriculum_id: str) -> ConversationRecord | None:
        """The student's most recently active conversation in a unit."""
        with self.db.session() as session:
            found = session.execute(
                sa.select(Conversation, Student.name).join(Student, Conversation.student_id == Student.id)
                .where(Student.name == student, Conversation.curriculum_id == curriculum_id)
                .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc()).limit(1)).first()
            return _conversation_record(*found) if found else None

    @contextmanager
    def locked(self, *, session_id: str) -> Iterator[None]:
        """Hold the conversation's row until the block ends, across app processes; the block's
        calls share one transaction (``Database.row_locked``)."""
        with self.db.row_locked(Conversation, session_id):
            yield

    # who writes the reply ------------------------------------------------------------
    def claim_reply(self, *, session_id: str, token: str, stale_before: datetime) -> bool:
        """Take the conversation's reply for ``token``, unless someone holds it and has said so
        since ``stale_before``. One conditional UPDATE, so two processes asking at once cannot
        both get it: PostgreSQL checks the condition again once the first one commits, SQLite
        writes one at a time."""
        with self.db.session() as session:
            taken = session.execute(
                sa.update(Conversation)
                .where(Conversation.id == session_id,
                       sa.or_(Conversation.reply_claim.is_(None), Conversation.reply_claimed_at < stale_before))
                .values(reply_claim=token, reply_claimed_at=utcnow(), updated_at=Conversation.updated_at)
                .execution_options(synchronize_session=False))
            return taken.rowcount == 1

    def keep_claims(self, *, claims: Mapping[str, str]) -> None:
        """Say that these replies ({conversation id: token}) are still being written."""
        now = utcnow()
        with self.db.session() as session:
            for session_id, token in claims.items():
                session.execute(sa.update(Conversation)
                                .where(Conversation.id == session_id, Conversation.reply_claim == token)
                                .values(reply_claimed_at=now, updated_at=Conversation.updated_at)
                                .execution_options(synchronize_session=False))

    def release_reply(self, *, session_id: str, token: str) -> None:
        with self.db.session() as session:
            session.execute(sa.update(Conversation)
                            .where(Conversation.id == session_id, Conversation.reply_claim == token)
                            .values(reply_claim=None, reply_claimed_at=None, updated_at=Conversation.updated_at)
                            .execution_options(synchronize_session=False))

    # turns ---------------------------------------------------------------------------
    def add_student_turn(self, *, session_id: str, content: str, level: str) -> TurnRecord:
        with self.db.session() as session:
            row = ConversationTurn(session_id=session_id, role="student", content=content, level=level)
            session.add(row)
            self._touch(session, session_id)
            session.flush()
            return turn_record(row, ())

    def record_correction(self, *, turn_id: int, status: str, corrected: str, errors: Iterable[PlacedError],
                          goals_met: Iterable[str], level: str, model_name: str | None = None,
                          adapter: str | None = None, decided_at: str | None = None) -> TurnRecord:
        """The correction of a stored student turn, the goals it met and the conversation's new
        level, in one transaction: the level never disagrees with the corrections behind it.
        ``model_name``/``adapter``: the model version that made a checked correction.
        ``decided_at``: the level in force when the turn was decided, if another process moved it
        after the turn was written (the teacher's transcript replays the rule from it)."""
        with self.db.session() as session:
            row = self._turn(session, turn_id)
            if decided_at is not None:
                row.level = decided_at
            row.corrected = corrected
            row.correction_status = status
            row.model_name = model_name
            row.adapter = adapter
            for error in errors:
                row.errors.append(CorrectedSpan(span_start=error.start, span_end=error.end, span=error.span,
                                                    correction=error.correction, category=error.category,
                                                    explanation=error.explanation))
            now = utcnow()
            for goal_id in goals_met:
                if session.get(ConversationGoalMet, (row.session_id, goal_id)) is None:
                    session.add(ConversationGoalMet(session_id=row.session_id, goal_id=goal_id, turn_id=row.id,
                                                    created_at=now))
            conversation = self._touch(session, row.session_id)
            conversation.level = level
            session.flush()
            return turn_record(row, row.errors)

    def add_character_turn(self, *, session_id: str, content: str, level: str, simplified: bool = False,
                           too_hard: bool = False, model_name: str | None = None,
                           complete: bool = True, adapter: str | None = None) -> TurnRecord:
        with self.db.session() as session:
            row = ConversationTurn(session_id=session_id, role="character", content=content, level=level,
                                   simplified=simplified, too_hard=too_hard, model_name=model_name,
                                   complete=complete, adapter=adapter)
            session.add(row)
            self._touch(session, session_id)
            session.flush()
            return turn_record(row, ())

    def set_translation(self, *, turn_id: int, translation: str, explanation: str) -> None:
        with self.db.session() as session:
            row = self._turn(session, turn_id)
            row.translation = translation
            row.explanation = explanation

    def turns(self, *, session_id: str) -> list[TurnRecord]:
        with self.db.session() as session:
            rows = session.scalars(sa.select(ConversationTurn).options(selectinload(ConversationTurn.errors))
                                   .where(ConversationTurn.session_id == session_id)
                                   .order_by(ConversationTurn.id))  # ids follow the order of writing
            return [turn_record(row, row.errors) for row in rows]

    def goals_met(self, *, session_id: str) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(sa.select(ConversationGoalMet.goal_id)
                                       .where(ConversationGoalMet.session_id == session_id)))

    def goals_reached(self, *, session_id: str) -> list[GoalRecord]:
        """The goals met, with the turn that met each, in the order they were met."""
        with self.db.session() as session:
            rows = session.scalars(sa.select(ConversationGoalMet).where(ConversationGoalMet.session_id == session_id)
                                   .order_by(ConversationGoalMet.created_at, ConversationGoalMet.goal_id))
            return [GoalRecord(goal_id=r.goal_id, turn_id=r.turn_id, at=r.created_at) for r in rows]

    @staticmethod
    def _turn(session: Session, turn_id: int) -> ConversationTurn:
        row = session.get(ConversationTurn, turn_id)
        if row is None:
            raise KeyError(f"no conversation turn {turn_id}")
        return row

    @staticmethod
    def _touch(session: Session, session_id: str) -> Conversation:
        conversation = session.get(Conversation, session_id)
        if conversation is None:
            raise KeyError(f"no conversation {session_id!r}")
        conversation.updated_at = utcnow()
        return conversation


def _conversation_record(row: Conversation, student: str) -> ConversationRecord:
    return ConversationRecord(id=row.id, student=student, curriculum_id=row.curriculum_id, level=row.level,
                              created_at=row.created_at, updated_at=row.updated_at)


def turn_record(row: ConversationTurn, errors) -> TurnRecord:
    return TurnRecord(
        id=row.id, session_id=row.session_id, role=row.role, content=row.content, level=row.level,
        corrected=row.corrected, correction_status=row.correction_status, simplified=bool(row.simplified),
        too_hard=bool(row.too_hard), translation=row.translation, explanation=row.explanation,
        model_name=row.model_name, complete=bool(row.complete), created_at=row.created_at, adapter=row.adapter,
        errors=tuple(PlacedError(start=e.span_start, end=e.span_end, span=e.span, correction=e.correction,
                                 category=e.category, explanation=e.explanation) for e in errors))
