"""What a drafted problem must pass before it is offered to the teacher or written to drafts/,
beyond the curriculum validator and the answer key's own readability (``variants.answer_problems``).

A draft can satisfy both and still be nonsense, which is what a walk-through found: a statement
reading ``rac{ extbf`` (LaTeX that lost its backslashes, ``latex_escapes``), and answers that
were right only against themselves. So three more checks, all plain code:

- **Markup**: every text reads as written maths: no control characters, matched ``$``, balanced
  braces inside maths.
- **The problem's own equation**: when the statement poses one equation in one unknown ("Solve
  $3x + 5 = 20$"), every step whose answer is an equation in that unknown must keep its solutions,
  as each step of solving does (``3x = 15``, ``x = 5``), judged by the equation checker itself
  with ``form: any``. An answer key of ``x = 4`` there is rejected, naming the equation.
- **The saved file**: the problem is written the way ``write_drafts`` writes it and read back
  by the curriculum loader, as it will be once the teacher copies it into a unit; it must come
  back unchanged, with no warning from the loader, and each step's answer must still pass its
  own checker there.
"""

from __future__ import annotations

import re

import yaml
from pydantic import ValidationError

from ..checking import answers_equivalent, check_answer
from ..checking.notation import latex_to_plain
from ..checking.options import CheckOptions
from ..curriculum.schema import Problem
from ..curriculum.yaml_source import YamlSyntaxError, parse_yaml
from .latex_escapes import markup_problems

_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$", re.S)
_UNKNOWN = re.compile(r"(?<![A-Za-z\\])([a-z])(?![A-Za-z])")
ANY_EQUATION = CheckOptions(check="equation", form="any")


def problem_texts(problem: Problem) -> list[tuple[str, str]]:
    """(where, text) of everything a student reads in the problem."""
    texts = [("title", problem.title or ""), ("statement", problem.statement)]
    for step in problem.steps:
        texts.append((f"step {step.id!r} prompt", step.prompt))
        texts += [(f"step {step.id!r} hint {n}", getattr(hint, "scaffold", hint))
                  for n, hint in enumerate(step.hints, start=1)]
        texts += [(f"step {step.id!r} feedback of {rule.id!r}", rule.feedback or "") for rule in step.misconceptions]
    return [(where, text) for where, text in texts if isinstance(text, str)]


def markup_check(problem: Problem) -> list[str]:
    return [reason for where, text in problem_texts(problem) for reason in markup_problems(where, text)]


def posed_equation(statement: str) -> tuple[str, str] | None:
    """The equation the statement asks to solve, as (plain text, its unknown), when its maths
    holds exactly one equation in exactly one single-letter unknown; otherwise None."""
    found = []
    for span in _MATH.findall(statement):
        plain = latex_to_plain(span).strip()
        if plain.count("=") != 1:
            continue
        unknowns = set(_UNKNOWN.findall(plain))
        if len(unknowns) == 1:
            found.append((plain, unknowns.pop()))
    return found[0] if len(found) == 1 else None


def equation_check(problem: Problem) -> list[str]:
    posed = posed_equation(problem.statement)
    if posed is None:
        return []
    equation, unknown = posed
    problems = []
    for step in problem.steps:
        if step.check != "equation" or not step.answer or set(_UNKNOWN.findall(step.answer)) != {unknown}:
            continue
        if not answers_equivalent(ANY_EQUATION, equation, step.answer):
            problems.append(f"step {step.id!r}: the answer {step.answer!r} does not have the solutions of the "
                            f"problem's own equation {equation}, so the key is wrong")
    return problems


def saved_file_check(problem: Problem) -> list[str]:
    """The module notes' third check."""
    shown = problem.model_dump(mode="json", exclude_defaults=True)
    text = yaml.safe_dump({"problems": [shown]}, sort_keys=False, allow_unicode=True, width=100)
    try:
        parsed = parse_yaml(text)
    except YamlSyntaxError as exc:
        return [f"written to a file it is not valid YAML: {exc.message}"]
    problems = [f"written to a file, {'.'.join(map(str, issue.loc[2:])) or 'it'}: {issue.message}"
                for issue in parsed.issues]
    try:
        again = Problem.model_validate(parsed.data["problems"][0])
    except ValidationError as exc:
        return problems + [f"read back from the file it is not a problem: {exc.errors()[0]['msg']}"]
    if again != problem:
        problems.append("read back from the file it is not the same problem (some text changed on the way)")
    for step in again.steps:
        if step.check != "open" and step.answer is not None:
            verdict = check_answer(step, step.answer, step.answer)
            if verdict.verdict != "correct":
                problems.append(f"step {step.id!r}: read back from the file, its answer {step.answer!r} does not pass "
                                f"its own {step.check} checker ({verdict.verdict})")
    return problems
