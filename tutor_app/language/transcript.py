"""A conversation as the teacher reads it afterwards: every turn, and what each message led to.

Built from the stored turns alone. Level changes are not stored as events: each student turn
keeps the level it was written at, so a change is found by replaying the level rule
(``levels.decide_after``, the same call that moved the level as the message arrived) on the
stored turns, which also gives the reason the student read. A change the replay cannot
explain (the rule was edited since) still shows, from the stored levels, without a reason.
Goals are shown right after the message that met them.
"""

from __future__ import annotations

from ..curriculum.schema import ConversationUnit
from .levels import TurnOutcome, decide_after
from .reports import ConversationSummary
from .shapes import ConversationEntry, ConversationListItem, ConversationTranscript
from .store import ConversationRecord, GoalRecord, TurnRecord
from .textmatch import word_count
from .views import correction_view, goal_views


def list_item(summary: ConversationSummary, unit: ConversationUnit | None) -> ConversationListItem:
    return ConversationListItem(
        session_id=summary.id, student=summary.student, curriculum_id=summary.curriculum_id,
        title=unit.title if unit else summary.curriculum_id, level=summary.level,
        unit_level=unit.level if unit else None, messages=summary.messages, corrected=summary.corrected,
        errors=summary.errors, goals_met=summary.goals_met, goals=len(unit.goals) if unit else 0,
        started_at=summary.created_at, updated_at=summary.updated_at)


def build_transcript(summary: ConversationSummary, record: ConversationRecord, turns: list[TurnRecord],
                     goals: list[GoalRecord], unit: ConversationUnit | None) -> ConversationTranscript:
    descriptions = {g.id: g.description for g in unit.goals} if unit else {}
    turn_ids = {t.id for t in turns}
    met_by_turn: dict[int | None, list[GoalRecord]] = {}  # None: the turn is gone; shown at the end
    for goal in goals:
        met_by_turn.setdefault(goal.turn_id if goal.turn_id in turn_ids else None, []).append(goal)
    entries: list[ConversationEntry] = []
    level = turns[0].level if turns else record.level

    def moved(to: str, at, turn_id: int | None, reason: str = "") -> None:
        nonlocal level
        entries.append(ConversationEntry(at=at, kind="level", turn_id=turn_id, text=reason, level=to,
                                         level_from=level))
        level = to

    for index, turn in enumerate(turns):
        if turn.level != level:
            moved(turn.level, turn.created_at, None)
        if turn.role == "student":
            entries.append(ConversationEntry(at=turn.created_at, kind="student", turn_id=turn.id, text=turn.content,
                                             level=turn.level, correction=correction_view(turn, unit)))
            if turn.correction_status == "checked":
                decision = decide_after(turn.level, turns[:index],
                                        TurnOutcome(errors=len(turn.errors), words=word_count(turn.content)))
                if decision.changed:
                    moved(decision.level, turn.created_at, turn.id, decision.reason)
            for goal in met_by_turn.get(turn.id, []):
                entries.append(_goal_entry(goal, descriptions, level))
        else:
            entries.append(ConversationEntry(
                at=turn.created_at, kind="character", turn_id=turn.id, text=turn.content, level=turn.level,
                simplified=turn.simplified, too_hard=turn.too_hard, complete=turn.complete,
                translation=turn.translation, explanation=turn.explanation))
    if record.level != level:
        moved(record.level, record.updated_at, None)
    entries += [_goal_entry(goal, descriptions, level) for goal in met_by_turn.get(None, [])]
    return ConversationTranscript(
        conversation=list_item(summary, unit), scenario=unit.scenario.strip() if unit else "",
        character=unit.character.strip() if unit else "", target_language=unit.target_language if unit else "",
        learner_language=unit.language if unit else "",
        goals=goal_views(unit, {g.goal_id for g in goals}) if unit else [], entries=entries)


def _goal_entry(goal: GoalRecord, descriptions: dict[str, str], level: str) -> ConversationEntry:
    return ConversationEntry(at=goal.at, kind="goal", turn_id=goal.turn_id,
                             text=descriptions.get(goal.goal_id, goal.goal_id), level=level, goal_id=goal.goal_id)
