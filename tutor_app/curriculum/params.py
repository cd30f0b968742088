"""Parametric problems: each student gets their own numbers, and the same ones when they come back.

A problem's ``params:`` map draws integers (``{range: [2, 9], exclude: [5]}``), picks from a list
(``{choices: [...]}``) or derives a value from earlier params (``"a*x + b"``). The session stores
only the seed: ``render_variant(problem, seed)`` rebuilds the very same concrete problem later,
so it must depend on nothing but (problem, seed) - a private ``random.Random(seed)``, params
drawn in the order written.

Placeholders: ``{a}`` is replaced only where ``a`` is a declared param, so LaTeX such as
``\\frac{1}{2}`` or ``\\text{cm}`` passes through untouched; ``{{a}}`` writes a literal ``{a}``.
Inside math (``$...$``), a value that fills a LaTeX argument (``\\frac{a}{b}``, ``x^{n}``)
keeps its braces, so ``\\frac{1}{a}`` with a = 12 becomes ``\\frac{1}{12}``, not ``\\frac{1}12``.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction
from functools import lru_cache

from .derived import DerivedError, evaluate_derived, format_value, parse_derived, to_python, to_sympy
from .schema import BugRule, ChoiceParam, Problem, RangeParam, ScaffoldHint, Step

PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_MATERIALIZED_RANGE = 10_000
_INT = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)$")
_FRACTION = re.compile(r"^[+-]?\d+/\d+$")
_MATH = re.compile(r"\$\$.+?\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)
_LATEX_ARGUMENT_BEFORE = re.compile(r"(\\[A-Za-z]+\*?|[}^_])$")


class ParamError(ValueError):
    """A param that cannot be drawn or derived; ``name`` says which one."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def variant_values(problem: Problem, seed: int) -> dict[str, object]:
    """The param values of the variant with this seed: int, Fraction, float or str (irrational
    derived values such as ``sqrt(2)`` as their text). Raises ``ParamError`` for a broken param."""
    return {name: to_python(value) for name, value in _draw(problem, seed).items()}


def render_variant(problem: Problem, seed: int) -> Problem:
    """The concrete problem of this seed with every ``{param}`` filled in; ``params`` is emptied
    so the result is final (rendering it again changes nothing). Identity for non-parametric problems.
    Raises ``ParamError`` for a broken param (the library never serves such a problem)."""
    if not problem.params:
        return problem
    shown = {name: format_value(value) for name, value in _draw(problem, seed).items()}

    def fill(text: str) -> str:
        return fill_placeholders(text, shown)

    return problem.model_copy(update={
        "title": fill(problem.title) if problem.title is not None else None,
        "statement": fill(problem.statement),
        "params": {},
        "steps": [_render_step(step, fill) for step in problem.steps],
    })


def _render_step(step: Step, fill) -> Step:
    return step.model_copy(update={
        "prompt": fill(step.prompt),
        "answer": fill(step.answer) if step.answer is not None else None,
        "alternatives": [fill(a) for a in step.alternatives],
        "choices": [fill(c) for c in step.choices],
        "explanation": fill(step.explanation) if step.explanation is not None else None,
        "hints": [_render_hint(h, fill) for h in step.hints],
        "misconceptions": [_render_bug_rule(r, fill) for r in step.misconceptions],
    })


def _render_hint(hint, fill):
    if isinstance(hint, ScaffoldHint):
        return hint.model_copy(update={"scaffold": fill(hint.scaffold), "answer": fill(hint.answer),
                                       "alternatives": [fill(a) for a in hint.alternatives],
                                       "choices": [fill(c) for c in hint.choices]})
    return fill(hint)


def _render_bug_rule(rule: BugRule, fill) -> BugRule:
    return rule.model_copy(update={"answers": [fill(a) for a in rule.answers], "feedback": fill(rule.feedback)})


def _draw(problem: Problem, seed: int) -> dict[str, object]:
    """Sympy numbers (or text) for each param, drawn in the order the file lists them."""
    rng = random.Random(seed)
    values: dict[str, object] = {}
    for name, spec in problem.params.items():
        if not PARAM_NAME.match(name):
            raise ParamError(name, "a param name is a letter followed by letters, digits or _ (e.g. a, x0, price)")
        if isinstance(spec, RangeParam):
            values[name] = to_sympy(_draw_range(name, spec, rng))
        elif isinstance(spec, ChoiceParam):
            values[name] = to_sympy(choice_value(rng.choice(spec.choices)))
        else:
            try:
                expr = parse_derived(spec, tuple(values))
                values[name] = evaluate_derived(expr, values)
            except DerivedError as exc:
                shown = ", ".join(f"{k}={format_value(v)}" for k, v in values.items())
                raise ParamError(name, f"{exc}" + (f" (when {shown})" if shown and "unknown" not in str(exc) else ""))
    return values


def _draw_range(name: str, spec: RangeParam, rng: random.Random) -> int:
    low, high = spec.range
    if low > high:
        raise ParamError(name, f"range [{low}, {high}]: the first number must not be larger than the second")
    excluded = set(spec.exclude)
    if len({v for v in excluded if low <= v <= high}) == high - low + 1:
        raise ParamError(name, f"every number of range [{low}, {high}] is excluded")
    if high - low < MAX_MATERIALIZED_RANGE:
        return rng.choice([v for v in range(low, high + 1) if v not in excluded])
    while True:  # huge range, few exclusions: rejection sampling ends fast
        value = rng.randint(low, high)
        if value not in excluded:
            return value


def choice_value(choice: object) -> object:
    """A listed choice as a number when it is written as one (``3``, ``0.5``, ``3/4``), else the text."""
    if isinstance(choice, str):
        text = choice.strip()
        if _INT.match(text):
            return int(text)
        if _DECIMAL.match(text):
            return float(text)
        if _FRACTION.match(text) and int(text.split("/")[1]) != 0:
            return Fraction(text)
    return choice


def fill_placeholders(text: str, shown: dict[str, str]) -> str:
    """Replace ``{name}`` for declared names; ``{{name}}`` becomes a literal ``{name}``; other braces stay."""
    if not shown or "{" not in text:
        return text
    math = [m.span() for m in _MATH.finditer(text)]

    def replace(match: re.Match) -> str:
        if match.group(1):
            return "{" + match.group(1) + "}"
        value = shown[match.group(2)]
        start = match.start()
        in_math = any(a <= start < b for a, b in math)
        if in_math and _LATEX_ARGUMENT_BEFORE.search(text, 0, start):
            return "{" + value + "}"
        return value

    return _placeholder_pattern(tuple(sorted(shown))).sub(replace, text)


@lru_cache(maxsize=256)
def _placeholder_pattern(names: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(r"\{\{(" + alternatives + r")\}\}|\{(" + alternatives + r")\}")


def unknown_placeholders(text: str, declared: set[str]) -> list[str]:
    """Names in ``{name}`` that look like placeholders but are not declared params (likely typos).

    A brace group right after a LaTeX command, ``^``, ``_``, ``}`` or ``\\{`` is LaTeX, not a placeholder.
    """
    found = []
    for match in re.finditer(r"(?<!\{)\{([A-Za-z][A-Za-z0-9_]*)\}(?!\})", text):
        name, start = match.group(1), match.start()
        if name in declared or _LATEX_ARGUMENT_BEFORE.search(text, 0, start) or text[max(0, start - 1):start] == "\\":
            continue
        found.append(name)
    return found


def problem_texts(problem: Problem):
    """Every text of a problem that placeholders may appear in, with its field path below the problem."""
    if problem.title is not None:
        yield ("title",), problem.title
    yield ("statement",), problem.statement
    for s, step in enumerate(problem.steps):
        at = ("steps", s)
        yield at + ("prompt",), step.prompt
        if step.answer is not None:
            yield at + ("answer",), step.answer
        for i, text in enumerate(step.alternatives):
            yield at + ("alternatives", i), text
        for i, text in enumerate(step.choices):
            yield at + ("choices", i), text
        if step.explanation is not None:
            yield at + ("explanation",), step.explanation
        for h, hint in enumerate(step.hints):
            if isinstance(hint, ScaffoldHint):
                yield at + ("hints", h, "scaffold"), hint.scaffold
                yield at + ("hints", h, "answer"), hint.answer
                for i, text in enumerate(hint.alternatives):
                    yield at + ("hints", h, "alternatives", i), text
                for i, text in enumerate(hint.choices):
                    yield at + ("hints", h, "choices", i), text
            else:
                yield at + ("hints", h), hint
        for r, rule in enumerate(step.misconceptions):
            for i, text in enumerate(rule.answers):
                yield at + ("misconceptions", r, "answers", i), text
            yield at + ("misconceptions", r, "feedback"), rule.feedback
