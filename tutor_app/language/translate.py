"""On demand: a line of the character's, translated into the learner's language with a short explanation.

A structured answer (``translation`` and ``explanation``, each with a length limit) so the page
can show the two apart and a small model cannot ramble on. The service stores the result with
the turn, so asking again costs nothing.

Both must be in the learner's language (the unit's ``language``). A small model told to
translate from Spanish tends to answer in Spanish: an answer clearly written in the target
language, or a "translation" that only repeats the line, is asked for once more with the
language named; if the retry misses too, nothing is stored and the student is told the
translation could not be made, rather than shown the line again in the language they could
not read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ..curriculum.schema import ConversationUnit
from ..dialogue.phrases import language_name
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend, ModelError, ModelUnavailable
from .frequency import base_code, clearly_in_other
from .textmatch import folded

log = logging.getLogger(__name__)

TEMPLATE = "conversation_translate"
TRANSLATION_MAX_CHARS = 400
EXPLANATION_MAX_CHARS = 300
MAX_TOKENS = 300


class TranslationAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    translation: str = Field(max_length=TRANSLATION_MAX_CHARS, description="The line in the learner's language")
    explanation: str = Field(max_length=EXPLANATION_MAX_CHARS,
                             description="One or two sentences on a word or structure of the line")


@dataclass(frozen=True)
class Translation:
    translation: str
    explanation: str
    ok: bool  # False: the model was missing or failed; nothing is stored


def translate_line(*, model: ModelBackend, prompts: PromptLibrary, unit: ConversationUnit, level: str,
                   line: str) -> Translation:
    if not model.info.available:
        return Translation("", "", ok=False)
    for attempt in range(2):
        messages = prompts.render_messages(
            TEMPLATE, target_language_name=language_name(unit.target_language),
            learner_language_name=language_name(unit.language), level=level, scenario=unit.scenario.strip(),
            message=line.strip(), wrong_language=language_name(unit.target_language) if attempt else None)
        try:
            answer = model.generate_json(messages, TranslationAnswer, max_tokens=MAX_TOKENS, temperature=0.0)
            answer = TranslationAnswer.model_validate(answer.model_dump())
        except ModelUnavailable:
            return Translation("", "", ok=False)
        except (ModelError, ValueError):
            log.warning("translating a line of unit %s failed", unit.id, exc_info=True)
            return Translation("", "", ok=False)
        translation = " ".join(answer.translation.split())
        explanation = " ".join(answer.explanation.split())
        if translation and in_learners_language(unit, line, translation, explanation):
            return Translation(translation, explanation, ok=True)
        log.info("translation for unit %s not in %s (try %d)", unit.id, unit.language, attempt + 1)
    return Translation("", "", ok=False)


def in_learners_language(unit: ConversationUnit, line: str, translation: str, explanation: str) -> bool:
    """The translation and its explanation are not clearly in the target language, and the
    translation is not the line itself."""
    if folded(translation) == folded(line) and base_code(unit.language) != base_code(unit.target_language):
        return False
    return all(clearly_in_other(text, unit.language, [unit.target_language]) is None
               for text in (translation, explanation) if text)
