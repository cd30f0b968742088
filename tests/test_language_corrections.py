"""What is kept of the model's correction: spans found in the student's text (exactly, or
re-located without case and accents) or dropped, categories from the unit's enum only, and a
corrected sentence that agrees with the errors kept."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tutor_app.curriculum.schema import ConversationUnit
from tutor_app.language.corrections import (GENERAL_CATEGORIES, MAX_ERRORS, categories, correction_schema,
                                            short_label, validate_correction)
from tutor_app.language.textmatch import find_span

UNIT = ConversationUnit.model_validate({
    "kind": "conversation", "id": "tapas", "title": "Tapas", "target_language": "es", "level": "A2",
    "scenario": "A tapas bar in Madrid.", "character": "Lucía, a waitress.", "opening": "¡Hola! ¿Qué te pongo?",
    "misconceptions": [{"id": "ser-estar", "description": "ser / estar: ser for a state"},
                       {"id": "gender-agreement", "description": "Gender agreement: article and noun differ"}],
})
CATS = categories(UNIT)


def error(span, correction, category="gender-agreement", explanation="Cerveza is feminine."):
    return {"span": span, "correction": correction, "category": category, "explanation": explanation}


def test_the_schema_offers_only_the_units_misconceptions_and_the_general_set():
    schema = correction_schema(UNIT)
    enum = json.dumps(schema.model_json_schema())
    for category in ["ser-estar", "gender-agreement", *GENERAL_CATEGORIES]:
        assert f'"{category}"' in enum
    with pytest.raises(ValidationError):
        schema.model_validate({"corrected": "x", "errors": [error("un", "una", category="made-up")]})
    with pytest.raises(ValidationError):
        schema.model_validate({"corrected": "x", "errors": [error("un", "una")] * (MAX_ERRORS + 1)})
    with pytest.raises(ValidationError):
        schema.model_validate({"corrected": "x", "errors": [], "confidence": 1})  # extra="forbid"


def test_exact_spans_are_kept_with_our_own_offsets():
    text = "Quiero un cerveza y el tortilla."
    result = validate_correction({"corrected": "Quiero una cerveza y la tortilla.",
                                  "errors": [error("el tortilla", "la tortilla"), error("un cerveza", "una cerveza")]},
                                 text, CATS)
    assert [(e.start, e.end, e.span) for e in result.errors] == [(7, 17, "un cerveza"), (20, 31, "el tortilla")]
    assert all(text[e.start:e.end] == e.span for e in result.errors)
    assert result.corrected == "Quiero una cerveza y la tortilla." and result.dropped == 0


def test_a_span_copied_without_accents_or_case_is_relocated_to_what_the_student_typed():
    text = "La sopa ES fría y QUERÍA pan"
    result = validate_correction({"corrected": "La sopa está fría y quería pan",
                                  "errors": [error("es fria", "está fría", category="ser-estar")]}, text, CATS)
    (kept,) = result.errors
    assert kept.span == "ES fría" and text[kept.start:kept.end] == "ES fría"


@pytest.mark.parametrize("bad", [
    error("una cerveza", "una cerveza"),                       # the student did not write it
    error("un cerveza", "un cerveza"),                         # changes nothing
    error("un cerveza", "una cerveza", category="register"),   # not a category of this unit
    error("un cerveza", "una cerveza", explanation="  "),      # nothing to tell the student
    error("n cerv", "a cerv"),                                 # not on word edges
])
def test_errors_that_do_not_fit_the_message_are_dropped(bad):
    result = validate_correction({"corrected": "Quiero una cerveza.", "errors": [bad]}, "Quiero un cerveza.", CATS)
    assert result.errors == () and result.dropped == 1
    assert result.corrected == "Quiero un cerveza."  # no unexplained rewriting


def test_a_repeated_word_gets_one_occurrence_per_error_and_overlaps_are_dropped():
    text = "el tortilla y el patata"
    result = validate_correction({"corrected": "", "errors": [
        error("el", "la"), error("el", "la"), error("el tortilla", "la tortilla")]}, text, CATS)
    assert [(e.start, e.end) for e in result.errors] == [(0, 2), (14, 16)]
    assert result.dropped == 1
    assert result.corrected == "la tortilla y la patata"  # rebuilt: the model gave none


def test_a_corrected_sentence_that_disagrees_with_the_errors_is_rebuilt_from_them():
    result = validate_correction({"corrected": "Quiero dos cervezas.", "errors": [error("un cerveza", "una cerveza")]},
                                 "Quiero un cerveza.", CATS)
    assert result.corrected == "Quiero una cerveza."


def test_find_span_prefers_exact_characters_and_respects_word_edges():
    assert find_span("miel y el pan", "el") == (7, 9)
    assert find_span("Él  quiere", "el quiere") == (0, 10)
    assert find_span("abc", "zzz") is None


def test_short_labels_come_from_the_teachers_description():
    assert short_label("Gender agreement: article and noun differ") == "Gender agreement"
    assert short_label("Spelling or accents (general)") == "Spelling or accents (general)"


def test_the_models_corrected_sentence_is_shown_when_it_differs_only_in_punctuation():
    result = validate_correction({"corrected": "¿Quiero una cerveza?", "errors": [error("un cerveza", "una cerveza")]},
                                 "quiero un cerveza", CATS)
    assert result.corrected == "¿Quiero una cerveza?"
