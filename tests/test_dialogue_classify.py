"""Misconception classification: an enum of the unit's library, guarded feedback, safe fallbacks."""

from __future__ import annotations

import typing

from dialogue_problems import LINEAR, UNIT, unit_in
from tutor_app.dialogue.classify import classify_misconception, diagnosis_schema
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelUnavailable

ISOLATE = LINEAR.steps[0]


def _classify(model, *, unit=UNIT, answer="2x = 14", prompts=None, step=ISOLATE):
    return classify_misconception(model=model, prompts=prompts or PromptLibrary(), unit=unit, problem=LINEAR,
                                  step=step, answer=answer)


def test_schema_is_an_enum_of_the_units_ids_and_none():
    schema = diagnosis_schema(UNIT)
    field = schema.model_fields["misconception_id"]
    assert typing.get_args(field.annotation) == ("added-instead-of-subtracted", "divided-one-side", "none")
    json_schema = schema.model_json_schema()
    assert json_schema["properties"]["misconception_id"]["enum"] == [
        "added-instead-of-subtracted", "divided-one-side", "none"]
    assert json_schema["properties"]["feedback"]["maxLength"] == 300


def test_model_diagnosis_with_its_feedback(scripted_model):
    scripted_model.enqueue_json({"reasoning": "Added 3 to both sides.", "misconception_id": "added-instead-of-subtracted",
                                 "feedback": "You added 3 on both sides. Which operation undoes + 3?"})
    result = _classify(scripted_model)
    assert result.misconception_id == "added-instead-of-subtracted"
    assert result.feedback == "You added 3 on both sides. Which operation undoes + 3?"
    assert result.source == "model"
    call = scripted_model.calls[0]
    assert call.kind == "json" and call.schema.model_json_schema() == diagnosis_schema(UNIT).model_json_schema()


def test_prompt_carries_library_step_expected_and_given_answer(scripted_model):
    scripted_model.enqueue_json({"reasoning": "r", "misconception_id": "none", "feedback": "Check your signs."})
    prompts = _RecordingPrompts()
    _classify(scripted_model, prompts=prompts)
    text = "\n".join(m["content"] for m in scripted_model.calls[0].messages)
    for part in ["added-instead-of-subtracted", "Divides only one side", ISOLATE.prompt, "2x = 8", "2x = 14",
                 "English"]:
        assert part in text
    assert [name for name, _ in prompts.rendered] == ["classify_misconception"]


class _RecordingPrompts(PromptLibrary):
    def __init__(self) -> None:
        super().__init__()
        self.rendered: list[tuple[str, dict]] = []

    def render(self, name: str, **variables) -> str:
        assert self.variables(name) <= set(variables)
        self.rendered.append((name, variables))
        return super().render(name, **variables)


def test_none_means_no_misconception(scripted_model):
    scripted_model.enqueue_json({"reasoning": "Arithmetic slip.", "misconception_id": "none",
                                 "feedback": "Check your subtraction again. What is 11 minus 3?"})
    result = _classify(scripted_model, answer="2x = 7")
    assert result.misconception_id is None and result.source == "model"
    assert result.feedback == "Check your subtraction again. What is 11 minus 3?"


def test_feedback_that_leaks_the_answer_is_replaced(scripted_model):
    scripted_model.enqueue_json({"reasoning": "Added.", "misconception_id": "added-instead-of-subtracted",
                                 "feedback": "You should subtract 3 to get 2x = 8."})
    result = _classify(scripted_model)
    assert result.misconception_id == "added-instead-of-subtracted"
    assert "2x = 8" not in result.feedback and "8" not in result.feedback
    assert result.feedback == ("This looks like a common mistake: applies the same operation instead of the "
                               "inverse one. Look at your work again with that in mind.")


def test_feedback_may_not_leak_a_later_step_either(scripted_model):
    scripted_model.enqueue_json({"reasoning": "r", "misconception_id": "none", "feedback": "In the end x = 4."})
    result = _classify(scripted_model)
    assert "x = 4" not in result.feedback and result.source == "model"


def test_no_scripted_reply_model_error_falls_back(scripted_model):
    result = _classify(scripted_model)  # ScriptedBackend raises ModelError when no JSON is queued
    assert result.misconception_id is None and result.source == "fallback"
    assert result.feedback == "That's not it yet. Look at what the step asks and check each part of your work."


def test_unavailable_model_falls_back(scripted_model):
    def unavailable(_messages, _schema):
        raise ModelUnavailable("no model loaded")

    scripted_model.enqueue_json(unavailable)
    assert _classify(scripted_model).source == "fallback"


def test_id_outside_the_library_is_rejected(scripted_model):
    scripted_model.enqueue_json({"reasoning": "r", "misconception_id": "made-up-id", "feedback": "Hmm."})
    result = _classify(scripted_model)
    assert result.misconception_id is None and result.source == "fallback"


def test_overlong_feedback_is_rejected(scripted_model):
    scripted_model.enqueue_json({"reasoning": "r", "misconception_id": "divided-one-side", "feedback": "a" * 301})
    assert _classify(scripted_model).source == "fallback"


def test_unit_without_a_library_does_not_call_the_model(scripted_model):
    unit = UNIT.model_copy(update={"misconceptions": []})
    result = _classify(scripted_model, unit=unit)
    assert result.source == "fallback" and scripted_model.calls == []


def test_fallback_speaks_the_units_language(scripted_model):
    result = _classify(scripted_model, unit=unit_in("es"))
    assert result.feedback.startswith("Todavía no es correcto")


def test_empty_feedback_uses_the_misconception_description(scripted_model):
    scripted_model.enqueue_json({"reasoning": "r", "misconception_id": "divided-one-side", "feedback": "  "})
    result = _classify(scripted_model)
    assert "divides only one side of the equation" in result.feedback


def test_backend_returning_a_foreign_object_falls_back():
    class Odd(ScriptedBackend):
        def generate_json(self, messages, schema, **kwargs):
            return {"misconception_id": "none"}  # not an instance of the schema

    assert _classify(Odd()).source == "fallback"
