"""Queries over the tutoring tables (``models.py``): sessions, attempts, hints, mastery, chat.

The shape of llm's ``LogStore``: every method takes keyword arguments only, opens its own short
transaction on the ``Database`` and returns plain records (``records.py``). Every write commits
before it returns: when ``add_attempt`` comes back, the student's answer is on disk, whatever
happens to the reply after that.
"""

from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..service.models import Student
from ..service.people import student_row
from ..storage.base import utcnow
from ..storage.database import Database
from .models import Attempt, HintShown, Mastery, MasterySnapshot, TutorMessage, TutorSession
from .records import AttemptRecord, HintRecord, MasteryRecord, MessageRecord, SessionRecord


class TutoringStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # sessions ------------------------------------------------------------------------
    def create_session(self, *, session_id: str, student: str, curriculum_id: str, problem_id: str, seed: int,
                       progress: Mapping[str, Any], step_id: str | None, done: bool = False) -> SessionRecord:
        with self.db.session() as session:
            row = TutorSession(id=session_id, student_id=student_row(session, student, create=True).id,
                               curriculum_id=curriculum_id, problem_id=problem_id, seed=seed,
                               progress=dict(progress), step_id=step_id, done=done)
            session.add(row)
            session.flush()
            return _session_record(row, student)

    def get_session(self, *, session_id: str) -> SessionRecord | None:
        with self.db.session() as session:
            found = session.execute(
                sa.select(TutorSession, Student.name).join(Student).where(TutorSession.id == session_id)
            ).first()
            return _session_record(*found) if found else None

    def open_sessions(self, *, student: str, curriculum_id: str, problem_id: str | None = None) -> list[SessionRecord]:
        """The student's unfinished sessions in a unit (optionally of one problem), newest first."""
        query = (sa.select(TutorSession, Student.name).join(Student)
                 .where(Student.name == student, TutorSession.curriculum_id == curriculum_id,
                        TutorSession.done.is_(False))
                 .order_by(TutorSession.updated_at.desc(), TutorSession.created_at.desc()))
        if problem_id is not None:
            query = query.where(TutorSession.problem_id == problem_id)
        with self.db.session() as session:
            return [_session_record(*row) for row in session.execute(query)]

    def solved_problems(self, *, student: str, curriculum_id: str) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(
                sa.select(TutorSession.problem_id).join(Student)
                .where(Student.name == student, TutorSession.curriculum_id == curriculum_id,
                       TutorSession.done.is_(True))))

    def sessions_count(self, *, student: str, curriculum_id: str) -> int:
        with self.db.session() as session:
            return session.scalar(
                sa.select(sa.func.count(TutorSession.id)).join(Student)
                .where(Student.name == student, TutorSession.curriculum_id == curriculum_id)) or 0

    def session_locked(self, *, session_id: str):
        """A block in which no other process changes this session (its row is locked on
        PostgreSQL; see ``Database.row_locked``); the block's store calls share one transaction."""
        return self.db.row_locked(TutorSession, session_id)

    def update_session(self, *, session_id: str, progress: Mapping[str, Any], step_id: str | None,
                       done: bool) -> None:
        with self.db.session() as session:
            row = self._session_row(session, session_id)
            row.progress = dict(progress)
            row.step_id = step_id
            row.done = done

    def _move_session(self, session: Session, session_id: str, progress: Mapping[str, Any] | None,
                      step_id: str | None, done: bool | None, mastery: Mapping[str, float] | None) -> None:
        if progress is None and not mastery:
            return
        tutor_session = self._session_row(session, session_id)
        if progress is not None:
            tutor_session.progress = dict(progress)
            tutor_session.step_id = step_id
            tutor_session.done = bool(done)
        if mastery:
            self._write_mastery(session, tutor_session.student_id, tutor_session.curriculum_id, mastery, session_id)

    @staticmethod
    def _session_row(session: Session, session_id: str) -> TutorSession:
        row = session.get(TutorSession, session_id)
        if row is None:
            raise KeyError(f"no session {session_id!r}")
        return row

    # attempts ------------------------------------------------------------------------
    def add_attempt(self, *, session_id: str, step_id: str, answer: str, normalized: str | None, verdict: str,
                    misconception_id: str | None = None, diagnosis: str | None = None, feedback: str | None = None,
                    scaffold: bool = False, progress: Mapping[str, Any] | None = None,
                    next_step_id: str | None = None, done: bool | None = None,
                    mastery: Mapping[str, float] | None = None) -> AttemptRecord:
        """Record an answer and, when given, the session's new progress and the student's new
        mastery, all in one transaction: the stored session never disagrees with the attempts
        that moved it."""
        with self.db.session() as session:
            row = Attempt(session_id=session_id, step_id=step_id, answer=answer, normalized=normalized,
                          verdict=verdict, misconception_id=misconception_id, diagnosis=diagnosis,
                          feedback=feedback, scaffold=scaffold)
            session.add(row)
            self._move_session(session, session_id, progress, next_step_id, done, mastery)
            session.flush()
            return _attempt_record(row)

    def set_diagnosis(self, *, attempt_id: int, misconception_id: str | None, diagnosis: str | None,
                      feedback: str | None, model_name: str | None = None, adapter: str | None = None) -> None:
        """Add the model's classification to an attempt that is already stored, with the model
        and adapter version that made it."""
        with self.db.session() as session:
            row = session.get(Attempt, attempt_id)
            if row is None:
                raise KeyError(f"no attempt {attempt_id}")
            row.misconception_id = misconception_id
            row.diagnosis = diagnosis
            row.feedback = feedback
            row.diagnosis_model = model_name
            row.diagnosis_adapter = adapter

    def set_grade(self, *, attempt_id: int, graded_by: str, share: float, feedback: str | None,
                  progress: Mapping[str, Any] | None = None, mastery: Mapping[str, float] | None = None) -> None:
        """An open answer's grade, with the mastery it moves (only the first grade moves any) and
        the session's progress that records it, in one transaction."""
        with self.db.session() as session:
            row = session.get(Attempt, attempt_id)
            if row is None:
                raise KeyError(f"no attempt {attempt_id}")
            row.graded_by = graded_by
            row.grade_share = float(share)
            if feedback is not None:
                row.feedback = feedback
            if progress is not None or mastery:
                tutor_session = self._session_row(session, row.session_id)
                self._move_session(session, row.session_id, progress, tutor_session.step_id, tutor_session.done,
                                   mastery)

    def open_answers(self, *, student: str, curriculum_id: str, problem_id: str, step_id: str,
                     answer: str) -> list[AttemptRecord]:
        """The student's pending answers to this open step with exactly this text, oldest first."""
        with self.db.session() as session:
            rows = session.scalars(
                sa.select(Attempt).join(TutorSession, Attempt.session_id == TutorSession.id).join(Student)
                .where(Student.name == student, TutorSession.curriculum_id == curriculum_id,
                       TutorSession.problem_id == problem_id, Attempt.step_id == step_id,
                       Attempt.verdict == "pending", Attempt.answer == answer)
                .order_by(Attempt.created_at, Attempt.id))
            return [_attempt_record(row) for row in rows]

    def attempts(self, *, session_id: str) -> list[AttemptRecord]:
        with self.db.session() as session:
            rows = session.scalars(sa.select(Attempt).where(Attempt.session_id == session_id)
                                   .order_by(Attempt.created_at, Attempt.id))
            return [_attempt_record(row) for row in rows]

    # hints ---------------------------------------------------------------------------
    def add_hint(self, *, session_id: str, step_id: str, level: int, text: str, bottom_out: bool, scaffold: bool,
                 progress: Mapping[str, Any] | None = None, next_step_id: str | None = None,
                 done: bool | None = None, mastery: Mapping[str, float] | None = None) -> HintRecord:
        with self.db.session() as session:
            row = HintShown(session_id=session_id, step_id=step_id, level=level, text=text, bottom_out=bottom_out,
                            scaffold=scaffold)
            session.add(row)
            self._move_session(session, session_id, progress, next_step_id, done, mastery)
            session.flush()
            return _hint_record(row)

    def hints(self, *, session_id: str) -> list[HintRecord]:
        with self.db.session() as session:
            rows = session.scalars(sa.select(HintShown).where(HintShown.session_id == session_id)
                                   .order_by(HintShown.created_at, HintShown.id))
            return [_hint_record(row) for row in rows]

    def hint_counts(self, *, session_id: str) -> dict[str, int]:
        with self.db.session() as session:
            rows = session.execute(sa.select(HintShown.step_id, sa.func.count(HintShown.id))
                                   .where(HintShown.session_id == session_id).group_by(HintShown.step_id))
            return {step_id: count for step_id, count in rows}

    # mastery -------------------------------------------------------------------------
    def mastery(self, *, student: str, curriculum_id: str) -> dict[str, float]:
        with self.db.session() as session:
            rows = session.execute(sa.select(Mastery.skill_id, Mastery.p_known).join(Student)
                                   .where(Student.name == student, Mastery.curriculum_id == curriculum_id))
            return {skill_id: p for skill_id, p in rows}

    def set_mastery(self, *, student: str, curriculum_id: str, values: Mapping[str, float],
                    session_id: str | None = None) -> None:
        """Set current estimates and append each to the history, in one transaction."""
        if not values:
            return
        with self.db.session() as session:
            student_id = student_row(session, student, create=True).id
            self._write_mastery(session, student_id, curriculum_id, values, session_id)

    @staticmethod
    def _write_mastery(session: Session, student_id: int, curriculum_id: str, values: Mapping[str, float],
                       session_id: str | None) -> None:
        now = utcnow()
        for skill_id, p_known in values.items():
            p_known = float(p_known)
            current = session.get(Mastery, (student_id, curriculum_id, skill_id))
            if current is None:
                session.add(Mastery(student_id=student_id, curriculum_id=curriculum_id, skill_id=skill_id,
                                    p_known=p_known, updated_at=now))
            else:
                current.p_known = p_known
                current.updated_at = now
            session.add(MasterySnapshot(student_id=student_id, curriculum_id=curriculum_id, skill_id=skill_id,
                                        p_known=p_known, session_id=session_id, created_at=now))

    def mastery_history(self, *, student: str, curriculum_id: str) -> list[MasteryRecord]:
        with self.db.session() as session:
            rows = session.execute(
                sa.select(MasterySnapshot).join(Student)
                .where(Student.name == student, MasterySnapshot.curriculum_id == curriculum_id)
                .order_by(MasterySnapshot.created_at, MasterySnapshot.id))
            return [MasteryRecord(student=student, curriculum_id=row.curriculum_id, skill_id=row.skill_id,
                                  p_known=row.p_known, at=row.created_at, session_id=row.session_id)
                    for (row,) in rows]

    # chat ----------------------------------------------------------------------------
    def add_message(self, *, session_id: str, role: str, content: str, step_id: str | None = None,
                    model_name: str | None = None, prompt_tokens: int | None = None,
                    evaluated_tokens: int | None = None, completion_tokens: int | None = None,
                    ttft_s: float | None = None, total_s: float | None = None,
                    complete: bool = True, reply_to: int | None = None, adapter: str | None = None,
                    guard_rule: str | None = None) -> MessageRecord:
        with self.db.session() as session:
            row = TutorMessage(session_id=session_id, role=role, content=content, step_id=step_id,
                               model_name=model_name, prompt_tokens=prompt_tokens, evaluated_tokens=evaluated_tokens,
                               completion_tokens=completion_tokens, ttft_s=ttft_s, total_s=total_s, complete=complete,
                               reply_to=reply_to, adapter=adapter, guard_rule=guard_rule)
            session.add(row)
            session.flush()
            return _message_record(row)

    def update_message(self, *, message_id: int, content: str, complete: bool = False,
                       prompt_tokens: int | None = None, evaluated_tokens: int | None = None,
                       completion_tokens: int | None = None, ttft_s: float | None = None,
                       total_s: float | None = None, guard_rule: str | None = None) -> None:
        """Replace a streamed reply's text as it grows (one row per reply, see ``TutorService``)."""
        with self.db.session() as session:
            row = session.get(TutorMessage, message_id)
            if row is None:
                raise KeyError(f"no message {message_id}")
            row.content = content
            row.complete = complete
            for name, value in (("prompt_tokens", prompt_tokens), ("evaluated_tokens", evaluated_tokens),
                                ("completion_tokens", completion_tokens), ("ttft_s", ttft_s), ("total_s", total_s),
                                ("guard_rule", guard_rule)):
                if value is not None:
                    setattr(row, name, value)

    def messages(self, *, session_id: str) -> list[MessageRecord]:
        """The chat in conversation order: each reply right after the question it answers."""
        with self.db.session() as session:
            rows = session.scalars(sa.select(TutorMessage).where(TutorMessage.session_id == session_id)
                                   .order_by(TutorMessage.created_at, TutorMessage.id))
            return conversation_order([_message_record(row) for row in rows])


def conversation_order(messages: list[MessageRecord]) -> list[MessageRecord]:
    """Messages in time order, except that a reply follows its own question (a second question
    sent while the first reply was written is stored before that reply)."""
    replies: dict[int, list[MessageRecord]] = {}
    for m in messages:
        if m.reply_to is not None:
            replies.setdefault(m.reply_to, []).append(m)
    ids = {m.id for m in messages}
    ordered: list[MessageRecord] = []
    for m in messages:
        if m.reply_to is not None and m.reply_to in ids:
            continue  # placed after its question
        ordered.append(m)
        ordered += replies.get(m.id, [])
    return ordered


def _session_record(row: TutorSession, student: str) -> SessionRecord:
    return SessionRecord(id=row.id, student=student, curriculum_id=row.curriculum_id, problem_id=row.problem_id,
                         seed=row.seed, progress=dict(row.progress or {}), step_id=row.step_id, done=row.done,
                         created_at=row.created_at, updated_at=row.updated_at)


def _attempt_record(row: Attempt) -> AttemptRecord:
    return AttemptRecord(id=row.id, session_id=row.session_id, step_id=row.step_id, answer=row.answer,
                         normalized=row.normalized, verdict=row.verdict, misconception_id=row.misconception_id,
                         diagnosis=row.diagnosis, feedback=row.feedback, scaffold=row.scaffold,
                         created_at=row.created_at, graded_by=row.graded_by, grade_share=row.grade_share,
                         diagnosis_model=row.diagnosis_model, diagnosis_adapter=row.diagnosis_adapter)


def _hint_record(row: HintShown) -> HintRecord:
    return HintRecord(id=row.id, session_id=row.session_id, step_id=row.step_id, level=row.level, text=row.text,
                      bottom_out=row.bottom_out, scaffold=row.scaffold, created_at=row.created_at)


def _message_record(row: TutorMessage) -> MessageRecord:
    return MessageRecord(id=row.id, session_id=row.session_id, role=row.role, content=row.content,
                         step_id=row.step_id, model_name=row.model_name, prompt_tokens=row.prompt_tokens,
                         evaluated_tokens=row.evaluated_tokens, completion_tokens=row.completion_tokens,
                         ttft_s=row.ttft_s, total_s=row.total_s, complete=row.complete, created_at=row.created_at,
                         reply_to=row.reply_to, adapter=row.adapter, guard_rule=row.guard_rule)
