"""Bayesian Knowledge Tracing: the probability that a student knows a skill, one observation at a time.

Each first attempt at a step is evidence about the step's skills. The update has two parts
(Corbett & Anderson, 1995): Bayes' rule turns P(known) into P(known | what we saw), allowing for
a lucky guess (``p_guess``) and a careless slip (``p_slip``); then the practice itself may have
taught the skill (``p_transit``). Pure functions that return new values: the stored history of
estimates is the record, so nothing here mutates its input (unlike OATutor's in-place update).

What counts as an observation (the rules live in ``attempts.py`` and ``hints.py``; the standard
convention of BKT as fitted on ASSISTments and Cognitive Tutor data, so that fitted parameters
from ``bkt_fit`` mean what the live update assumes):

- one observation per step and session, for each skill the step lists: the first attempt the
  checker can read decides it (right, or not right: wrong and misconception alike);
- a hint asked for before that first attempt is the observation, as not right, and the answer
  that follows adds none: a step solved after a hint says little about what the student knew;
- retries, scaffold questions and unreadable answers are not observations; open steps are
  observed only when graded (never by the engine itself).

So solving a problem can lower an estimate: from ``p_init`` 0.3 (with p_guess 0.2, p_slip 0.1,
p_transit 0.15), a hint before the first answer, or a wrong first try, gives
0.3·0.1 / (0.3·0.1 + 0.7·0.8) = 0.051, then 0.051 + 0.949·0.15 = 0.19, however the problem
ends. That is the "30% to 19% after a solved problem" a walk-through saw. Right first attempts
always raise the estimate, because the parameters keep ``p_guess + p_slip < 1`` (the schema
rejects anything else): then P(right | known) = 1 - p_slip exceeds P(right | unknown) = p_guess.
A student who solves problems without hints climbs: 0.2, 0.60, 0.89, 0.98 with the defaults.
``mastery_levels`` turns the estimate into words for the student.
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


def skill_params(unit: Unit, adopted: Mapping[str, BKTParams] | None = None) -> dict[str, BKTParams]:
    """The parameters in use per skill: the unit file's, or the ones a teacher adopted from a
    fit of the class (``bkt_fit.adoption``) where there are any."""
    adopted = adopted or {}
    return {skill.id: adopted.get(skill.id, skill.bkt) for skill in unit.skills}


def initial_mastery(unit: Unit, adopted: Mapping[str, BKTParams] | None = None) -> dict[str, float]:
    """Before any practice: each skill's ``p_init``."""
    return {skill_id: params.p_init for skill_id, params in skill_params(unit, adopted).items()}


def current_mastery(unit: Unit, stored: Mapping[str, float],
                    adopted: Mapping[str, BKTParams] | None = None) -> dict[str, float]:
    """The stored estimates for the unit's skills, with ``p_init`` for skills not practised yet
    (and stored values for skills the unit no longer has left out)."""
    return {skill_id: float(stored.get(skill_id, p)) for skill_id, p in initial_mastery(unit, adopted).items()}


def apply_observations(unit: Unit, mastery: Mapping[str, float], observations: Iterable[tuple[str, bool]],
                       adopted: Mapping[str, BKTParams] | None = None) -> dict[str, float]:
    """``mastery`` after each (skill id, correct) observation in order; skills the unit does not
    define are ignored. ``adopted``: parameters that replace the unit file's (``skill_params``)."""
    params = skill_params(unit, adopted)
    updated = current_mastery(unit, mastery, adopted)
    for skill_id, correct in observations:
        if skill_id in params:
            updated[skill_id] = bkt_update(updated[skill_id], bool(correct), params[skill_id])
    return updated


def is_mastered(p_known: float) -> bool:
    return p_known >= MASTERY_THRESHOLD
