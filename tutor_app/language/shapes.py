"""Input/output shapes of conversation practice, for the page and the JSON API.

Kept apart from the tables (``models.py``) and the store's records: these are what callers see,
so they name things as a student or another tool would, and only ever grow new fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

TurnRole = Literal["student", "character"]
CorrectionStatus = Literal["pending", "checked", "failed", "unavailable", "other-language", "rules"]


class GoalView(BaseModel):
    id: str
    description: str
    done: bool


class VocabularyView(BaseModel):
    word: str
    translation: str | None = None


class ErrorView(BaseModel):
    start: int  # character offsets into the student's message as typed
    end: int
    span: str
    correction: str
    category: str  # a misconception id of the unit, or a general category
    category_label: str
    explanation: str  # in the student's own language


class CorrectionView(BaseModel):
    turn_id: int
    original: str
    corrected: str
    status: CorrectionStatus
    errors: list[ErrorView] = Field(default_factory=list)


class TurnView(BaseModel):
    turn_id: int
    role: TurnRole
    text: str
    level: str
    correction: CorrectionView | None = None  # student turns
    translation: str | None = None  # character turns, once asked for
    explanation: str | None = None


class ConversationState(BaseModel):
    session_id: str
    student: str
    curriculum_id: str
    title: str
    target_language: str
    learner_language: str
    unit_level: str
    level: str  # the level now in force; it moves with the student's error rate
    scenario: str
    character: str
    goals: list[GoalView]
    vocabulary: list[VocabularyView]
    turns: list[TurnView]


class MessageResult(BaseModel):
    """What sending one message did, before the character answers."""

    turn_id: int
    correction: CorrectionView
    goals_met_now: list[str]
    goals: list[GoalView]
    level_before: str
    level: str
    level_changed: bool
    level_reason: str


class ReplyResult(BaseModel):
    """The API's one-call turn: the correction, then the character's complete reply."""

    message: MessageResult
    reply: str
    reply_turn_id: int | None  # None when no model could answer (the reply is then a notice)
    simplified: bool = False
    too_hard: bool = False
    language_retry: bool = False  # the first try was in the wrong language and was asked for again


class TranslationResult(BaseModel):
    turn_id: int
    text: str
    translation: str
    explanation: str


# the teacher's transcripts ----------------------------------------------------------
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

