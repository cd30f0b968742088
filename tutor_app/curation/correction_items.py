"""Training items for language corrections: the correction prompt, the correction a teacher approved.

The prompt is ``corrections.build_messages`` with the level the message was written at and the
character's line before it, as the conversation service sent it. The answer is the correction
object the model writes under ``correction_schema``, rebuilt from what was stored of it (the
errors as validated and placed, the corrected sentence): what the student was shown and the
teacher approved. A rejected correction is left out.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..curriculum.library import CurriculumLibrary
from ..language.corrections import build_messages
from ..language.models import ConversationTurn
from ..language.store import ConversationStore
from ..prompting import PromptLibrary
from ..storage.database import Database
from . import sources
from .items import Collected, Exclusion, TrainingItem, answer_json, with_answer
from .store import CurationStore

TASK = "corrections"


def correction_items(db: Database, library: CurriculumLibrary, prompts: PromptLibrary) -> Collected:
    collected = Collected()
    conversations = ConversationStore(db)
    judged = CurationStore(db).correction_reviews()
    for turn_id, judgement in sorted(judged.items()):
        found = sources.conversation_turn(db, turn_id)
        if found is None:
            continue
        turn, owner = found
        if judgement.verdict == "rejected":
            collected.excluded.append(Exclusion(TASK, owner.curriculum_id, "rejected by the teacher"))
            continue
        unit = library.conversations.get(owner.curriculum_id)
        if unit is None:
            collected.excluded.append(Exclusion(TASK, owner.curriculum_id,
                                                f"conversation unit {owner.curriculum_id} is no longer loaded"))
            continue
        turns = conversations.turns(session_id=owner.session_id)
        earlier = [t for t in turns if (t.created_at, t.id) < (turn.created_at, turn.id)]
        previous = next((t.content for t in reversed(earlier) if t.role == "character"), "")
        prompt = build_messages(prompts=prompts, unit=unit, level=turn.level, text=turn.content, previous_line=previous)
        answer = answer_json({"corrected": turn.corrected or turn.content,
                              "errors": [{"span": e.span, "correction": e.correction, "category": e.category,
                                          "explanation": e.explanation} for e in turn.errors]})
        collected.items.append(TrainingItem(
            task=TASK, unit=unit.id, student=owner.student, at=turn.created_at, messages=with_answer(prompt, answer),
            source="approved", item=f"conversation_turns:{turn.id}"))
    collected.not_reviewed[TASK] = max(0, _checked_messages(db) - len(judged))
    return collected


def _checked_messages(db: Database) -> int:
    with db.session() as session:
        return session.scalar(sa.select(sa.func.count(ConversationTurn.id))
                              .where(ConversationTurn.role == "student",
                                     ConversationTurn.correction_status == "checked")) or 0
