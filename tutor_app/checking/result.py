"""What a check returns, and the one exception the parsers use for input they cannot read.

``Unreadable`` carries a short reason phrase ("it has two = signs") that serves two readers: the
student sees it inside a friendly sentence with an example of what to type, and the curriculum
validator shows it to the teacher after ``the equation checker cannot read '...'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["correct", "incorrect", "invalid", "pending"]


@dataclass(frozen=True)
class CheckResult:
    """``normalized`` is how the answer was read (stored with the attempt for the teacher);
    ``message`` is for the student and never contains the expected answer."""

    verdict: Verdict
    normalized: str | None = None
    message: str | None = None


class Unreadable(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# What each checker asks the student to type when it cannot read an answer.
EXAMPLES = {
    "numeric": ("a number", "12, 0.5, 3/4, 1 1/2 or 50%"),
    "expression": ("an expression", "2x + 6"),
    "equation": ("an equation", "2x = 8"),
}


def unreadable_message(kind: str, reason: str | None = None) -> str:
    what, example = EXAMPLES.get(kind, ("your answer", "a short answer"))
    because = f" ({reason})" if reason else ""
    return f"I couldn't read that as {what}{because}. Try something like {example}."
