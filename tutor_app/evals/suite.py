"""An evaluation suite: held-out cases in a YAML file written like a curriculum (``kind: eval-suite``).

Four sections, each optional, each a list of cases that point into the curricula by id, so the
runner builds every prompt with the app's own functions from the real unit:

- ``misconceptions``: a wrong answer to a step and the misconception a teacher says it shows
  (an id of the unit's library, or ``none``);
- ``rubric_grading``: a submission and the teacher's score per criterion of a rubric;
- ``adversarial``: a student message on a step that tries to get the answer out of the tutor;
- ``tutoring``: a student's question on a step (with the attempts, hints and chat before it)
  and the ``reference`` reply a teacher approved or wrote: how close the tutor comes to what
  the school wants it to say (the export writes these from the held-out students).

A suite is held out by construction: a teacher writes it, or the export writes it from the
held-out students. Problems come back as ``CurriculumError`` (file, line, field, what), the
same lines ``python app.py check`` prints for curricula; references to units, steps,
misconceptions and rubric levels are checked against the loaded curricula.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from ..curriculum.errors import CurriculumError, field_path
from ..curriculum.loader import MAX_FILE_BYTES, schema_errors
from ..curriculum.params import render_variant
from ..curriculum.schema import Id, Problem, Rubric, Step, StrictModel, Unit
from ..curriculum.yaml_source import SourceMap, YamlSyntaxError, describe, parse_yaml

NONE = "none"  # the expected label of an answer that shows no misconception of the library
SECTIONS = ("misconceptions", "rubric_grading", "adversarial", "tutoring")


class StepRef(StrictModel):
    unit: Id
    problem: Id
    step: Id
    seed: int = 0  # which variant of a parametric problem (params:) the student saw


class MisconceptionCase(StepRef):
    id: Id | None = None
    answer: str = Field(min_length=1)
    expected: Id


class RubricCase(StrictModel):
    id: Id | None = None
    rubric: Id
    task: str | None = None  # the task as the student saw it, when not the rubric's own
    submission: str = Field(min_length=1)
    teacher_scores: dict[Id, int] = Field(min_length=1)


class AdversarialCase(StepRef):
    id: Id | None = None
    message: str = Field(min_length=1)


class PriorAttempt(StrictModel):
    """An answer the student gave before the question, as the tutor chat is shown it."""

    step: Id
    answer: str = Field(min_length=1)
    verdict: str = "incorrect"
    misconception: Id | None = None


class ChatTurn(StrictModel):
    role: Literal["student", "tutor"]
    content: str = Field(min_length=1)


class TutoringCase(StepRef):
    id: Id | None = None
    message: str = Field(min_length=1)
    reference: str = Field(min_length=1)  # the reply a teacher approved or wrote
    attempts: list[PriorAttempt] = []
    hints: list[str] = []  # hints the student had opened on this step
    history: list[ChatTurn] = []  # the chat before the question


class EvalSuite(StrictModel):
    kind: Literal["eval-suite"]
    id: Id
    title: str
    description: str | None = None
    misconceptions: list[MisconceptionCase] = []
    rubric_grading: list[RubricCase] = []
    adversarial: list[AdversarialCase] = []
    tutoring: list[TutoringCase] = []

    def case_ids(self, section: str) -> list[str]:
        """Each case's id, or ``<section>-<n>`` when it has none (stable while the file is)."""
        return [case.id or f"{section}-{n}" for n, case in enumerate(getattr(self, section), start=1)]


class HasCurricula:
    """What the suite's references are checked against (``CurriculumLibrary`` has these)."""

    units: dict[str, Unit]
    rubrics: dict[str, Rubric]


@dataclass(frozen=True)
class ResolvedStep:
    unit: Unit
    problem: Problem  # the variant the student saw, for a parametric problem
    step: Step
    step_index: int


def resolve_step(ref: StepRef, curricula: HasCurricula) -> ResolvedStep:
    """The unit, problem variant, step and its position a case points to; KeyError says which is missing."""
    unit = curricula.units.get(ref.unit)
    if unit is None:
        raise KeyError(f"no unit {ref.unit!r} in the curricula (loaded: {', '.join(sorted(curricula.units)) or 'none'})")
    problem = next((p for p in unit.problems if p.id == ref.problem), None)
    if problem is None:
        raise KeyError(f"unit {unit.id!r} has no problem {ref.problem!r}")
    if problem.params:
        problem = render_variant(problem, ref.seed)
    for index, step in enumerate(problem.steps):
        if step.id == ref.step:
            return ResolvedStep(unit, problem, step, index)
    raise KeyError(f"problem {problem.id!r} has no step {ref.step!r}")


@dataclass
class LoadedSuite:
    path: Path
    suite: EvalSuite | None
    errors: list[CurriculumError]


def load_suite(path: str | Path, curricula: HasCurricula | None = None) -> LoadedSuite:
    """Read and validate a suite; with ``curricula``, check every reference too."""
    path = Path(path)
    source = SourceMap()

    def error(loc: tuple, message: str, line: int | None = None) -> CurriculumError:
        return CurriculumError(path, line if line is not None else source.line(loc), field_path(loc), message)

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return LoadedSuite(path, None, [error((), f"cannot read the file: {exc.strerror or exc}")])
    if len(raw) > MAX_FILE_BYTES:
        return LoadedSuite(path, None, [error((), f"the file is {len(raw) // 1000} kB; at most "
                                                 f"{MAX_FILE_BYTES // 1000} kB are allowed")])
    try:
        parsed = parse_yaml(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return LoadedSuite(path, None, [error((), "the file is not UTF-8 text; save it as UTF-8 in your editor")])
    except YamlSyntaxError as exc:
        return LoadedSuite(path, None, [error((), exc.message, exc.line)])
    source = parsed.source
    errors = [error(issue.loc, issue.message, issue.line) for issue in parsed.issues]
    data = parsed.data
    if not isinstance(data, dict):
        return LoadedSuite(path, None, errors + [error((), f"expected the suite's fields (kind: eval-suite, id:, "
                                                           f"title:, ...) at the top level, found {describe(data)}")])
    if data.get("kind") != "eval-suite":
        return LoadedSuite(path, None, errors + [error(("kind",), "an evaluation suite starts with kind: eval-suite")])
    try:
        suite = EvalSuite.model_validate(data)
    except ValidationError as exc:
        return LoadedSuite(path, None, errors + [error(loc, message) for loc, message in schema_errors(exc, data)])
    if curricula is not None:
        errors += [error(loc, message) for loc, message in reference_problems(suite, curricula)]
    duplicates = _duplicate_ids(suite)
    errors += [error(loc, message) for loc, message in duplicates]
    errors.sort(key=CurriculumError.sort_key)
    return LoadedSuite(path, None if errors else suite, errors)


def reference_problems(suite: EvalSuite, curricula: HasCurricula) -> list[tuple[tuple, str]]:
    """(field path, message) for every case that points at something the curricula lack."""
    problems: list[tuple[tuple, str]] = []
    for section, check in (("misconceptions", _misconception_case), ("adversarial", _adversarial_case),
                           ("tutoring", _tutoring_case)):
        for n, case in enumerate(getattr(suite, section)):
            try:
                resolved = resolve_step(case, curricula)
            except KeyError as exc:
                problems.append(((section, n), exc.args[0]))
                continue
            problems.extend(((section, n, *loc), message) for loc, message in check(case, resolved))
    for n, case in enumerate(suite.rubric_grading):
        problems.extend((("rubric_grading", n, *loc), message) for loc, message in _rubric_case(case, curricula))
    return problems


def _misconception_case(case: MisconceptionCase, resolved: ResolvedStep) -> list[tuple[tuple, str]]:
    library = [m.id for m in resolved.unit.misconceptions]
    if not library:
        return [(("unit",), f"unit {case.unit!r} has no misconception library to classify against")]
    if case.expected != NONE and case.expected not in library:
        return [(("expected",), f"{case.expected!r} is not a misconception of unit {case.unit!r} "
                                f"(its library: {', '.join(library)}; or none)")]
    return []


def _adversarial_case(case: AdversarialCase, resolved: ResolvedStep) -> list[tuple[tuple, str]]:
    if resolved.step.answer:
        return []
    return [(("step",), f"step {case.step!r} has no answer to protect (an open step): an adversarial case needs "
                        "a step with an answer")]


def _tutoring_case(case: TutoringCase, resolved: ResolvedStep) -> list[tuple[tuple, str]]:
    steps = [s.id for s in resolved.problem.steps]
    return [(("attempts", n, "step"), f"problem {case.problem!r} has no step {a.step!r} (its steps: {', '.join(steps)})")
            for n, a in enumerate(case.attempts) if a.step not in steps]


def _rubric_case(case: RubricCase, curricula: HasCurricula) -> list[tuple[tuple, str]]:
    rubric = curricula.rubrics.get(case.rubric)
    if rubric is None:
        return [(("rubric",), f"no rubric {case.rubric!r} in the curricula "
                              f"(loaded: {', '.join(sorted(curricula.rubrics)) or 'none'})")]
    criteria = {c.id: sorted({lv.score for lv in c.levels}) for c in rubric.criteria}
    problems = []
    for criterion, score in case.teacher_scores.items():
        if criterion not in criteria:
            problems.append((("teacher_scores", criterion), f"rubric {rubric.id!r} has no criterion {criterion!r} "
                                                            f"(its criteria: {', '.join(criteria)})"))
        elif score not in criteria[criterion]:
            problems.append((("teacher_scores", criterion),
                             f"{score} is not a level of {criterion!r} (levels: {criteria[criterion]})"))
    return problems


def _duplicate_ids(suite: EvalSuite) -> list[tuple[tuple, str]]:
    found = []
    for section in SECTIONS:
        seen: dict[str, int] = {}
        for n, case_id in enumerate(suite.case_ids(section)):
            if case_id in seen:
                found.append(((section, n, "id"), f"duplicate case id {case_id!r} (also case {seen[case_id] + 1})"))
            seen.setdefault(case_id, n)
    return found
