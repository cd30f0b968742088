"""Bayesian Knowledge Tracing: the probability that a student knows a skill, one observation at a time.

Each first attempt at a step is evidence about the step's skills. The update has two parts
(Corbett & Anderson, 1995): Bayes' rule turns P(known) into P(known | what we saw), allowing for
a lucky guess (``p_guess``) and a careless slip (``p_slip``); then the practice itself may have
taught the skill (``p_transit``). Pure functions that return new values: the stored history of
estimates is the record, so nothing here mutates its input (unlike OATutor's in-place update).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..curriculum.schema import BKTParams, Unit

MASTERY_THRESHOLD = 0.95  # the usual BKT cut-off for "mastered"


def bkt_update(p_known: float, correct: bool, params: BKTParams) -> float:
    """P(known) after one observed attempt, including the chance to learn from it."""
    if not 0.0 <= p_known <= 1.0:
        raise ValueError(f"p_known must be a probability between 0 and 1, not {p_known!r}")
    if correct:
        evidence_known = p_known * (1 - params.p_slip)
        evidence_unknown = (1 - p_known) * params.p_guess
    else:
        evidence_known = p_known * params.p_slip
        evidence_unknown = (1 - p_known) * (1 - params.p_guess)
    total = evidence_known + evidence_unknown
    # With p_guess or p_slip at 0 an observation can be impossible under the model; it then
    # carries no information instead of dividing by zero.
    posterior = evidence_known / total if total > 0 else p_known
    learned = posterior + (1 - posterior) * params.p_transit
    return min(1.0, max(0.0, learned))


def initial_mastery(unit: Unit) -> dict[str, float]:
    """Before any practice: each skill's ``p_init``."""
    return {skill.id: skill.bkt.p_init for skill in unit.skills}


def current_mastery(unit: Unit, stored: Mapping[str, float]) -> dict[str, float]:
    """The stored estimates for the unit's skills, with ``p_init`` for skills not practised yet
    (and stored values for skills the unit no longer has left out)."""
    return {skill.id: float(stored.get(skill.id, skill.bkt.p_init)) for skill in unit.skills}


def apply_observations(unit: Unit, mastery: Mapping[str, float],
                       observations: Iterable[tuple[str, bool]]) -> dict[str, float]:
    """``mastery`` after each (skill id, correct) observation in order; skills the unit does not
    define are ignored."""
    params = {skill.id: skill.bkt for skill in unit.skills}
    updated = current_mastery(unit, mastery)
    for skill_id, correct in observations:
        if skill_id in params:
            updated[skill_id] = bkt_update(updated[skill_id], bool(correct), params[skill_id])
    return updated


def is_mastered(p_known: float) -> bool:
    return p_known >= MASTERY_THRESHOLD
