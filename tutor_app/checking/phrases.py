"""Bug rules for free text: does an open answer say what a misconception says?

An ``open`` step's answer is graded by a rubric later, but its commonest misconception is
caught at once by plain code, whatever the model: the teacher lists ``phrases`` (words that
show it: "used up") and ``patterns`` (regular expressions, for more freedom). Both are matched
without regard to case or accents, and spacing is normalised.

A phrase matches whole words only ("used up", not "amused upward"), and not right after a
negation: in "energy is never used up" the student says the opposite of the misconception. A
negation counts when one of the three words before the phrase is "not", "never", "no", a word
ending in "n't", or the same words in Spanish, French, German, Italian and Portuguese. A
pattern is the teacher's own: it has no negation rule (write one in the pattern if needed).
Patterns run with a time limit (the ``regex`` package), as regex steps do.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Sequence

import regex

from .result import Unreadable

PATTERN_TIMEOUT_S = 0.25
MAX_PATTERN_CHARS = 300
NEGATION_WINDOW = 3
NEGATIONS = frozenset({
    "not", "never", "no", "nor", "cannot", "nothing", "without",  # en
    "nunca", "jamas", "sin", "tampoco",  # es ("no" above)
    "ne", "pas", "jamais", "sans",  # fr
    "nicht", "nie", "kein", "keine", "ohne",  # de
    "non", "mai", "senza",  # it
    "nao", "nem",  # pt
})
_WORD = re.compile(r"\w+(?:'\w+)?")


def folded(text: str) -> str:
    """Lower case without accents, single spaces, straight apostrophes: how both sides are compared."""
    text = unicodedata.normalize("NFKD", str(text).replace("’", "'").replace("‘", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.split())


def _negated(words_before: list[str]) -> bool:
    return any(w in NEGATIONS or w.endswith("n't") for w in words_before[-NEGATION_WINDOW:])


def phrase_found(text: str, phrase: str) -> bool:
    """``phrase`` as whole words in ``text``, at least once not right after a negation."""
    key = folded(phrase)
    if not key:
        return False
    haystack = folded(text)
    for match in re.finditer(r"(?<!\w)" + re.escape(key) + r"(?!\w)", haystack):
        if not _negated(_WORD.findall(haystack[:match.start()])):
            return True
    return False


@lru_cache(maxsize=512)
def compiled_pattern(pattern: str):
    """The teacher's pattern, compiled to match folded text; ``Unreadable`` with the reason otherwise."""
    if not pattern.strip():
        raise Unreadable("the pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise Unreadable(f"the pattern is longer than {MAX_PATTERN_CHARS} characters")
    try:
        return regex.compile(folded(pattern), regex.IGNORECASE)
    except (regex.error, ValueError, OverflowError) as exc:
        raise Unreadable(f"it is not a valid regular expression: {exc}") from None


def pattern_found(text: str, pattern: str) -> bool:
    """``pattern`` found anywhere in ``text`` (folded); False for a pattern that cannot be read or
    that runs out of time (the validator reports the first; the second must not hang a page)."""
    try:
        return compiled_pattern(pattern).search(folded(text), timeout=PATTERN_TIMEOUT_S) is not None
    except (Unreadable, TimeoutError):
        return False


def says_any(text: str, phrases: Sequence[str] = (), patterns: Sequence[str] = ()) -> bool:
    return any(phrase_found(text, p) for p in phrases) or any(pattern_found(text, p) for p in patterns)
