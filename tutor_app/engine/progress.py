"""The tutoring engine's entry points for one problem: pure functions over ``ProblemProgress``.

``submit_answer(unit, problem, progress, answer)`` and ``next_hint(problem, progress)`` each
return an outcome and the new progress; neither touches storage or a model, so the whole walk
through a problem is testable as plain function calls. The rules are documented where they
live: attempts and bug rules in ``attempts.py``, the hint ladder in ``hints.py``, the stored
state in ``state.py``.
"""

from .attempts import SCAFFOLD_MISSES_BEFORE_MOVING_ON, current_step, matching_bug_rule, submit_answer
from .hints import next_hint
from .outcomes import AttemptOutcome, AttemptVerdict, HintOutcome, Observation
from .state import ProblemProgress, revealed_step_ids, solved_step_ids

__all__ = [
    "AttemptOutcome", "AttemptVerdict", "HintOutcome", "Observation", "ProblemProgress",
    "SCAFFOLD_MISSES_BEFORE_MOVING_ON", "current_step", "matching_bug_rule", "next_hint", "revealed_step_ids",
    "solved_step_ids", "submit_answer",
]
