"""The model outputs a teacher can judge, read with what they belong to: their session, student and unit.

Curation and the training export both need a tutor reply with its session and student, an
attempt with its session, a conversation turn with its conversation; these joins are here once.
Records come back plain: the stores' own records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from ..language.models import Conversation, ConversationTurn
from ..language.store import TurnRecord, turn_record
from ..service.models import Student
from ..storage.database import Database
from ..tutoring.models import Attempt, TutorMessage, TutorSession
from ..tutoring.records import AttemptRecord, MessageRecord
from ..tutoring.store import TutoringStore


@dataclass(frozen=True)
class Owner:
    """The session (or conversation) an output belongs to."""

    session_id: str
    student: str
    curriculum_id: str
    problem_id: str | None = None  # tutoring sessions
    seed: int | None = None


def tutor_message(db: Database, message_id: int) -> tuple[MessageRecord, Owner] | None:
    """A chat message with its session, or None."""
    return _with_owner(db, TutorMessage, message_id, lambda store, sid: store.messages(session_id=sid))


def attempt(db: Database, attempt_id: int) -> tuple[AttemptRecord, Owner] | None:
    """An answer with its session, or None."""
    return _with_owner(db, Attempt, attempt_id, lambda store, sid: store.attempts(session_id=sid))


def _with_owner(db: Database, table, item_id: int, records: Callable[[TutoringStore, str], list]):
    owner = _owner_of(db, table, item_id)
    if owner is None:
        return None
    return next(r for r in records(TutoringStore(db), owner.session_id) if r.id == item_id), owner


def message_owner(db: Database, message_id: int) -> Owner | None:
    """The session a chat message belongs to."""
    return _owner_of(db, TutorMessage, message_id)


def _owner_of(db: Database, table, item_id: int) -> Owner | None:
    with db.session() as session:
        found = session.execute(sa.select(TutorSession, Student.name).join(Student)
                                .join(table, table.session_id == TutorSession.id).where(table.id == item_id)).first()
        return _session_owner(*found) if found else None


def conversation_turn(db: Database, turn_id: int) -> tuple[TurnRecord, Owner] | None:
    with db.session() as session:
        found = session.execute(
            sa.select(ConversationTurn, Conversation, Student.name)
            .join(Conversation, ConversationTurn.session_id == Conversation.id)
            .join(Student, Conversation.student_id == Student.id).where(ConversationTurn.id == turn_id)).first()
        if found is None:
            return None
        turn, conversation, student = found
        return turn_record(turn, turn.errors), Owner(conversation.id, student, conversation.curriculum_id)


def _session_owner(row: TutorSession, student: str) -> Owner:
    return Owner(row.id, student, row.curriculum_id, row.problem_id, row.seed)
