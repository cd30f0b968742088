"""One answer from the student: check it, decide what it means, move the problem on.

Rules (the issue's, made precise):
- While a scaffold question is open, an answer goes to it (checked with its own checker). A
  right answer closes it and the ladder may go on. One exception keeps a student who knows the
  step from being stuck behind its sub-question: an answer that is correct for the step itself
  closes the scaffold and counts as the step's answer.
- Otherwise the answer is checked against the step. Only when it is not correct are the step's
  bug rules tried, in file order; the first rule with an equivalent answer gives the verdict
  ``misconception``, its id and the teacher's feedback.
- ``invalid`` answers (unreadable) change nothing and do not count. ``open`` steps record the
  answer as ``pending`` and move on, unless it says what one of the step's bug rules lists
  (``phrases:``/``patterns:``): then it is a ``misconception`` at once, like any bug rule, and
  the student rewrites it. A pending answer moves mastery only when it is graded (``grades.py``).
- BKT sees only the first counted attempt at each step; if a hint came before it, the hint
  request already counted as the not-correct observation (``hints.py``), so the later answer
  adds none. The knowledge-tracing literature treats hint use this way because a step solved
  after a hint says little about what the student knew.
"""

from __future__ import annotations

from ..checking import answers_equivalent, check_answer
from ..checking.phrases import says_any
from ..curriculum.schema import BugRule, Problem, ScaffoldHint, Step, Unit
from . import feedback
from .examples import answers_ahead, problem_names
from .outcomes import AttemptOutcome, Observation
from .state import ProblemProgress

SCAFFOLD_MISSES_BEFORE_MOVING_ON = 2


def submit_answer(unit: Unit, problem: Problem, progress: ProblemProgress,
                  answer: str) -> tuple[AttemptOutcome, ProblemProgress]:
    step = current_step(problem, progress)
    scaffold_index = open_scaffold(step, progress)
    if scaffold_index is not None:
        return _answer_scaffold(unit, problem, step, scaffold_index, progress, answer)
    return _answer_step(unit, problem, step, progress, answer)


def current_step(problem: Problem, progress: ProblemProgress) -> Step:
    """The step being worked on; a programming error (not a student's) when there is none."""
    if progress.done:
        raise ValueError(f"problem {problem.id!r} is already done; start a new problem")
    if not 0 <= progress.step_index < len(problem.steps):
        raise ValueError(f"problem {problem.id!r} has no step {progress.step_index + 1} "
                         f"(it has {len(problem.steps)}); the saved progress does not fit it")
    return problem.steps[progress.step_index]


def open_scaffold(step: Step, progress: ProblemProgress) -> int | None:
    """The open scaffold's ladder index, or None (also when an edited file moved it away)."""
    index = progress.open_scaffold
    if index is None or not 0 <= index < len(step.hints) or not isinstance(step.hints[index], ScaffoldHint):
        return None
    return index


def _answer_step(unit: Unit, problem: Problem, step: Step, progress: ProblemProgress,
                 answer: str) -> tuple[AttemptOutcome, ProblemProgress]:
    result = check_answer(step, step.answer, answer, avoid=answers_ahead(problem, progress.step_index),
                          names=problem_names(problem))
    if result.verdict == "invalid":
        return AttemptOutcome(verdict="invalid", feedback=result.message or feedback.UNREADABLE,
                              step_id=step.id), progress
    if result.verdict == "pending":
        rule = matching_phrase_rule(step, answer)
        if rule is not None:  # said at once, by code: the student rewrites before anyone grades
            observations = () if step.id in progress.observed else _observations(unit, step, False)
            counted = _count_attempt(progress, step).evolve(observed=progress.observed | {step.id})
            return AttemptOutcome(verdict="misconception", feedback=rule.feedback.strip(), misconception_id=rule.id,
                                  step_id=step.id, normalized=result.normalized, counted=True,
                                  observations=observations), counted
        moved, next_step_id = _advance(problem, progress)
        return AttemptOutcome(verdict="pending", feedback=feedback.PENDING_DONE if moved.done else feedback.PENDING,
                              step_id=step.id, normalized=result.normalized, counted=True, step_completed=True,
                              problem_done=moved.done, next_step_id=next_step_id), \
            _count_attempt(moved, step)

    correct = result.verdict == "correct"
    rule = None if correct else matching_bug_rule(step, answer)
    observations = () if step.id in progress.observed else _observations(unit, step, correct)
    counted = _count_attempt(progress, step).evolve(observed=progress.observed | {step.id})
    common = dict(step_id=step.id, normalized=result.normalized, counted=True, observations=observations)
    if correct:
        moved, next_step_id = _advance(problem, counted)
        return AttemptOutcome(verdict="correct", feedback=feedback.correct(step, moved.done), step_completed=True,
                              problem_done=moved.done, next_step_id=next_step_id, explanation=step.explanation,
                              **common), moved
    if rule is not None:
        return AttemptOutcome(verdict="misconception", feedback=rule.feedback.strip(), misconception_id=rule.id,
                              **common), counted
    return AttemptOutcome(verdict="incorrect", feedback=result.message or feedback.wrong(counted.attempts_at(step.id)),
                          **common), counted


def _answer_scaffold(unit: Unit, problem: Problem, step: Step, index: int, progress: ProblemProgress,
                     answer: str) -> tuple[AttemptOutcome, ProblemProgress]:
    hint = step.hints[index]
    assert isinstance(hint, ScaffoldHint)
    ahead, names = answers_ahead(problem, progress.step_index), problem_names(problem)
    result = check_answer(hint, hint.answer, answer, avoid=ahead, names=names)
    closed = progress.evolve(open_scaffold=None, scaffold_misses=0)
    if result.verdict in ("correct", "pending"):
        return AttemptOutcome(verdict="correct", feedback=feedback.SCAFFOLD_RIGHT, step_id=step.id,
                              normalized=result.normalized, scaffold=True), closed
    if step.check != "open" and check_answer(step, step.answer, answer, names=names).verdict == "correct":
        return _answer_step(unit, problem, step, closed, answer)
    if result.verdict == "invalid":
        return AttemptOutcome(verdict="invalid", feedback=feedback.scaffold_unreadable(hint.scaffold, result.message),
                              step_id=step.id, scaffold=True), progress
    missed = progress.evolve(scaffold_misses=progress.scaffold_misses + 1)
    text = result.message or feedback.scaffold_wrong(hint.scaffold, missed.scaffold_misses,
                                                     SCAFFOLD_MISSES_BEFORE_MOVING_ON)
    return AttemptOutcome(verdict="incorrect", feedback=text, step_id=step.id, normalized=result.normalized,
                          scaffold=True), missed


def matching_phrase_rule(step: Step, answer: str) -> BugRule | None:
    """An open step's first bug rule whose phrases or patterns the answer says."""
    return next((rule for rule in step.misconceptions if says_any(answer, rule.phrases, rule.patterns)), None)


def matching_bug_rule(step: Step, answer: str) -> BugRule | None:
    for rule in step.misconceptions:
        if any(answers_equivalent(step, wrong, answer) for wrong in rule.answers):
            return rule
    return None


def _observations(unit: Unit, step: Step, correct: bool) -> tuple[Observation, ...]:
    known = {skill.id for skill in unit.skills}
    return tuple(Observation(skill_id, correct) for skill_id in dict.fromkeys(step.skills) if skill_id in known)


def _count_attempt(progress: ProblemProgress, step: Step) -> ProblemProgress:
    return progress.evolve(attempts={**progress.attempts, step.id: progress.attempts_at(step.id) + 1})


def _advance(problem: Problem, progress: ProblemProgress) -> tuple[ProblemProgress, str | None]:
    """On to the next step, or done after the last one (``step_index`` then equals the number
    of steps, which is how the leak guard knows every step is solved)."""
    following = progress.step_index + 1
    moved = progress.evolve(step_index=following, done=following >= len(problem.steps), open_scaffold=None,
                            scaffold_misses=0)
    return moved, None if moved.done else problem.steps[following].id
