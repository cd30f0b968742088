"""Read-only queries over the whole class, for the teacher's dashboard and the CSV exports.

They aggregate in SQL (the per-student store methods would mean one query per session) and
return plain records; the dashboard service adds curriculum names and the teacher-role check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..engine.observation_sequences import StepEvent
from ..service.models import Student
from ..storage.base import UTCDateTime
from ..storage.database import Database
from .models import Attempt, HintShown, Mastery, MasterySnapshot, TutorSession
from .records import CountRow, MasteryRecord, SessionSummary

NOT_RIGHT = ("incorrect", "misconception", "invalid")


@dataclass(frozen=True)
class StepStruggle:
    """How hard one step went in one session."""

    session_id: str
    student: str
    curriculum_id: str
    problem_id: str
    step_id: str
    wrong_attempts: int
    hints: int
    bottom_out_hints: int
    last_at: datetime
    still_on_step: bool  # the session is unfinished and this is its current step


@dataclass(frozen=True)
class AttemptRow:
    at: datetime
    student: str
    curriculum_id: str
    problem_id: str
    session_id: str
    step_id: str
    answer: str
    normalized: str | None
    verdict: str
    misconception_id: str | None
    diagnosis: str | None
    scaffold: bool
    seed: int


def _unit(query, column, curriculum_id: str | None):
    return query.where(column == curriculum_id) if curriculum_id is not None else query


def current_mastery(db: Database, *, curriculum_id: str | None = None) -> list[MasteryRecord]:
    query = _unit(sa.select(Mastery, Student.name).join(Student), Mastery.curriculum_id, curriculum_id)
    query = query.order_by(Student.name, Mastery.curriculum_id, Mastery.skill_id)
    with db.session() as session:
        return [MasteryRecord(student=name, curriculum_id=row.curriculum_id, skill_id=row.skill_id,
                              p_known=row.p_known, at=row.updated_at) for row, name in session.execute(query)]


def mastery_history(db: Database, *, curriculum_id: str | None = None) -> list[MasteryRecord]:
    query = _unit(sa.select(MasterySnapshot, Student.name).join(Student), MasterySnapshot.curriculum_id,
                  curriculum_id)
    query = query.order_by(MasterySnapshot.created_at, MasterySnapshot.id)
    with db.session() as session:
        return [MasteryRecord(student=name, curriculum_id=row.curriculum_id, skill_id=row.skill_id,
                              p_known=row.p_known, at=row.created_at, session_id=row.session_id)
                for row, name in session.execute(query)]


def misconception_counts(db: Database, *, curriculum_id: str | None = None) -> list[CountRow]:
    """Misconceptions seen per step (bug rules and model diagnoses alike), in no particular order:
    the dashboard sorts them together with conversation practice's errors."""
    query = (sa.select(TutorSession.curriculum_id, TutorSession.problem_id, Attempt.step_id,
                       Attempt.misconception_id, Attempt.diagnosis, sa.func.count(Attempt.id))
             .join(TutorSession, Attempt.session_id == TutorSession.id)
             .where(Attempt.misconception_id.is_not(None))
             .group_by(TutorSession.curriculum_id, TutorSession.problem_id, Attempt.step_id,
                       Attempt.misconception_id, Attempt.diagnosis))
    students_query = (sa.select(TutorSession.curriculum_id, TutorSession.problem_id, Attempt.step_id,
                                Attempt.misconception_id, sa.func.count(sa.distinct(TutorSession.student_id)))
                      .join(TutorSession, Attempt.session_id == TutorSession.id)
                      .where(Attempt.misconception_id.is_not(None))
                      .group_by(TutorSession.curriculum_id, TutorSession.problem_id, Attempt.step_id,
                                Attempt.misconception_id))
    query = _unit(query, TutorSession.curriculum_id, curriculum_id)
    students_query = _unit(students_query, TutorSession.curriculum_id, curriculum_id)
    with db.session() as session:
        by_source: dict[tuple, dict[str, int]] = {}
        for unit, problem, step, misconception, diagnosis, count in session.execute(query):
            by_source.setdefault((unit, problem, step, misconception), {})[diagnosis or "unknown"] = count
        students = {tuple(row[:4]): row[4] for row in session.execute(students_query)}
    rows = [CountRow(curriculum_id=key[0], problem_id=key[1], step_id=key[2], misconception_id=key[3],
                     count=sum(sources.values()), students=students.get(key, 0), diagnoses=sources)
            for key, sources in by_source.items()]
    return rows


def step_struggles(db: Database, *, curriculum_id: str | None = None) -> list[StepStruggle]:
    """Wrong attempts and hints per (session, step), for every step with any of either."""
    wrong = (sa.select(Attempt.session_id, Attempt.step_id, sa.func.count(Attempt.id).label("n"),
                       sa.func.max(Attempt.created_at).label("last"))
             .where(Attempt.verdict.in_(NOT_RIGHT), Attempt.scaffold.is_(False))
             .group_by(Attempt.session_id, Attempt.step_id))
    hints = (sa.select(HintShown.session_id, HintShown.step_id, sa.func.count(HintShown.id).label("n"),
                       sa.func.sum(sa.case((HintShown.bottom_out.is_(True), 1), else_=0)).label("bottom"),
                       sa.func.max(HintShown.created_at).label("last"))
             .group_by(HintShown.session_id, HintShown.step_id))
    sessions = _unit(sa.select(TutorSession, Student.name).join(Student), TutorSession.curriculum_id, curriculum_id)
    with db.session() as session:
        found: dict[tuple[str, str], dict] = {}
        for session_id, step_id, n, last in session.execute(wrong):
            found[(session_id, step_id)] = {"wrong": n, "hints": 0, "bottom": 0, "last": last}
        for session_id, step_id, n, bottom, last in session.execute(hints):
            entry = found.setdefault((session_id, step_id), {"wrong": 0, "hints": 0, "bottom": 0, "last": last})
            entry.update(hints=n, bottom=int(bottom or 0), last=max(entry["last"], last))
        wanted = {sid for sid, _ in found}
        meta = {row.id: (row, name) for row, name in session.execute(sessions.where(TutorSession.id.in_(wanted)))}
    result = []
    for (session_id, step_id), entry in found.items():
        if session_id not in meta:
            continue  # another unit
        row, name = meta[session_id]
        result.append(StepStruggle(session_id=session_id, student=name, curriculum_id=row.curriculum_id,
                                   problem_id=row.problem_id, step_id=step_id, wrong_attempts=entry["wrong"],
                                   hints=entry["hints"], bottom_out_hints=entry["bottom"],
                                   last_at=_aware(entry["last"]),
                                   still_on_step=not row.done and row.step_id == step_id))
    return result


def session_summaries(db: Database, *, curriculum_id: str | None = None, student: str | None = None,
                      session_id: str | None = None, limit: int = 500) -> list[SessionSummary]:
    attempts = (sa.select(sa.func.count(Attempt.id)).where(Attempt.session_id == TutorSession.id)
                .correlate(TutorSession).scalar_subquery())
    hints = (sa.select(sa.func.count(HintShown.id)).where(HintShown.session_id == TutorSession.id)
             .correlate(TutorSession).scalar_subquery())
    query = _unit(sa.select(TutorSession, Student.name, attempts, hints).join(Student), TutorSession.curriculum_id,
                  curriculum_id)
    if student is not None:
        query = query.where(Student.name == student)
    if session_id is not None:
        query = query.where(TutorSession.id == session_id)
    query = query.order_by(TutorSession.updated_at.desc()).limit(limit)
    with db.session() as session:
        return [SessionSummary(id=row.id, student=name, curriculum_id=row.curriculum_id, problem_id=row.problem_id,
                               step_id=row.step_id, done=row.done, attempts=n_attempts, hints=n_hints,
                               created_at=row.created_at, updated_at=row.updated_at)
                for row, name, n_attempts, n_hints in session.execute(query)]


def attempt_rows(db: Database, *, curriculum_id: str | None = None) -> list[AttemptRow]:
    query = (sa.select(Attempt, TutorSession, Student.name)
             .join(TutorSession, Attempt.session_id == TutorSession.id).join(Student))
    query = _unit(query, TutorSession.curriculum_id, curriculum_id).order_by(Attempt.created_at, Attempt.id)
    with db.session() as session:
        return [AttemptRow(at=a.created_at, student=name, curriculum_id=s.curriculum_id, problem_id=s.problem_id,
                           session_id=s.id, step_id=a.step_id, answer=a.answer, normalized=a.normalized,
                           verdict=a.verdict, misconception_id=a.misconception_id, diagnosis=a.diagnosis,
                           scaffold=a.scaffold, seed=s.seed)
                for a, s, name in session.execute(query)]


def step_events(db: Database, *, curriculum_id: str) -> list[StepEvent]:
    """Every answer and hint of the unit's sessions as the plain events ``observation_sequences``
    turns into BKT observations (two queries, whatever the size of the class)."""
    sessions = (sa.select(TutorSession.id, TutorSession.problem_id, Student.name).join(Student)
                .where(TutorSession.curriculum_id == curriculum_id).subquery())
    attempts = (sa.select(Attempt.id, Attempt.step_id, Attempt.verdict, Attempt.scaffold, Attempt.created_at,
                          sessions.c.id, sessions.c.problem_id, sessions.c.name)
                .join(sessions, Attempt.session_id == sessions.c.id))
    hints = (sa.select(HintShown.id, HintShown.step_id, HintShown.created_at, sessions.c.id, sessions.c.problem_id,
                       sessions.c.name)
             .join(sessions, HintShown.session_id == sessions.c.id))
    with db.session() as session:
        events = [StepEvent(student=name, session_id=sid, problem_id=problem_id, step_id=step_id, at=at,
                            kind="attempt", verdict=verdict, scaffold=scaffold, order=row_id)
                  for row_id, step_id, verdict, scaffold, at, sid, problem_id, name in session.execute(attempts)]
        events += [StepEvent(student=name, session_id=sid, problem_id=problem_id, step_id=step_id, at=at,
                             kind="hint", order=row_id)
                   for row_id, step_id, at, sid, problem_id, name in session.execute(hints)]
    return events


def _aware(value):
    """A ``max()`` over timestamps, as aware UTC whichever way the driver typed the aggregate."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)
