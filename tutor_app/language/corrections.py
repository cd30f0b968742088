"""The structured correction of one student message: what the model may say, and what we keep of it.

The model answers under a JSON schema built from the unit (``correction_schema``): each error's
``category`` is an enum of the unit's misconception ids plus a small fixed general set, and every
string has a length limit, so the answer always parses. What it says is then checked by plain
code (``validate_correction``), because a small model copies words inexactly:

- an error's ``span`` must be words of the student's message. It is placed where it occurs
  exactly, else where it occurs ignoring case and accents (re-located to the characters the
  student typed), else the error is dropped; the offsets are always ours, never the model's;
- an error that changes nothing, repeats an already placed span, or has no explanation is dropped;
- the corrected sentence is the student's message with each kept error's correction applied to
  its span. The model's own corrected sentence is shown instead only when it agrees: it has every
  correction and differs from the rebuilt one in small things only (punctuation, capitals: 90%
  alike), so no change the student is not told about slips in. With no error left, it is the
  message as written.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..curriculum.schema import ConversationUnit
from ..dialogue.phrases import language_name
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend, ModelError, ModelUnavailable
from .textmatch import find_span, folded

log = logging.getLogger(__name__)

TEMPLATE = "conversation_correct"
MAX_ERRORS = 5
SPAN_MAX_CHARS = 80
EXPLANATION_MAX_CHARS = 160
CORRECTED_MAX_CHARS = 400
MAX_TOKENS = 400
AGREEMENT = 0.9  # how similar the model's corrected sentence must be to the one rebuilt from the errors

# Categories every unit has besides its own misconceptions: what the dashboard groups the rest by.
GENERAL_CATEGORIES: dict[str, str] = {
    "grammar": "Grammar (general)",
    "vocabulary": "Vocabulary: a wrong or missing word (general)",
    "spelling": "Spelling or accents (general)",
    "word-order": "Word order (general)",
}

# "rules": checked by the unit's own rules only (the model was off, missing or failed)
CorrectionStatus = Literal["checked", "failed", "unavailable", "other-language", "rules"]


def categories(unit: ConversationUnit) -> tuple[str, ...]:
    """The unit's misconception ids first (the teacher's words for what goes wrong), then the general ones."""
    own = tuple(dict.fromkeys(m.id for m in unit.misconceptions))
    return own + tuple(c for c in GENERAL_CATEGORIES if c not in own)


def category_label(unit: ConversationUnit | None, category: str) -> str:
    for m in getattr(unit, "misconceptions", None) or []:
        if m.id == category:
            return m.description
    return GENERAL_CATEGORIES.get(category, category)


def short_label(label: str) -> str:
    """The name part of a label written "Name: what it means" ("Gender agreement: ..." -> "Gender agreement")."""
    head, sep, _ = label.partition(":")
    return head.strip() if sep and head.strip() else label


def correction_schema(unit: ConversationUnit) -> type[BaseModel]:
    """A pydantic model for the model's answer, with ``category`` an enum of this unit's categories."""
    forbid = ConfigDict(extra="forbid")
    error = create_model(
        "LearnerError", __config__=forbid,
        span=(str, Field(min_length=1, max_length=SPAN_MAX_CHARS,
                         description="The wrong words, copied exactly from the learner's message")),
        correction=(str, Field(max_length=SPAN_MAX_CHARS, description="What the learner should have written")),
        category=(Literal[categories(unit)], Field(description="A misconception id or a general category")),
        explanation=(str, Field(max_length=EXPLANATION_MAX_CHARS,
                                description="One short sentence in the learner's own language")),
    )
    return create_model(
        "MessageCorrection", __config__=forbid,
        corrected=(str, Field(max_length=CORRECTED_MAX_CHARS, description="The whole message, corrected")),
        errors=(list[error], Field(max_length=MAX_ERRORS)),
    )


@dataclass(frozen=True)
class PlacedError:
    """An error as kept: offsets into the student's text as typed, and the text they cover."""

    start: int
    end: int
    span: str
    correction: str
    category: str
    explanation: str


@dataclass(frozen=True)
class Correction:
    status: CorrectionStatus
    original: str
    corrected: str
    errors: tuple[PlacedError, ...] = ()
    dropped: int = 0  # errors of the model's answer that did not survive validation


def _one_line(text: str, limit: int) -> str:
    return " ".join(str(text).split())[:limit]


def apply_errors(text: str, errors: Sequence[PlacedError]) -> str:
    """``text`` with each error's span replaced by its correction (spans never overlap)."""
    out, at = [], 0
    for error in sorted(errors, key=lambda e: e.start):
        out.append(text[at:error.start])
        out.append(error.correction)
        at = error.end
    out.append(text[at:])
    return " ".join("".join(out).split())


def _agrees(corrected: str, rebuilt: str, errors: Sequence[PlacedError]) -> bool:
    """The model's corrected sentence agrees with the errors kept: every correction is in it, and
    it differs from the student's text with those corrections applied only in small things
    (punctuation, capitals, an accent), not in changes nobody explained."""
    hay = " ".join(folded(corrected).split())
    if not all(" ".join(folded(e.correction).split()) in hay for e in errors):
        return False
    return difflib.SequenceMatcher(a=hay, b=" ".join(folded(rebuilt).split()), autojunk=False).ratio() >= AGREEMENT


def validate_correction(raw: Mapping, text: str, allowed_categories: Sequence[str]) -> Correction:
    """What is kept of the model's answer ``raw`` (a dict of ``correction_schema``) for ``text``."""
    allowed = set(allowed_categories)
    kept: list[PlacedError] = []
    dropped = 0
    for item in raw.get("errors") or []:
        span = _one_line(item.get("span", ""), SPAN_MAX_CHARS)
        correction = _one_line(item.get("correction", ""), SPAN_MAX_CHARS)
        explanation = _one_line(item.get("explanation", ""), EXPLANATION_MAX_CHARS)
        category = item.get("category")
        place = find_span(text, span, taken=[(e.start, e.end) for e in kept]) if span else None
        if place is None or category not in allowed or not explanation:
            dropped += 1
            continue
        start, end = place
        if text[start:end] == correction:
            dropped += 1  # "changes" nothing
            continue
        kept.append(PlacedError(start=start, end=end, span=text[start:end], correction=correction,
                                category=category, explanation=explanation))
    kept.sort(key=lambda e: e.start)
    original = " ".join(text.split())
    corrected = _one_line(raw.get("corrected", ""), CORRECTED_MAX_CHARS)
    if not kept:
        corrected = text
    elif corrected == original or not _agrees(corrected, apply_errors(text, kept), kept):
        corrected = apply_errors(text, kept)
    return Correction(status="checked", original=text, corrected=corrected, errors=tuple(kept), dropped=dropped)


def build_messages(*, prompts: PromptLibrary, unit: ConversationUnit, level: str, text: str,
                   previous_line: str) -> list[dict]:
    return prompts.render_messages(
        TEMPLATE,
        target_language_name=language_name(unit.target_language), learner_language_name=language_name(unit.language),
        level=level, scenario=unit.scenario.strip(), character=unit.character.strip(),
        categories=[{"id": c, "description": category_label(unit, c),
                     "examples": next((m.examples for m in unit.misconceptions if m.id == c), [])}
                    for c in categories(unit)],
        previous_line=previous_line.strip(), student_message=text)


def correct_message(*, model: ModelBackend, prompts: PromptLibrary, unit: ConversationUnit, level: str, text: str,
                    previous_line: str = "", session_key: str | None = None) -> Correction:
    """Ask the model for the correction of ``text`` and keep what survives validation. A missing
    or failing model gives a correction with no errors and a status saying why: the student's
    message is never lost and the conversation goes on."""
    if not model.info.available:
        return Correction(status="unavailable", original=text, corrected=text)
    schema = correction_schema(unit)
    try:
        messages = build_messages(prompts=prompts, unit=unit, level=level, text=text, previous_line=previous_line)
        answer = model.generate_json(messages, schema, max_tokens=MAX_TOKENS, temperature=0.0,
                                     session_key=session_key)
        raw = schema.model_validate(answer.model_dump()).model_dump()  # our schema, whatever class came back
    except ModelUnavailable:
        return Correction(status="unavailable", original=text, corrected=text)
    except (ModelError, ValueError):
        log.warning("correcting a message of unit %s failed", unit.id, exc_info=True)
        return Correction(status="failed", original=text, corrected=text)
    result = validate_correction(raw, text, categories(unit))
    if result.dropped:
        log.info("correction for unit %s: %d error(s) dropped (span not in the message, or no change)",
                 unit.id, result.dropped)
    return result
