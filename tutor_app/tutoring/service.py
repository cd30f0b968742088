"""The application functions behind the student's page and the public API.

One ``TutorService`` call per student action: start (or resume) a problem, submit an answer,
take a hint, ask the tutor, read where a session stands. The page and the ``gr.api``
endpoints call these same functions, so every rule lives here once:

- Ownership is checked in every call: a student acts only on their own sessions (``Forbidden``);
  the teacher and the loopback-only local user may act for anyone.
- Deterministic logic decides, and answers at once. The engine checks the answer and moves the
  session; the attempt, the session's new state and the new mastery are committed together and
  the verdict with the checker's or bug rule's feedback goes straight back. The model's extras
  run afterwards in the background (``background.py``), never in the way of the student's next
  action: for a plain ``incorrect`` answer in a unit with a misconception library, the model
  may classify the mistake (started only while it is idle and within ``classify_budget_s``);
  its diagnosis adds a misconception id and better feedback to the stored attempt, and never
  changes the verdict or mastery.
- An answer to an ``open`` step is ``pending``: saved for the teacher's review list at once
  (``AssessmentService.save_open_answer``), shown as waiting for the teacher or the tutor, and
  the step moves on. When the model is idle it grades the answer against the step's rubric in
  the background; the grade (the model's, or later the teacher's from the Review page) is
  stored with the attempt, the student's page shows it when it arrives, and it is the step's
  mastery observation (``engine.grades``). An open answer that says what one of the step's
  bug rules lists (``phrases:``) is a ``misconception`` at once, with the teacher's feedback.
- The teacher may switch the model off for a unit or the class (``ModelSwitches``): then no
  extra is asked for, and the chat says so; checking, hints and bug rules are unchanged.
- Chat questions are stored the moment they arrive and answered one after the other, each
  reply after its own question: a second question sent while the first reply streams waits
  its turn instead of vanishing.
- Resuming: starting a problem the student already has unfinished continues that session (same
  numbers, same step) instead of opening a second copy; "let the tutor choose" (an empty
  problem id) continues the student's most recent unfinished problem of that unit, and only
  when there is none asks the mastery model for the next problem.
- Each session gets its own random variant seed (stored with it), so a class sees different
  numbers and a resumed session keeps its own.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

from ..assessment.rubrics import rubric_for_step
from ..assessment.service import AssessmentService, GradedAnswer
from ..assessment.shapes import GradeResult
from ..assessment.student_feedback import open_step_feedback
from ..curriculum.library import CurriculumLibrary
from ..curriculum.params import ParamError, render_variant
from ..curriculum.schema import Problem, Step, Unit
from ..dialogue.classify import classify_misconception
from ..dialogue.phrases import phrase, without_notices
from ..dialogue.leak_guard import LeakFinding
from ..dialogue.tutor_chat import stream_tutor_reply
from ..engine import progress as engine
from ..engine.grades import graded_observations
from ..engine.mastery import apply_observations, current_mastery
from ..engine.selection import choose_problem
from ..prompting import PromptLibrary
from ..runtime.protocol import GenerationStats, ServedModel
from ..service.access import acting_student, named_unit, owned_record
from ..service.actor import Actor
from ..service.errors import NotFound, TutorError, saving
from ..service.locks import StripedLocks
from ..service.model_switch import ModelSwitches
from ..storage.database import Database
from .background import BackgroundJobs
from .mastery_params import MasteryParamsStore
from .records import AttemptRecord, MessageRecord, SessionHistory, SessionRecord
from .shapes import AttemptView, HintResult, SessionState, StartSessionResult, SubmitAnswerResult
from .store import TutoringStore
from .streamed_reply import StreamedReply

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 500
MAX_OPEN_ANSWER_CHARS = 4000  # an open step asks for sentences: a paragraph or two, not a pasted essay
MAX_MESSAGE_CHARS = 2000
CLASSIFY_BUDGET_S = 5.0  # a diagnosis that cannot start within this after the answer is not asked for
VARIANT_TRIES = 5


def _new_seed() -> int:
    return secrets.randbelow(2**31)


def _new_session_id() -> str:
    return secrets.token_urlsafe(16)


class TutorService:
    def __init__(self, *, db: Database, library: CurriculumLibrary, model: ServedModel, prompts: PromptLibrary,
                 seed_source: Callable[[], int] = _new_seed, classify_budget_s: float = CLASSIFY_BUDGET_S,
                 assessment: AssessmentService | None = None, switches: ModelSwitches | None = None) -> None:
        """``library`` is the live ``CurriculumLibrary`` (reloads show up on the next call);
        ``seed_source`` gives each new session its variant (tests pass a fixed one);
        ``assessment`` (an ``AssessmentService``) grades open steps; without it they stay pending;
        ``switches``: the teacher's model switches (without them the model is always allowed)."""
        self.store = TutoringStore(db)
        self.params = MasteryParamsStore(db)
        self.library = library
        self.model = model
        self.prompts = prompts
        self.seed_source = seed_source
        self.classify_budget_s = classify_budget_s
        self.assessment = assessment
        self.switches = switches
        self.background = BackgroundJobs()
        # A double click sends two answers at once: each must see the progress the other left.
        self._lock = StripedLocks()
        # One reply at a time per session, in the order the questions came (held while a reply
        # streams, so one lock per session, never a shared stripe).
        self._chat_turns: dict[str, threading.Lock] = {}
        self._chat_turns_lock = threading.Lock()
        if assessment is not None:
            assessment.on_graded(self._grade_arrived)

    def close(self) -> None:
        self.background.close()

    def model_allowed(self, curriculum_id: str | None) -> bool:
        """Whether the model may do anything for this unit: loaded, and not switched off by the teacher."""
        if not self.model.info.available:
            return False
        return self.switches is None or self.switches.model_allowed(curriculum_id)

    # starting ------------------------------------------------------------------------
    @saving("the new problem")
    def start_session(self, actor: Actor, student: str, curriculum_id: str, problem_id: str = "") -> StartSessionResult:
        """Start a problem for ``student``, or continue their unfinished one (see the module notes)."""
        student = self._student_for(actor, student)
        unit = self._unit(curriculum_id)
        problem_id = (problem_id or "").strip()
        if problem_id:
            self._problem(unit, problem_id)  # unknown ids fail before anything is stored
        with self._student_turn(student):
            return self._start_or_resume(student, unit, problem_id)

    @contextmanager
    def _student_turn(self, student: str) -> Iterator[None]:
        """One start at a time per student: two quick clicks (or two tabs behind a district's
        load balancer) must not open two copies of a problem. The stripe lock orders this
        process's threads; a lock on the student's name orders another app process on the same
        PostgreSQL database, and the open-session read and the new session commit together under
        it (``Database.key_locked``: the student may be new, so there is no row to lock)."""
        key = f"student:{student}"
        with self._lock(key), self.store.db.key_locked(key):
            yield

    def _start_or_resume(self, student: str, unit: Unit, problem_id: str) -> StartSessionResult:
        for open_session in self.store.open_sessions(student=student, curriculum_id=unit.id,
                                                     problem_id=problem_id or None):
            if any(p.id == open_session.problem_id for p in unit.problems):
                return self._start_result(open_session, unit)
        if not problem_id:
            mastery = self._mastery(student, unit)
            solved = self.store.solved_problems(student=student, curriculum_id=unit.id)
            problem_id = choose_problem(unit, mastery, solved, self.seed_source())
        problem = self._problem(unit, problem_id)
        seed, concrete = self._new_variant(problem)
        progress = engine.ProblemProgress()  # at the first step, nothing tried yet
        record = self.store.create_session(session_id=_new_session_id(), student=student, curriculum_id=unit.id,
                                           problem_id=problem.id, seed=seed, progress=progress.to_dict(),
                                           step_id=concrete.steps[0].id)
        return self._start_result(record, unit)

    def _new_variant(self, problem: Problem) -> tuple[int, Problem]:
        """A fresh seed and its variant. A derived param may be undefined for a few draws (a
        division by zero); another draw is tried before the teacher's file is blamed."""
        for _ in range(VARIANT_TRIES - 1):
            seed = int(self.seed_source())
            try:
                return seed, render_variant(problem, seed)
            except ParamError:
                continue
        seed = int(self.seed_source())
        return seed, self._variant(problem, seed)

    def unfinished_session(self, actor: Actor, student: str, curriculum_id: str | None = None
                           ) -> SessionState | None:
        """The student's most recently active unfinished session (in one unit, or any), so a
        returning student carries on where they stopped; None when there is none."""
        student = self._student_for(actor, student)
        units = [curriculum_id] if curriculum_id else list(self.library.units)
        candidates = [s for uid in units for s in self.store.open_sessions(student=student, curriculum_id=uid)
                      if uid in self.library.units and any(p.id == s.problem_id for p in self.library.units[uid].problems)]
        if not candidates:
            return None
        newest = max(candidates, key=lambda s: s.updated_at)
        return self._state(newest)

    # answering -----------------------------------------------------------------------
    @saving("your answer")
    def submit_answer(self, actor: Actor, session_id: str, answer: str) -> SubmitAnswerResult:
        answer = _text(answer, what="answer", limit=MAX_OPEN_ANSWER_CHARS,
                       empty="The answer is empty. Type your answer to the current step.")
        with self._session_turn(session_id):
            record = self._owned(actor, session_id)
            if record.done:
                raise TutorError("This problem is already solved. Start a new problem to keep practising.")
            unit, problem, progress = self._working_copy(record)
            step = self._current_step(problem, progress)
            limit = MAX_OPEN_ANSWER_CHARS if step.check == "open" else MAX_ANSWER_CHARS
            _text(answer, what="answer", limit=limit, empty="")  # how long an answer may be is the step's to say
            outcome, new_progress = engine.submit_answer(unit, problem, progress, answer)
            mastery_before = self._mastery(record.student, unit)
            mastery_after = apply_observations(unit, mastery_before, outcome.observations, self._adopted(unit))
            changed = {k: v for k, v in mastery_after.items() if mastery_before.get(k) != v}
            stored = self.store.add_attempt(
                session_id=record.id, step_id=step.id, answer=answer, normalized=outcome.normalized,
                verdict=outcome.verdict, misconception_id=outcome.misconception_id,
                diagnosis="bug_rule" if outcome.misconception_id else None, feedback=outcome.feedback,
                scaffold=outcome.scaffold, progress=new_progress.to_dict(),
                next_step_id=None if new_progress.done else self._current_step(problem, new_progress).id,
                done=new_progress.done, mastery=changed)
        # The attempt is on disk and the verdict is decided: the model's extras come afterwards.
        if self._wants_classification(unit, outcome):
            self._classify_later(record, unit, problem, step, answer, stored)
        elif self._wants_grading(step, outcome):
            self._grade_later(actor, record, unit, problem, step, answer)
        next_step = next((st for st in problem.steps if st.id == outcome.next_step_id), None)
        return SubmitAnswerResult(
            verdict=outcome.verdict, misconception_id=outcome.misconception_id, feedback=outcome.feedback,
            scaffold=outcome.scaffold,
            problem_done=outcome.problem_done, next_step_id=next_step.id if next_step else None,
            next_step_prompt=next_step.prompt if next_step else None, mastery=mastery_after)

    @contextmanager
    def _session_turn(self, session_id: str) -> Iterator[None]:
        """One read-decide-write on a session at a time: two tabs (or a double click) answering
        at once are judged one after the other, each seeing the step the other moved to. The
        stripe lock orders this process's threads; the session row's lock orders another app
        process on the same PostgreSQL database (``Database.row_locked``)."""
        session_id = str(session_id).strip()
        with self._lock(session_id), self.store.session_locked(session_id=session_id):
            yield

    def _wants_classification(self, unit: Unit, outcome) -> bool:
        return (outcome.verdict == "incorrect" and not outcome.scaffold and not outcome.misconception_id
                and bool(unit.misconceptions))

    def _wants_grading(self, step: Step, outcome) -> bool:
        return (self.assessment is not None and outcome.verdict == "pending" and not outcome.scaffold
                and step.check == "open")

    def _model_idle(self, curriculum_id: str) -> bool:
        """Extras are asked for only when the teacher allows them and a place is free (a slot
        no one waits for): the model's extras never delay a student's question."""
        return (self.model_allowed(curriculum_id) and self.model.info.available
                and self.model.free_places() > 0)

    def background_jobs(self, session_id: str) -> int:
        """The model extras of this session still queued or running (the chat counts them as the
        student's own, not as students ahead)."""
        return self.background.running(str(session_id).strip())

    def _classify_later(self, record: SessionRecord, unit: Unit, problem: Problem, step: Step, answer: str,
                        stored: AttemptRecord) -> None:
        """Ask the model, after the reply, which of the unit's misconceptions the answer shows;
        stored with the attempt when it comes. Skipped when the model is busy, switched off or
        unavailable, or when it could not start within ``classify_budget_s``. The dialogue area
        constrains the choice to the unit's library and guards the wording against leaks."""
        if not self._model_idle(unit.id):
            return
        deadline = time.monotonic() + self.classify_budget_s

        def run() -> None:
            if time.monotonic() > deadline or not self._model_idle(unit.id):
                return
            # It starts only in a free place, so it delays no one; and it is this student's, worth
            # having within a student's time limits: a server that hangs fails it as it fails a
            # chat reply (batch work's long limits are for a class set of essays).
            result = classify_misconception(model=self.model, prompts=self.prompts, unit=unit, problem=problem,
                                            step=step, answer=answer, priority="interactive")
            if result.source != "model" or result.misconception_id is None:
                return
            info = self.model.info
            self.store.set_diagnosis(attempt_id=stored.id, misconception_id=result.misconception_id,
                                     diagnosis="model", feedback=result.feedback.strip() or stored.feedback,
                                     model_name=info.name, adapter=info.adapter)

        self.background.submit(record.id, run, what="misconception classification")

    def _grade_later(self, actor: Actor, record: SessionRecord, unit: Unit, problem: Problem, step: Step,
                     answer: str) -> None:
        """Save an open answer for the teacher, then, when the model is idle and allowed, grade it
        with the step's rubric in the background. A grade that never comes leaves the answer in
        the teacher's review list, where the teacher (or the model, from there) grades it."""
        try:
            rubric, _task = rubric_for_step(step, self.library, where=f"{unit.id}/{problem.id}")
            self.assessment.save_open_answer(actor, unit.id, problem.id, step.id, answer, student=record.student)
        except Exception:  # a unit without a usable rubric (the validator reports it); the attempt is stored
            log.warning("the answer to open step %s/%s/%s cannot be graded", unit.id, problem.id, step.id,
                        exc_info=True)
            return
        if not self._model_idle(unit.id):
            return

        def run() -> None:
            result = self.assessment.grade_open_step(actor, unit.id, problem.id, step.id, answer,
                                                     student=record.student, step=step)
            self.record_grade(record.student, unit.id, problem.id, step.id, answer, rubric, result, by="model")

        self.background.submit(record.id, run, what="grading an open answer")

    def _grade_arrived(self, event: GradedAnswer) -> None:
        """The Review page graded a stored answer: if it is an open step's, bring it to the student."""
        parts = event.source.split("/")
        if len(parts) == 3:
            self.record_grade(event.student, *parts, event.text, event.rubric, event.result, by=event.by)

    def record_grade(self, student: str, unit_id: str, problem_id: str, step_id: str, answer: str, rubric,
                     result: GradeResult, *, by: str) -> int:
        """Store a grade with the open answers it grades (the student's pending answers to that
        step with that text) and move mastery for the first grade of each; returns how many
        answers it graded."""
        unit = self.library.units.get(unit_id)
        graded = 0
        for attempt in self.store.open_answers(student=student, curriculum_id=unit_id, problem_id=problem_id,
                                               step_id=step_id, answer=answer):
            share = result.total / result.max_total if result.max_total else 0.0
            feedback = open_step_feedback(rubric, result, by=by)
            with self._session_turn(attempt.session_id):
                record = self.store.get_session(session_id=attempt.session_id)
                progress, changed = None, {}
                if unit is not None and record is not None:
                    try:
                        _, problem, before = self._working_copy(record)
                    except TutorError:  # the problem was edited since: the grade is kept, mastery is not moved
                        problem = before = None
                    if problem is not None:
                        observations, after = graded_observations(unit, problem, before, step_id, share)
                        if observations:
                            mastery_before = self._mastery(student, unit)
                            mastery_after = apply_observations(unit, mastery_before, observations)
                            changed = {k: v for k, v in mastery_after.items() if mastery_before.get(k) != v}
                            progress = after.to_dict()
                self.store.set_grade(attempt_id=attempt.id, graded_by=by, share=share, feedback=feedback,
                                     progress=progress, mastery=changed)
            graded += 1
        return graded

    # hints ---------------------------------------------------------------------------
    @saving("your hint")
    def request_hint(self, actor: Actor, session_id: str) -> HintResult:
        with self._session_turn(session_id):
            record = self._owned(actor, session_id)
            if record.done:
                raise TutorError("This problem is already solved, so there are no more hints. Start a new problem.")
            unit, problem, progress = self._working_copy(record)
            step = self._current_step(problem, progress)
            outcome, new_progress = engine.next_hint(problem, progress)
            mastery_before = self._mastery(record.student, unit)
            mastery_after = apply_observations(unit, mastery_before, outcome.observations, self._adopted(unit))
            changed = {k: v for k, v in mastery_after.items() if mastery_before.get(k) != v}
            self.store.add_hint(session_id=record.id, step_id=step.id, level=outcome.level, text=outcome.text,
                                bottom_out=outcome.bottom_out, scaffold=outcome.scaffold,
                                progress=new_progress.to_dict(), next_step_id=step.id, done=new_progress.done,
                                mastery=changed)
        return HintResult(level=outcome.level, text=outcome.text, bottom_out=outcome.bottom_out,
                          scaffold=outcome.scaffold)

    # chat ----------------------------------------------------------------------------
    @saving("your question")
    def ask_tutor(self, actor: Actor, session_id: str, message: str,
                  cancel: threading.Event | None = None) -> Iterator[str]:
        """Store the question, then stream the tutor's guarded reply as the text so far (each
        item is the whole reply up to now), after the replies to this student's earlier
        questions. Bad input fails here, before streaming starts; ``cancel`` set by the caller
        (the student left) stops the model promptly."""
        question = self.store_question(actor, session_id, message)
        return self.answer_question(actor, session_id, question.id, cancel)

    def store_question(self, actor: Actor, session_id: str, message: str) -> MessageRecord:
        """Keep a chat question the moment it arrives (the page calls this before any reply
        starts, so a second question sent while a reply streams is never lost)."""
        message = _text(message, what="message", limit=MAX_MESSAGE_CHARS,
                        empty="The message is empty. Write your question for the tutor.")
        record = self._owned(actor, session_id)
        unit, _, _ = self._working_copy(record)
        if self.model.info.available and not self.model_allowed(unit.id):
            raise TutorError(phrase("model_switched_off", unit.language))
        return self.store.add_message(session_id=record.id, role="student", content=message,
                                      step_id=None if record.done else record.step_id)

    def unanswered_questions(self, actor: Actor, session_id: str) -> list[MessageRecord]:
        """The student's stored questions that have no reply yet, oldest first."""
        record = self._owned(actor, session_id)
        return _unanswered(self.store.messages(session_id=record.id))

    def answer_question(self, actor: Actor, session_id: str, question_id: int,
                        cancel: threading.Event | None = None) -> Iterator[str]:
        """The reply to a stored question, streamed once the replies to earlier questions of
        this session are written; nothing when it is already answered."""
        record = self._owned(actor, session_id)
        question = next((m for m in self.store.messages(session_id=record.id)
                         if m.id == question_id and m.role == "student"), None)
        if question is None:
            raise NotFound("This chat has no such question. Ask it again.")
        return self._answer_in_turn(record, question, cancel)

    def _chat_turn(self, session_id: str) -> threading.Lock:
        with self._chat_turns_lock:
            return self._chat_turns.setdefault(session_id, threading.Lock())

    def _answer_in_turn(self, record: SessionRecord, question: MessageRecord,
                        cancel: threading.Event | None) -> Iterator[str]:
        turn = self._chat_turn(record.id)
        while not turn.acquire(timeout=0.25):
            if cancel is not None and cancel.is_set():
                return
        try:
            messages = self.store.messages(session_id=record.id)
            if question.id not in {m.id for m in _unanswered(messages)}:
                return  # another request answered it meanwhile
            if self.model.info.available and not self.model_allowed(record.curriculum_id):
                unit = self.library.units.get(record.curriculum_id)
                yield phrase("model_switched_off", unit.language if unit else "en")
                return  # the teacher turned the model off meanwhile; the question stays for later
            record = self.store.get_session(session_id=record.id) or record  # where the student is now
            # All earlier turns: the dialogue keeps a window that drops old turns in chunks, so
            # that each turn's prompt starts with the previous one and its KV state is reused.
            earlier = messages[:[m.id for m in messages].index(question.id)]
            yield from self._reply(record, question, earlier, cancel)
        finally:
            turn.release()

    def _reply(self, record: SessionRecord, question: MessageRecord, earlier: list[MessageRecord],
               cancel: threading.Event | None) -> Iterator[str]:
        unit, problem, progress = self._working_copy(record)
        step_index = len(problem.steps) if record.done else progress.step_index
        step_id = None if record.done else record.step_id
        attempts = self.store.attempts(session_id=record.id)
        hints_here = [h for h in self.store.hints(session_id=record.id) if h.step_id == step_id]
        # With times: each attempt and hint is told in the turn it came before. Without the app's
        # own notices ("the tutor model isn't running..."): those were never the model's words.
        history = [{"role": "assistant" if m.role == "tutor" else "user", "content": m.content, "at": m.created_at}
                   for m in model_history(earlier)]
        seen = list(dict.fromkeys(a.misconception_id for a in attempts if a.misconception_id))
        usage: list[GenerationStats] = []
        cut: list[LeakFinding] = []
        chunks = stream_tutor_reply(
            model=self.model, prompts=self.prompts, unit=unit, problem=problem, step_index=step_index,
            attempts=attempts, misconceptions_seen=seen, history=history, student_message=question.content,
            revealed_step_ids=sorted(engine.revealed_step_ids(problem, progress)), session_key=record.id, cancel=cancel,
            hints_shown=hints_here, on_stats=usage.append, on_guard=cut.append)
        yield from self._stream_and_store(record, step_id, chunks, usage, cut, reply_to=question.id)

    def _stream_and_store(self, record: SessionRecord, step_id: str | None, chunks: Iterator[str],
                          usage: list[GenerationStats], cut: list[LeakFinding], *,
                          reply_to: int | None = None) -> Iterator[str]:
        """``usage`` receives this reply's own figures from the model when its call ends, ``cut``
        the leak guard's finding when it stepped in; both are stored with the reply, with the
        model and adapter version that wrote it. The reply is stored as it grows, before each
        piece is shown (``streamed_reply.py``)."""
        info = self.model.info
        stored = StreamedReply(self.store, session_id=record.id, step_id=step_id, model_name=info.name,
                               adapter=info.adapter, reply_to=reply_to)
        reply, complete = "", False
        try:
            for chunk in chunks:
                if chunk:
                    reply += chunk
                    stored.grew(reply)
                    yield reply
            complete = True
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()  # a reader that stopped early also stops the model
            # Also when the reader stops early or the model fails: keep what the student saw.
            stored.finish(reply, complete=complete, stats=usage[-1] if complete and usage else None,
                          guard_rule=cut[0].rule if cut else None)

    # reading -------------------------------------------------------------------------
    def session_state(self, actor: Actor, session_id: str) -> SessionState:
        return self._state(self._owned(actor, session_id))

    def history(self, actor: Actor, session_id: str) -> SessionHistory:
        """The session's stored attempts, hints and chat, in the order they happened."""
        record = self._owned(actor, session_id)
        return SessionHistory(session=record, attempts=tuple(self.store.attempts(session_id=record.id)),
                              hints=tuple(self.store.hints(session_id=record.id)),
                              messages=tuple(self.store.messages(session_id=record.id)))

    def mastery(self, actor: Actor, student: str, curriculum_id: str) -> dict[str, float]:
        """P(known) for each skill of the unit (the prior for skills not practised yet)."""
        return self._mastery(self._student_for(actor, student), self._unit(curriculum_id))

    def _state(self, record: SessionRecord) -> SessionState:
        unit = self.library.units.get(record.curriculum_id)
        mastery = (self._mastery(record.student, unit) if unit is not None
                   else self.store.mastery(student=record.student, curriculum_id=record.curriculum_id))
        return SessionState(
            session_id=record.id, student=record.student, curriculum_id=record.curriculum_id,
            problem_id=record.problem_id, step_id=None if record.done else record.step_id, done=record.done,
            attempts=[AttemptView(step_id=a.step_id, answer=a.answer, verdict=a.verdict,
                                  misconception_id=a.misconception_id, at=a.created_at, feedback=a.feedback,
                                  graded_by=a.graded_by)
                      for a in self.store.attempts(session_id=record.id)],
            hints_used=self.store.hint_counts(session_id=record.id), mastery=mastery)

    # helpers -------------------------------------------------------------------------
    def _student_for(self, actor: Actor, student: str) -> str:
        return acting_student(actor, student, refusal="You can only work on your own sessions.")

    def _owned(self, actor: Actor, session_id: str) -> SessionRecord:
        return owned_record(actor, session_id, lambda sid: self.store.get_session(session_id=sid), kind="session",
                            start_with="start_session")

    def _unit(self, curriculum_id: str) -> Unit:
        return named_unit(self.library.units, curriculum_id, noun="unit",
                          empty="No unit was chosen. Pick a unit (curriculum id) first.")

    @staticmethod
    def _problem(unit: Unit, problem_id: str) -> Problem:
        for problem in unit.problems:
            if problem.id == problem_id:
                return problem
        listing = ", ".join(p.id for p in unit.problems[:12])
        raise NotFound(f"Unit {unit.id!r} has no problem {problem_id[:80]!r}. Its problems: {listing}.")

    @staticmethod
    def _variant(problem: Problem, seed: int) -> Problem:
        try:
            return render_variant(problem, seed)
        except ParamError as exc:
            raise TutorError(f"Problem {problem.id!r} cannot be shown with these numbers ({exc}). "
                             "Ask your teacher to check its params.") from exc

    def _working_copy(self, record: SessionRecord):
        """The unit, this session's variant of the problem and its progress, as of now."""
        unit = self.library.units.get(record.curriculum_id)
        if unit is None:
            raise NotFound(f"The unit {record.curriculum_id!r} of this session is no longer loaded. "
                           "Ask your teacher, or start another unit.")
        problem = next((p for p in unit.problems if p.id == record.problem_id), None)
        if problem is None:
            raise NotFound(f"The problem {record.problem_id!r} was removed from unit {unit.id!r}. "
                           "Start another problem.")
        concrete = self._variant(problem, record.seed)
        try:
            progress = engine.ProblemProgress.from_dict(record.progress)
        except (KeyError, TypeError, ValueError) as exc:
            raise TutorError("This session's saved progress no longer fits the problem (the problem was edited). "
                             "Start the problem again.") from exc
        if not progress.done and progress.step_index >= len(concrete.steps):
            raise TutorError("This problem was edited and has fewer steps than your saved progress. "
                             "Start the problem again.")
        return unit, concrete, progress

    @staticmethod
    def _current_step(problem: Problem, progress) -> Step:
        return problem.steps[min(progress.step_index, len(problem.steps) - 1)]

    def _start_result(self, record: SessionRecord, unit: Unit) -> StartSessionResult:
        _, problem, progress = self._working_copy(record)
        step = self._current_step(problem, progress)
        return StartSessionResult(session_id=record.id, curriculum_id=record.curriculum_id,
                                  problem_id=record.problem_id, statement=problem.statement, step_id=step.id,
                                  step_prompt=step.prompt)

    def _mastery(self, student: str, unit: Unit) -> dict[str, float]:
        return current_mastery(unit, self.store.mastery(student=student, curriculum_id=unit.id), self._adopted(unit))

    def _adopted(self, unit: Unit) -> dict:
        """The BKT parameters the teacher adopted for the class from a fit (they override the
        unit file's values; ``mastery_params.py``)."""
        return self.params.adopted(curriculum_id=unit.id)


def _text(value, *, what: str, limit: int, empty: str) -> str:
    if not isinstance(value, str):
        raise TutorError(f"The {what} must be text.")
    value = value.strip()
    if not value:
        raise TutorError(empty)
    if len(value) > limit:
        raise TutorError(f"The {what} is too long ({len(value)} characters; at most {limit}).")
    return value


def model_history(messages: list[MessageRecord]) -> list[MessageRecord]:
    """The chat as the model should read it: a tutor reply that was only the app's notice goes,
    with the question it stood for; a reply cut short keeps the model's part of it."""
    kept: list[MessageRecord] = []
    for m in messages:
        if m.role != "tutor":
            kept.append(m)
            continue
        words = without_notices(m.content)
        if words:
            kept.append(m if words == m.content.strip() else replace(m, content=words))
        elif kept and kept[-1].role == "student":
            kept.pop()  # the question the notice answered: asked again, or left unanswered
    return kept


def _unanswered(messages: list[MessageRecord]) -> list[MessageRecord]:
    """Questions no reply names (``reply_to``). Replies stored before replies named their
    question answered the question just before them."""
    answered = {m.reply_to for m in messages if m.role == "tutor" and m.reply_to is not None}
    previous = None
    for m in messages:
        if m.role == "tutor" and m.reply_to is None and previous is not None:
            answered.add(previous.id)
        if m.role == "student":
            previous = m
    return [m for m in messages if m.role == "student" and m.id not in answered]
