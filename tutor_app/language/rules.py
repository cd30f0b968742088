"""The unit's own rules for its learners' usual errors: corrected by code, whatever the model says.

A small model answers "un baguette" with "No corrections: well said!". The teacher writes the
commonest errors of a conversation unit as rules under its misconceptions
(``misconceptions[].rules: [{pattern, correction}]``): each pattern is a regular expression
looked for in the student's message without regard to case or accents (``textmatch.fold``), and
what it matched is replaced by the correction. ``\\1`` in a correction repeats a group of the
match as the student typed it. The error is placed on the characters the student typed, so it
is shown and counted exactly like a model's error; its category is the misconception's id.

Rules run before the model is asked, and their errors always stay: a model error that overlaps
one is dropped (the rule's correction is the teacher's), and a model that found nothing never
removes them. Patterns run with a time limit (the ``regex`` package), as regex steps do.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import regex

from ..curriculum.schema import ConversationUnit, LanguageRule
from .corrections import Correction, PlacedError, apply_errors
from .textmatch import fold, folded

log = logging.getLogger(__name__)

RULE_TIMEOUT_S = 0.1
_GROUP = re.compile(r"\\(\d)")


@lru_cache(maxsize=1024)
def compiled_rule(pattern: str):
    """The pattern, folded like the text it is matched against; ``regex.error`` when it is not valid."""
    return regex.compile(folded(pattern), regex.IGNORECASE)


def _expanded(rule: LanguageRule, match, text: str, origin: list[int]) -> str:
    def group(found: re.Match) -> str:
        n = int(found.group(1))
        if n > (match.re.groups or 0) or match.start(n) < 0:
            return ""
        return text[origin[match.start(n)]:origin[match.end(n) - 1] + 1]
    return _GROUP.sub(group, rule.correction)


def _cased_like(correction: str, typed: str) -> str:
    """"Un baguette" -> "Une baguette": a capital where the student wrote one."""
    if typed[:1].isupper() and correction[:1].islower():
        return correction[:1].upper() + correction[1:]
    return correction


def rule_errors(unit: ConversationUnit, text: str) -> tuple[PlacedError, ...]:
    """Every error the unit's rules find in ``text``, in order, never two on the same characters."""
    key, origin = fold(text)
    found: list[PlacedError] = []
    for misconception in unit.misconceptions:
        for rule in misconception.rules:
            try:
                matches = list(compiled_rule(rule.pattern).finditer(key, timeout=RULE_TIMEOUT_S))
            except (regex.error, TimeoutError):
                log.warning("rule %r of unit %s could not be applied", rule.pattern, unit.id)
                continue
            for match in matches:
                if match.end() <= match.start():
                    continue
                start, end = origin[match.start()], origin[match.end() - 1] + 1
                if any(start < e.end and e.start < end for e in found):
                    continue
                typed = text[start:end]
                correction = _cased_like(_expanded(rule, match, text, origin), typed)
                if folded(correction) == folded(typed):
                    continue
                found.append(PlacedError(start=start, end=end, span=typed, correction=correction,
                                         category=misconception.id,
                                         explanation=(rule.explanation or misconception.description).strip()))
    return tuple(sorted(found, key=lambda e: e.start))


def with_rules(correction: Correction, ruled: tuple[PlacedError, ...]) -> Correction:
    """The model's correction (or none) with the rules' errors added first: a model error on the
    same characters gives way, and the corrected sentence is rebuilt from what is kept. Without
    a model check, a message the rules looked at has the status ``rules``."""
    if not ruled:
        return correction
    kept = list(ruled) + [e for e in correction.errors
                          if not any(e.start < r.end and r.start < e.end for r in ruled)]
    kept.sort(key=lambda e: e.start)
    status = correction.status if correction.status == "checked" else "rules"
    return Correction(status=status, original=correction.original, corrected=apply_errors(correction.original, kept),
                      errors=tuple(kept), dropped=correction.dropped)
