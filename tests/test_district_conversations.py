"""Conversation practice in a district: a student's two tabs reach two app processes on one
PostgreSQL database (on SQLite, two threads of the school's one process). One answer per
message, whichever process is asked; a process that dies while writing does not block the
conversation for good; and a level moved by one process is not undone by a message the other
was still correcting."""

from __future__ import annotations

import threading
import time

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.language.reply_claims import ReplyClaims
from tutor_app.language.service import LanguageService
from tutor_app.language.store import ConversationStore
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.service.errors import TutorError
from tutor_app.storage.database import Database

from district_support import at_once, services_on
from language_units import tapas_library

ANA = Actor(role="student", student="Ana")
REPLY = "¡Muy bien! Una cerveza y una tortilla. ¿Algo más?"
GOOD = "Quiero una cerveza y la tortilla, por favor."
BAD = "Quiero un cerveza y la tortilla, por favor."
CLEAN = {"corrected": GOOD, "errors": []}
ONE_ERROR = {"corrected": GOOD, "errors": [{"span": "un cerveza", "correction": "una cerveza",
                                            "category": "gender-agreement",
                                            "explanation": "Cerveza is feminine, so it takes una."}]}
ROUNDS = 10


@pytest.fixture
def library(tmp_path) -> CurriculumLibrary:
    return tapas_library(tmp_path)


def processes(databases, library) -> list[LanguageService]:
    """Each process with its own model; replies stream for a while, so two requests overlap."""
    return services_on(databases, lambda db: LanguageService(
        db=db, library=library, prompts=PromptLibrary(),
        model=ScriptedBackend(default_reply=REPLY, chunk_size=4, delay_s=0.01)))


def read_reply(service: LanguageService, session_id: str):
    """The reply as this request saw it to the end, or why it was refused."""
    try:
        return list(service.stream_reply(ANA, session_id))[-1]
    except TutorError as refused:
        return f"refused: {refused}"


def test_one_message_asked_for_from_two_processes_is_answered_once(databases, library):
    callers = processes(databases, library)
    session_id = callers[0].start_conversation(ANA, "Ana", "tapas").session_id
    for round_ in range(ROUNDS):
        callers[round_ % 2].model.enqueue_json(CLEAN)
        callers[round_ % 2].send_message(ANA, session_id, GOOD)
        answers = at_once([lambda s=service: read_reply(s, session_id) for service in callers])
        written = [a for a in answers if a == REPLY]
        refused = [a for a in answers if a.startswith("refused: ")]
        assert len(written) == 1 and len(refused) == 1, f"round {round_}: {answers}"
        assert "already answering" in refused[0] or "no new message" in refused[0]
        roles = [t.role for t in ConversationStore(databases[1]).turns(session_id=session_id)]
        assert roles == ["character"] + ["student", "character"] * (round_ + 1), f"round {round_}: {roles}"
    for service in set(callers):
        service.close()


def test_a_claim_left_by_a_process_that_died_is_taken_once_it_goes_stale(databases, library):
    first, second = processes(databases, library)
    session_id = first.start_conversation(ANA, "Ana", "tapas").session_id
    died = ReplyClaims(ConversationStore(databases[0]), keep_every_s=3600, stale_after_s=0.5)
    asking = ReplyClaims(ConversationStore(databases[1]), keep_every_s=3600, stale_after_s=0.5)
    assert died.take(session_id) is not None  # and never given back, nor renewed
    assert asking.take(session_id) is None
    time.sleep(0.7)
    token = asking.take(session_id)
    assert token is not None
    asking.give_back(session_id, token)
    assert asking.take(session_id) is not None
    for claims in (died, asking):
        claims.close()
    for service in {first, second}:
        service.close()


def test_a_living_process_keeps_its_claim_while_the_reply_waits_for_the_model(databases, library):
    """A reply can wait in the model's line longer than a claim's lifetime without writing a
    token; the holder's renewals keep it, and it is free the moment the holder gives it back."""
    first, second = processes(databases, library)
    session_id = first.start_conversation(ANA, "Ana", "tapas").session_id
    holder = ReplyClaims(ConversationStore(databases[0]), keep_every_s=0.05, stale_after_s=0.4)
    other = ReplyClaims(ConversationStore(databases[1]), keep_every_s=0.05, stale_after_s=0.4)
    token = holder.take(session_id)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert other.take(session_id) is None
        time.sleep(0.05)
    holder.give_back(session_id, token)
    assert other.take(session_id) is not None
    for claims in (holder, other):
        claims.close()
    for service in {first, second}:
        service.close()


def test_a_level_moved_in_one_process_stays_moved_when_the_other_decides_later(postgres_url, library):
    """Ana has written good, good, bad at A2. From one tab (process A) she sends a message with an
    error; its correction takes long. From another (process B) she sends a good one, which is
    corrected at once: one error in her last four, so she moves up to B1. When A's correction
    comes back, her B1 must stand: A decides at the level now stored (only turns written at B1
    count, and there are none before it), not at the A2 it read before asking the model, which
    would make it two errors in four and write A2 back. (PostgreSQL only: the school's one
    process on SQLite corrects one message of a conversation at a time.)"""
    a_db, b_db = Database(postgres_url), Database(postgres_url)
    a, b = processes([a_db, b_db], library)
    session_id = a.start_conversation(ANA, "Ana", "tapas").session_id
    for text, correction in ((GOOD, CLEAN), (GOOD, CLEAN), (BAD, ONE_ERROR)):
        a.model.enqueue_json(correction)
        assert not a.send_message(ANA, session_id, text).level_changed
        list(a.stream_reply(ANA, session_id))

    asked, b_done = threading.Event(), threading.Event()

    def slow_correction(messages, schema):
        asked.set()
        assert b_done.wait(30)
        return ONE_ERROR

    a.model.enqueue_json(slow_correction)
    from_a: list = []
    tab_a = threading.Thread(target=lambda: from_a.append(a.send_message(ANA, session_id, BAD)))
    tab_a.start()
    assert asked.wait(30)
    b.model.enqueue_json(CLEAN)
    from_b = b.send_message(ANA, session_id, GOOD)
    b_done.set()
    tab_a.join(30)

    assert (from_b.level_before, from_b.level, from_b.level_changed) == ("A2", "B1", True)
    (late,) = from_a
    assert late.level == "B1" and not late.level_changed
    store = ConversationStore(a_db)
    assert store.get(session_id=session_id).level == "B1"
    late_turn = next(t for t in store.turns(session_id=session_id) if t.id == late.turn_id)
    assert late_turn.level == "B1"  # decided at B1, so the teacher's transcript replays it so
    for service in (a, b):
        service.close()
    for db in (a_db, b_db):
        db.close()
