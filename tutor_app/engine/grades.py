"""What a grade of an open answer tells mastery.

An ``open`` step's answer is ``pending`` when it is written: nobody has judged it, so it moves
no mastery and the page shows it as waiting for the teacher or the tutor, never as solved. When
it is graded (by the model against the rubric, or by the teacher), the grade is the step's BKT
observation, as the first attempt at any other step is: right when it reaches at least
``RIGHT_SHARE`` of the rubric's points. Only the first grade of a step in a problem counts; a
teacher who changes it later changes what the student reads, not the estimate, as a re-marked
test does not rewrite what the class learnt from it. A bug rule that fired on an earlier answer
to the step (its ``phrases:``) was already the observation, so the grade adds none.
"""

from __future__ import annotations

from ..curriculum.schema import Problem, Unit
from .outcomes import Observation
from .state import ProblemProgress

RIGHT_SHARE = 0.5


def graded_observations(unit: Unit, problem: Problem, progress: ProblemProgress, step_id: str,
                        share: float) -> tuple[tuple[Observation, ...], ProblemProgress]:
    """The observations a grade (``share`` of the points) adds, and the progress that records them."""
    step = next((s for s in problem.steps if s.id == step_id), None)
    if step is None or step.id in progress.observed:
        return (), progress
    known = {skill.id for skill in unit.skills}
    correct = share >= RIGHT_SHARE
    observations = tuple(Observation(s, correct) for s in dict.fromkeys(step.skills) if s in known)
    return observations, progress.evolve(observed=progress.observed | {step.id})
