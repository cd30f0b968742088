"""Example answers shown to a student ("An equation, e.g. 3x - 1 = 5"), chosen so none gives an answer away.

A fixed example coincides with some step's answer sooner or later ("e.g. 2x = 8" on the step
whose answer is 2x = 8; "3/4" in a unit about quarters). So examples are picked by code from a
list of candidates: a candidate is shown only when the step's own checker finds it equivalent
to none of the answers to avoid (the current step's answer and alternatives, and every later
step's answer in the student's own variant: the caller passes those). Numeric examples show
one of each way of writing a number (whole, decimal, fraction, mixed number, percentage), each
the first safe candidate of its format.
"""

from __future__ import annotations

from typing import Sequence

from .equivalence import answers_equivalent
from .options import CheckOptions

# Several candidates per format, so that one always survives the few answers a problem has.
NUMERIC_FORMATS: tuple[tuple[str, ...], ...] = (
    ("12", "7", "40", "9", "15"),
    ("0.5", "2.5", "0.2", "1.25", "3.6"),
    ("3/4", "2/5", "1/3", "5/8", "7/10"),
    ("1 1/2", "2 1/4", "3 2/3", "1 3/5"),
    ("50%", "25%", "10%", "80%"),
)
CANDIDATES: dict[str, tuple[str, ...]] = {
    "expression": ("2(x + 1)", "3a - 4", "x^2 + 1", "5y - 2", "4(n - 3)", "2x + 6"),
    "equation": ("3x - 1 = 5", "y = 3x + 1", "a = 7", "x + 4 = 10", "5n = 20", "2x = 8"),
}


def safe_examples(options: CheckOptions, avoid: Sequence[str | None], count: int = 1) -> list[str]:
    """Up to ``count`` examples for this step's kind of answer that are equivalent to none of
    ``avoid`` under the step's checker (numeric: one per format). Empty for kinds without
    examples (text, choice, regex, open)."""
    avoid = [a for a in dict.fromkeys(avoid) if a]
    if options.check == "numeric":
        groups = NUMERIC_FORMATS
    elif options.check in CANDIDATES:
        groups = tuple((c,) for c in CANDIDATES[options.check])
    else:
        return []
    chosen = []
    for group in groups:
        found = next((c for c in group if not any(answers_equivalent(options, a, c) for a in avoid)), None)
        if found is not None:
            chosen.append(found)
        if len(chosen) >= count:
            break
    return chosen
