"""Read-only queries over every conversation of the class, for the teacher's transcripts and exports.

Like ``tutoring.reports`` for the tutoring tables: aggregates in SQL, plain records out, and the
teacher-role check left to the dashboard service (which also counts these errors beside the
math misconceptions). The per-conversation reads the student's
page makes stay in ``store.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..service.models import Student
from ..storage.database import Database
from .models import Conversation, ConversationGoalMet, ConversationTurn, CorrectedSpan
from .store import TurnRecord, turn_record


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation as the teacher's list shows it."""

    id: str
    student: str
    curriculum_id: str
    level: str  # in force now
    messages: int  # the student's
    corrected: int  # student messages with at least one error
    errors: int
    goals_met: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ClassTurn:
    """One turn of some student's conversation, for an export row."""

    student: str
    curriculum_id: str
    turn: TurnRecord
    goals_met: tuple[str, ...]  # goals this (student) turn met


@dataclass(frozen=True)
class ErrorCount:
    """Errors of one category found in a unit's messages written at one level."""

    curriculum_id: str
    category: str  # a misconception id of the unit, or a general category
    level: str
    count: int
    students: int


def conversation_error_counts(db: Database, *, curriculum_id: str | None = None) -> list[ErrorCount]:
    """Errors found in students' conversation messages, per unit, category and the level the
    message was written at; all diagnosed by the model."""
    key = (Conversation.curriculum_id, CorrectedSpan.category, ConversationTurn.level)
    query = (sa.select(*key, sa.func.count(CorrectedSpan.id),
                       sa.func.count(sa.distinct(Conversation.student_id)))
             .join(ConversationTurn, CorrectedSpan.turn_id == ConversationTurn.id)
             .join(Conversation, ConversationTurn.session_id == Conversation.id)
             .group_by(*key))
    if curriculum_id is not None:
        query = query.where(Conversation.curriculum_id == curriculum_id)
    with db.session() as session:
        return [ErrorCount(curriculum_id=unit, category=category, level=level, count=count, students=students)
                for unit, category, level, count, students in session.execute(query)]


def conversation_summaries(db: Database, *, curriculum_id: str | None = None, student: str | None = None,
                           session_id: str | None = None, limit: int = 500) -> list[ConversationSummary]:
    """Most recently active first."""
    student_turns = sa.and_(ConversationTurn.session_id == Conversation.id, ConversationTurn.role == "student")
    messages = (sa.select(sa.func.count(ConversationTurn.id)).where(student_turns)
                .correlate(Conversation).scalar_subquery())
    corrected = (sa.select(sa.func.count(sa.distinct(CorrectedSpan.turn_id)))
                 .join(ConversationTurn, CorrectedSpan.turn_id == ConversationTurn.id).where(student_turns)
                 .correlate(Conversation).scalar_subquery())
    errors = (sa.select(sa.func.count(CorrectedSpan.id))
              .join(ConversationTurn, CorrectedSpan.turn_id == ConversationTurn.id).where(student_turns)
              .correlate(Conversation).scalar_subquery())
    goals = (sa.select(sa.func.count()).select_from(ConversationGoalMet)
             .where(ConversationGoalMet.session_id == Conversation.id).correlate(Conversation).scalar_subquery())
    query = (sa.select(Conversation, Student.name, messages, corrected, errors, goals)
             .join(Student, Conversation.student_id == Student.id))
    if curriculum_id is not None:
        query = query.where(Conversation.curriculum_id == curriculum_id)
    if student is not None:
        query = query.where(Student.name == student)
    if session_id is not None:
        query = query.where(Conversation.id == session_id)
    query = query.order_by(Conversation.updated_at.desc(), Conversation.created_at.desc()).limit(limit)
    with db.session() as session:
        return [ConversationSummary(id=row.id, student=name, curriculum_id=row.curriculum_id, level=row.level,
                                    messages=n_messages, corrected=n_corrected, errors=n_errors, goals_met=n_goals,
                                    created_at=row.created_at, updated_at=row.updated_at)
                for row, name, n_messages, n_corrected, n_errors, n_goals in session.execute(query)]


def class_turns(db: Database, *, curriculum_id: str | None = None) -> list[ClassTurn]:
    """Every turn of every conversation (of one unit), in the order they were written."""
    query = (sa.select(ConversationTurn, Conversation.curriculum_id, Student.name)
             .join(Conversation, ConversationTurn.session_id == Conversation.id)
             .join(Student, Conversation.student_id == Student.id)
             .options(selectinload(ConversationTurn.errors)).order_by(ConversationTurn.id))
    goals_query = (sa.select(ConversationGoalMet.turn_id, ConversationGoalMet.goal_id)
                   .join(Conversation, ConversationGoalMet.session_id == Conversation.id)
                   .where(ConversationGoalMet.turn_id.is_not(None))
                   .order_by(ConversationGoalMet.created_at, ConversationGoalMet.goal_id))
    if curriculum_id is not None:
        query = query.where(Conversation.curriculum_id == curriculum_id)
        goals_query = goals_query.where(Conversation.curriculum_id == curriculum_id)
    with db.session() as session:
        goals: dict[int, list[str]] = {}
        for turn_id, goal_id in session.execute(goals_query):
            goals.setdefault(turn_id, []).append(goal_id)
        return [ClassTurn(student=name, curriculum_id=unit_id, turn=turn_record(row, row.errors),
                          goals_met=tuple(goals.get(row.id, ())))
                for row, unit_id, name in session.execute(query)]
