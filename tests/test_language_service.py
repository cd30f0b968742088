"""Conversation practice end to end over a real SQLite file and the scripted model: the
correction flow (committed before the character answers), level adaptation, the difficulty
retry, goals, translation, failures, ownership, and the shipped units."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.language.difficulty import check_reply
from tutor_app.language.frequency import written_in
from tutor_app.language.levels import PROFILES
from tutor_app.language.notices import notice
from tutor_app.language.service import MAX_MESSAGE_CHARS, LanguageService
from tutor_app.language.store import ConversationStore
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelInfo
from tutor_app.service.actor import LOCAL_ACTOR, Actor
from tutor_app.service.errors import Forbidden, NotFound, TutorError
from tutor_app.storage.database import Database

from language_units import tapas_library

REPO = Path(__file__).resolve().parent.parent
ANA = Actor(role="student", student="Ana")
BOB = Actor(role="student", student="Bob")
TEACHER = Actor(role="teacher")


FIXED = "Quiero una cerveza y la tortilla, por favor."
WRITTEN = "Quiero un cerveza y la tortilla, por favor."
ONE_ERROR = {"corrected": FIXED, "errors": [{"span": "un cerveza", "correction": "una cerveza",
                                             "category": "gender-agreement",
                                             "explanation": "Cerveza is feminine, so it takes una."}]}
SIMPLE_REPLY = "¡Muy bien! Una cerveza y una tortilla. ¿Algo más?"
HARD_REPLY = ("Evidentemente, la idiosincrasia gastronómica madrileña se manifiesta en la proliferación "
              "de establecimientos que ofrecen raciones abundantes y exquisitas.")


@pytest.fixture
def library(tmp_path) -> CurriculumLibrary:
    return tapas_library(tmp_path)


@pytest.fixture
def db(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'school.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def service(db, library, scripted_model) -> LanguageService:
    return LanguageService(db=db, library=library, model=scripted_model, prompts=PromptLibrary())


def turn(service, actor, session_id, message, correction=None, reply=SIMPLE_REPLY):
    """One whole exchange: the message, its correction, the character's reply read to the end."""
    if correction is not None:
        service.model.enqueue_json(correction)
    service.model.enqueue_text(reply)
    result = service.send_message(actor, session_id, message)
    shown = list(service.stream_reply(actor, session_id))
    return result, shown


def clean(text: str) -> dict:
    return {"corrected": text, "errors": []}


def waiting_for_a_reply(service, reply=SIMPLE_REPLY) -> str:
    """A conversation whose "Hola" is corrected and waits for the character; its reply scripted."""
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(clean("Hola"))
    if reply is not None:
        service.model.enqueue_text(reply)
    service.send_message(ANA, started.session_id, "Hola")
    return started.session_id


# the correction flow -----------------------------------------------------------------
def test_a_message_is_corrected_and_committed_before_the_character_answers(service, db, scripted_model):
    started = service.start_conversation(ANA, "Ana", "tapas")
    assert [t.text for t in started.turns] == ["¡Hola! ¿Qué te pongo?"] and started.level == "A2"
    seen_by_another_connection = {}

    def reply(messages):
        # While the model writes the reply, a second connection to the file already sees the correction.
        other = Database(db.url)
        seen_by_another_connection["turns"] = ConversationStore(other).turns(session_id=started.session_id)
        other.close()
        return SIMPLE_REPLY

    scripted_model.enqueue_json(ONE_ERROR)
    scripted_model.enqueue_text(reply)
    result = service.send_message(ANA, started.session_id, "Para mí un cerveza, por favor")
    (error,) = result.correction.errors
    assert (error.span, error.correction, error.category) == ("un cerveza", "una cerveza", "gender-agreement")
    assert result.correction.original[error.start:error.end] == "un cerveza"
    assert error.category_label.startswith("Gender agreement")
    assert result.goals_met_now == ["order-politely"]
    assert [g.done for g in result.goals] == [True, False]
    assert (result.level, result.level_changed) == ("A2", False) and "3 more messages" in result.level_reason

    shown = list(service.stream_reply(ANA, started.session_id))
    assert shown[-1] == SIMPLE_REPLY and len(shown) > 1  # streamed
    opening, student = seen_by_another_connection["turns"]  # the reply itself is not stored yet
    assert opening.role == "character" and student.correction_status == "checked"
    assert [e.span for e in student.errors] == ["un cerveza"]

    chat = [c for c in scripted_model.calls if c.kind == "chat"]
    json_call = [c for c in scripted_model.calls if c.kind == "json"]
    assert json_call[0].session_key == started.session_id and "gender-agreement" in json_call[0].messages[0]["content"]
    assert chat[0].session_key == started.session_id
    assert chat[0].messages[-1] == {"role": "user", "content": "Para mí un cerveza, por favor"}
    assert "Lucía, a friendly waitress." in chat[0].messages[0]["content"]
    assert "Ask for the bill" in chat[0].messages[0]["content"]  # the goal still to practise
    assert "Order politely" not in chat[0].messages[0]["content"]  # the one just met

    state = service.state(ANA, started.session_id)
    assert [(t.role, t.text) for t in state.turns] == [("character", "¡Hola! ¿Qué te pongo?"),
                                                       ("student", "Para mí un cerveza, por favor"),
                                                       ("character", SIMPLE_REPLY)]
    assert state.turns[1].correction.corrected == "Para mí una cerveza, por favor"


def test_the_character_hears_the_earlier_turns(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    turn(service, ANA, started.session_id, WRITTEN, ONE_ERROR)
    turn(service, ANA, started.session_id, "Quería las croquetas", clean("Quería las croquetas"))
    last_chat = [c for c in service.model.calls if c.kind == "chat"][-1].messages
    assert [m["role"] for m in last_chat] == ["system", "user", "assistant", "user"]
    assert last_chat[1]["content"] == WRITTEN and last_chat[2]["content"] == SIMPLE_REPLY


def test_the_api_turn_returns_the_correction_and_the_whole_reply(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(ONE_ERROR)
    service.model.enqueue_text(SIMPLE_REPLY)
    result = service.say(ANA, started.session_id, WRITTEN)
    assert result.reply == SIMPLE_REPLY and result.reply_turn_id is not None
    assert result.message.correction.errors[0].span == "un cerveza"


# level adaptation --------------------------------------------------------------------
def test_four_corrected_messages_make_the_conversation_easier_and_the_replies_follow(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    levels = [turn(service, ANA, started.session_id, WRITTEN, ONE_ERROR)[0].level for _ in range(4)]
    assert levels == ["A2", "A2", "A2", "A1"]
    turn(service, ANA, started.session_id, "Hola", clean("Hola"))
    system = [c for c in service.model.calls if c.kind == "chat"][-1].messages[0]["content"]
    assert "level A1" in system and "at most 10 words" in system
    assert service.state(ANA, started.session_id).level == "A1"
    # a new conversation in the unit starts where the student got to
    fresh = service.start_conversation(ANA, "Ana", "tapas", new=True)
    assert fresh.session_id != started.session_id and fresh.level == "A1" and fresh.unit_level == "A2"


def test_four_good_messages_make_it_harder_and_the_count_starts_again(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    good = "Quiero una caña y las croquetas, por favor."
    levels = [turn(service, ANA, started.session_id, good, clean(good))[0].level for _ in range(4)]
    assert levels == ["A2", "A2", "A2", "B1"]
    # right after a rise, three bad messages cannot undo it: the count restarted at B1
    after = [turn(service, ANA, started.session_id, WRITTEN, ONE_ERROR)[0] for _ in range(3)]
    assert [r.level for r in after] == ["B1", "B1", "B1"] and "1 more message" in after[-1].level_reason


def test_short_answers_alone_do_not_raise_the_level(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    levels = [turn(service, ANA, started.session_id, "Sí", clean("Sí"))[0].level for _ in range(5)]
    assert levels == ["A2"] * 5


# difficulty --------------------------------------------------------------------------
def test_a_reply_that_is_too_hard_is_asked_again_and_the_simpler_one_is_kept(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(clean("Hola"))
    service.model.enqueue_text(HARD_REPLY)
    service.model.enqueue_text(SIMPLE_REPLY)
    service.send_message(ANA, started.session_id, "Hola")
    shown = list(service.stream_reply(ANA, started.session_id))
    assert shown[-1] == SIMPLE_REPLY
    assert any(text.startswith("Evidentemente") for text in shown)  # the first try streamed, then was replaced
    first, retry = [c for c in service.model.calls if c.kind == "chat"]
    assert "too hard" not in first.messages[0]["content"]
    assert "too hard" in retry.messages[0]["content"] and "idiosincrasia" in retry.messages[0]["content"]
    stored = service.conversations.turns(session_id=started.session_id)[-1]
    assert (stored.content, stored.simplified, stored.too_hard) == (SIMPLE_REPLY, True, False)


UNFIT = notice("reply_unfit", "en")


def test_when_both_tries_are_too_hard_neither_is_shown(service):
    # issue 12: a reply failing the level check twice is not shown; a short notice instead
    started = service.start_conversation(ANA, "Ana", "tapas")
    slightly_hard = "La idiosincrasia gastronómica es así. ¿Quieres croquetas?"
    service.model.enqueue_json(clean("Hola"))
    service.model.enqueue_text(HARD_REPLY)
    service.model.enqueue_text(slightly_hard)
    service.send_message(ANA, started.session_id, "Hola")
    shown = list(service.stream_reply(ANA, started.session_id))
    assert shown[-1] == UNFIT and slightly_hard not in shown  # the retry is checked before anyone reads it
    stored = service.conversations.turns(session_id=started.session_id)[-1]
    assert (stored.role, stored.content) == ("student", "Hola")  # nothing stored as the character's line
    assert len([c for c in service.model.calls if c.kind == "chat"]) == 2  # one retry, never more


ENGLISH_REPLY = "Of course! One beer and the tortilla. Anything else?"


def test_a_reply_in_the_wrong_language_is_asked_for_again_in_the_target_language(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(ONE_ERROR)
    service.model.enqueue_text(ENGLISH_REPLY)
    service.model.enqueue_text(SIMPLE_REPLY)
    result = service.say(ANA, started.session_id, WRITTEN)
    assert (result.reply, result.language_retry, result.simplified, result.too_hard) == (SIMPLE_REPLY, True, False,
                                                                                         False)
    first, retry = [c for c in service.model.calls if c.kind == "chat"]
    assert "not Spanish" not in first.messages[0]["content"]
    assert "Your last reply was in English, not Spanish" in retry.messages[0]["content"]
    assert "too hard" not in retry.messages[0]["content"]  # the English words were not blamed as rare ones
    assert [t.text for t in service.state(ANA, started.session_id).turns][-1] == SIMPLE_REPLY


def test_a_retry_still_in_the_wrong_language_is_not_shown_and_never_retried_again(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(clean("Hola"))
    service.model.enqueue_text(ENGLISH_REPLY)
    service.model.enqueue_text("Sure, here you go. Would you like some croquetas too?")
    result = service.say(ANA, started.session_id, "Hola")
    assert result.reply == UNFIT and result.language_retry and result.reply_turn_id is None
    assert len([c for c in service.model.calls if c.kind == "chat"]) == 2


def test_a_simpler_retry_in_the_wrong_language_is_not_shown_either(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(clean("Hola"))
    service.model.enqueue_text(HARD_REPLY)
    service.model.enqueue_text(ENGLISH_REPLY)
    result = service.say(ANA, started.session_id, "Hola")
    assert (result.reply, result.simplified) == (UNFIT, True)
    assert ENGLISH_REPLY not in result.reply and HARD_REPLY not in result.reply
    stored = service.conversations.turns(session_id=started.session_id)[-1]
    assert (stored.role, stored.content) == ("student", "Hola")


def test_a_word_borrowed_from_english_is_not_a_wrong_language(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    service.model.enqueue_json(clean("Hola"))
    service.model.enqueue_text("¡Claro! Una caña y el sándwich, ¿algo más?")
    result = service.say(ANA, started.session_id, "Hola")
    assert not result.language_retry and len([c for c in service.model.calls if c.kind == "chat"]) == 1


# one reply per message ----------------------------------------------------------------
def test_two_requests_for_the_same_reply_store_only_one(service):
    """A second tab (or a retried API call) asks for the reply while the first is being written:
    it is refused, the first is stored once, and afterwards there is nothing left to answer."""
    session_id = waiting_for_a_reply(service, reply=None)
    writing, release = threading.Event(), threading.Event()

    def held(messages):
        writing.set()
        assert release.wait(30)
        return SIMPLE_REPLY

    service.model.enqueue_text(held)
    first: list[str] = []
    worker = threading.Thread(target=lambda: first.extend(service.stream_reply(ANA, session_id)))
    worker.start()
    try:
        assert writing.wait(30)
        second = service.stream_reply(ANA, session_id)  # made before the first reply is stored
        with pytest.raises(TutorError, match="already answering"):
            next(second)
    finally:
        release.set()
        worker.join(30)
    assert first[-1] == SIMPLE_REPLY
    roles = [t.role for t in service.state(ANA, session_id).turns]
    assert roles == ["character", "student", "character"]
    with pytest.raises(TutorError, match="no new message"):
        service.stream_reply(ANA, session_id)
    assert len([c for c in service.model.calls if c.kind == "chat"]) == 1


def test_a_request_that_waited_finds_the_message_answered(service):
    """Both requests passed the first check; the one that reads second finds the reply stored."""
    session_id = waiting_for_a_reply(service)
    one, two = service.stream_reply(ANA, session_id), service.stream_reply(ANA, session_id)
    assert list(one)[-1] == SIMPLE_REPLY
    with pytest.raises(TutorError, match="no new message"):
        next(two)
    assert [t.role for t in service.state(ANA, session_id).turns] == ["character", "student", "character"]


def test_a_reply_stream_that_is_never_read_claims_nothing(service):
    session_id = waiting_for_a_reply(service)
    abandoned = service.stream_reply(ANA, session_id)
    abandoned.close()
    assert list(service.stream_reply(ANA, session_id))[-1] == SIMPLE_REPLY


# messages that are not corrected ------------------------------------------------------
def test_a_question_in_the_students_own_language_is_answered_but_not_corrected(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    result, shown = turn(service, ANA, started.session_id, "What does 'la cuenta' mean?")
    assert result.correction.status == "other-language" and result.correction.errors == []
    assert result.goals_met_now == []  # quoting a phrase is not using it
    assert [c.kind for c in service.model.calls] == ["chat"]  # no correction asked for
    assert shown[-1] == SIMPLE_REPLY


def test_a_failing_model_keeps_the_message_and_says_it_was_not_checked(service, scripted_model):
    started = service.start_conversation(ANA, "Ana", "tapas")
    result = service.send_message(ANA, started.session_id, WRITTEN)  # no JSON scripted: the call fails
    assert result.correction.status == "failed" and result.correction.corrected == WRITTEN
    assert "not checked" in result.level_reason
    assert service.state(ANA, started.session_id).turns[-1].text == WRITTEN


class NoModel(ScriptedBackend):
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="none", backend="unavailable", available=False, problem="no model file")


def test_without_a_model_the_message_is_saved_and_a_notice_replaces_the_reply(db, library):
    service = LanguageService(db=db, library=library, model=NoModel(), prompts=PromptLibrary())
    started = service.start_conversation(ANA, "Ana", "tapas")
    result = service.send_message(ANA, started.session_id, "Quería la cuenta")
    assert result.correction.status == "unavailable" and result.goals_met_now == ["order-politely",
                                                                                   "ask-for-the-bill"]
    (notice,) = list(service.stream_reply(ANA, started.session_id))
    assert "isn't available" in notice
    assert [t.role for t in service.state(ANA, started.session_id).turns] == ["character", "student"]


def test_a_reader_that_stops_early_keeps_what_was_shown(service):
    session_id = waiting_for_a_reply(service)
    stream = service.stream_reply(ANA, session_id)
    first = next(stream)
    stream.close()
    stored = service.conversations.turns(session_id=session_id)[-1]
    assert stored.role == "character" and stored.content == first and not stored.complete


# translation -------------------------------------------------------------------------
def test_a_translation_is_made_once_and_then_read_from_the_database(service, scripted_model):
    started = service.start_conversation(ANA, "Ana", "tapas")
    opening = started.turns[0].turn_id
    scripted_model.enqueue_json({"translation": "Hi! What can I get you?",
                                 "explanation": "Poner is how a waiter asks what to serve you."})
    first = service.translate(ANA, started.session_id, opening)
    again = service.translate(ANA, started.session_id, opening)
    assert first == again and first.translation == "Hi! What can I get you?"
    assert len([c for c in scripted_model.calls if c.kind == "json"]) == 1
    assert "into natural English" in scripted_model.calls[0].messages[0]["content"]
    assert service.state(ANA, started.session_id).turns[0].translation == "Hi! What can I get you?"


def test_only_the_characters_lines_are_translated(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    result, _ = turn(service, ANA, started.session_id, WRITTEN, ONE_ERROR)
    with pytest.raises(TutorError, match="Only the character's messages"):
        service.translate(ANA, started.session_id, result.turn_id)
    with pytest.raises(NotFound):
        service.translate(ANA, started.session_id, 9999)
    with pytest.raises(TutorError, match="couldn't be made"):
        service.translate(ANA, started.session_id, started.turns[0].turn_id)  # no JSON scripted: it fails


# ownership and plain errors ---------------------------------------------------------
def test_a_student_acts_only_on_their_own_conversations(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    for call in (lambda: service.state(BOB, started.session_id),
                 lambda: service.send_message(BOB, started.session_id, "Hola"),
                 lambda: service.stream_reply(BOB, started.session_id),
                 lambda: service.translate(BOB, started.session_id, started.turns[0].turn_id),
                 lambda: service.start_conversation(BOB, "Ana", "tapas")):
        with pytest.raises(Forbidden):
            call()
    assert [t.role for t in service.state(ANA, started.session_id).turns] == ["character"]  # nothing stored
    assert service.state(TEACHER, started.session_id).student == "Ana"
    assert service.start_conversation(LOCAL_ACTOR, "Ana", "tapas").session_id == started.session_id


def test_bad_requests_get_plain_messages(service):
    started = service.start_conversation(ANA, "Ana", "tapas")
    with pytest.raises(NotFound, match="Conversation units: tapas"):
        service.start_conversation(ANA, "Ana", "cafe")
    with pytest.raises(NotFound, match="no conversation"):
        service.state(ANA, "nope")
    with pytest.raises(TutorError, match="empty"):
        service.send_message(ANA, started.session_id, "   ")
    with pytest.raises(TutorError, match="too long"):
        service.send_message(ANA, started.session_id, "a" * (MAX_MESSAGE_CHARS + 1))
    with pytest.raises(TutorError, match="no new message"):
        service.stream_reply(ANA, started.session_id)  # the character spoke last
    with pytest.raises(TutorError, match="type your name|Student name"):
        service.start_conversation(LOCAL_ACTOR, "", "tapas")


# the shipped units -------------------------------------------------------------------
def test_the_shipped_conversation_units_are_complete_and_open_at_their_level():
    library = CurriculumLibrary(REPO / "curricula")
    library.reload()
    assert {"spanish-a2-tapas-bar", "french-a1-boulangerie"} <= set(library.conversations)
    for unit in library.conversations.values():
        assert len(unit.goals) >= 4 and len(unit.vocabulary) >= 8
        assert len(unit.misconceptions) >= 5 and all(m.examples for m in unit.misconceptions)
        assert "false-friend" in {m.id for m in unit.misconceptions}
        assert written_in(unit.opening, unit.target_language, unit.language)
        assert check_reply(unit.opening, language=unit.target_language, profile=PROFILES[unit.level]).ok
