"""Each skill's BKT parameters fitted from the class's own attempts, with the data they rest on.

The parameters in a unit file are defaults or a teacher's guess. Once enough students have
practised a skill, the observations themselves say how likely the skill is known at the start
(``p_init``), learnt at each step (``p_transit``), guessed (``p_guess``) and slipped (``p_slip``).
``fit_skill_params`` finds the values under which the observed sequences are most likely, and
says whether they are safe to adopt; ``adoption`` lists what adopting them would change.

The model is the one ``mastery.bkt_update`` runs: a two-state hidden Markov model (unknown,
known) with no forgetting, one observation per step as ``observation_sequences`` defines it.
It is fitted by expectation-maximisation (Baum-Welch, the algorithm pyBKT runs), here in numpy.
Why not pyBKT itself: pyBKT 1.4.1, the current release, cannot run in this app's environment.
Its C extension is built against numpy 1.x and fails under numpy 2, which gradio and pandas
need ("numpy.core.multiarray failed to import"). Its import also calls private scikit-learn
functions that scikit-learn 1.9 changed (an ``AttributeError`` before anything is fitted), and
it cannot bound parameters, which the guards below need.

Guards, in the order they are tried (each gives the teacher its reason):

- Enough data to try: at least ``MIN_STUDENTS`` students and ``MIN_OBSERVATIONS`` observations.
- No degenerate values (Baker, Corbett & Aleven 2008): ``p_guess`` and ``p_slip`` are kept at or
  below 0.5 inside the fit (a bounded M-step: each parameter's update maximises a concave
  one-dimensional function, so clipping it is the exact constrained maximum and EM stays
  monotone). A fit that ends on such a bound is rejected: the data would rather have a guess
  above 0.5, a sign that right answers do not track the skill. So ``p_guess + p_slip < 1``
  always holds, and with it the first empirical check of that paper (right answers raise the
  estimate); the second is checked: ten right answers in a row must reach mastery. A
  ``p_init`` of 1 is rejected too, since no answer could then move the estimate.
- Pinned down by the data: different parameter sets can explain the same answers (Beck &
  Chang 2007). The 95% intervals from the observed information (the curvature of the
  log-likelihood at the fit) must be at most ``MAX_MARGIN`` either side for every parameter
  that is not on a bound; a flat direction (a singular information matrix) means the data
  do not identify the parameters at all. In simulated classes (bench/RESULTS.md) each
  parameter's interval held its true value in 86-100% of fits (most near 95%), and a fit
  passed in 86% of classes of 150 students with ten steps each and 96% of classes of 200,
  against 16% at 100 and none at 30: a single class keeps its current parameters, a year
  group or a school gets its own.

The fit starts from ``RESTARTS`` seeded points (the textbook defaults first) and keeps the
best, so a local optimum does not decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, product
from typing import Literal, NamedTuple

import numpy as np

from ..curriculum.schema import BKTParams, Unit
from .mastery import MASTERY_THRESHOLD, bkt_update

MIN_STUDENTS = 30
MIN_OBSERVATIONS = 300
GUESS_LIMIT = 0.5
SLIP_LIMIT = 0.5
RESTARTS = 8
MAX_ITERATIONS = 400
CONVERGED_PER_OBSERVATION = 1e-9  # stop when the log-likelihood gains less than this per observation
MAX_MARGIN = 0.1  # half-width of a parameter's 95% interval for the fit to be adopted
_EDGE = 1e-6  # keeps every probability off 0 and 1, where logarithms and ratios break
_ON_BOUND = 1e-4
_STEP = 1e-3  # for the finite differences of the log-likelihood

FitStatus = Literal["fitted", "too-little-data", "rejected"]


class Estimate(NamedTuple):
    """Fitted values, kept even when they are rejected, so the teacher can see why."""

    p_init: float
    p_transit: float
    p_guess: float
    p_slip: float

    def as_params(self) -> BKTParams:
        return BKTParams(**{name: round(value, 4) for name, value in self._asdict().items()})


class Margins(NamedTuple):
    """Half-widths of the 95% intervals (``estimate ± margin``); None for a value on a bound."""

    p_init: float | None
    p_transit: float | None
    p_guess: float | None
    p_slip: float | None


@dataclass(frozen=True)
class FitResult:
    status: FitStatus
    students: int  # how much data the fit rests on
    observations: int
    reason: str | None = None  # why it is not usable (None when fitted)
    estimate: Estimate | None = None
    margins: Margins | None = None
    log_likelihood: float | None = None

    @property
    def params(self) -> BKTParams | None:
        """The parameters to adopt, only for a usable fit."""
        return self.estimate.as_params() if self.status == "fitted" and self.estimate else None


def fit_skill_params(sequences: Iterable[Sequence[bool]], *, seed: int = 0) -> FitResult:
    """Fit one skill from one observation sequence per student (right = True, in time order)."""
    rows = [[bool(x) for x in seq] for seq in sequences]
    rows = [row for row in rows if row]
    students, observations = len(rows), sum(len(row) for row in rows)
    if students < MIN_STUDENTS or observations < MIN_OBSERVATIONS:
        return FitResult("too-little-data", students, observations,
                         reason=f"{students} students and {observations} observations; a fit needs at least "
                                f"{MIN_STUDENTS} students and {MIN_OBSERVATIONS} observations")
    answers, present = _pad(rows)
    starts = _starting_points(np.random.default_rng(seed))
    ends, logliks = _expectation_maximisation(answers, present, starts)
    best = ends[int(np.argmax(logliks))]
    estimate = Estimate(*(float(v) for v in best))
    found = dict(estimate=estimate, log_likelihood=float(logliks.max()))
    reason = degeneracy(estimate)
    if reason:
        return FitResult("rejected", students, observations, reason=reason, **found)
    margins = _margins(answers, present, best)
    if margins is None:
        return FitResult("rejected", students, observations, **found,
                         reason="the data do not pin the parameters down: quite different values explain "
                                "these answers equally well, so they do not show how the skill is learnt")
    found["margins"] = Margins(*(None if np.isnan(m) else float(m) for m in margins))
    reason = _too_uncertain(estimate, found["margins"])
    if reason:
        return FitResult("rejected", students, observations, reason=reason, **found)
    return FitResult("fitted", students, observations, **found)


def fit_unit(unit: Unit, sequences: Mapping[str, Mapping[str, Sequence[bool]]], *,
             seed: int = 0) -> dict[str, FitResult]:
    """A fit for every skill of the unit, from ``observation_sequences``' result (skill id ->
    student -> sequence); a skill nobody practised gets "too-little-data"."""
    return {skill.id: fit_skill_params(sequences.get(skill.id, {}).values(), seed=seed) for skill in unit.skills}


@dataclass(frozen=True)
class ParamChange:
    """What adopting one skill's fit changes, with the data it rests on (for the history)."""

    skill_id: str
    before: BKTParams
    after: BKTParams
    students: int
    observations: int


def adoption(current: Mapping[str, BKTParams], fits: Mapping[str, FitResult],
             skill_ids: Iterable[str] | None = None) -> list[ParamChange]:
    """The changes of adopting fits: all usable ones (``skill_ids`` None, "adopt all"), or the
    named skills, each of which must have a usable fit (``ValueError`` naming the reason).
    ``current`` is the parameters in use per skill (``mastery.skill_params``)."""
    if skill_ids is None:
        chosen = [sid for sid, fit in fits.items() if fit.status == "fitted" and sid in current]
    else:
        chosen = list(dict.fromkeys(skill_ids))
        for sid in chosen:
            fit = fits.get(sid)
            if sid not in current:
                raise ValueError(f"skill {sid!r} is not in this unit")
            if fit is None or fit.status != "fitted":
                why = fit.reason if fit is not None else "it has not been fitted"
                raise ValueError(f"skill {sid!r} has no fit to adopt: {why}")
    changes = []
    for sid in chosen:
        fit = fits[sid]
        changes.append(ParamChange(sid, current[sid], fit.params, fit.students, fit.observations))
    return [c for c in changes if c.before != c.after]


def simulate_answers(params: BKTParams, *, students: int, steps: int, seed: int) -> list[list[bool]]:
    """Answers of a simulated class that follows the BKT model exactly (for checking that a fit
    recovers known parameters: the tests and bench/bkt_fit.py)."""
    rng = np.random.default_rng(seed)
    knows = rng.random(students) < params.p_init
    rows = np.empty((students, steps), dtype=bool)
    for t in range(steps):
        chance = np.where(knows, 1 - params.p_slip, params.p_guess)
        rows[:, t] = rng.random(students) < chance
        knows = knows | (rng.random(students) < params.p_transit)
    return rows.tolist()


# the fit ---------------------------------------------------------------------------------
def _pad(rows: list[list[bool]]) -> tuple[np.ndarray, np.ndarray]:
    """Students x steps arrays: the answers (1 right) and where a student has an observation."""
    answers = np.zeros((len(rows), max(map(len, rows))))
    present = np.zeros(answers.shape, dtype=bool)
    for i, row in enumerate(rows):
        answers[i, :len(row)] = row
        present[i, :len(row)] = True
    return answers, present


def _starting_points(rng: np.random.Generator) -> np.ndarray:
    """Restarts x (p_init, p_transit, p_guess, p_slip): the textbook defaults, then random points
    inside the bounds."""
    random = np.column_stack([rng.uniform(0.05, 0.9, RESTARTS - 1), rng.uniform(0.02, 0.5, RESTARTS - 1),
                              rng.uniform(0.05, GUESS_LIMIT - 0.05, RESTARTS - 1),
                              rng.uniform(0.02, SLIP_LIMIT - 0.05, RESTARTS - 1)])
    return np.vstack([[0.2, 0.15, 0.2, 0.1], random])


def _expectation_maximisation(answers: np.ndarray, present: np.ndarray,
                              starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run EM from every start at once; the ends and their log-likelihoods."""
    params = starts.copy()
    loglik = np.full(len(params), -np.inf)
    limit = CONVERGED_PER_OBSERVATION * present.sum()
    for _ in range(MAX_ITERATIONS):
        counts, new_loglik = _expectations(answers, present, params)
        converged = np.all(new_loglik - loglik < limit)
        loglik = new_loglik
        if converged:
            return params, loglik
        params = _maximise(counts)
    return params, _expectations(answers, present, params)[1]


def _expectations(answers: np.ndarray, present: np.ndarray, params: np.ndarray) -> tuple[dict, np.ndarray]:
    """Forward-backward with scaling (Rabiner 1989) for all restarts: the expected counts the
    M-step needs, and the log-likelihood of the data under ``params``."""
    p_init, p_transit, p_guess, p_slip = (params[:, k, None] for k in range(4))  # restarts x 1
    steps = answers.shape[1]
    right = answers[None, :, :] == 1
    mask = present[None, :, :]
    # P(answer | known) and P(answer | unknown); 1 where there is no answer, so padding is inert
    if_known = np.where(mask, np.where(right, 1 - p_slip[..., None], p_slip[..., None]), 1.0)
    if_unknown = np.where(mask, np.where(right, p_guess[..., None], 1 - p_guess[..., None]), 1.0)
    shape = if_known.shape
    known, unknown, scale = np.empty(shape), np.empty(shape), np.empty(shape)
    prior_known, prior_unknown = np.broadcast_to(p_init, shape[:2]), np.broadcast_to(1 - p_init, shape[:2])
    for t in range(steps):
        if t > 0:
            prior_known = known[..., t - 1] + unknown[..., t - 1] * p_transit
            prior_unknown = unknown[..., t - 1] * (1 - p_transit)
        k, u = prior_known * if_known[..., t], prior_unknown * if_unknown[..., t]
        scale[..., t] = k + u
        known[..., t], unknown[..., t] = k / scale[..., t], u / scale[..., t]
    back_known, back_unknown = np.ones(shape), np.ones(shape)
    for t in range(steps - 2, -1, -1):
        next_known = if_known[..., t + 1] * back_known[..., t + 1] / scale[..., t + 1]
        next_unknown = if_unknown[..., t + 1] * back_unknown[..., t + 1] / scale[..., t + 1]
        back_known[..., t] = next_known
        back_unknown[..., t] = (1 - p_transit) * next_unknown + p_transit * next_known
    was_known, was_unknown = known * back_known, unknown * back_unknown
    # expected unknown -> known transitions into each step t + 1 that has an answer
    learnt = (unknown[..., :-1] * p_transit[..., None] * if_known[..., 1:] * back_known[..., 1:]
              / scale[..., 1:]) * mask[..., 1:]
    stays_possible = was_unknown[..., :-1] * mask[..., 1:]
    counts = {
        "known_first": was_known[..., 0].mean(axis=1),
        "learnt": learnt.sum(axis=(1, 2)), "could_learn": stays_possible.sum(axis=(1, 2)),
        "unknown": (was_unknown * mask).sum(axis=(1, 2)), "unknown_right": (was_unknown * right * mask).sum(axis=(1, 2)),
        "known": (was_known * mask).sum(axis=(1, 2)), "known_wrong": (was_known * ~right * mask).sum(axis=(1, 2)),
    }
    loglik = np.where(mask, np.log(scale), 0.0).sum(axis=(1, 2))
    return counts, loglik


def _maximise(counts: dict) -> np.ndarray:
    """The M-step, with each parameter clipped to its bounds (the exact constrained maximum)."""
    def ratio(top, bottom):
        return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)

    return np.column_stack([
        np.clip(counts["known_first"], _EDGE, 1 - _EDGE),
        np.clip(ratio(counts["learnt"], counts["could_learn"]), _EDGE, 1 - _EDGE),
        np.clip(ratio(counts["unknown_right"], counts["unknown"]), _EDGE, GUESS_LIMIT),
        np.clip(ratio(counts["known_wrong"], counts["known"]), _EDGE, SLIP_LIMIT),
    ])


def _margins(answers: np.ndarray, present: np.ndarray, estimate: np.ndarray) -> np.ndarray | None:
    """Half-widths of 95% (Wald) intervals from the observed information, the negative Hessian of
    the log-likelihood at the estimate; NaN for a parameter on a bound of [0, 1], where an
    interval is one-sided. None when the information matrix is not positive definite: then some
    direction leaves the likelihood flat and the data do not identify the parameters."""
    inside = [i for i in range(4) if 2 * _STEP < estimate[i] < 1 - 2 * _STEP]
    margins = np.full(4, np.nan)
    if not inside:
        return margins
    hessian = _hessian(answers, present, estimate, inside)
    information = -hessian
    if np.any(np.linalg.eigvalsh(information) <= 0):
        return None
    margins[inside] = 1.96 * np.sqrt(np.diag(np.linalg.inv(information)))
    return margins


def _hessian(answers: np.ndarray, present: np.ndarray, estimate: np.ndarray, inside: list[int]) -> np.ndarray:
    """Central differences of the log-likelihood in the ``inside`` parameters, all points in one
    batched evaluation."""
    step = np.eye(4) * _STEP
    offsets: dict[tuple, np.ndarray] = {(): np.zeros(4)}
    for i in inside:
        offsets[(i, 1)], offsets[(i, -1)] = step[i], -step[i]
    for i, j in combinations(inside, 2):
        for si, sj in product((1, -1), repeat=2):
            offsets[(i, si, j, sj)] = si * step[i] + sj * step[j]
    logliks = _expectations(answers, present, estimate + np.array(list(offsets.values())))[1]
    f = dict(zip(offsets, logliks))
    hessian = np.empty((len(inside), len(inside)))
    for a, i in enumerate(inside):
        hessian[a, a] = (f[(i, 1)] - 2 * f[()] + f[(i, -1)]) / _STEP ** 2
    for (a, i), (b, j) in combinations(enumerate(inside), 2):
        hessian[a, b] = hessian[b, a] = (f[(i, 1, j, 1)] - f[(i, 1, j, -1)] - f[(i, -1, j, 1)]
                                         + f[(i, -1, j, -1)]) / (4 * _STEP ** 2)
    return hessian


# the guards --------------------------------------------------------------------------------
def _too_uncertain(estimate: Estimate, margins: Margins) -> str | None:
    wide = [f"{name} {value:.2f} ± {margin:.2f}" for name, value, margin in zip(Estimate._fields, estimate, margins)
            if margin is not None and margin > MAX_MARGIN]
    if not wide:
        return None
    return (f"too uncertain: {', '.join(wide)} (95% intervals; at most ± {MAX_MARGIN} is needed); "
            f"more students or more steps per student are needed")


def degeneracy(estimate: Estimate) -> str | None:
    """Why these values would make mastery misbehave in class, or None (the module notes)."""
    if estimate.p_guess >= GUESS_LIMIT - _ON_BOUND:
        return (f"p_guess reached its limit of {GUESS_LIMIT}: by these answers, students who have not learnt the "
                f"skill get it right as often as those who have (or nearly every answer is right), so the answers "
                f"cannot measure the skill")
    if estimate.p_slip >= SLIP_LIMIT - _ON_BOUND:
        return (f"p_slip reached its limit of {SLIP_LIMIT}: by these answers, students who know the skill get it "
                f"wrong as often as right (or nearly every answer is wrong), so the answers cannot measure the skill")
    if estimate.p_init >= 1 - _ON_BOUND:
        return ("p_init reached 1: the fit says every student knew the skill before practising it, and then no "
                "answer could ever change the estimate")
    params = estimate.as_params()
    p = params.p_init
    for _ in range(10):
        p = bkt_update(p, True, params)
    if p < MASTERY_THRESHOLD:
        return (f"ten right answers in a row would leave the estimate at {p:.2f}, below mastery "
                f"({MASTERY_THRESHOLD}), so no student could be seen to master the skill")
    return None