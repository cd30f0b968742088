"""Stored attempts and hints turned into the BKT observations they were, per skill and student.

Fitting parameters (``bkt_fit``) must see the very observations the live update saw, or the
fitted values would describe another model. So this applies the rule of ``attempts.py`` and
``hints.py`` to what the store keeps: in each session, each step gives one observation, made by
the first event that counts,

- a hint (the not-right observation) when it came before any counted answer, or
- an answer to the step itself that the checker could read: ``correct`` is right, ``incorrect``
  and ``misconception`` are not;

while answers to scaffold questions, ``invalid`` and ``pending`` answers, and every event of an
``open`` step are skipped. Each observation goes to every skill the step lists that the unit
still defines. A student's observations of a skill are ordered by the time of the event that
made them, across sessions. Events of problems or steps the unit no longer has are counted in
``ignored`` (an edited file), not guessed at.

The events are plain values (``StepEvent``) so that this stays independent of the storage
tables; the store's attempts and hints map onto them field by field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..curriculum.schema import Step, Unit

COUNTED_VERDICTS = {"correct": True, "incorrect": False, "misconception": False}


@dataclass(frozen=True)
class StepEvent:
    """One stored action on a step: an answer (``kind="attempt"``) or a hint request."""

    student: str
    session_id: str
    problem_id: str
    step_id: str
    at: datetime
    kind: Literal["attempt", "hint"]
    verdict: str | None = None  # attempts: correct, incorrect, misconception, invalid or pending
    scaffold: bool = False  # the answer went to a scaffold question, not to the step
    order: int = 0  # ties between events stored at the same instant: the row id


@dataclass(frozen=True)
class ObservationSequences:
    by_skill: dict[str, dict[str, tuple[bool, ...]]]  # skill id -> student -> right/not, in time order
    ignored: int = 0  # events whose problem or step the unit no longer has


def observation_sequences(unit: Unit, events: Iterable[StepEvent]) -> ObservationSequences:
    """The module notes' rule applied to ``events`` (in any order)."""
    steps = {(problem.id, step.id): step for problem in unit.problems for step in problem.steps}
    known_skills = {skill.id for skill in unit.skills}
    observed: set[tuple[str, str]] = set()  # (session, step) pairs already observed
    found: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    ignored = 0
    for event in sorted(events, key=lambda e: (e.at, e.order, e.kind)):
        step = steps.get((event.problem_id, event.step_id))
        if step is None:
            ignored += 1
            continue
        right = _observation(step, event)
        if right is None or (event.session_id, event.step_id) in observed:
            continue
        observed.add((event.session_id, event.step_id))
        for skill_id in dict.fromkeys(step.skills):
            if skill_id in known_skills:
                found[skill_id][event.student].append(right)
    return ObservationSequences(
        by_skill={skill: {student: tuple(seq) for student, seq in students.items()}
                  for skill, students in found.items()},
        ignored=ignored)


def _observation(step: Step, event: StepEvent) -> bool | None:
    """What this event says on its own: right, not right, or nothing (None)."""
    if step.check == "open":
        return None
    if event.kind == "hint":
        return False
    if event.scaffold:
        return None
    return COUNTED_VERDICTS.get(event.verdict or "")
