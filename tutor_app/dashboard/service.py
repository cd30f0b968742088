"""The teacher's view of the class: mastery per student and skill, frequent misconceptions,
who is stuck, each session's and each conversation's transcript, and CSV exports.

Every method takes the calling ``Actor`` first and refuses anyone without the teacher role
(``Forbidden``), whatever page or API route led here. Queries live in ``tutoring.reports``;
this module adds the curriculum's names and descriptions and the judgement of "stuck".
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..curation.store import CurationStore
from ..checking.notation import latex_to_plain
from ..curriculum.library import CurriculumLibrary
from ..curriculum.params import render_variant
from ..engine.mastery import MASTERY_THRESHOLD
from ..language import reports as conversation_reports
from ..language.corrections import GENERAL_CATEGORIES, category_label
from ..language.shapes import ConversationListItem, ConversationTranscript
from ..language.store import ConversationStore
from ..language.transcript import build_transcript, list_item
from ..service.actor import Actor
from ..service.errors import Forbidden, NotFound
from ..storage.database import Database
from ..tutoring import reports
from ..tutoring.records import CountRow, SessionSummary
from ..tutoring.store import TutoringStore
from .shapes import (MasteryTable, MisconceptionCount, Place, SessionListItem, SkillInfo, StudentMastery,
                     StuckStudent, Transcript, TranscriptEntry)
from .trends import TrendRow, model_trends

STUCK_WRONG_ATTEMPTS = 3  # wrong answers on one step before a teacher should look
PROMPT_CHARS = 70  # a step's prompt in a list: enough to recognise it
FORMULA_START = ("=", "@", "\t", "\r", "+", "-")


class DashboardService:
    def __init__(self, *, db: Database, library: CurriculumLibrary, stuck_after: int = STUCK_WRONG_ATTEMPTS) -> None:
        self.db = db
        self.store = TutoringStore(db)
        self.conversation_store = ConversationStore(db)
        self.library = library
        self.stuck_after = stuck_after

    # overview ------------------------------------------------------------------------
    def class_mastery(self, actor: Actor, curriculum_id: str) -> MasteryTable:
        """Each student who has practised the unit, with P(known) per skill. A conversation unit
        is a unit too (its skills are often none: the misconception counts are what it shows)."""
        _require_teacher(actor)
        unit = self.library.units.get(curriculum_id) or self._conversation(curriculum_id)
        records = reports.current_mastery(self.db, curriculum_id=curriculum_id)
        if unit is None and not records:
            raise NotFound(f"There is no unit {curriculum_id!r} and no stored mastery for it.")
        skills = [SkillInfo(id=s.id, name=s.name) for s in unit.skills] if unit else []
        known = {s.id for s in skills}
        skills += [SkillInfo(id=sid, name=sid) for sid in sorted({r.skill_id for r in records} - known)]
        by_student: dict[str, dict[str, float]] = {}
        for record in records:
            by_student.setdefault(record.student, {})[record.skill_id] = record.p_known
        students = [StudentMastery(student=name, mastery=values,
                                   mastered=sorted(k for k, p in values.items() if p >= MASTERY_THRESHOLD))
                    for name, values in sorted(by_student.items(), key=lambda kv: kv[0].casefold())]
        return MasteryTable(curriculum_id=curriculum_id, title=unit.title if unit else curriculum_id,
                            threshold=MASTERY_THRESHOLD, skills=skills, students=students)

    def misconceptions(self, actor: Actor, curriculum_id: str | None = None, *, limit: int = 50
                       ) -> list[MisconceptionCount]:
        """The misconceptions seen most often, per unit and step (None: every unit)."""
        _require_teacher(actor)
        rows = class_misconception_counts(self.db, curriculum_id=curriculum_id)[:limit]
        return [MisconceptionCount(curriculum_id=r.curriculum_id, problem_id=r.problem_id, step_id=r.step_id,
                                   misconception_id=r.misconception_id,
                                   description=self._misconception_text(r.curriculum_id, r.misconception_id),
                                   count=r.count, students=r.students, by_bug_rule=r.diagnoses.get("bug_rule", 0),
                                   by_model=r.diagnoses.get("model", 0),
                                   place=self._place(r.curriculum_id, r.problem_id, r.step_id))
                for r in rows]

    def stuck_students(self, actor: Actor, curriculum_id: str | None = None) -> list[StuckStudent]:
        """Steps where a student gave many wrong answers or needed the bottom-out hint; those
        still on that step come first, then the most recent."""
        _require_teacher(actor)
        stuck = []
        for s in reports.step_struggles(self.db, curriculum_id=curriculum_id):
            if s.wrong_attempts < self.stuck_after and s.bottom_out_hints == 0:
                continue
            reasons = []
            if s.wrong_attempts:
                reasons.append(f"{s.wrong_attempts} wrong attempt{'s' if s.wrong_attempts != 1 else ''}")
            if s.bottom_out_hints:
                reasons.append("saw the worked answer (bottom-out hint)")
            elif s.hints:
                reasons.append(f"{s.hints} hint{'s' if s.hints != 1 else ''}")
            stuck.append(StuckStudent(student=s.student, session_id=s.session_id, curriculum_id=s.curriculum_id,
                                      problem_id=s.problem_id, step_id=s.step_id, wrong_attempts=s.wrong_attempts,
                                      hints=s.hints, bottom_out_hints=s.bottom_out_hints,
                                      still_on_step=s.still_on_step, last_at=s.last_at, reason=", ".join(reasons),
                                      place=self._place(s.curriculum_id, s.problem_id, s.step_id)))
        stuck.sort(key=lambda s: s.last_at, reverse=True)
        stuck.sort(key=lambda s: not s.still_on_step)
        return stuck

    def sessions(self, actor: Actor, curriculum_id: str | None = None, student: str | None = None, *,
                 limit: int = 500) -> list[SessionListItem]:
        """Sessions, most recently active first, to pick a transcript from."""
        _require_teacher(actor)
        return [self._list_item(s) for s in reports.session_summaries(self.db, curriculum_id=curriculum_id,
                                                                       student=student, limit=limit)]

    def transcript(self, actor: Actor, session_id: str) -> Transcript:
        """Attempts, hints and chat of one session, in the order they happened."""
        _require_teacher(actor)
        record = self.store.get_session(session_id=session_id)
        if record is None:
            raise NotFound(f"There is no session {session_id!r}.")
        (summary,) = reports.session_summaries(self.db, session_id=session_id)
        entries = [TranscriptEntry(at=a.created_at, kind="attempt", step_id=a.step_id, text=a.answer,
                                   verdict=a.verdict, misconception_id=a.misconception_id, feedback=a.feedback,
                                   misconception=self._misconception_text(record.curriculum_id, a.misconception_id)
                                   if a.misconception_id else "", scaffold=a.scaffold)
                   for a in self.store.attempts(session_id=session_id)]
        entries += [TranscriptEntry(at=h.created_at, kind="hint", step_id=h.step_id, text=h.text, level=h.level,
                                    bottom_out=h.bottom_out, scaffold=h.scaffold)
                    for h in self.store.hints(session_id=session_id)]
        entries += [TranscriptEntry(at=m.created_at, kind="tutor" if m.role == "tutor" else "student",
                                    step_id=m.step_id, text=m.content)
                    for m in self.store.messages(session_id=session_id)]
        entries.sort(key=lambda e: e.at)  # stable: same-instant entries keep attempt, hint, chat order
        return Transcript(session=self._list_item(summary), statement=self._statement(record), seed=record.seed,
                          entries=entries, step_labels=self._step_labels(record.curriculum_id, record.problem_id))

    def conversations(self, actor: Actor, curriculum_id: str | None = None, student: str | None = None, *,
                      limit: int = 500) -> list[ConversationListItem]:
        """Conversation practice, most recently active first, to pick a transcript from."""
        _require_teacher(actor)
        return [list_item(s, self._conversation(s.curriculum_id))
                for s in conversation_reports.conversation_summaries(self.db, curriculum_id=curriculum_id,
                                                                     student=student, limit=limit)]

    def conversation_transcript(self, actor: Actor, session_id: str) -> ConversationTranscript:
        """A conversation's turns in order: the student's messages with their corrections, the
        character's replies, and where the level moved and a goal was met."""
        _require_teacher(actor)
        record = self.conversation_store.get(session_id=session_id)
        if record is None:
            raise NotFound(f"There is no conversation {session_id!r}.")
        (summary,) = conversation_reports.conversation_summaries(self.db, session_id=session_id)
        return build_transcript(summary, record, self.conversation_store.turns(session_id=session_id),
                                self.conversation_store.goals_reached(session_id=session_id),
                                self._conversation(record.curriculum_id))

    # the model in class ------------------------------------------------------------------
    def model_trends(self, actor: Actor) -> list[TrendRow]:
        """Per week and model version: guard interventions, grade overrides, diagnosis agreement."""
        _require_teacher(actor)
        return model_trends(self.db)

    def curation_counts(self, actor: Actor) -> dict[tuple[str, str], int]:
        """(kind, verdict) -> items with that teacher judgement in force (``curation``)."""
        _require_teacher(actor)
        return CurationStore(self.db).counts()

    # exports -------------------------------------------------------------------------
    def attempts_csv(self, actor: Actor, curriculum_id: str | None = None, *, path: Path | None = None) -> str:
        """Every attempt, one row each, as typed and as judged. Written to ``path`` too when given."""
        _require_teacher(actor)
        header = ["at", "student", "curriculum_id", "problem_id", "session_id", "step_id", "answer", "normalized",
                  "verdict", "misconception_id", "diagnosis", "scaffold", "seed"]
        rows = [[r.at.isoformat(), r.student, r.curriculum_id, r.problem_id, r.session_id, r.step_id, r.answer,
                 r.normalized or "", r.verdict, r.misconception_id or "", r.diagnosis or "", int(r.scaffold), r.seed]
                for r in reports.attempt_rows(self.db, curriculum_id=curriculum_id)]
        return _write_csv(header, rows, path)

    def mastery_csv(self, actor: Actor, curriculum_id: str | None = None, *, history: bool = False,
                    path: Path | None = None) -> str:
        """Current P(known) per student and skill, or (``history``) every change over time."""
        _require_teacher(actor)
        records = (reports.mastery_history if history else reports.current_mastery)(self.db,
                                                                                   curriculum_id=curriculum_id)
        header = ["at", "student", "curriculum_id", "skill_id", "skill_name", "p_known", "mastered"]
        if history:
            header.append("session_id")
        rows = []
        for r in records:
            row = [r.at.isoformat(), r.student, r.curriculum_id, r.skill_id, self._skill_name(r.curriculum_id,
                                                                                               r.skill_id),
                   f"{r.p_known:.4f}", int(r.p_known >= MASTERY_THRESHOLD)]
            if history:
                row.append(r.session_id or "")
            rows.append(row)
        return _write_csv(header, rows, path)

    def conversation_turns_csv(self, actor: Actor, curriculum_id: str | None = None, *,
                               path: Path | None = None) -> str:
        """Every turn of conversation practice, one row each: what the student wrote and how it was
        corrected, what the character said and whether it had to be asked again."""
        _require_teacher(actor)
        header = ["at", "student", "curriculum_id", "session_id", "turn_id", "role", "level", "text",
                  "correction_status", "corrected", "errors", "categories", "goals_met", "simplified", "too_hard",
                  "complete", "translation", "model_name"]
        rows = []
        for row in conversation_reports.class_turns(self.db, curriculum_id=curriculum_id):
            t = row.turn
            student = t.role == "student"
            rows.append([t.created_at.isoformat(), row.student, row.curriculum_id, t.session_id, t.id, t.role,
                         t.level, t.content, (t.correction_status or "pending") if student else "",
                         (t.corrected or "") if student else "", len(t.errors) if student else "",
                         ";".join(dict.fromkeys(e.category for e in t.errors)), ";".join(row.goals_met),
                         "" if student else int(t.simplified), "" if student else int(t.too_hard),
                         int(t.complete), t.translation or "", t.model_name or ""])
        return _write_csv(header, rows, path)

    def conversation_errors_csv(self, actor: Actor, curriculum_id: str | None = None, *,
                                path: Path | None = None) -> str:
        """Every error found in students' messages, one row each, with its category in the unit's words."""
        _require_teacher(actor)
        header = ["at", "student", "curriculum_id", "session_id", "turn_id", "level", "message", "span", "start",
                  "end", "correction", "category", "category_label", "explanation"]
        rows = [[row.turn.created_at.isoformat(), row.student, row.curriculum_id, row.turn.session_id, row.turn.id,
                 row.turn.level, row.turn.content, e.span, e.start, e.end, e.correction, e.category,
                 category_label(self._conversation(row.curriculum_id), e.category), e.explanation]
                for row in conversation_reports.class_turns(self.db, curriculum_id=curriculum_id)
                for e in row.turn.errors]
        return _write_csv(header, rows, path)

    # curriculum look-ups -------------------------------------------------------------
    def _list_item(self, s: SessionSummary) -> SessionListItem:
        unit = self.library.units.get(s.curriculum_id)
        return SessionListItem(session_id=s.id, student=s.student, curriculum_id=s.curriculum_id,
                               problem_id=s.problem_id, step_id=s.step_id, done=s.done, attempts=s.attempts,
                               hints=s.hints, started_at=s.created_at, updated_at=s.updated_at,
                               unit_title=unit.title if unit else "",
                               place=self._place(s.curriculum_id, s.problem_id, s.step_id))

    def _place(self, curriculum_id: str, problem_id: str, step_id: str | None) -> Place:
        """Titles for ids: the teacher reads "Two-step equation, step 1: Subtract 3 ...", not
        "two-step-1 · isolate". Ids the unit no longer has stay empty (the page shows the id)."""
        if problem_id == CONVERSATION:
            return Place(problem_title="conversation", step_label=f"level {step_id}" if step_id else "")
        unit = self.library.units.get(curriculum_id)
        problem = next((p for p in unit.problems if p.id == problem_id), None) if unit else None
        if problem is None:
            return Place()
        return Place(problem_title=problem.title or problem.id,
                     step_label=self._step_labels(curriculum_id, problem_id).get(step_id or "", ""))

    def _step_labels(self, curriculum_id: str, problem_id: str) -> dict[str, str]:
        unit = self.library.units.get(curriculum_id)
        problem = next((p for p in unit.problems if p.id == problem_id), None) if unit else None
        if problem is None:
            return {}
        return {step.id: f"step {n}: {plain_prompt(step.prompt)}" for n, step in enumerate(problem.steps, start=1)}

    def _misconception_text(self, curriculum_id: str, misconception_id: str) -> str:
        conversation = self._conversation(curriculum_id)
        unit = self.library.units.get(curriculum_id) or conversation
        for m in getattr(unit, "misconceptions", []) or []:
            if m.id == misconception_id:
                return m.description
        # Conversation errors may also fall in a general category (grammar, spelling...).
        return GENERAL_CATEGORIES.get(misconception_id, "") if conversation is not None else ""

    def _conversation(self, curriculum_id: str):
        return (getattr(self.library, "conversations", None) or {}).get(curriculum_id)

    def _skill_name(self, curriculum_id: str, skill_id: str) -> str:
        unit = self.library.units.get(curriculum_id)
        for s in getattr(unit, "skills", []) or []:
            if s.id == skill_id:
                return s.name
        return skill_id

    def _statement(self, record) -> str:
        unit = self.library.units.get(record.curriculum_id)
        problem = next((p for p in unit.problems if p.id == record.problem_id), None) if unit else None
        if problem is None:
            return ""
        try:
            return render_variant(problem, record.seed).statement
        except Exception:  # a template edited since: show the teacher's text rather than nothing
            return problem.statement


CONVERSATION = "conversation"  # the problem_id of conversation rows; their step_id is the CEFR level


def class_misconception_counts(db: Database, *, curriculum_id: str | None = None) -> list[CountRow]:
    """Misconceptions seen per step, most frequent first: math attempts' (bug rules and model
    diagnoses alike) with the errors of conversation practice beside them, by the level a
    message was written at. The two areas count apart; only the class view puts them together."""
    rows = reports.misconception_counts(db, curriculum_id=curriculum_id)
    rows += [CountRow(curriculum_id=e.curriculum_id, problem_id=CONVERSATION, step_id=e.level,
                      misconception_id=e.category, count=e.count, students=e.students, diagnoses={"model": e.count})
             for e in conversation_reports.conversation_error_counts(db, curriculum_id=curriculum_id)]
    return sorted(rows, key=lambda r: (-r.count, -r.students, r.curriculum_id, r.problem_id, r.step_id,
                                       r.misconception_id))


def _require_teacher(actor: Actor) -> None:
    if not actor.is_teacher:
        raise Forbidden("Only the teacher can see the class overview and exports.")


def plain_prompt(prompt: str, limit: int = PROMPT_CHARS) -> str:
    """A step's prompt as one short line of plain text (its LaTeX read as the checker reads it)."""
    text = re.sub(r"\s+([.,;:?!^])", r"\1", " ".join(latex_to_plain(prompt).split()))
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _cell(value) -> object:
    """Spreadsheets run a cell that starts like a formula; a student's answer must stay text.
    Plain numbers such as ``-3`` are left alone, they are what students type most."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def _write_csv(header: list[str], rows: list[list], path: Path | None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    text = buffer.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8", newline="")
    return text
