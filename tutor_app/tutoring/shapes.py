"""Input/output shapes of the tutoring functions behind the student's page and the public API.

These are the API contract of issue 4 (``/start_session``, ``/submit_answer``, ...): other
tools drive the app through them, so field names and meanings are fixed. Extend, never rename.
They are kept apart from the database tables on purpose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["correct", "incorrect", "misconception", "invalid", "pending"]


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
    # What the student reads now: the checker's words, or what came later (the model's diagnosis
    # of a wrong answer, the grade of an open answer). ``graded_by``: "model" or "teacher" once
    # an open (``pending``) answer is graded, None while it waits.
    feedback: str | None = None
    graded_by: str | None = None


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
