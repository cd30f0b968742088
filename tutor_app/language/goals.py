"""Ticking off a unit's goals: a goal is met when the student's own message uses one of its phrases.

Plain matching, not the model's opinion: whole words in a row, case, accents and punctuation
ignored (``textmatch.contains_phrase``), so "queria la cuenta" ticks "quería" and "la cuenta".
The student's text as written counts, not the corrected one: the goal is to *produce* the
phrase. A goal once met stays met for the conversation.
"""

from __future__ import annotations

from typing import Iterable

from ..curriculum.schema import ConversationGoal
from .textmatch import contains_phrase


def goals_used(goals: Iterable[ConversationGoal], text: str) -> list[str]:
    """Ids of the goals whose phrases ``text`` uses, in the unit's order."""
    return [goal.id for goal in goals if any(contains_phrase(text, p) for p in goal.phrases)]


def newly_met(goals: Iterable[ConversationGoal], text: str, already: Iterable[str]) -> list[str]:
    done = set(already)
    return [goal_id for goal_id in goals_used(goals, text) if goal_id not in done]
