"""The application functions behind the student's page and the public API.

One ``TutorService`` call per student action: start (or resume) a problem, submit an answer,
take a hint, ask the tutor, read where a session stands. The page and the ``gr.api``
endpoints call these same functions, so every rule lives here once:

- Ownership is checked in every call: a student acts only on their own sessions (``Forbidden``);
  the teacher and the loopback-only local user may act for anyone.
- Deterministic logic decides. The engine checks the answer and moves the session; the attempt,
  the session's new state and the new mastery are committed together *before* any reply is
  produced. Only then, for a plain ``incorrect`` answer in a unit with a misconception library,
  the model may classify the mistake, within a short budget and only when it is idle: the
  deterministic feedback never waits for a busy model. The model's diagnosis adds a
  misconception id and better feedback; it never changes the verdict or mastery.
- An answer to an ``open`` step is recorded as ``pending`` and the step moves on, like any
  committed attempt. Then, the same way and under the same conditions (idle model, a budget),
  the step's rubric grades it, and the student reads the per-criterion feedback. When the
  model is busy, unavailable, slow or fails, the answer is kept for the teacher's review list
  instead (``AssessmentService.save_open_answer``); the verdict stays ``pending`` either way,
  since a model's grade is the teacher's to confirm.
- Resuming: starting a problem the student already has unfinished continues that session (same
  numbers, same step) instead of opening a second copy; "let the tutor choose" (an empty
  problem id) continues the student's most recent unfinished problem of that unit, and only
  when there is none asks the mastery model for the next problem.
- Each session gets its own random variant seed (stored with it), so a class sees different
  numbers and a resumed session keeps its own.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable, Iterator, TypeVar

from ..assessment.rubrics import rubric_for_step
from ..assessment.service import AssessmentService
from ..assessment.student_feedback import open_step_feedback
from ..curriculum.library import CurriculumLibrary
from ..curriculum.params import ParamError, render_variant
from ..curriculum.schema import Problem, Step, Unit
from ..dialogue.classify import classify_misconception
from ..dialogue.tutor_chat import stream_tutor_reply
from ..engine import progress as engine
from ..engine.mastery import apply_observations, current_mastery
from ..engine.selection import choose_problem
from ..prompting import PromptLibrary
from ..runtime.protocol import GenerationStats, ServedModel
from ..service.access import acting_student, named_unit, owned_record
from ..service.actor import Actor
from ..service.errors import NotFound, TutorError
from ..service.locks import StripedLocks
from ..storage.database import Database
from .mastery_params import MasteryParamsStore
from .records import AttemptRecord, SessionHistory, SessionRecord
from .shapes import AttemptView, HintResult, SessionState, StartSessionResult, SubmitAnswerResult
from .store import TutoringStore

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 500
MAX_OPEN_ANSWER_CHARS = 4000  # an open step asks for sentences: a paragraph or two, not a pasted essay
MAX_MESSAGE_CHARS = 2000
CHAT_HISTORY_TURNS = 12  # earlier chat turns sent with a question (the dialogue trims further to fit)
CLASSIFY_BUDGET_S = 5.0
GRADE_BUDGET_S = 20.0  # one call per criterion and a summary: longer than a classification, still a short wait
VARIANT_TRIES = 5


T = TypeVar("T")


def _new_seed() -> int:
    return secrets.randbelow(2**31)


def _new_session_id() -> str:
    return secrets.token_urlsafe(16)


class TutorService:
    def __init__(self, *, db: Database, library: CurriculumLibrary, model: ServedModel, prompts: PromptLibrary,
                 seed_source: Callable[[], int] = _new_seed, classify_budget_s: float = CLASSIFY_BUDGET_S,
                 assessment: AssessmentService | None = None, grade_budget_s: float = GRADE_BUDGET_S) -> None:
        """``library`` is the live ``CurriculumLibrary`` (reloads show up on the next call);
        ``seed_source`` gives each new session its variant (tests pass a fixed one);
        ``assessment`` (an ``AssessmentService``) grades open steps; without it they stay pending."""
        self.store = TutoringStore(db)
        self.params = MasteryParamsStore(db)
        self.library = library
        self.model = model
        self.prompts = prompts
        self.seed_source = seed_source
        self.classify_budget_s = classify_budget_s
        self.assessment = assessment
        self.grade_budget_s = grade_budget_s
        # Model calls that outlive their budget finish here and are stored for the teacher.
        self._background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model-extra")
        # A double click sends two answers at once: each must see the progress the other left.
        self._lock = StripedLocks()

    def close(self) -> None:
        self._background.shutdown(wait=True)

    # starting ------------------------------------------------------------------------
    def start_session(self, actor: Actor, student: str, curriculum_id: str, problem_id: str = "") -> StartSessionResult:
        """Start a problem for ``student``, or continue their unfinished one (see the module notes)."""
        student = self._student_for(actor, student)
        unit = self._unit(curriculum_id)
        problem_id = (problem_id or "").strip()
        if problem_id:
            self._problem(unit, problem_id)  # unknown ids fail before anything is stored
        with self._lock(f"student:{student}"):  # two quick clicks must not open two copies
            return self._start_or_resume(student, unit, problem_id)

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
    def submit_answer(self, actor: Actor, session_id: str, answer: str) -> SubmitAnswerResult:
        answer = _text(answer, what="answer", limit=MAX_OPEN_ANSWER_CHARS,
                       empty="The answer is empty. Type your answer to the current step.")
        with self._lock(str(session_id).strip()):
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
        # The attempt is on disk; from here on a failure costs only the model's extra words.
        misconception_id, feedback = outcome.misconception_id, outcome.feedback
        if self._wants_classification(unit, outcome):
            misconception_id, feedback = self._classify(unit, problem, step, answer, stored, outcome.feedback)
        elif self._wants_grading(step, outcome):
            feedback = self._grade_open(actor, record.student, unit, problem, step, answer, stored, outcome)
        next_step = next((st for st in problem.steps if st.id == outcome.next_step_id), None)
        return SubmitAnswerResult(
            verdict=outcome.verdict, misconception_id=misconception_id, feedback=feedback, scaffold=outcome.scaffold,
            problem_done=outcome.problem_done, next_step_id=next_step.id if next_step else None,
            next_step_prompt=next_step.prompt if next_step else None, mastery=mastery_after)

    def _wants_classification(self, unit: Unit, outcome) -> bool:
        return (outcome.verdict == "incorrect" and not outcome.scaffold and not outcome.misconception_id
                and bool(unit.misconceptions))

    def _wants_grading(self, step: Step, outcome) -> bool:
        return (self.assessment is not None and outcome.verdict == "pending" and not outcome.scaffold
                and step.check == "open")

    def _model_idle(self) -> bool:
        return self.model.info.available and self.model.waiting() == 0

    def _classify(self, unit: Unit, problem: Problem, step: Step, answer: str, stored: AttemptRecord,
                  fallback: str) -> tuple[str | None, str]:
        """Ask the model which of the unit's misconceptions the answer shows; give up (keeping the
        checker's feedback) when the model is busy, unavailable, slow or fails. The dialogue area
        constrains the choice to the unit's library and guards the wording against leaks."""
        def run() -> tuple[str | None, str | None]:
            result = classify_misconception(model=self.model, prompts=self.prompts, unit=unit, problem=problem,
                                            step=step, answer=answer)
            if result.source != "model" or result.misconception_id is None:
                return None, None
            feedback = result.feedback.strip() or None
            self.store.set_diagnosis(attempt_id=stored.id, misconception_id=result.misconception_id,
                                     diagnosis="model", feedback=feedback or stored.feedback)
            return result.misconception_id, feedback

        found = self._within_budget(run, self.classify_budget_s, "misconception classification")
        if found is None:
            return None, fallback
        misconception_id, feedback = found
        return misconception_id, feedback or fallback

    def _grade_open(self, actor: Actor, student: str, unit: Unit, problem: Problem, step: Step, answer: str,
                    stored: AttemptRecord, outcome) -> str:
        """Grade an open answer with the step's rubric; the engine's "saved" feedback when the
        model cannot do it now. The answer is saved for the teacher first, so a grade that never
        comes still leaves it in the review list; a grade that comes late is stored there too."""
        fallback = outcome.feedback
        try:
            rubric, _task = rubric_for_step(step, self.library, where=f"{unit.id}/{problem.id}")
            self.assessment.save_open_answer(actor, unit.id, problem.id, step.id, answer, student=student)
        except Exception:  # a unit without a usable rubric (the validator reports it); the attempt is stored
            log.warning("the answer to open step %s/%s/%s cannot be graded", unit.id, problem.id, step.id,
                        exc_info=True)
            return fallback

        def run() -> str:
            result = self.assessment.grade_open_step(actor, unit.id, problem.id, step.id, answer, student=student,
                                                     step=step)
            text = open_step_feedback(rubric, result, last_step=outcome.problem_done)
            self.store.set_diagnosis(attempt_id=stored.id, misconception_id=None, diagnosis=None, feedback=text)
            return text

        return self._within_budget(run, self.grade_budget_s, "grading an open answer") or fallback

    def _within_budget(self, run: Callable[[], T], budget_s: float, what: str) -> T | None:
        """``run`` (which asks the model) in the background, waited for at most ``budget_s``.
        None, at once, when the model is busy or unavailable (it is not even asked); None too when
        it is slow (``run`` finishes later and stores its result) or fails. The reply from the
        checker is already committed, so None only means: without the model's words."""
        if not self._model_idle():
            return None
        future = self._background.submit(run)
        try:
            return future.result(timeout=budget_s)
        except FutureTimeout:
            future.add_done_callback(functools.partial(_log_failure, what))
            return None
        except Exception:
            log.warning("%s failed; the checker's feedback stands", what, exc_info=True)
            return None

    # hints ---------------------------------------------------------------------------
    def request_hint(self, actor: Actor, session_id: str) -> HintResult:
        with self._lock(str(session_id).strip()):
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
    def ask_tutor(self, actor: Actor, session_id: str, message: str,
                  cancel: threading.Event | None = None) -> Iterator[str]:
        """Store the question, then stream the tutor's guarded reply as the text so far (each
        item is the whole reply up to now). Bad input fails here, before streaming starts;
        ``cancel`` set by the caller (the student left) stops the model promptly."""
        message = _text(message, what="message", limit=MAX_MESSAGE_CHARS,
                        empty="The message is empty. Write your question for the tutor.")
        record = self._owned(actor, session_id)
        unit, problem, progress = self._working_copy(record)
        step_index = len(problem.steps) if record.done else progress.step_index
        step_id = None if record.done else record.step_id
        earlier = self.store.messages(session_id=record.id)[-CHAT_HISTORY_TURNS:]
        attempts = self.store.attempts(session_id=record.id)
        hints_here = [h.text for h in self.store.hints(session_id=record.id) if h.step_id == step_id]
        self.store.add_message(session_id=record.id, role="student", content=message, step_id=step_id)
        history = [{"role": "assistant" if m.role == "tutor" else "user", "content": m.content} for m in earlier]
        seen = list(dict.fromkeys(a.misconception_id for a in attempts if a.misconception_id))
        usage: list[GenerationStats] = []
        chunks = stream_tutor_reply(
            model=self.model, prompts=self.prompts, unit=unit, problem=problem, step_index=step_index,
            attempts=attempts, misconceptions_seen=seen, history=history, student_message=message,
            revealed_step_ids=sorted(engine.revealed_step_ids(problem, progress)), session_key=record.id, cancel=cancel,
            hints_shown=hints_here, on_stats=usage.append)
        return self._stream_and_store(record, step_id, chunks, usage)

    def _stream_and_store(self, record: SessionRecord, step_id: str | None, chunks: Iterator[str],
                          usage: list[GenerationStats]) -> Iterator[str]:
        """``usage`` receives this reply's own figures from the model when its call ends."""
        reply, complete = "", False
        try:
            for chunk in chunks:
                if chunk:
                    reply += chunk
                    yield reply
            complete = True
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()  # a reader that stopped early also stops the model
            # Also when the reader stops early or the model fails: keep what the student saw.
            if reply.strip():
                stats = usage[-1] if complete and usage else None
                self.store.add_message(
                    session_id=record.id, role="tutor", content=reply, step_id=step_id, model_name=self.model.info.name,
                    prompt_tokens=stats.prompt_tokens if stats else None,
                    evaluated_tokens=stats.evaluated_tokens if stats else None,
                    completion_tokens=stats.completion_tokens if stats else None,
                    ttft_s=stats.time_to_first_token_s if stats else None, total_s=stats.total_s if stats else None,
                    complete=complete)

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
                                  misconception_id=a.misconception_id, at=a.created_at)
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


def _log_failure(what: str, future) -> None:
    if future.exception() is not None:
        log.warning("a late %s failed", what, exc_info=future.exception())
