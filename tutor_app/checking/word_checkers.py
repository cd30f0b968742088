"""Checkers for answers in words: ``text``, ``choice``, ``regex`` and ``open``.

- ``text``: case-insensitive unless ``case_sensitive``; spaces, Unicode look-alikes, a final
  full stop and quotes around the answer do not matter (``textnorm``).
- ``choice``: the student may type the choice itself, its letter (``B``, ``b)``, ``(b)``) or its
  number (``2``), or both (``B) smaller``). Letters are not offered when a choice is itself a
  single letter, nor numbers when a choice is a number, since ``2`` would then be ambiguous.
  Anything else is ``invalid`` (not a wrong pick), with the choices listed.
- ``regex``: the teacher's answer is a pattern that must match the whole answer (case-insensitive
  unless ``case_sensitive``). The pattern's own text also counts as matching, so that, as for
  every other kind, an answer key checked against itself is correct (tools such as the worksheet
  builder rely on that). Matching uses the ``regex`` package with a timeout, because a
  pattern like ``(a+)+b`` takes exponential time in ``re``, whose C loop cannot be interrupted.
- ``open``: nothing to compare; the model grades it later against the rubric.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import regex

from .base import Checker
from .numbers import parse_number
from .options import CheckOptions
from .result import Unreadable
from .textnorm import MAX_TEXT_CHARS, clean, comparable, strip_trailing_punctuation

MAX_PATTERN_CHARS = 300
MAX_REGEX_INPUT_CHARS = 200
REGEX_TIMEOUT_S = 0.25


def _given_text(text: str, limit: int = MAX_TEXT_CHARS, *, punctuation_counts: bool = False) -> str:
    """Cleaned text; an answer of only a full stop is empty, except where a pattern may ask for it."""
    if len(text) > limit:
        raise Unreadable(f"it is longer than {limit} characters")
    cleaned = clean(text)
    if not (cleaned if punctuation_counts else strip_trailing_punctuation(cleaned)):
        raise Unreadable("it is empty")
    return cleaned


class TextChecker(Checker):
    kind = "text"

    def read_given(self, options: CheckOptions, text: str) -> tuple[str, str]:
        cleaned = _given_text(text)
        return comparable(cleaned, case_sensitive=options.case_sensitive), strip_trailing_punctuation(cleaned)

    def show(self, reading: tuple[str, str]) -> str:
        return reading[1]

    def same(self, options: CheckOptions, expected, given) -> bool:
        return expected[0] == given[0]

    def invalid_message(self, options: CheckOptions, reason: str, examples: Sequence[str] = ()) -> str:
        return f"I couldn't read that answer ({reason}). Type your answer in words."


_LABELLED = re.compile(r"^\(?([A-Za-z]|\d{1,2})\s*[).:]?\s*(.*)$")


class ChoiceChecker(Checker):
    """Readings are ``(index, choice text)``: the index decides, the text is what gets stored."""

    kind = "choice"

    def read_expected(self, options: CheckOptions, text: str) -> tuple[int, str]:
        if not options.choices:
            raise Unreadable("the step has no choices: to pick from")
        index = _choice_by_text(options, text)
        if index is None:
            raise Unreadable(f"it is not one of the choices ({', '.join(options.choices)})")
        return index, options.choices[index]

    def read_given(self, options: CheckOptions, text: str) -> tuple[int, str]:
        if not options.choices:
            raise Unreadable("the step has no choices: to pick from")
        cleaned = strip_trailing_punctuation(_given_text(text))
        index = _choice_by_text(options, cleaned)
        if index is None:
            index = _choice_by_label(options, cleaned)
        if index is None:
            raise Unreadable("it is not one of the choices")
        return index, options.choices[index]

    def show(self, reading: tuple[int, str]) -> str:
        return reading[1]

    def same(self, options: CheckOptions, expected: tuple[int, str], given: tuple[int, str]) -> bool:
        return expected[0] == given[0]

    def invalid_message(self, options: CheckOptions, reason: str, examples: Sequence[str] = ()) -> str:
        labels = _labels(options)
        listing = ", ".join(f"{label}) {choice}" if label else choice
                            for label, choice in zip(labels, options.choices))
        return f"Pick one of the choices: {listing}."


def _choice_by_text(options: CheckOptions, text: str) -> int | None:
    key = comparable(text, case_sensitive=options.case_sensitive)
    for i, choice in enumerate(options.choices):
        if comparable(choice, case_sensitive=options.case_sensitive) == key:
            return i
    return None


def _labels(options: CheckOptions) -> list[str]:
    """The labels shown with the choices: letters if they are usable, else numbers, else none."""
    usable = _label_sets(tuple(options.choices))
    return usable[0] if usable else [""] * len(options.choices)


@lru_cache(maxsize=512)
def _label_sets(choices: tuple[str, ...]) -> list[list[str]]:
    """Letters unless a choice is a single letter; numbers unless a choice is a number."""
    sets = []
    if len(choices) <= 26 and not any(len(comparable(c)) == 1 and comparable(c).isalpha() for c in choices):
        sets.append([chr(ord("A") + i) for i in range(len(choices))])
    if not any(_is_number(c) for c in choices):
        sets.append([str(i + 1) for i in range(len(choices))])
    return sets


def _is_number(choice: str) -> bool:
    try:
        parse_number(choice)
    except Unreadable:
        return False
    return True


def _choice_by_label(options: CheckOptions, text: str) -> int | None:
    """``B``, ``b)``, ``(2)`` or ``B) smaller`` (the label and its own choice's text)."""
    match = _LABELLED.match(text)
    if not match:
        return None
    label, rest = match.group(1).upper(), match.group(2)
    for names in _label_sets(tuple(options.choices)):
        if label in names:
            index = names.index(label)
            if not rest or _choice_by_text(options, rest) == index:
                return index
    return None


class RegexChecker(Checker):
    kind = "regex"

    def read_expected(self, options: CheckOptions, text: str):
        return _compile(text, options.case_sensitive)

    def read_given(self, options: CheckOptions, text: str) -> str:
        return _given_text(text, MAX_REGEX_INPUT_CHARS, punctuation_counts=True)

    def same(self, options: CheckOptions, expected, given: str) -> bool:
        if comparable(given, case_sensitive=True) == comparable(expected.pattern, case_sensitive=True):
            return True  # the key itself: every readable answer key is marked correct against itself
        for candidate in dict.fromkeys([given, strip_trailing_punctuation(given)]):
            try:
                if expected.fullmatch(candidate, timeout=REGEX_TIMEOUT_S):
                    return True
            except TimeoutError:
                return False
        return False

    def invalid_message(self, options: CheckOptions, reason: str, examples: Sequence[str] = ()) -> str:
        return f"I couldn't read that answer ({reason})."


@lru_cache(maxsize=1024)
def _compile(pattern: str, case_sensitive: bool):
    if not pattern.strip():
        raise Unreadable("the pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise Unreadable(f"the pattern is longer than {MAX_PATTERN_CHARS} characters")
    try:
        return regex.compile(pattern, 0 if case_sensitive else regex.IGNORECASE)
    except (regex.error, ValueError, OverflowError) as exc:
        raise Unreadable(f"it is not a valid regular expression: {exc}") from None


class OpenChecker(Checker):
    kind = "open"

    def read_given(self, options: CheckOptions, text: str) -> str:
        return _given_text(text, limit=20_000)

    def same(self, options: CheckOptions, expected, given) -> bool:
        return False  # only the rubric (and the model reading it) can judge free text

    def invalid_message(self, options: CheckOptions, reason: str, examples: Sequence[str] = ()) -> str:
        return f"I couldn't save that answer ({reason})."
