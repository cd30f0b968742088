"""What the training export is made of: one item per teacher-approved or teacher-corrected model
output, as the chat conversation a trainer reads, or the reason it was left out.

Each task's module (``tutoring_items``, ``classification_items``, ``grading_items``,
``correction_items``) renders the prompt with the very function the app calls for that task,
in the state the app was in when it called it, and appends the answer the teacher stands
behind. Names are still real here; the export pseudonymizes as it writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal

Task = Literal["tutoring", "classification", "grading", "corrections"]
TASKS: tuple[Task, ...] = ("tutoring", "classification", "grading", "corrections")
TASK_TITLES = {"tutoring": "tutoring replies", "classification": "misconception classification",
               "grading": "rubric grading", "corrections": "language corrections"}
CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class TrainingItem:
    task: Task
    unit: str  # the unit, conversation unit or rubric id
    student: str
    at: datetime  # when the model produced the output
    messages: list[dict]  # prompt and answer; earlier assistant turns carry "weight": 0 (context only)
    source: str  # "approved", "rewritten", "confirmed", "corrected", "overridden"
    item: str  # "table:id" of the output, for tracing an example back (no personal data in it)
    case: dict | None = None  # the item as an eval-suite case (section name under "section")


@dataclass(frozen=True)
class Exclusion:
    task: Task
    unit: str
    reason: str


@dataclass
class Collected:
    items: list[TrainingItem] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    not_reviewed: dict[Task, int] = field(default_factory=dict)

    def extend(self, other: "Collected") -> None:
        self.items += other.items
        self.excluded += other.excluded
        for task, n in other.not_reviewed.items():
            self.not_reviewed[task] = self.not_reviewed.get(task, 0) + n


def answer_json(value: dict[str, Any]) -> str:
    """A decision as the model writes it under its schema: the schema's field order, real characters."""
    return json.dumps(value, ensure_ascii=False)


def with_answer(prompt: list[dict], answer: str) -> list[dict]:
    """The prompt's turns (earlier assistant turns as context only) and the answer to learn."""
    turns = [{"role": m["role"], "content": m["content"], **({"weight": 0} if m["role"] == "assistant" else {})}
             for m in prompt]
    return turns + [{"role": "assistant", "content": answer}]
