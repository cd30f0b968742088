"""Training items for tutoring replies: the chat prompt as the tutor was asked, the reply a teacher stands behind.

A reply marked good is learned as it was shown; a rewritten one as the teacher wrote it; a bad
one is left out. The prompt is rebuilt with ``tutor_chat.build_messages`` from the session as
it stood when the student asked: the problem variant of the session's seed, the step the
question was asked on, the attempts and the hints before it, and the whole chat before it with
the times it was written (as the tutoring service sends it: each attempt and hint is told in
the turn of the question after it), trimmed to the model's context by the model's own token
count. Earlier tutor turns in that history are context, not learned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa

from ..curriculum.library import CurriculumLibrary
from ..curriculum.params import ParamError, render_variant
from ..curriculum.schema import Problem, Unit
from ..dialogue.tutor_chat import MAX_REPLY_TOKENS, build_messages
from ..prompting import PromptLibrary
from ..storage.database import Database
from ..tutoring.models import TutorMessage
from ..tutoring.records import AttemptRecord, HintRecord, MessageRecord, SessionRecord
from ..tutoring.service import model_history
from ..tutoring.store import TutoringStore
from .items import Collected, CountTokens, Exclusion, TrainingItem, with_answer
from .sources import message_owner
from .store import CurationStore

TASK = "tutoring"


@dataclass(frozen=True)
class SessionView:
    record: SessionRecord
    unit: Unit | None
    problem: Problem | None  # the session's variant
    problem_missing: str | None  # why there is no problem
    messages: tuple[MessageRecord, ...]
    attempts: tuple[AttemptRecord, ...]
    hints: tuple[HintRecord, ...]


def tutoring_items(db: Database, library: CurriculumLibrary, prompts: PromptLibrary, *,
                   count_tokens: CountTokens | None, n_ctx: int) -> Collected:
    store = TutoringStore(db)
    judged = CurationStore(db).reply_reviews()
    collected = Collected()

    @lru_cache(maxsize=None)
    def view(session_id: str) -> SessionView:
        return _session_view(store, library, session_id)

    sessions: dict[str, list[int]] = {}
    for message_id in judged:
        owner = message_owner(db, message_id)
        if owner is not None:
            sessions.setdefault(owner.session_id, []).append(message_id)
    for session_id, ids in sorted(sessions.items()):
        session = view(session_id)
        for message in session.messages:
            if message.id in ids:
                _one(collected, session, message, judged[message.id], prompts, count_tokens, n_ctx)
    total = _tutor_replies(db)
    collected.not_reviewed[TASK] = max(0, total - len(judged))
    return collected


def _one(collected: Collected, session: SessionView, message: MessageRecord, judgement, prompts: PromptLibrary,
         count_tokens: CountTokens | None, n_ctx: int) -> None:
    unit_id = session.record.curriculum_id

    def exclude(reason: str) -> None:
        collected.excluded.append(Exclusion(TASK, unit_id, reason))

    if judgement.verdict == "bad":
        return exclude("marked bad by the teacher")
    if judgement.verdict == "good" and message.guard_rule:
        return exclude("cut by the answer-leak guard (the stored reply ends in the guard's redirect, not the "
                       "model's words); rewrite it to use it")
    if session.unit is None or session.problem is None:
        return exclude(session.problem_missing or f"unit {unit_id} is no longer loaded")
    earlier = [m for m in session.messages if (m.created_at, m.id) < (message.created_at, message.id)]
    question = next((m for m in reversed(earlier) if m.role == "student"), None)
    if question is None:
        return exclude("no student question before the reply")
    step_ids = [s.id for s in session.problem.steps]
    if message.step_id is not None and message.step_id not in step_ids:
        return exclude(f"step {message.step_id} is no longer in problem {session.problem.id}")
    step_index = step_ids.index(message.step_id) if message.step_id is not None else len(step_ids)
    before = (question.created_at, question.id)
    history = model_history([m for m in earlier if (m.created_at, m.id) < before])
    attempts = [a for a in session.attempts if a.created_at < question.created_at]
    shown = [h for h in session.hints if h.step_id == message.step_id and h.created_at < question.created_at]
    hints = [h.text for h in shown]
    prompt = build_messages(
        prompts=prompts, unit=session.unit, problem=session.problem, step_index=step_index, attempts=attempts,
        misconceptions_seen=list(dict.fromkeys(a.misconception_id for a in attempts if a.misconception_id)),
        history=[{"role": "assistant" if m.role == "tutor" else "user", "content": m.content, "at": m.created_at}
                 for m in history],
        student_message=question.content, hints_shown=shown, count_tokens=count_tokens, n_ctx=n_ctx,
        max_tokens=MAX_REPLY_TOKENS)
    reply = judgement.better_reply if judgement.verdict == "rewritten" else message.content
    case = None
    if message.step_id is not None:
        case = {"section": "tutoring", "unit": unit_id, "problem": session.problem.id, "step": message.step_id,
                "seed": session.record.seed, "message": question.content, "reference": reply,
                "attempts": [{"step": a.step_id, "answer": a.answer, "verdict": a.verdict,
                              **({"misconception": a.misconception_id} if a.misconception_id else {})}
                             for a in attempts if a.step_id in step_ids],
                "hints": hints, "history": [{"role": m.role, "content": m.content} for m in history]}
    collected.items.append(TrainingItem(
        task=TASK, unit=unit_id, student=session.record.student, at=message.created_at,
        messages=with_answer(prompt, reply), source="approved" if judgement.verdict == "good" else "rewritten",
        item=f"tutor_messages:{message.id}", case=case))


def _session_view(store: TutoringStore, library: CurriculumLibrary, session_id: str) -> SessionView:
    record = store.get_session(session_id=session_id)
    unit = library.units.get(record.curriculum_id)
    problem, missing = None, None
    if unit is None:
        missing = f"unit {record.curriculum_id} is no longer loaded"
    else:
        template = next((p for p in unit.problems if p.id == record.problem_id), None)
        if template is None:
            missing = f"problem {record.problem_id} is no longer in unit {unit.id}"
        else:
            try:
                problem = render_variant(template, record.seed)  # as the tutoring service renders it
            except ParamError as exc:
                missing = f"problem {record.problem_id} cannot be shown with its numbers any more ({exc})"
    return SessionView(record, unit, problem, missing, tuple(store.messages(session_id=session_id)),
                       tuple(store.attempts(session_id=session_id)), tuple(store.hints(session_id=session_id)))


def _tutor_replies(db: Database) -> int:
    with db.session() as session:
        return session.scalar(sa.select(sa.func.count(TutorMessage.id)).where(TutorMessage.role == "tutor")) or 0
