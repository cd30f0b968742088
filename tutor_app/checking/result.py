"""What a check returns, and the one exception the parsers use for input they cannot read.

``Unreadable`` carries a short reason phrase ("it has two = signs") that serves two readers: the
student sees it inside a friendly sentence with an example of what to type, and the curriculum
validator shows it to the teacher after ``the equation checker cannot read '...'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

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


class WrongUnit(Unreadable):
    """A number with a unit the step does not ask for: its own message, not "I couldn't read that"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.message = message


# What each checker asks the student to type when it cannot read an answer.
WHAT = {"numeric": "a number", "expression": "an expression", "equation": "an equation"}


def unreadable_message(kind: str, reason: str | None = None, examples: Sequence[str] = ()) -> str:
    """``examples`` are chosen by the caller so that none is an answer (``examples.safe_examples``)."""
    what = WHAT.get(kind, "your answer")
    because = f" ({reason})" if reason else ""
    text = f"I couldn't read that as {what}{because}."
    if examples:
        items = list(examples)
        listing = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
        text += f" Try something like {listing}."
    return text
