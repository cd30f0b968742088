"""The conversation prompts render with exactly the variables the code passes (strict rendering
would fail on a missing one; this table also fails on one the code forgot to pass), and say
what the model must know: the level's limits, the unit's categories, the retry's rare words."""

from __future__ import annotations

import pytest

from tutor_app.curriculum.schema import ConversationUnit
from tutor_app.language import character, corrections, translate
from tutor_app.language.difficulty import DifficultyReport
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend

UNIT = ConversationUnit.model_validate({
    "kind": "conversation", "id": "tapas", "title": "Tapas", "language": "en", "target_language": "es",
    "level": "A2", "scenario": "A tapas bar in Madrid.", "character": "Lucía, a waitress.",
    "opening": "¡Hola! ¿Qué te pongo?",
    "goals": [{"id": "bill", "description": "Ask for the bill", "phrases": ["la cuenta"]}],
    "vocabulary": [{"word": "una caña", "translation": "a small beer"}],
    "misconceptions": [{"id": "ser-estar", "description": "ser / estar: ser for a state",
                        "examples": ["*La sopa es fría* → La sopa está fría"]}],
})


class RecordingPrompts(PromptLibrary):
    def __init__(self) -> None:
        super().__init__()
        self.rendered: list[tuple[str, dict, str]] = []

    def render(self, name: str, **variables) -> str:
        assert self.variables(name) <= set(variables), self.variables(name) - set(variables)
        text = super().render(name, **variables)
        self.rendered.append((name, variables, text))
        return text


def render_correction(prompts):
    corrections.build_messages(prompts=prompts, unit=UNIT, level="A2", text="La sopa es fría",
                               previous_line="¿Qué tal la sopa?")


def render_reply(prompts):
    character.build_messages(prompts=prompts, unit=UNIT, level="A1", history=[], student_message="Hola",
                             goals_left=["Ask for the bill"])


def render_simpler_reply(prompts):
    hard = DifficultyReport(ok=False, words=20, longest_sentence=20, hard_words=("idiosincrasia",),
                            problems=("a sentence of 20 words; at most 10",))
    character.build_messages(prompts=prompts, unit=UNIT, level="C2", history=[], student_message="Hola",
                             goals_left=[], simplify=hard)


def render_reply_in_the_right_language(prompts):
    character.build_messages(prompts=prompts, unit=UNIT, level="A2", history=[], student_message="Hola",
                             goals_left=[], wrong_language="en")


def render_translation(prompts):
    translate.translate_line(model=TranslatingModel(), prompts=prompts, unit=UNIT, level="A2",
                             line="¿Qué te pongo?")


class TranslatingModel(ScriptedBackend):
    def __init__(self):
        super().__init__()
        self.enqueue_json({"translation": "What can I get you?", "explanation": "Poner: to serve."})


@pytest.mark.parametrize("render, template, must_say", [
    (render_correction, "conversation_correct",
     ["Spanish", "A2", "ser-estar: ser / estar", "La sopa está fría", "spelling:", "in English",
      '"La sopa es fría"', '"¿Qué tal la sopa?"']),
    (render_reply, "conversation_reply",
     ["Lucía, a waitress.", "A1", "at most 10 words", "una caña", "Ask for the bill", "speak only Spanish"]),
    (render_simpler_reply, "conversation_reply", ["too hard", "idiosincrasia"]),
    (render_reply_in_the_right_language, "conversation_reply",
     ["Your last reply was in English, not Spanish", "only in Spanish"]),
    (render_translation, "conversation_translate", ["into natural English", "¿Qué te pongo?", "A2"]),
])
def test_each_conversation_prompt_renders_with_the_variables_passed(render, template, must_say):
    prompts = RecordingPrompts()
    render(prompts)
    ((name, variables, text),) = prompts.rendered
    assert name == template and prompts.variables(name) <= set(variables)
    assert "{{" not in text and "{%" not in text
    for part in must_say:
        assert part in text, part


def test_every_conversation_template_is_covered():
    assert {n for n in PromptLibrary().names() if n.startswith("conversation_")} == {
        "conversation_correct", "conversation_reply", "conversation_translate"}


def test_a_reply_without_a_retry_says_nothing_about_one():
    prompts = RecordingPrompts()
    render_reply(prompts)
    assert "too hard" not in prompts.rendered[0][2] and "Your last reply" not in prompts.rendered[0][2]
