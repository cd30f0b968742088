"""The hint ladder: one rung per request, in the teacher's order.

Decisions (the issue leaves them open):
- A scaffold rung asks a question and stays open until the student answers it right. Asking
  for a hint meanwhile repeats the question, because the next rung usually builds on its
  answer. After ``SCAFFOLD_MISSES_BEFORE_MOVING_ON`` wrong answers to it, a hint request moves
  the ladder on instead, so no student is ever stuck behind a sub-question.
- The last rung is the bottom-out hint, the only one allowed to show the answer; asking past
  the end repeats it. A ladder that ends in a scaffold has no bottom-out: past its end the
  student is sent back over the hints and to the tutor.
- A step without hints gets generic nudges built from the step (first its prompt, then a tip
  for its kind of answer, repeated from then on). They never show the answer, because no
  teacher wrote one to show.
- A hint requested before the first attempt at a step is that step's (not-correct) BKT
  observation; ``open`` steps are never observed.
"""

from __future__ import annotations

from ..curriculum.schema import Problem, ScaffoldHint, Step
from . import feedback
from .attempts import SCAFFOLD_MISSES_BEFORE_MOVING_ON, current_step, open_scaffold
from .outcomes import HintOutcome, Observation
from .state import ProblemProgress

GENERIC_LEVELS = 2


def next_hint(problem: Problem, progress: ProblemProgress) -> tuple[HintOutcome, ProblemProgress]:
    step = current_step(problem, progress)
    observations, progress = _hint_observation(step, progress)
    if not step.hints:
        return _generic(step, progress, observations)
    index = open_scaffold(step, progress)
    if index is not None:
        if progress.scaffold_misses < SCAFFOLD_MISSES_BEFORE_MOVING_ON:
            hint = step.hints[index]
            return HintOutcome(level=index + 1, text=hint.scaffold, step_id=step.id, scaffold=True, repeated=True,
                               observations=observations), progress
        progress = progress.evolve(open_scaffold=None, scaffold_misses=0)
    return _climb(step, progress, observations)


def _climb(step: Step, progress: ProblemProgress,
           observations: tuple[Observation, ...]) -> tuple[HintOutcome, ProblemProgress]:
    ladder = step.hints
    shown = progress.hints_at(step.id)
    if shown >= len(ladder):
        last = ladder[-1]
        if isinstance(last, ScaffoldHint):
            return HintOutcome(level=len(ladder), text=feedback.LADDER_END_WITHOUT_ANSWER, step_id=step.id,
                               generic=True, repeated=True, observations=observations), progress
        return HintOutcome(level=len(ladder), text=last, step_id=step.id, bottom_out=True, repeated=True,
                           observations=observations), progress
    hint = ladder[shown]
    climbed = progress.evolve(hints_shown={**progress.hints_shown, step.id: shown + 1})
    if isinstance(hint, ScaffoldHint):
        return HintOutcome(level=shown + 1, text=hint.scaffold, step_id=step.id, scaffold=True,
                           observations=observations), climbed.evolve(open_scaffold=shown, scaffold_misses=0)
    bottom_out = shown == len(ladder) - 1
    if bottom_out:
        climbed = climbed.evolve(bottom_out_seen=climbed.bottom_out_seen | {step.id})
    return HintOutcome(level=shown + 1, text=hint, step_id=step.id, bottom_out=bottom_out,
                       observations=observations), climbed


def _generic(step: Step, progress: ProblemProgress,
             observations: tuple[Observation, ...]) -> tuple[HintOutcome, ProblemProgress]:
    shown = progress.hints_at(step.id)
    level = min(shown + 1, GENERIC_LEVELS)
    outcome = HintOutcome(level=level, text=feedback.generic_nudge(step, level), step_id=step.id, generic=True,
                          repeated=shown >= GENERIC_LEVELS, observations=observations)
    return outcome, progress.evolve(hints_shown={**progress.hints_shown, step.id: min(shown + 1, GENERIC_LEVELS)})


def _hint_observation(step: Step, progress: ProblemProgress) -> tuple[tuple[Observation, ...], ProblemProgress]:
    """The module notes' BKT rule. The unit is not at hand here, so every listed skill is
    reported; the service ignores ids its unit does not define."""
    if step.check == "open" or step.id in progress.observed:
        return (), progress
    observations = tuple(Observation(skill_id, False) for skill_id in dict.fromkeys(step.skills))
    return observations, progress.evolve(observed=progress.observed | {step.id})
