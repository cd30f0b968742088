"""What the engine reports back after an attempt or a hint request.

The outcome carries everything the service stores and shows: the verdict, the feedback, the
BKT observations to apply (so that the mastery rule lives in the engine, not in each caller),
and where the problem stands now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

AttemptVerdict = Literal["correct", "incorrect", "invalid", "pending", "misconception"]


class Observation(NamedTuple):
    """One piece of BKT evidence: the student got a step practising ``skill_id`` right or not."""

    skill_id: str
    correct: bool


@dataclass(frozen=True)
class AttemptOutcome:
    verdict: AttemptVerdict
    feedback: str
    step_id: str  # the step answered (the step whose scaffold question was answered, when scaffold)
    normalized: str | None = None  # how the checker read the answer
    misconception_id: str | None = None
    scaffold: bool = False  # the answer went to an open scaffold question, not to the step
    counted: bool = False  # counts as an attempt at the step (invalid and scaffold answers do not)
    step_completed: bool = False
    problem_done: bool = False
    next_step_id: str | None = None  # set when the student moved on to another step
    explanation: str | None = None  # the teacher's explanation of a step just solved
    observations: tuple[Observation, ...] = ()


@dataclass(frozen=True)
class HintOutcome:
    level: int  # 1-based rung of the ladder (a repeat keeps its rung)
    text: str  # the hint, or the scaffold question
    step_id: str
    bottom_out: bool = False  # this hint may show the answer
    scaffold: bool = False  # a question the student answers before the ladder goes on
    generic: bool = False  # not written by the teacher: a nudge built from the step
    repeated: bool = False  # the same hint as last time (the ladder is at its end, or a scaffold is open)
    observations: tuple[Observation, ...] = ()
