"""New practice problems drafted by the model, checked, and left for the teacher in ``drafts/``.

The model writes under a JSON schema built from the unit (its skill ids and misconception ids
are enums, so a draft cannot name a skill the unit lacks). A draft then has to pass what a
teacher's own problem passes: the curriculum schema, the curriculum validator (answers its
checker can read, bug rules naming real misconceptions, ...) and the live checkers (the answer
is marked correct against itself; no bug-rule answer equals the right answer), then the checks
of ``draft_checks`` (its maths markup, the equation it poses, the file it will be written to).
LaTeX backslashes that the model's JSON turned into control characters are put back first
(``latex_escapes``). Drafts that
pass are written as YAML to the drafts folder, never into ``curricula/``: a model's problem
reaches students only after a teacher has read it and copied it into a unit. Rejected drafts
are listed at the end of the same file with the reasons, so the teacher sees what was dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, create_model

from ..curriculum.schema import Problem, Unit
from ..prompting import PromptLibrary
from ..runtime.fanout import fan_out
from ..runtime.protocol import ModelBackend, ModelError, ModelUnavailable, parallel_calls
from ..settings import Settings
from .draft_checks import equation_check, markup_check, saved_file_check
from .latex_escapes import restore_eaten_escapes
from .variants import answer_problems

DRAFT_CHECKS = ("numeric", "expression", "equation", "text")
MAX_STEPS = 4
MAX_DRAFTS = 20


class DraftError(RuntimeError):
    pass


# the schema the model writes under ----------------------------------------------------------
def draft_schema(unit: Unit) -> type[BaseModel]:
    """A pydantic model of one drafted problem whose skill and misconception fields are enums
    of this unit's ids."""
    def text(limit: int, minimum: int = 1):
        return Annotated[str, Field(min_length=minimum, max_length=limit)]

    skill_ids = tuple(s.id for s in unit.skills)
    step_fields: dict = {
        "prompt": (text(300), ...),
        "answer": (text(80), ...),
        "check": (Literal[DRAFT_CHECKS], ...),
        "skill": (Literal[skill_ids], ...),
        "hints": (list[text(240)], Field(min_length=1, max_length=3)),
    }
    if unit.misconceptions:
        rule = create_model("DraftBugRule",
                            misconception_id=(Literal[tuple(m.id for m in unit.misconceptions)], ...),
                            wrong_answer=(text(80), ...), feedback=(text(240), ...))
        step_fields["bug_rules"] = (list[rule], Field(default_factory=list, max_length=2))
    step = create_model("DraftStep", **step_fields)
    return create_model("DraftProblem", title=(text(80), ...), statement=(text(500), ...),
                        steps=(list[step], Field(min_length=1, max_length=MAX_STEPS)),
                        difficulty=(Literal[1, 2, 3, 4, 5], ...))


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "problem"


def to_problem(draft: BaseModel, problem_id: str) -> Problem:
    """The draft in the curriculum's own shape (validated by its schema)."""
    steps = []
    for i, step in enumerate(draft.steps, start=1):
        rules: dict[str, dict] = {}
        for rule in getattr(step, "bug_rules", []):
            entry = rules.setdefault(rule.misconception_id, {"id": rule.misconception_id, "answers": [],
                                                             "feedback": rule.feedback})
            if rule.wrong_answer not in entry["answers"]:
                entry["answers"].append(rule.wrong_answer)
        steps.append({"id": f"step-{i}", "prompt": step.prompt, "answer": step.answer, "check": step.check,
                      "skills": [step.skill], "hints": list(step.hints), "misconceptions": list(rules.values())})
    return Problem.model_validate({"id": problem_id, "title": draft.title, "statement": draft.statement,
                                   "steps": steps, "difficulty": draft.difficulty})


# checking a draft -----------------------------------------------------------------------------
def draft_problems_found(unit: Unit, problem: Problem, rubric_ids: set[str]) -> list[str]:
    """Why this drafted problem cannot go into the unit; empty when it can."""
    from ..curriculum.loader import LoadedFile
    from ..curriculum.validate import validate_unit

    reasons = []
    if any(p.id == problem.id for p in unit.problems):
        reasons.append(f"id {problem.id!r} is already a problem of the unit")
    trial = unit.model_copy(update={"problems": [problem]})
    for error in validate_unit(LoadedFile(Path(f"drafts/{unit.id}")), trial, rubric_ids):
        if error.path.startswith("problems[0]"):  # other errors are about the unit without its problems
            reasons.append(f"{error.path.removeprefix('problems[0].')}: {error.message}")
    reasons += markup_check(problem)
    if not reasons:  # the checker is only asked about answers the validator could read
        for step in problem.steps:
            reasons += answer_problems(step)
    if not reasons:
        reasons += equation_check(problem) + saved_file_check(problem)
    return reasons


def with_escapes_restored(draft: BaseModel) -> BaseModel:
    """The draft with every text's eaten LaTeX backslashes put back (``latex_escapes``)."""
    def restore(value):
        if isinstance(value, str):
            return restore_eaten_escapes(value)
        if isinstance(value, list):
            return [restore(v) for v in value]
        if isinstance(value, dict):
            return {k: restore(v) for k, v in value.items()}
        return value

    return type(draft).model_validate(restore(draft.model_dump()))


@dataclass(frozen=True)
class RejectedDraft:
    number: int
    title: str
    reasons: tuple[str, ...]


@dataclass
class DraftReport:
    unit_id: str
    accepted: list[Problem] = field(default_factory=list)
    rejected: list[RejectedDraft] = field(default_factory=list)
    path: Path | None = None


# drafting ---------------------------------------------------------------------------------------
def _example(unit: Unit) -> str:
    from ..curriculum.params import render_variant

    problem = next((p for p in unit.problems if not p.params), unit.problems[0])
    concrete = render_variant(problem, 0)
    shown = concrete.model_dump(mode="json", exclude_defaults=True, exclude={"params"})
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, width=100).strip()


def draft_problems(*, model: ModelBackend, prompts: PromptLibrary, unit: Unit, count: int,
                   rubric_ids: set[str] = frozenset(), max_tokens: int = 700) -> DraftReport:
    """Ask for ``count`` problems, one call each, cycling through the unit's skills. The calls go
    out in waves of as many as the model serves at once (batch priority: students first); each
    wave's prompts name the titles accepted in earlier waves, so the model avoids repeating them."""
    if not 1 <= count <= MAX_DRAFTS:
        raise DraftError(f"ask for between 1 and {MAX_DRAFTS} drafts, not {count}")
    from ..dialogue.phrases import language_name

    schema = draft_schema(unit)
    report = DraftReport(unit_id=unit.id)
    example = _example(unit)
    taken = {p.id for p in unit.problems}
    width = parallel_calls(model)

    def ask(number: int, avoid: list[str]) -> BaseModel | Exception:
        skill = unit.skills[(number - 1) % len(unit.skills)]
        messages = prompts.render_messages(
            "practice_draft_problem", subject=unit.subject, unit_title=unit.title, level=unit.level or "",
            language_name=language_name(unit.language),
            skills=[{"id": s.id, "name": s.name, "description": s.description or ""} for s in unit.skills],
            misconceptions=[{"id": m.id, "description": " ".join(m.description.split())} for m in unit.misconceptions],
            example=example, avoid=avoid, focus_skill=skill.id, max_steps=MAX_STEPS, number=number)
        try:
            return with_escapes_restored(schema.model_validate(model.generate_json(
                messages, schema, max_tokens=max_tokens, temperature=0.7, priority="batch").model_dump()))
        except (ModelError, ValidationError) as exc:  # ModelUnavailable too: the wave ends, then the run
            return exc

    numbers = list(range(1, count + 1))
    for wave in (numbers[i:i + width] for i in range(0, count, width)):
        avoid = [p.title for p in report.accepted if p.title]
        drafts = fan_out(lambda number: ask(number, avoid), wave, width=width)
        for number, draft in zip(wave, drafts):
            if isinstance(draft, ModelUnavailable):
                raise DraftError(f"no model to draft with: {draft}") from None
            if isinstance(draft, Exception):
                report.rejected.append(RejectedDraft(number, "", (f"the model's answer was not a usable problem: {draft}",)))
                continue
            _check_draft(report, unit, draft, number, taken, set(rubric_ids))
    return report


def _check_draft(report: DraftReport, unit: Unit, draft: BaseModel, number: int, taken: set[str],
                 rubric_ids: set[str]) -> None:
    """Accept the draft into ``report`` or reject it with its reasons."""
    problem_id = _unique(f"draft-{_slug(draft.title)}", taken)
    try:
        problem = to_problem(draft, problem_id)
    except ValidationError as exc:
        reasons = tuple(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        report.rejected.append(RejectedDraft(number, draft.title, reasons))
        return
    reasons = draft_problems_found(unit, problem, rubric_ids)
    if reasons:
        report.rejected.append(RejectedDraft(number, draft.title, tuple(reasons)))
        return
    taken.add(problem_id)
    report.accepted.append(problem)


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


# writing ------------------------------------------------------------------------------------------
def drafts_dir(settings: Settings) -> Path:
    """``drafts/`` beside the data folder (else inside it); never below the curricula folder,
    where the library would load the drafts as if a teacher had written them."""
    curricula = settings.curricula.resolve()
    for folder in (settings.data_dir.parent / "drafts", settings.data_dir / "drafts"):
        resolved = folder.resolve()
        if resolved != curricula and curricula not in resolved.parents:
            return folder
    raise DraftError(f"the data folder {settings.data_dir} is inside the curricula folder {settings.curricula}; "
                     "drafts written there would go live. Use a --data-dir outside the curricula")


def write_drafts(report: DraftReport, unit: Unit, folder: Path, *, model_name: str, unit_file: Path | None = None,
                 now: datetime | None = None) -> Path:
    now = now or datetime.now(timezone.utc)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{unit.id}-{now:%Y%m%d-%H%M%S}.yaml"
    target = str(unit_file) if unit_file else f"the file of unit {unit.id}"
    header = [
        f"# Problems drafted by the model ({model_name}) for unit {unit.id!r} on {now:%Y-%m-%d %H:%M} UTC.",
        "# They passed the curriculum validator and the answer checks, but no person has read them yet.",
        f"# Review each one, then copy the good ones under problems: in {target}.",
        f"# {len(report.accepted)} accepted, {len(report.rejected)} rejected (listed at the end).",
    ]
    body = yaml.safe_dump({"unit": unit.id, "problems": [p.model_dump(mode="json", exclude_defaults=True)
                                                         for p in report.accepted]},
                          sort_keys=False, allow_unicode=True, width=100)
    footer = []
    if report.rejected:
        footer.append("# Rejected drafts:")
        for rejected in report.rejected:
            footer.append(f"#   draft {rejected.number}{f' ({rejected.title})' if rejected.title else ''}:")
            footer += [f"#     - {' '.join(reason.split())}" for reason in rejected.reasons]
    path.write_text("\n".join(header) + "\n" + body + ("\n".join(footer) + "\n" if footer else ""), encoding="utf-8")
    report.path = path
    return path
