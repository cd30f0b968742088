"""The model's diagnosis of a wrong answer that no bug rule matched.

The model picks one entry of the unit's misconception library (or "none") under a JSON-schema
constraint built from that library, so it cannot name a misconception the teacher never wrote.
Its feedback is read by the student, so it passes the leak guard first; when the model is
unavailable, fails, or its wording gives the answer away, a plain sentence in the unit's
language takes its place. The verdict and mastery never depend on this call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, create_model

from ..curriculum.schema import Problem, Step, Unit
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend, Priority
from .leak_guard import find_leak, protected_answers
from .phrases import language_name, phrase

log = logging.getLogger(__name__)

NONE_ID = "none"
FEEDBACK_MAX_CHARS = 300
REASONING_MAX_CHARS = 240


@dataclass(frozen=True)
class Classification:
    misconception_id: str | None
    feedback: str
    source: Literal["model", "fallback"]


def diagnosis_schema(unit: Unit) -> type[BaseModel]:
    """A pydantic model whose ``misconception_id`` is an enum of this unit's library plus "none"."""
    ids = tuple(dict.fromkeys(m.id for m in unit.misconceptions)) + (NONE_ID,)
    return create_model(
        "MisconceptionDiagnosis",
        reasoning=(str, Field(max_length=REASONING_MAX_CHARS, description="What the student probably did")),
        misconception_id=(Literal[ids], Field(description="An id from the misconception library, or none")),
        feedback=(str, Field(max_length=FEEDBACK_MAX_CHARS, description="Feedback to the student")),
    )


def fallback_feedback(unit: Unit, misconception_id: str | None = None) -> str:
    """The plain sentence a student reads when the model's own words cannot be used."""
    if misconception_id:
        description = next((m.description for m in unit.misconceptions if m.id == misconception_id), "")
        if description:
            description = description.strip().rstrip(".")
            if len(description) > 1 and description[1].islower():  # "Applies ..." reads mid-sentence
                description = description[0].lower() + description[1:]
            return phrase("misconception_feedback", unit.language, description=description)
    return phrase("generic_feedback", unit.language)


def _step_index(problem: Problem, step: Step) -> int:
    for index, candidate in enumerate(problem.steps):
        if candidate.id == step.id:
            return index
    return 0  # unknown step: protect every answer of the problem


def classification_messages(*, prompts: PromptLibrary, unit: Unit, problem: Problem, step: Step,
                            answer: str) -> list[dict]:
    """The prompt of a classification: what the model is sent, and what a fine-tune trains on."""
    return prompts.render_messages(
        "classify_misconception",
        subject=unit.subject, unit_title=unit.title, language_name=language_name(unit.language),
        misconceptions=[{"id": m.id, "description": m.description, "examples": m.examples}
                        for m in unit.misconceptions],
        statement=problem.statement, step_prompt=step.prompt, expected_answer=step.answer or "",
        student_answer=answer)


def classify_misconception(*, model: ModelBackend, prompts: PromptLibrary, unit: Unit, problem: Problem,
                           step: Step, answer: str, priority: Priority = "batch") -> Classification:
    """Which misconception ``answer`` shows, with feedback safe to show the student. Batch
    priority by default: the diagnosis is optional and arrives in the background, so students'
    chat replies go first; it runs beside them whenever the model has a free place."""
    if not unit.misconceptions:
        return Classification(None, fallback_feedback(unit), "fallback")
    schema = diagnosis_schema(unit)
    try:
        messages = classification_messages(prompts=prompts, unit=unit, problem=problem, step=step, answer=answer)
        result = schema.model_validate(model.generate_json(messages, schema, max_tokens=384, temperature=0.0,
                                                           priority=priority).model_dump())
    except Exception:  # the diagnosis is optional: any failure leaves the deterministic feedback
        log.warning("misconception classification failed for step %s", step.id, exc_info=True)
        return Classification(None, fallback_feedback(unit), "fallback")

    known = {m.id for m in unit.misconceptions}
    misconception_id = result.misconception_id if result.misconception_id in known else None
    if result.misconception_id != NONE_ID and misconception_id is None:
        return Classification(None, fallback_feedback(unit), "fallback")
    feedback = " ".join(result.feedback.split())
    protected = protected_answers(problem, _step_index(problem, step), [])
    if not feedback or find_leak(feedback, protected, given=(answer,)) is not None:
        feedback = fallback_feedback(unit, misconception_id)
    return Classification(misconception_id, feedback, "model")
