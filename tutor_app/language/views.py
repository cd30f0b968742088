"""Stored conversation turns as callers see them: the corrections and goals of the shapes.

Kept apart from the service so that the student's page and the teacher's transcript draw the
same correction from the same stored turn, with the category named in the unit's own words.
"""

from __future__ import annotations

from ..curriculum.schema import ConversationUnit
from .corrections import category_label
from .shapes import CorrectionView, ErrorView, GoalView
from .store import TurnRecord


def goal_views(unit: ConversationUnit, done: set[str]) -> list[GoalView]:
    return [GoalView(id=g.id, description=g.description, done=g.id in done) for g in unit.goals]


def correction_view(turn: TurnRecord, unit: ConversationUnit | None) -> CorrectionView:
    """A student turn's correction. ``unit`` None (its file was removed): general names only."""
    return CorrectionView(
        turn_id=turn.id, original=turn.content,
        corrected=turn.corrected if turn.corrected is not None else turn.content,
        status=turn.correction_status or "pending",
        errors=[ErrorView(start=e.start, end=e.end, span=e.span, correction=e.correction, category=e.category,
                          category_label=category_label(unit, e.category), explanation=e.explanation)
                for e in turn.errors])
