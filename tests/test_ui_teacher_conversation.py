"""Conversation practice on the teacher's pages, below the browser: the Transcripts list and a
conversation's transcript, the conversation CSV exports, and conversation units on the Curricula
page, through the plain functions the handlers call, on the app's real services (scripted model,
SQLite file); and every handler of those pages refuses a student."""

from __future__ import annotations

import csv
import shutil

import pytest

from tutor_app.service.actor import Actor
from tutor_app.ui.app import create_app
from tutor_app.ui.conversation_transcript import CONVERSATION_PREFIX
from tutor_app.ui.curricula_panel import UNIT_COLUMNS, curricula_snapshot
from tutor_app.ui.exports_panel import write_export
from tutor_app.ui.transcript_panel import transcript_choices, transcript_for

from assessment_support import REPO
from ui_harness import add_roster, build_services, handlers_refuse

SPANISH = REPO / "curricula" / "language" / "spanish-a2-restaurant.yaml"
UNIT_ID = "spanish-a2-tapas-bar"
TEACHER = Actor(role="teacher")
ANA = Actor(role="student", student="Ana")
GENDER = {"span": "un cerveza", "correction": "una cerveza", "category": "gender-agreement",
          "explanation": "Cerveza is feminine."}
REPLY = "¡Claro! Una cerveza. ¿Algo más?"


def with_spanish(root):
    (root / "curricula").mkdir(parents=True)
    shutil.copy(SPANISH, root / "curricula" / SPANISH.name)
    return root


@pytest.fixture
def services(tmp_path, scripted_model):
    services = build_services(with_spanish(tmp_path), scripted_model)
    assert services.library.errors == []
    yield services
    services.close()


@pytest.fixture
def conversation(services, scripted_model):
    """Ana orders four times with the same mistake (her level falls to A1) and asks for the bill;
    the character once answers with markup in its text, which must stay text."""
    language = services.language
    started = language.start_conversation(ANA, "Ana", UNIT_ID)
    for n in range(4):
        scripted_model.enqueue_json({"corrected": "", "errors": [GENDER]})
        scripted_model.enqueue_text("¡Claro! <b>Una</b> cerveza. ¿Algo más?" if n == 0 else REPLY)
        language.say(ANA, started.session_id, "Para mí un cerveza, por favor")
    scripted_model.enqueue_json({"corrected": "La cuenta, por favor.", "errors": []})
    scripted_model.enqueue_text("Son doce euros.")
    language.say(ANA, started.session_id, "La cuenta, por favor.")
    return started.session_id


def test_transcripts_list_conversations_beside_tutoring_sessions(services, conversation):
    tutoring = services.tutor.start_session(Actor(role="student", student="Ben"), "Ben", "equations-test",
                                            "two-step-1")
    choices = transcript_choices(services.dashboard, TEACHER)
    values = [value for _, value in choices]
    assert values == [tutoring.session_id, CONVERSATION_PREFIX + conversation]  # most recently active first
    label = choices[1][0]
    assert label.startswith("Ana · conversation: Spanish A2: tapas in Madrid · level A1 · 5 messages, "
                            "4 with corrections · ")
    assert "2x + 3 = 11" in transcript_for(services.dashboard, TEACHER, tutoring.session_id)
    assert transcript_for(services.dashboard, TEACHER, None) == ""


def test_a_conversation_transcript_shows_corrections_replies_levels_and_goals(services, conversation):
    text = transcript_for(services.dashboard, TEACHER, CONVERSATION_PREFIX + conversation)
    assert text.startswith("### Ana — Spanish A2: tapas in Madrid")
    assert "level now **A1** (the unit starts at A2)" in text and "goals 2 of 5" in text
    assert text.count('<div class="tx-turn tx-student">') == 5
    assert text.count('<div class="tx-turn tx-character">') == 6  # the opening line and five replies
    assert text.count('<mark class="err">un cerveza<sup>1</sup></mark>') == 4  # the error marked where it was
    assert "Ana wrote · 1 correction" in text and "<ins>una</ins>" in text  # the card, named for the teacher
    assert "Cerveza is feminine." in text and '<span class="cat-chip" title="ser / estar' not in text
    assert "Corrections by category: <span class=\"cat-chip\">Gender agreement × 4</span>" in text
    assert "<b>Level A2 → A1</b> (easier)." in text and "4 of your last 4 messages needed corrections" in text
    assert text.count('<div class="tx-event tx-goal">') == 2 and "Goal met: <b>Ask for the bill</b>" in text
    assert "&lt;b&gt;Una&lt;/b&gt;" in text and "<b>Una</b>" not in text  # the model's words are text
    assert text.index("Level A2 → A1") < text.index("Son doce euros.")


def test_conversation_exports_download_as_csv_files(services, conversation):
    turns = write_export(services.dashboard, TEACHER, "conversation-turns", UNIT_ID)
    assert turns.name.startswith(f"conversation-turns-{UNIT_ID}-") and turns.suffix == ".csv"
    rows = list(csv.DictReader(turns.open(encoding="utf-8")))
    assert [r["role"] for r in rows] == ["character"] + ["student", "character"] * 5
    assert rows[-2]["goals_met"] == "ask-for-the-bill" and rows[-2]["level"] == "A1"
    errors = write_export(services.dashboard, TEACHER, "conversation-errors", None)
    assert errors.name.startswith("conversation-errors-all-units-")
    rows = list(csv.DictReader(errors.open(encoding="utf-8")))
    assert len(rows) == 4 and {r["category_label"] for r in rows} == {
        next(m.description for m in services.library.conversations[UNIT_ID].misconceptions
             if m.id == "gender-agreement")}


def test_conversation_units_are_listed_on_the_curricula_page_with_their_files(services):
    report, frame = curricula_snapshot(services.library)
    assert "**1 unit and 1 conversation unit loaded** · all files valid" in report
    assert list(frame.columns) == UNIT_COLUMNS
    row = frame.set_index("unit").loc[UNIT_ID]
    assert (row["title"], row["kind"], row["language"], row["file"]) == (
        "Spanish A2: tapas in Madrid", "conversation · A2", "en → es", SPANISH.name)
    assert row["contents"].startswith("5 goals · ") and row["contents"].endswith("6 usual errors")
    assert frame.set_index("unit").loc["equations-test"]["contents"] == "2 problems"


def test_a_broken_conversation_file_is_reported_and_its_last_good_version_kept(services):
    path = services.settings.curricula / SPANISH.name
    path.write_text(SPANISH.read_text(encoding="utf-8").replace("level: A2", "level: A9"), encoding="utf-8")
    services.library.reload()
    report, frame = curricula_snapshot(services.library)
    assert f'<div class="file-name">{SPANISH.name}</div>' in report and "level" in report
    row = frame.set_index("unit").loc[UNIT_ID]
    assert row["file"] == f"{SPANISH.name} (edit has errors: last good version in use)"


PAGE_MODULES = {"tutor_app.ui.transcript_panel", "tutor_app.ui.exports_panel", "tutor_app.ui.curricula_panel"}
OPENERS = {"open_transcripts", "open_curricula"}


def test_every_transcript_export_and_curricula_handler_refuses_a_student(tmp_path, scripted_model):
    services = build_services(with_spanish(tmp_path), scripted_model, require_login=True)
    try:
        pins = add_roster(services, ["Ana"])
        demo = create_app(services)
        assert demo.tutor_signin.check("Ana", pins["Ana"])
        called = handlers_refuse(demo, "Ana", modules=PAGE_MODULES, names=OPENERS)
        assert len(called) >= 10  # the list and a transcript, five exports, reload, and the tab openers
    finally:
        services.close()
