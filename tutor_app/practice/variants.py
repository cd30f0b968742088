"""Distinct versions of a parametric problem, each with its answers worked out and checked.

A version is what ``render_variant(problem, seed)`` makes of one seed: the same function that
gives each student their numbers in live tutoring, so a worksheet's answer key and the tutor
agree. Seeds are drawn from a generator seeded with the worksheet's seed, so the same
(problem, count, seed) always gives the same worksheet; versions repeating the values of an
earlier one are skipped, so no two copies on a sheet are the same.

Every answer is put through the live checkers before it is printed: the answer must read as
an answer (``expected_answer_problem``), must be marked correct against itself, and no bug
rule may fire on it. A version failing any of these is left out with the reason, because an
answer key a checker disagrees with would mark right answers wrong in class.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..curriculum.params import ParamError, render_variant, variant_values
from ..curriculum.schema import Problem, Step

MAX_COUNT = 500
GIVE_UP_AFTER = 20


class VariantError(ValueError):
    """The problem cannot give versions (not parametric, broken params); the message says why."""


@dataclass(frozen=True)
class StepAnswer:
    step_id: str
    prompt: str
    answer: str | None  # None for an open step (graded with a rubric, no key)
    check: str


@dataclass(frozen=True)
class Variant:
    number: int  # 1-based position on the sheet
    seed: int  # the seed a tutoring session would store for this version
    values: dict[str, object]
    problem: Problem  # the concrete problem, placeholders filled
    answers: tuple[StepAnswer, ...]


@dataclass
class VariantSet:
    problem_id: str
    requested: int
    variants: list[Variant] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (seed, why) of versions left out
    exhausted: bool = False  # fewer distinct versions exist than were asked for

    @property
    def complete(self) -> bool:
        return len(self.variants) == self.requested


def answer_problems(step: Step) -> list[str]:
    """Why this (concrete) step's answer cannot be trusted in a key; empty when it can."""
    from ..checking import answers_equivalent, check_answer, expected_answer_problem

    if step.check == "open" or step.answer is None:
        return []
    unreadable = expected_answer_problem(step, step.answer)
    if unreadable:
        return [f"step {step.id!r}: the {step.check} checker cannot read the answer {step.answer!r}: {unreadable}"]
    problems = []
    verdict = check_answer(step, step.answer, step.answer)
    if verdict.verdict != "correct":
        problems.append(f"step {step.id!r}: the answer {step.answer!r} is not marked correct against itself "
                        f"({verdict.verdict}{': ' + verdict.message if verdict.message else ''})")
    for rule in step.misconceptions:
        for wrong in rule.answers:
            if answers_equivalent(step, wrong, step.answer):
                problems.append(f"step {step.id!r}: the bug rule {rule.id!r} answer {wrong!r} equals the right answer "
                                f"{step.answer!r}, so a correct student would be told they are wrong")
    return problems


def _key(values: dict[str, object]) -> tuple:
    return tuple(sorted((name, repr(value)) for name, value in values.items()))


def generate_variants(problem: Problem, count: int, seed: int = 0, *, max_tries: int | None = None) -> VariantSet:
    """``count`` distinct checked versions of ``problem``, the same ones for the same ``seed``."""
    if not problem.params:
        raise VariantError(f"problem {problem.id!r} has no params:, so every copy would be the same; "
                           "add params: or choose a parametric problem")
    if not 1 <= count <= MAX_COUNT:
        raise VariantError(f"ask for between 1 and {MAX_COUNT} versions, not {count}")
    result = VariantSet(problem_id=problem.id, requested=count)
    seeds = random.Random(seed)
    seen: set[tuple] = set()
    tries = max_tries or max(200, 40 * count)
    for _ in range(tries):
        if len(result.variants) == count:
            break
        candidate = seeds.getrandbits(31)
        try:
            values = variant_values(problem, candidate)
        except ParamError as exc:
            raise VariantError(f"problem {problem.id!r}: param {exc}") from None
        key = _key(values)
        if key in seen:
            continue
        seen.add(key)
        concrete = render_variant(problem, candidate)
        problems = [p for step in concrete.steps for p in answer_problems(step)]
        if problems:
            result.rejected.append((candidate, "; ".join(problems)))
            if not result.variants and len(result.rejected) >= GIVE_UP_AFTER:
                break  # every version fails: the problem itself is broken, more tries will not help
            continue
        result.variants.append(Variant(
            number=len(result.variants) + 1, seed=candidate, values=values, problem=concrete,
            answers=tuple(StepAnswer(s.id, s.prompt, s.answer if s.check != "open" else None, s.check)
                          for s in concrete.steps)))
    result.exhausted = len(result.variants) < count
    return result


@dataclass(frozen=True)
class Assignment:
    """Which version each student gets, and the versions it was made from."""

    found: VariantSet
    by_student: dict[str, Variant]  # in the order the students were given

    @property
    def shared(self) -> bool:
        """More students than distinct versions: some share one (round-robin)."""
        return len(self.found.variants) < len(self.by_student)


def assign_versions(problem: Problem, students: list[str], seed: int = 0) -> Assignment:
    """A different version for each student (in the order given) while distinct versions last;
    a class larger than the number of versions shares them round-robin. The same students in
    the same order with the same seed always get the same versions."""
    if not students:
        return Assignment(VariantSet(problem_id=problem.id, requested=0), {})
    found = generate_variants(problem, min(len(students), MAX_COUNT), seed)
    if not found.variants:
        reasons = "; ".join(reason for _, reason in found.rejected[:3])
        raise VariantError(f"problem {problem.id!r}: no version passed the answer checks ({reasons})")
    return Assignment(found, {student: found.variants[i % len(found.variants)] for i, student in enumerate(students)})


def assign_variants(problem: Problem, students: list[str], seed: int = 0) -> dict[str, Variant]:
    """Student -> version (``assign_versions`` without the versions it came from)."""
    return assign_versions(problem, students, seed).by_student
