"""The language units' usual errors as rules, the teacher's model switch, translations in the
student's language, and vocabulary for a school class (issue 12, items 4 and 5).

The shipped units, a real SQLite file and the scripted model: the model says "no corrections"
(the small demo model does) and the rules still fire."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.language.notices import notice
from tutor_app.language.service import LanguageService
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.service.errors import TutorError
from tutor_app.service.model_switch import ModelSwitches
from tutor_app.storage.database import Database

from curriculum_helpers import assert_error, line_of, write

REPO = Path(__file__).resolve().parent.parent
ANA = Actor(role="student", student="Ana")
TEACHER = Actor(role="teacher")
FRENCH, SPANISH = "french-a1-boulangerie", "spanish-a2-tapas-bar"


@pytest.fixture
def library(tmp_path) -> CurriculumLibrary:
    folder = tmp_path / "curricula"
    shutil.copytree(REPO / "curricula" / "language", folder)
    library = CurriculumLibrary(folder)
    library.reload()
    assert library.errors == []
    return library


@pytest.fixture
def db(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'school.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def model() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def service(db, library, model) -> LanguageService:
    return LanguageService(db=db, library=library, model=model, prompts=PromptLibrary(), switches=ModelSwitches(db))


def no_corrections(text: str) -> dict:
    return {"corrected": text, "errors": []}


@pytest.mark.parametrize("unit, message, wrong, right, category", [
    (FRENCH, "Bonjour, je voudrais un baguette, s'il vous plaît.", "un baguette", "une baguette", "gender-article"),
    (FRENCH, "Deux croissant, s'il vous plaît.", "Deux croissant", "Deux croissants", "plural-noun"),
    (SPANISH, "La sopa es fría.", "La sopa es fría", "La sopa está fría", "ser-estar"),
    (SPANISH, "Yo quiere un limonada, por favor.", "un limonada", "una limonada", "gender-agreement"),
])
def test_a_rule_corrects_the_usual_error_when_the_model_says_nothing_is_wrong(service, model, unit, message, wrong,
                                                                              right, category):
    started = service.start_conversation(ANA, "Ana", unit)
    model.enqueue_json(no_corrections(message))  # "No corrections: well said!" from a small model
    result = service.send_message(ANA, started.session_id, message)
    assert result.correction.status == "checked"
    found = {(e.span, e.correction, e.category) for e in result.correction.errors}
    assert (wrong, right, category) in found
    assert right in result.correction.corrected
    stored = service.state(ANA, started.session_id).turns[-1].correction
    assert (wrong, right, category) in {(e.span, e.correction, e.category) for e in stored.errors}


def test_the_models_own_errors_join_the_rules_and_yield_where_they_overlap(service, model):
    started = service.start_conversation(ANA, "Ana", FRENCH)
    message = "Bonjour, je voudrais un baguette et je suis faim."
    model.enqueue_json({"corrected": "Bonjour, je voudrais un baguette et j'ai faim.", "errors": [
        {"span": "un baguette", "correction": "un baguettes", "category": "grammar", "explanation": "Plural."},
        {"span": "je suis faim", "correction": "j'ai faim", "category": "avoir-etre", "explanation": "Avoir faim."}]})
    result = service.send_message(ANA, started.session_id, message)
    errors = [(e.span, e.correction, e.category) for e in result.correction.errors]
    assert errors == [("un baguette", "une baguette", "gender-article"), ("je suis faim", "j'ai faim", "avoir-etre")]
    assert result.correction.corrected == "Bonjour, je voudrais une baguette et j'ai faim."


def test_a_correct_message_fires_no_rule(service, model):
    started = service.start_conversation(ANA, "Ana", FRENCH)
    model.enqueue_json(no_corrections("Bonjour, je voudrais une baguette et deux croissants."))
    result = service.send_message(ANA, started.session_id, "Bonjour, je voudrais une baguette et deux croissants.")
    assert result.correction.errors == []


# the teacher's switch ---------------------------------------------------------------------
def test_with_the_model_switched_off_the_rules_still_correct_and_the_character_is_silent(service, model, db):
    ModelSwitches(db).set_model_off(TEACHER, FRENCH, True)
    started = service.start_conversation(ANA, "Ana", FRENCH)
    result = service.send_message(ANA, started.session_id, "Un baguette, s'il vous plaît.")
    assert result.correction.status == "rules"
    assert [(e.span, e.correction) for e in result.correction.errors] == [("Un baguette", "Une baguette")]
    reply = list(service.stream_reply(ANA, started.session_id))
    assert reply == [notice("switched_off", "en")]
    assert model.calls == []  # the model was not asked for anything
    character_lines = [t for t in service.state(ANA, started.session_id).turns if t.role == "character"]
    with pytest.raises(TutorError, match="turned the conversation partner off"):
        service.translate(ANA, started.session_id, character_lines[0].turn_id)


def test_the_class_switch_covers_every_unit_and_only_a_teacher_may_turn_it(service, model, db):
    switches = ModelSwitches(db)
    with pytest.raises(Exception, match="Only the teacher"):
        switches.set_model_off(ANA, None, True)
    switches.set_model_off(TEACHER, None, True)
    assert not switches.model_allowed(SPANISH) and not switches.model_allowed(FRENCH)
    started = service.start_conversation(ANA, "Ana", SPANISH)
    result = service.send_message(ANA, started.session_id, "Hola, buenas noches.")
    assert result.correction.status == "rules" and model.calls == []
    switches.set_model_off(TEACHER, None, False)
    assert switches.model_allowed(SPANISH)
    assert switches.states()[""].model_off is False  # kept, with who turned it and when


# translations -----------------------------------------------------------------------------
def character_turn(service, model, unit=SPANISH) -> tuple[str, int]:
    started = service.start_conversation(ANA, "Ana", unit)
    opening = [t for t in service.state(ANA, started.session_id).turns if t.role == "character"][0]
    return started.session_id, opening.turn_id


def test_a_translation_in_the_target_language_is_asked_for_again_in_the_students(service, model):
    sid, turn_id = character_turn(service, model)
    model.enqueue_json({"translation": "¡Hola, buenas noches! ¿Qué os pongo? ¿Algo para beber?",
                        "explanation": "Algo para beber es una pregunta que hace la camarera."})
    model.enqueue_json({"translation": "Hello, good evening! What can I get you? Something to drink?",
                        "explanation": "Os pongo is how a waiter in Spain asks what you would like."})
    result = service.translate(ANA, sid, turn_id)
    assert result.translation.startswith("Hello, good evening")
    second = [c for c in model.calls if c.kind == "json"][1]
    assert "Your last answer was in Spanish" in second.messages[-1]["content"] + second.messages[0]["content"]


def test_a_translation_still_in_the_target_language_is_not_shown_or_stored(service, model):
    sid, turn_id = character_turn(service, model)
    for _ in range(2):
        model.enqueue_json({"translation": "Hola, buenas noches!",
                            "explanation": "El que puedes decir es que esto es un más debeber."})
    with pytest.raises(TutorError, match="translation couldn't be made"):
        service.translate(ANA, sid, turn_id)
    assert service.state(ANA, sid).turns[0].translation is None


# vocabulary for a school class ------------------------------------------------------------
def test_a_school_unit_that_teaches_beer_is_reported_with_file_and_line(tmp_path):
    text = (REPO / "curricula" / "language" / "spanish-a2-restaurant.yaml").read_text(encoding="utf-8")
    text = text.replace('{word: "una limonada", translation: "a lemonade"}',
                        '{word: "una caña", translation: "a small glass of draught beer"}')
    path = write(tmp_path / "c", "tapas.yaml", text)
    library = CurriculumLibrary(tmp_path / "c")
    library.reload()
    assert_error(library.errors, path, line_of(text, "una caña"), "vocabulary[1].translation",
                 "'beer' is not for a school class")
    adults = write(tmp_path / "d", "tapas.yaml", text.replace("level: A2\n", "level: A2\naudience: adults\n"))
    library = CurriculumLibrary(adults.parent)
    library.reload()
    assert library.errors == []


def test_a_rule_whose_pattern_does_not_compile_is_reported(tmp_path):
    text = (REPO / "curricula" / "language" / "french-a1-bakery.yaml").read_text(encoding="utf-8")
    text = text.replace("'\\bun (baguette|tarte|brioche|boulangerie|carte)\\b'", "'\\bun (baguette'")
    path = write(tmp_path, "bakery.yaml", text)
    library = CurriculumLibrary(tmp_path)
    library.reload()
    assert_error(library.errors, path, line_of(text, "'\\bun (baguette'"), "misconceptions[0].rules[0].pattern",
                 "not a valid regular expression")
