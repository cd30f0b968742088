"""The conversation tables: built by revision 0003 exactly as the models describe them, and
kept with the student's other records."""

from __future__ import annotations

import sqlalchemy as sa

from tutor_app.language import models
from tutor_app.language.corrections import PlacedError
from tutor_app.language.store import ConversationStore
from tutor_app.service.models import Student
from tutor_app.storage.base import Base
from tutor_app.storage.database import Database


def test_language_declares_the_four_conversation_tables():
    """That revision 0003_language builds exactly them is checked with every area's tables in
    test_storage_migrations."""
    mine = {m.local_table.name for m in Base.registry.mappers if m.class_.__module__ == models.__name__}
    assert mine == {"conversation_sessions", "conversation_turns", "conversation_errors", "conversation_goals"}


def test_a_conversation_is_written_in_order_and_goes_with_its_student(tmp_path):
    store = Database(f"sqlite:///{tmp_path / 'school.sqlite3'}")
    conversations = ConversationStore(store)
    record = conversations.create(session_id="c-1", student="Ana", curriculum_id="tapas", level="A2",
                                  opening="¡Hola!")
    turn = conversations.add_student_turn(session_id="c-1", content="Un cerveza y el tortilla", level="A2")
    errors = [PlacedError(13, 24, "el tortilla", "la tortilla", "gender-agreement", "Tortilla is feminine."),
              PlacedError(0, 10, "Un cerveza", "Una cerveza", "gender-agreement", "Cerveza is feminine.")]
    conversations.record_correction(turn_id=turn.id, status="checked", corrected="Una cerveza y la tortilla",
                                    errors=errors, goals_met=["order", "order"], level="A1")
    conversations.add_character_turn(session_id="c-1", content="¿Algo más?", level="A1")
    turns = conversations.turns(session_id="c-1")
    assert [t.role for t in turns] == ["character", "student", "character"]
    assert [e.start for e in turns[1].errors] == [0, 13]  # in the order they stand in the sentence
    assert conversations.get(session_id="c-1").level == "A1" and record.level == "A2"
    assert conversations.goals_met(session_id="c-1") == {"order"}
    with store.session() as session:  # removing a student removes their conversations with them
        session.delete(session.scalar(sa.select(Student).where(Student.name == "Ana")))
    assert conversations.get(session_id="c-1") is None and conversations.turns(session_id="c-1") == []
    store.close()
