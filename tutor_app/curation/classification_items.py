"""Training items for misconception classification: the diagnosis prompt, the label a teacher confirmed or gave.

The prompt is ``classify.classification_messages`` for the session's variant of the step and
the answer as typed. The answer to learn is the diagnosis object the model writes under its
schema (``classify.diagnosis_schema``: reasoning, misconception_id, feedback): the teacher's
label; as reasoning, the library's description of that misconception (what the student
probably did); as feedback, the teacher's own when given, else the feedback the student read
when the teacher confirmed it, else the app's plain sentence for that misconception. Text
longer than the schema allows is not cut: the plain sentence is used instead.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..curriculum.library import CurriculumLibrary
from ..curriculum.params import ParamError, render_variant
from ..dialogue.classify import (FEEDBACK_MAX_CHARS, NONE_ID, REASONING_MAX_CHARS, classification_messages,
                                 fallback_feedback)
from ..prompting import PromptLibrary
from ..storage.database import Database
from ..tutoring.models import Attempt, TutorSession
from . import sources
from .items import Collected, Exclusion, TrainingItem, answer_json, with_answer
from .service import DIAGNOSED_VERDICTS
from .store import CurationStore

TASK = "classification"
NONE_REASONING = "The answer shows none of the misconceptions in the list."


def classification_items(db: Database, library: CurriculumLibrary, prompts: PromptLibrary) -> Collected:
    collected = Collected()
    judged = CurationStore(db).diagnosis_reviews()
    for attempt_id, judgement in sorted(judged.items()):
        found = sources.attempt(db, attempt_id)
        if found is None:
            continue
        attempt, owner = found
        unit = library.units.get(owner.curriculum_id)

        def exclude(reason: str) -> None:
            collected.excluded.append(Exclusion(TASK, owner.curriculum_id, reason))

        template = next((p for p in unit.problems if p.id == owner.problem_id), None) if unit else None
        if unit is None or template is None:
            exclude(f"unit {owner.curriculum_id} or its problem {owner.problem_id} is no longer loaded")
            continue
        try:
            problem = render_variant(template, owner.seed)
        except ParamError as exc:
            exclude(f"problem {template.id} cannot be shown with its numbers any more ({exc})")
            continue
        step = next((s for s in problem.steps if s.id == attempt.step_id), None)
        library_ids = {m.id for m in unit.misconceptions}
        label = judgement.misconception_id
        if step is None or (label != NONE_ID and label not in library_ids):
            exclude(f"step {attempt.step_id} or misconception {label} is no longer in unit {unit.id}")
            continue
        description = next((m.description for m in unit.misconceptions if m.id == label), NONE_REASONING)
        feedback = judgement.feedback or (attempt.feedback if judgement.verdict == "confirmed" else None)
        if not feedback or len(feedback) > FEEDBACK_MAX_CHARS:
            feedback = fallback_feedback(unit, label if label != NONE_ID else None)
        answer = answer_json({"reasoning": " ".join(description.split())[:REASONING_MAX_CHARS],
                              "misconception_id": label, "feedback": feedback})
        prompt = classification_messages(prompts=prompts, unit=unit, problem=problem, step=step, answer=attempt.answer)
        collected.items.append(TrainingItem(
            task=TASK, unit=unit.id, student=owner.student, at=attempt.created_at,
            messages=with_answer(prompt, answer), source=judgement.verdict, item=f"attempts:{attempt.id}",
            case={"section": "misconceptions", "unit": unit.id, "problem": problem.id, "step": step.id,
                  "seed": owner.seed, "answer": attempt.answer, "expected": label}))
    collected.not_reviewed[TASK] = max(0, _diagnosable(db, library) - len(judged))
    return collected


def _diagnosable(db: Database, library: CurriculumLibrary) -> int:
    """Wrong answers in units with a misconception library: what a teacher could have judged."""
    with_library = [uid for uid, unit in library.units.items() if unit.misconceptions]
    with db.session() as session:
        return session.scalar(sa.select(sa.func.count(Attempt.id)).join(TutorSession)
                              .where(Attempt.verdict.in_(DIAGNOSED_VERDICTS), Attempt.scaffold.is_(False),
                                     TutorSession.curriculum_id.in_(with_library))) or 0
