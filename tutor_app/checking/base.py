"""The shape every checker kind has, so that checking, bug rules and validation share one path.

A checker reads the teacher's text (``read_expected``: an answer, an alternative or a bug-rule
answer) and the student's text (``read_given``) into readings, and compares two readings. The
two reads differ where the roles differ: a regex step's answer is a pattern, a choice step's
answer must be one of the choices while a student may type its letter.
"""

from __future__ import annotations

from typing import Any, Sequence

from .options import CheckOptions
from .result import unreadable_message


class Checker:
    kind = "text"
    limited = False  # runs sympy (or anything slow) and needs the time limit

    def read_expected(self, options: CheckOptions, text: str) -> Any:
        return self.read_given(options, text)

    def read_given(self, options: CheckOptions, text: str) -> Any:
        raise NotImplementedError

    def show(self, reading: Any) -> str:
        return str(reading)

    def same(self, options: CheckOptions, expected: Any, given: Any) -> bool:
        return expected == given

    def wrong_message(self, options: CheckOptions, expected: Any, given: Any) -> str | None:
        """Extra words for an incorrect answer; never the answer itself."""
        return None

    def lowered_capitals(self, options: CheckOptions, given: Any, keys: Sequence[Any],
                         names: frozenset[str] = frozenset()) -> Any:
        """``given`` as the student meant it when a phone capitalised a letter (``Y = 7`` for
        ``y = 7``); the maths checkers override this, other kinds read case their own way."""
        return given

    def invalid_message(self, options: CheckOptions, reason: str, examples: Sequence[str] = ()) -> str:
        """``examples``: answers of this kind to suggest, chosen so that none is an answer."""
        return unreadable_message(self.kind, reason, examples)
