"""What an example shown to a student must not be, and the examples for each answer box.

An example ("An equation, e.g. 3x - 1 = 5"; "Try something like 12, 0.5 or 1/3") must never be
equivalent, by the step's own checker, to the answer of the step being worked or of any later
step, in the student's own variant: ``answers_ahead`` lists those answers and the checking
package picks examples that are none of them (``checking.safe_examples``). Solved steps'
answers may appear: the student has already given them.
"""

from __future__ import annotations

from ..checking import safe_examples, variable_names
from ..checking.options import CheckOptions
from ..curriculum.schema import Problem, ScaffoldHint


def answers_ahead(problem: Problem, step_index: int) -> list[str]:
    """Every answer from step ``step_index`` on: steps' answers and alternatives, and their
    scaffold questions' answers."""
    found: list[str] = []
    for step in problem.steps[max(step_index, 0):]:
        found += [a for a in (step.answer, *step.alternatives) if a]
        for hint in step.hints:
            if isinstance(hint, ScaffoldHint):
                found += [a for a in (hint.answer, *hint.alternatives) if a]
    return found


def problem_names(problem: Problem) -> frozenset[str]:
    """The variables the problem's answers use: a capital letter among them is a variable of its
    own, never a phone's capitalisation of the lower-case one."""
    names: set[str] = set()
    for step in problem.steps:
        for text in (step.answer, *step.alternatives):
            names |= variable_names(step, text)
        for hint in step.hints:
            if isinstance(hint, ScaffoldHint):
                names |= variable_names(hint, hint.answer)
    return frozenset(names)


def box_examples(problem: Problem, step_index: int, options: CheckOptions, count: int = 2) -> list[str]:
    """Examples for the answer box of step ``step_index`` (or of one of its scaffold questions,
    ``options``) that give away no answer ahead."""
    return safe_examples(options, answers_ahead(problem, step_index), count=count)
