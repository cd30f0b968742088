"""The teacher's curation of what the model said, behind the Transcripts page.

Per transcript, the items a teacher can judge (``items``):

- **tutor replies**: good, bad, or rewritten as the reply the tutor should have given;
- **diagnoses** of wrong answers in a unit with a misconception library, whoever made them (a
  bug rule, the model, or nobody: a wrong answer no rule matched and the model did not
  classify): confirmed, or corrected to another misconception of the library or to "none";
- **corrections** of a student's message in a conversation (the model's): approved or rejected.

Each judgement is stored beside the output, never in it (``models.py``), with who and when; a
new judgement of the same item replaces the old one in force and keeps it in the history. Only
the teacher may judge (``Forbidden`` otherwise). Bad input (an unknown verdict, a misconception
the unit does not have, an empty rewrite) is refused with a message saying what and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..curriculum.library import CurriculumLibrary
from ..dialogue.classify import FEEDBACK_MAX_CHARS, NONE_ID
from ..language.store import ConversationStore
from ..service.actor import Actor
from ..service.errors import Forbidden, NotFound, TutorError
from ..storage.database import Database
from ..tutoring.store import TutoringStore
from . import sources
from .models import CORRECTION_VERDICTS, DIAGNOSIS_VERDICTS, REPLY_VERDICTS
from .store import CurationStore, Judgement

MAX_REWRITE_CHARS = 2000
DIAGNOSED_VERDICTS = ("incorrect", "misconception")  # the attempts a misconception diagnosis is about

Kind = Literal["reply", "diagnosis", "correction"]


@dataclass(frozen=True)
class CurationItem:
    """One model output a teacher can judge, with the judgement in force."""

    kind: Kind
    id: int
    at: datetime
    text: str  # the tutor's reply, the student's answer, or the student's message
    detail: str  # where it was (step), the diagnosis as stored, or the corrected sentence
    verdicts: tuple[str, ...]
    judgement: Judgement | None = None
    misconceptions: tuple[str, ...] = ()  # diagnoses: the labels a teacher may give (the library, then "none")
    diagnosed: str | None = None  # diagnoses: the stored misconception id (None: none diagnosed)
    model: str | None = None  # which model and adapter version produced it ("" for a bug rule)


class CurationService:
    def __init__(self, *, db: Database, library: CurriculumLibrary) -> None:
        self.db = db
        self.library = library
        self.store = CurationStore(db)
        self.tutoring = TutoringStore(db)
        self.conversations = ConversationStore(db)

    # what can be judged --------------------------------------------------------------
    def session_items(self, actor: Actor, session_id: str) -> list[CurationItem]:
        """A tutoring session's tutor replies and diagnosable wrong answers, in order."""
        _require_teacher(actor)
        record = self.tutoring.get_session(session_id=session_id)
        if record is None:
            raise NotFound(f"There is no session {session_id!r}.")
        messages = [m for m in self.tutoring.messages(session_id=session_id) if m.role == "tutor"]
        replies = self.store.reply_reviews(m.id for m in messages)
        items = [CurationItem("reply", m.id, m.created_at, m.content, f"step {m.step_id or '–'}", REPLY_VERDICTS,
                              replies.get(m.id), model=_version(m.model_name, m.adapter))
                 for m in messages]
        library = self._library(record.curriculum_id)
        if library:
            attempts = [a for a in self.tutoring.attempts(session_id=session_id)
                        if a.verdict in DIAGNOSED_VERDICTS and not a.scaffold]
            judged = self.store.diagnosis_reviews(a.id for a in attempts)
            for a in attempts:
                source = {"bug_rule": "bug rule", "model": "model"}.get(a.diagnosis or "", "")
                detail = (f"diagnosed {a.misconception_id} ({source})" if a.misconception_id
                          else "no misconception diagnosed")
                items.append(CurationItem("diagnosis", a.id, a.created_at, a.answer, f"step {a.step_id}: {detail}",
                                          DIAGNOSIS_VERDICTS, judged.get(a.id), library, a.misconception_id,
                                          model=_version(a.diagnosis_model, a.diagnosis_adapter)
                                          if a.diagnosis == "model" else ""))
        items.sort(key=lambda item: (item.at, item.id))
        return items

    def conversation_items(self, actor: Actor, session_id: str) -> list[CurationItem]:
        """A conversation's model-checked student messages, in order."""
        _require_teacher(actor)
        if self.conversations.get(session_id=session_id) is None:
            raise NotFound(f"There is no conversation {session_id!r}.")
        turns = [t for t in self.conversations.turns(session_id=session_id)
                 if t.role == "student" and t.correction_status == "checked"]
        judged = self.store.correction_reviews(t.id for t in turns)
        return [CurationItem("correction", t.id, t.created_at, t.content, _correction_detail(t), CORRECTION_VERDICTS,
                             judged.get(t.id), model=_version(t.model_name, t.adapter))
                for t in turns]

    # judging -------------------------------------------------------------------------
    def judge_reply(self, actor: Actor, message_id: int, verdict: str, better_reply: str | None = None) -> Judgement:
        """Mark a tutor reply good or bad, or give the reply it should have been (``rewritten``)."""
        _require_teacher(actor)
        found = sources.tutor_message(self.db, _id(message_id, "tutor reply"))
        if found is None or found[0].role != "tutor":
            raise NotFound(f"There is no tutor reply {message_id}.")
        _verdict(verdict, REPLY_VERDICTS, "a tutor reply")
        text = (better_reply or "").strip()
        if verdict == "rewritten":
            if not text:
                raise TutorError("Write the reply the tutor should have given, or mark the reply good or bad.")
            if len(text) > MAX_REWRITE_CHARS:
                raise TutorError(f"The better reply is too long ({len(text)} characters; at most {MAX_REWRITE_CHARS}).")
        return self.store.add_reply_review(message_id=found[0].id, verdict=verdict, teacher=actor.role,
                                           better_reply=text if verdict == "rewritten" else None)

    def judge_diagnosis(self, actor: Actor, attempt_id: int, verdict: str, misconception_id: str | None = None,
                        feedback: str | None = None) -> Judgement:
        """Confirm an attempt's diagnosis as stored, or correct it to ``misconception_id`` (or "none")."""
        _require_teacher(actor)
        found = sources.attempt(self.db, _id(attempt_id, "answer"))
        if found is None:
            raise NotFound(f"There is no answer {attempt_id}.")
        row, owner = found
        if row.verdict not in DIAGNOSED_VERDICTS or row.scaffold:
            raise TutorError(f"The answer {row.answer!r} was {row.verdict}; only wrong answers to a step have a "
                             "misconception diagnosis to confirm or correct.")
        library = self._library(owner.curriculum_id)
        if not library:
            raise TutorError(f"Unit {owner.curriculum_id!r} has no misconception library (or is no longer loaded), "
                             "so there is nothing to diagnose against.")
        _verdict(verdict, DIAGNOSIS_VERDICTS, "a diagnosis")
        label = (row.misconception_id or NONE_ID) if verdict == "confirmed" else (misconception_id or "").strip()
        if label not in library:
            raise TutorError(f"{label or '(nothing)'!r} is not a misconception of unit {owner.curriculum_id!r}; "
                             f"choose one of: {', '.join(library)}.")
        text = (feedback or "").strip()
        if len(text) > FEEDBACK_MAX_CHARS:
            raise TutorError(f"The feedback is too long ({len(text)} characters; at most {FEEDBACK_MAX_CHARS}).")
        return self.store.add_diagnosis_review(attempt_id=row.id, verdict=verdict, teacher=actor.role,
                                               misconception_id=label, feedback=text or None)

    def judge_correction(self, actor: Actor, turn_id: int, verdict: str) -> Judgement:
        """Approve or reject the model's correction of a student's message."""
        _require_teacher(actor)
        found = sources.conversation_turn(self.db, _id(turn_id, "message"))
        if found is None or found[0].role != "student":
            raise NotFound(f"There is no student message {turn_id} in a conversation.")
        if found[0].correction_status != "checked":
            raise TutorError("The model did not check this message (it was in another language, or the model was "
                             "unavailable), so there is no correction to judge.")
        _verdict(verdict, CORRECTION_VERDICTS, "a correction")
        return self.store.add_correction_review(turn_id=found[0].id, verdict=verdict, teacher=actor.role)

    def counts(self, actor: Actor) -> dict[tuple[str, str], int]:
        """(kind, verdict) -> items with that judgement in force, for the dashboard."""
        _require_teacher(actor)
        return self.store.counts()

    # helpers -------------------------------------------------------------------------
    def _library(self, curriculum_id: str) -> tuple[str, ...]:
        unit = self.library.units.get(curriculum_id)
        if unit is None or not unit.misconceptions:
            return ()
        return tuple(dict.fromkeys(m.id for m in unit.misconceptions)) + (NONE_ID,)


def _require_teacher(actor: Actor) -> None:
    if not actor.is_teacher:
        raise Forbidden("Only the teacher can judge what the tutor said.")


def _verdict(verdict: str, allowed: tuple[str, ...], what: str) -> None:
    if verdict not in allowed:
        raise TutorError(f"{verdict!r} is not a judgement of {what}; use one of: {', '.join(allowed)}.")


def _id(value, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TutorError(f"Choose the {what} to judge first.") from None


def _version(model_name: str | None, adapter: str | None) -> str | None:
    if not model_name:
        return None
    return model_name + (f" + {adapter}" if adapter else "")


def _correction_detail(turn) -> str:
    if not turn.errors:
        return "no errors found"
    return f"corrected to: {turn.corrected}" + "".join(
        f"; {e.span!r} → {e.correction!r} ({e.category})" for e in turn.errors)
