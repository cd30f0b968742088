"""What ``/grade_submission`` returns, and what an open step's grade is read from: a contract of
the public API (field names fixed; extend, never rename), kept apart from the grading tables."""

from __future__ import annotations

from pydantic import BaseModel


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
