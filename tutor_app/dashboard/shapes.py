"""What the teacher's dashboard receives: plain, JSON-ready shapes, apart from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..language.shapes import CorrectionView, GoalView


class SkillInfo(BaseModel):
    id: str
    name: str


class StudentMastery(BaseModel):
    student: str
    mastery: dict[str, float]  # skill id -> P(known); skills never practised are absent
    mastered: list[str]  # skill ids at or above the mastery threshold


class MasteryTable(BaseModel):
    curriculum_id: str
    title: str
    threshold: float
    skills: list[SkillInfo]
    students: list[StudentMastery]


class MisconceptionCount(BaseModel):
    curriculum_id: str
    problem_id: str
    step_id: str
    misconception_id: str
    description: str  # from the unit's misconception library ("" when the unit no longer has it)
    count: int
    students: int
    by_bug_rule: int
    by_model: int


class StuckStudent(BaseModel):
    student: str
    session_id: str
    curriculum_id: str
    problem_id: str
    step_id: str
    wrong_attempts: int
    hints: int
    bottom_out_hints: int
    still_on_step: bool
    last_at: datetime
    reason: str  # one line a teacher reads, e.g. "6 wrong attempts, saw the worked answer"


class SessionListItem(BaseModel):
    session_id: str
    student: str
    curriculum_id: str
    problem_id: str
    step_id: str | None
    done: bool
    attempts: int
    hints: int
    started_at: datetime
    updated_at: datetime


class TranscriptEntry(BaseModel):
    at: datetime
    kind: Literal["attempt", "hint", "student", "tutor"]
    step_id: str | None
    text: str  # the answer, the hint, or the chat message
    verdict: str | None = None
    misconception_id: str | None = None
    feedback: str | None = None
    scaffold: bool = False
    level: int | None = None
    bottom_out: bool = False


class Transcript(BaseModel):
    session: SessionListItem
    statement: str  # the student's variant of the problem ("" when the unit no longer has it)
    seed: int
    entries: list[TranscriptEntry]


# conversation practice ---------------------------------------------------------------
class ConversationListItem(BaseModel):
    session_id: str
    student: str
    curriculum_id: str
    title: str  # the unit's title (its id when the unit is no longer loaded)
    level: str  # the level now in force
    unit_level: str | None  # where the unit starts (None when it is no longer loaded)
    messages: int  # the student's messages
    corrected: int  # of those, the ones with at least one error
    errors: int
    goals_met: int
    goals: int  # the unit's goals (0 when it is no longer loaded)
    started_at: datetime
    updated_at: datetime


class ConversationEntry(BaseModel):
    """One line of a conversation's transcript: a turn, or what a student turn led to."""

    at: datetime
    kind: Literal["student", "character", "level", "goal"]
    turn_id: int | None = None  # student and character turns; for level and goal lines, the turn behind them
    text: str  # the message, the reply, the goal's description, or the reason the level moved
    level: str  # the level in force when it was written (for a level line: the new level)
    correction: CorrectionView | None = None  # student turns
    simplified: bool = False  # character turns: a simpler retry replaced the first try
    too_hard: bool = False  # character turns: still above the level after the retry
    complete: bool = True  # character turns: False when the stream stopped early
    translation: str | None = None  # character turns the student asked to translate
    explanation: str | None = None
    level_from: str | None = None  # level lines
    goal_id: str | None = None  # goal lines


class ConversationTranscript(BaseModel):
    conversation: ConversationListItem
    scenario: str  # "" when the unit is no longer loaded
    character: str
    target_language: str
    learner_language: str
    goals: list[GoalView] = Field(default_factory=list)
    entries: list[ConversationEntry] = Field(default_factory=list)

