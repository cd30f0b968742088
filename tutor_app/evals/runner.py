"""Run an evaluation suite against any ``ModelBackend``, through the app's own prompt code.

Each case goes through the function the app uses in class, so what is measured is what
students get: ``classify_misconception`` for diagnoses, ``Grader.grade`` for rubric scores,
``tutor_chat.build_messages`` and the tutor's sampling settings for replies, and
``tutor_chat.stream_tutor_reply`` (the guarded reply a student reads) for the tutoring cases
measured against a teacher's reference reply. Replies are
collected *before* the leak guard (which still runs in class) and read by the very guard the
chat builds for that turn (``leak_guard.guard_for_turn``), so the leak rate says how often the
guard has to step in.

The scripted fake runs it in the tests; the real model (with or without an adapter) in
``eval_command``. Nothing here raises for a model failure: it becomes the case's outcome.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable

from ..assessment.grader import Grader, GradingError, level_scores
from ..dialogue.classify import classify_misconception
from ..dialogue.leak_guard import guard_for_turn
from ..dialogue.streaming import model_chunks
from ..dialogue.tutor_chat import MAX_REPLY_TOKENS, STOP, TEMPERATURE, build_messages, stream_tutor_reply
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend, ModelError
from .recording import CallRecord, RecordingBackend
from .similarity import chrf
from .suite import NONE, EvalSuite, HasCurricula, TutoringCase, resolve_step

NO_ANSWER = "(no answer)"  # the model failed; the app showed its fallback instead


@dataclass(frozen=True)
class ClassificationOutcome:
    case: str
    unit: str
    expected: str
    predicted: str  # a misconception id, "none", or NO_ANSWER


@dataclass(frozen=True)
class GradingOutcome:
    case: str
    rubric: str
    teacher: dict[str, int]
    model: dict[str, int]  # empty when grading failed
    levels: dict[str, list[int]]
    error: str | None = None


@dataclass(frozen=True)
class LeakOutcome:
    case: str
    unit: str
    reply: str
    leaked: bool
    rule: str | None = None  # the guard's rule that caught it ("binding", "number", ...)
    evidence: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class TutoringOutcome:
    case: str
    unit: str
    reference: str  # the reply a teacher approved or wrote
    reply: str  # what the tutor said (after the leak guard, as the student reads it)
    similarity: float | None  # chrF of reply against reference (metrics.chrf); None when it failed
    error: str | None = None


@dataclass
class EvalRun:
    suite: str
    model: dict  # name, backend, path, lora
    started: str
    seconds: float = 0.0
    classification: list[ClassificationOutcome] = field(default_factory=list)
    grading: list[GradingOutcome] = field(default_factory=list)
    leaks: list[LeakOutcome] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    tutoring: list[TutoringOutcome] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "EvalRun":
        return cls(suite=data["suite"], model=data["model"], started=data["started"], seconds=data.get("seconds", 0.0),
                   classification=[ClassificationOutcome(**c) for c in data.get("classification", [])],
                   grading=[GradingOutcome(**g) for g in data.get("grading", [])],
                   leaks=[LeakOutcome(**o) for o in data.get("leaks", [])],
                   tutoring=[TutoringOutcome(**o) for o in data.get("tutoring", [])],
                   calls=[CallRecord(**c) for c in data.get("calls", [])])


Progress = Callable[[str], None]


def run_suite(suite: EvalSuite, curricula: HasCurricula, model: ModelBackend, prompts: PromptLibrary, *,
              progress: Progress | None = None) -> EvalRun:
    """Every case of ``suite`` (already checked against ``curricula``) against ``model``."""
    recording = RecordingBackend(model)
    info = model.info
    run = EvalRun(suite=suite.id, started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  model={"name": info.name, "backend": info.backend, "path": info.path,
                         "lora": (info.detail or {}).get("lora"), "adapter": info.adapter})
    started = time.perf_counter()
    total = len(suite.misconceptions) + len(suite.rubric_grading) + len(suite.adversarial) + len(suite.tutoring)
    done = 0

    def step(case_id: str) -> None:
        nonlocal done
        done += 1
        recording.case = case_id
        if progress is not None:
            progress(f"case {done}/{total}: {case_id}")

    for case_id, case in zip(suite.case_ids("misconceptions"), suite.misconceptions):
        step(case_id)
        target = resolve_step(case, curricula)
        result = classify_misconception(model=recording, prompts=prompts, unit=target.unit, problem=target.problem,
                                        step=target.step, answer=case.answer)
        predicted = (result.misconception_id or NONE) if result.source == "model" else NO_ANSWER
        run.classification.append(ClassificationOutcome(case_id, case.unit, case.expected, predicted))

    grader = Grader(model=recording, prompts=prompts)
    for case_id, case in zip(suite.case_ids("rubric_grading"), suite.rubric_grading):
        step(case_id)
        rubric = curricula.rubrics[case.rubric]
        levels = {c.id: level_scores(c) for c in rubric.criteria if c.id in case.teacher_scores}
        try:
            grading = grader.grade(rubric, case.submission, task=case.task)
            scores = {g.criterion_id: g.score for g in grading.criteria if g.criterion_id in levels}
            run.grading.append(GradingOutcome(case_id, rubric.id, dict(case.teacher_scores), scores, levels))
        except GradingError as exc:
            run.grading.append(GradingOutcome(case_id, rubric.id, dict(case.teacher_scores), {}, levels, str(exc)))

    for case_id, case in zip(suite.case_ids("adversarial"), suite.adversarial):
        step(case_id)
        run.leaks.append(_adversarial(case_id, case, curricula, recording, prompts))

    for case_id, case in zip(suite.case_ids("tutoring"), suite.tutoring):
        step(case_id)
        run.tutoring.append(_tutoring(case_id, case, curricula, recording, prompts))

    run.calls = list(recording.calls)
    run.seconds = time.perf_counter() - started
    return run


def _adversarial(case_id: str, case, curricula: HasCurricula, model: RecordingBackend,
                 prompts: PromptLibrary) -> LeakOutcome:
    """The tutor's raw reply to ``case.message`` on a fresh step, and whether the guard would cut it."""
    target = resolve_step(case, curricula)
    info = model.info
    messages = build_messages(prompts=prompts, unit=target.unit, problem=target.problem, step_index=target.step_index,
                              attempts=[], misconceptions_seen=[], history=[], student_message=case.message,
                              count_tokens=model.count_tokens, n_ctx=info.n_ctx, max_tokens=MAX_REPLY_TOKENS)
    # The guard the chat builds for this turn reads the reply as it streams, as in class; the
    # whole raw reply is kept (the student would have seen the guard's redirect instead).
    guard = guard_for_turn(target.problem, target.step_index, (), student_message=case.message)
    pieces: list[str] = []
    try:
        for chunk in model_chunks(model, messages, max_tokens=MAX_REPLY_TOKENS, temperature=TEMPERATURE, stop=STOP,
                                  session_key=None):
            pieces.append(chunk)
            if not guard.leaked:
                guard.feed(chunk)
    except ModelError as exc:
        return LeakOutcome(case_id, case.unit, "".join(pieces), False, error=str(exc))
    guard.finish()
    finding = guard.finding
    if finding is None:
        return LeakOutcome(case_id, case.unit, "".join(pieces), False)
    return LeakOutcome(case_id, case.unit, "".join(pieces), True, finding.rule, finding.evidence)


def _tutoring(case_id: str, case: TutoringCase, curricula: HasCurricula, model: RecordingBackend,
              prompts: PromptLibrary) -> TutoringOutcome:
    """The tutor's reply to ``case.message``, in the state the case describes, against the reference.
    The reply is the one the student reads (the chat's own function, leak guard included); a
    model failure (which the chat turns into a friendly sentence) is the case's error instead."""
    target = resolve_step(case, curricula)
    attempts = [{"step_id": a.step, "answer": a.answer, "verdict": a.verdict, "misconception_id": a.misconception}
                for a in case.attempts]
    history = [{"role": "user" if t.role == "student" else "assistant", "content": t.content} for t in case.history]
    reply = "".join(stream_tutor_reply(
        model=model, prompts=prompts, unit=target.unit, problem=target.problem, step_index=target.step_index,
        attempts=attempts, misconceptions_seen=[a.misconception for a in case.attempts if a.misconception],
        history=history, student_message=case.message, revealed_step_ids=(), session_key=None,
        hints_shown=case.hints))
    failed = next((c.error for c in model.calls if c.case == case_id and not c.ok), None)
    if failed is not None or not model.info.available:
        return TutoringOutcome(case_id, case.unit, case.reference, reply, None, failed or "no model")
    return TutoringOutcome(case_id, case.unit, case.reference, reply, chrf(reply, case.reference))
