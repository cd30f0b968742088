"""Input/output shapes of the application functions behind the UI and the public API.

These are the API contract of issue 4 (``/start_session``, ``/submit_answer``, ...): other
tools drive the app through them, so field names and meanings are fixed. Extend, never rename.
They are kept apart from the database tables on purpose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["correct", "incorrect", "misconception", "invalid", "pending"]
Role = Literal["student", "teacher", "local"]


class Actor(BaseModel):
    """Who is calling. ``local`` is the single user of a loopback-only app without sign-in;
    it may act as any student and see the teacher pages."""

    role: Role
    student: str | None = None  # the signed-in student's name (role == "student")

    def may_access_student(self, student: str) -> bool:
        return self.role in ("teacher", "local") or self.student == student

    @property
    def is_teacher(self) -> bool:
        return self.role in ("teacher", "local")


LOCAL_ACTOR = Actor(role="local")


class StartSessionResult(BaseModel):
    session_id: str
    curriculum_id: str
    problem_id: str
    statement: str
    step_id: str
    step_prompt: str


class SubmitAnswerResult(BaseModel):
    verdict: Verdict
    misconception_id: str | None = None
    feedback: str
    scaffold: bool = False  # the answer went to an open scaffold hint
    problem_done: bool = False
    next_step_id: str | None = None
    next_step_prompt: str | None = None
    mastery: dict[str, float] = Field(default_factory=dict)


class HintResult(BaseModel):
    level: int  # counts from 1
    text: str
    bottom_out: bool
    scaffold: bool


class AttemptView(BaseModel):
    step_id: str
    answer: str
    verdict: Verdict
    misconception_id: str | None = None
    at: datetime


class SessionState(BaseModel):
    session_id: str
    student: str
    curriculum_id: str
    problem_id: str
    step_id: str | None
    done: bool
    attempts: list[AttemptView]
    hints_used: dict[str, int]
    mastery: dict[str, float]


class GradedCriterion(BaseModel):
    id: str
    score: int
    comment: str


class GradeResult(BaseModel):
    rubric_id: str
    total: float
    max_total: float
    criteria: list[GradedCriterion]
    next_steps: list[str]


class TutorError(Exception):
    """A bad request from a caller (unknown id, not allowed, empty input). The message is
    shown to the person as is, so it must be plain language and name what was wrong."""


class NotFound(TutorError):
    pass


class Forbidden(TutorError):
    pass
