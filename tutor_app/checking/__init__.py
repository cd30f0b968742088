"""Deterministic answer checking: the verdict on a student's answer never depends on a model.

``check_answer`` judges an answer, ``answers_equivalent`` matches bug rules (and serves the
answer-leak guard), ``expected_answer_problem`` lets the curriculum validator reject answers
that their own checker cannot read, ``safe_examples`` picks examples that are no answer.
"""

from .checkers import CHECKERS, answers_equivalent, check_answer, expected_answer_problem, variable_names
from .examples import safe_examples
from .result import CheckResult, Verdict

__all__ = ["CHECKERS", "CheckResult", "Verdict", "answers_equivalent", "check_answer", "expected_answer_problem",
           "safe_examples", "variable_names"]
