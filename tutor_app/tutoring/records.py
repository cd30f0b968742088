"""Plain, immutable copies of stored rows, handed out by the store.

The service never holds ORM objects after a store call returns: a detached object that lazily
loads would touch the database from wherever it ends up (a Gradio worker thread, a template).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SessionRecord:
    id: str
    student: str
    curriculum_id: str
    problem_id: str
    seed: int
    progress: dict[str, Any]
    step_id: str | None
    done: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    session_id: str
    step_id: str
    answer: str
    normalized: str | None
    verdict: str
    misconception_id: str | None
    diagnosis: str | None
    feedback: str | None
    scaffold: bool
    created_at: datetime
    diagnosis_model: str | None = None  # a model's diagnosis: which model and adapter version made it
    diagnosis_adapter: str | None = None
    graded_by: str | None = None  # an open answer's grade: "model" or "teacher"; None while it waits
    grade_share: float | None = None

    @property
    def waiting(self) -> bool:
        """An open answer no one has graded yet."""
        return self.verdict == "pending" and self.graded_by is None


@dataclass(frozen=True)
class HintRecord:
    id: int
    session_id: str
    step_id: str
    level: int
    text: str
    bottom_out: bool
    scaffold: bool
    created_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    session_id: str
    role: str
    content: str
    step_id: str | None
    model_name: str | None
    prompt_tokens: int | None
    evaluated_tokens: int | None
    completion_tokens: int | None
    ttft_s: float | None
    total_s: float | None
    complete: bool
    created_at: datetime
    reply_to: int | None = None  # a reply: the question it answers
    adapter: str | None = None  # the LoRA adapter version that wrote a tutor reply (None: the base model)
    guard_rule: str | None = None  # the answer-leak guard's rule, when it cut the reply


@dataclass(frozen=True)
class MasteryRecord:
    student: str
    curriculum_id: str
    skill_id: str
    p_known: float
    at: datetime
    session_id: str | None = None


@dataclass(frozen=True)
class SessionHistory:
    """Everything one session holds, for the student's page to be rebuilt from when they return."""

    session: SessionRecord
    attempts: tuple[AttemptRecord, ...]
    hints: tuple[HintRecord, ...]
    messages: tuple[MessageRecord, ...]


@dataclass(frozen=True)
class SessionSummary:
    """A session as the teacher's overview lists it."""

    id: str
    student: str
    curriculum_id: str
    problem_id: str
    step_id: str | None
    done: bool
    attempts: int
    hints: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CountRow:
    """A misconception seen on a step: how often and by how many students."""

    curriculum_id: str
    problem_id: str
    step_id: str
    misconception_id: str
    count: int
    students: int
    diagnoses: dict[str, int] = field(default_factory=dict)  # bug_rule / model -> count
