"""Which problem a student should do next, when the caller does not name one.

Least-mastered first: each problem is scored by the mean P(known) of the skills its steps
practise, and the lowest score wins (ties go to the easier problem, then to the teacher's
order, which is usually the intended progression). Solved problems are skipped until every
problem is solved. Mastered skills still need a look now and then, or they fade; so on every
``REVIEW_EVERY``-th seed the choice is a review: a seeded pick among the candidate problems
whose skills are all mastered (when there are any). The function is pure: the same unit,
mastery, solved set and seed give the same problem.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Set

from ..curriculum.schema import Problem, Unit
from .mastery import current_mastery, is_mastered

REVIEW_EVERY = 4
_MIDDLE_DIFFICULTY = 3


def choose_problem(unit: Unit, mastery: Mapping[str, float], solved: Set[str], seed: int) -> str:
    known = current_mastery(unit, mastery)
    candidates = [p for p in unit.problems if p.id not in solved] or list(unit.problems)
    if is_review_turn(seed):
        review = [p for p in candidates if _skills(unit, p) and all(is_mastered(known[s]) for s in _skills(unit, p))]
        if review:
            return random.Random(seed).choice(review).id
    order = {p.id: i for i, p in enumerate(unit.problems)}
    best = min(candidates, key=lambda p: (round(problem_score(unit, p, known), 9),
                                          p.difficulty or _MIDDLE_DIFFICULTY, order[p.id]))
    return best.id


def is_review_turn(seed: int) -> bool:
    return int(seed) % REVIEW_EVERY == REVIEW_EVERY - 1


def problem_score(unit: Unit, problem: Problem, mastery: Mapping[str, float]) -> float:
    """Mean mastery of the problem's skills; a problem practising no skill (only open steps)
    scores as the unit's average, neither first nor last."""
    known = current_mastery(unit, mastery)
    skills = _skills(unit, problem) or list(known)
    return sum(known[s] for s in skills) / len(skills) if skills else 0.0


def _skills(unit: Unit, problem: Problem) -> list[str]:
    defined = {skill.id for skill in unit.skills}
    return [s for s in dict.fromkeys(s for step in problem.steps for s in step.skills) if s in defined]
