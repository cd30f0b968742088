"""Conversations on the teacher's dashboard: their errors counted beside the math misconceptions
(per unit, category and level, in the unit's words), each conversation's transcript (messages,
corrections, replies, level changes, goals met), the CSV exports, and teacher-only."""

from __future__ import annotations

import re

import csv
import io

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.dashboard.service import DashboardService
from tutor_app.language.service import LanguageService
from tutor_app.prompting import PromptLibrary
from tutor_app.service.actor import Actor
from tutor_app.service.errors import Forbidden, NotFound
from tutor_app.storage.database import Database
from tutor_app.tutoring.store import TutoringStore
from tutor_app.ui.class_overview import misconception_chart_html, overview_choices

from language_units import TAPAS

TEACHER = Actor(role="teacher")
MATH = """\
id: fractions
title: Adding fractions
subject: math
skills: [{id: add, name: Add fractions}]
misconceptions: [{id: add-denominators, description: Adds the denominators too}]
problems:
  - id: halves
    statement: "1/2 + 1/3"
    steps: [{id: sum, prompt: "What is the sum?", answer: "5/6", check: numeric, skills: [add]}]
"""


def correction(*errors):
    return {"corrected": "", "errors": [{"span": span, "correction": fix, "category": category,
                                         "explanation": "Because."} for span, fix, category in errors]}


@pytest.fixture
def school(tmp_path, scripted_model):
    folder = tmp_path / "curricula"
    folder.mkdir()
    (folder / "tapas.yaml").write_text(TAPAS, encoding="utf-8")
    (folder / "fractions.yaml").write_text(MATH, encoding="utf-8")
    library = CurriculumLibrary(folder)
    library.reload()
    assert library.errors == []
    db = Database(f"sqlite:///{tmp_path / 'school.sqlite3'}")
    language = LanguageService(db=db, library=library, model=scripted_model, prompts=PromptLibrary())
    store = TutoringStore(db)
    # math: two students add the denominators
    for sid, name in [("m-ana", "Ana"), ("m-bob", "Bob")]:
        store.create_session(session_id=sid, student=name, curriculum_id="fractions", problem_id="halves", seed=1,
                             progress={}, step_id="sum")
        store.add_attempt(session_id=sid, step_id="sum", answer="2/5", normalized="2/5", verdict="misconception",
                          misconception_id="add-denominators", diagnosis="bug_rule")
    # conversation: Ana twice on gender (one message), Bob once, plus a spelling slip
    for name, script in [("Ana", correction(("un cerveza", "una cerveza", "gender-agreement"),
                                            ("el tortilla", "la tortilla", "gender-agreement"))),
                         ("Bob", correction(("un cerveza", "una cerveza", "gender-agreement"),
                                            ("tortila", "tortilla", "spelling")))]:
        started = language.start_conversation(Actor(role="student", student=name), name, "tapas")
        scripted_model.enqueue_json(script)
        language.send_message(Actor(role="student", student=name), started.session_id,
                              "Quiero un cerveza y el tortilla" if name == "Ana" else "Quiero un cerveza y tortila")
    yield DashboardService(db=db, library=library), library
    db.close()


def test_conversation_errors_are_counted_beside_math_misconceptions(school):
    dashboard, _ = school
    rows = {(r.curriculum_id, r.misconception_id): r for r in dashboard.misconceptions(TEACHER)}
    gender = rows[("tapas", "gender-agreement")]
    assert (gender.count, gender.students, gender.by_model, gender.by_bug_rule) == (3, 2, 3, 0)
    assert (gender.problem_id, gender.step_id) == ("conversation", "A2")
    assert gender.description == "Gender agreement: the article does not match the noun"
    assert rows[("tapas", "spelling")].description == "Spelling or accents (general)"
    assert rows[("fractions", "add-denominators")].count == 2
    assert dashboard.misconceptions(TEACHER)[0].misconception_id == "gender-agreement"  # most frequent first


def test_each_unit_shows_its_own_errors(school):
    dashboard, _ = school
    assert {r.misconception_id for r in dashboard.misconceptions(TEACHER, "tapas")} == {"gender-agreement", "spelling"}
    assert {r.misconception_id for r in dashboard.misconceptions(TEACHER, "fractions")} == {"add-denominators"}


def test_the_class_overview_offers_conversation_units_and_charts_their_errors(school):
    dashboard, library = school
    assert ("Tapas in Madrid (conversation)", "tapas") in overview_choices(library)
    table = dashboard.class_mastery(TEACHER, "tapas")  # a conversation unit is a unit: no NotFound
    assert table.title == "Tapas in Madrid" and table.skills == []
    chart = misconception_chart_html(dashboard.misconceptions(TEACHER, "tapas"))
    assert re.findall(r'class="misconception-where">([^<]*)<', chart) == ["conversation · level A2"] * 2
    assert [int(n) for n in re.findall(r'data-count="(\d+)"', chart)] == [3, 1]


def test_only_the_teacher_sees_the_counts(school):
    dashboard, _ = school
    with pytest.raises(Forbidden):
        dashboard.misconceptions(Actor(role="student", student="Ana"), "tapas")


# transcripts and exports ---------------------------------------------------------------
GENDER = ("un cerveza", "una cerveza", "gender-agreement")
SPANISH_REPLY = "¡Muy bien! Una cerveza. ¿Algo más?"
HARD_REPLY = ("Evidentemente, la idiosincrasia gastronómica madrileña se manifiesta en la proliferación "
              "de establecimientos que ofrecen raciones abundantes y exquisitas.")


@pytest.fixture
def practised(school, scripted_model, tmp_path):
    """Cy's conversation at the tapas bar: four messages that all need a correction (the level
    falls from A2 to A1 after the fourth), a question in English, goals met on the way, and a
    reply that was too hard and asked for again."""
    dashboard, library = school
    language = LanguageService(db=dashboard.db, library=library, model=scripted_model, prompts=PromptLibrary())
    cy = Actor(role="student", student="Cy")
    started = language.start_conversation(cy, "Cy", "tapas")
    scripted = [("Para mí un cerveza, por favor", correction(GENDER), [HARD_REPLY, SPANISH_REPLY]),
                ("=Quiero un cerveza", correction(GENDER), [SPANISH_REPLY]),
                ("Y un cerveza para mi amigo", correction(GENDER), [SPANISH_REPLY]),
                ("La cuenta y un cerveza", correction(GENDER), [SPANISH_REPLY]),
                ("What does 'croquetas' mean?", None, ["Las croquetas son una tapa. ¿Quieres?"])]
    for message, fix, replies in scripted:
        if fix is not None:
            scripted_model.enqueue_json(fix)
        for reply in replies:
            scripted_model.enqueue_text(reply)
        language.say(cy, started.session_id, message)
    return dashboard, started.session_id


def test_the_teacher_lists_conversations_with_their_counts(practised):
    dashboard, session_id = practised
    items = dashboard.conversations(TEACHER)
    assert items[0].session_id == session_id  # the most recently active first
    cy = items[0]
    assert (cy.student, cy.curriculum_id, cy.title) == ("Cy", "tapas", "Tapas in Madrid")
    assert (cy.level, cy.unit_level, cy.messages, cy.corrected, cy.errors, cy.goals_met, cy.goals) == (
        "A1", "A2", 5, 4, 4, 2, 2)
    assert {i.student for i in dashboard.conversations(TEACHER, "tapas")} == {"Ana", "Bob", "Cy"}
    assert dashboard.conversations(TEACHER, "fractions") == []
    assert [i.student for i in dashboard.conversations(TEACHER, student="Ana")] == ["Ana"]


def test_the_transcript_shows_messages_corrections_replies_level_changes_and_goals(practised):
    dashboard, session_id = practised
    t = dashboard.conversation_transcript(TEACHER, session_id)
    assert t.conversation.student == "Cy" and t.scenario.startswith("A tapas bar")
    assert [g.done for g in t.goals] == [True, True]
    kinds = [e.kind for e in t.entries]
    assert kinds == ["character",
                     "student", "goal", "character",
                     "student", "character",
                     "student", "character",
                     "student", "level", "goal", "character",
                     "student", "character"]
    first = t.entries[1]
    assert first.text == "Para mí un cerveza, por favor" and first.level == "A2"
    (error,) = first.correction.errors
    assert (error.span, error.correction, error.category) == GENDER
    assert error.category_label == "Gender agreement: the article does not match the noun"
    assert first.correction.corrected == "Para mí una cerveza, por favor"
    assert (t.entries[2].goal_id, t.entries[2].text) == ("order-politely", "Order politely")
    reply = t.entries[3]
    assert (reply.text, reply.simplified, reply.too_hard) == (SPANISH_REPLY, True, False)
    level = t.entries[9]
    assert (level.level_from, level.level) == ("A2", "A1")
    assert "4 of your last 4 messages needed corrections" in level.text
    assert t.entries[11].level == "A1"  # the reply after the change is at the new level
    question = t.entries[12]
    assert question.correction.status == "other-language" and question.correction.errors == []


def test_a_transcript_survives_its_unit_being_removed(practised):
    dashboard, session_id = practised
    dashboard.library.conversations = {}
    t = dashboard.conversation_transcript(TEACHER, session_id)
    assert t.conversation.title == "tapas" and t.goals == [] and t.scenario == ""
    assert t.entries[1].correction.errors[0].category_label == "gender-agreement"  # the id, not a blank


def test_conversation_turns_and_errors_export_as_csv(practised, tmp_path):
    dashboard, session_id = practised
    out = tmp_path / "exports" / "turns.csv"
    turns = list(csv.DictReader(io.StringIO(dashboard.conversation_turns_csv(TEACHER, "tapas", path=out))))
    assert out.read_text(encoding="utf-8").startswith("at,student,curriculum_id,session_id,turn_id,role,level,text,")
    cy = [r for r in turns if r["session_id"] == session_id]
    assert [r["role"] for r in cy][:4] == ["character", "student", "character", "student"]
    message = cy[1]
    assert (message["text"], message["correction_status"], message["errors"], message["categories"],
            message["goals_met"]) == ("Para mí un cerveza, por favor", "checked", "1", "gender-agreement",
                                      "order-politely")
    assert (cy[2]["simplified"], cy[2]["too_hard"], cy[2]["model_name"]) == ("1", "0", "scripted")
    assert cy[3]["text"] == "'=Quiero un cerveza"  # a spreadsheet must not run it as a formula
    errors = list(csv.DictReader(io.StringIO(dashboard.conversation_errors_csv(TEACHER, "tapas"))))
    assert len(errors) == 2 + 2 + 4  # Ana's two, Bob's two and Cy's four
    spelling = next(r for r in errors if r["category"] == "spelling")
    assert (spelling["student"], spelling["span"], spelling["correction"], spelling["category_label"]) == (
        "Bob", "tortila", "tortilla", "Spelling or accents (general)")
    assert spelling["message"][int(spelling["start"]):int(spelling["end"])] == "tortila"
    assert dashboard.conversation_errors_csv(TEACHER, "fractions").splitlines()[1:] == []


@pytest.mark.parametrize("call", [
    lambda d: d.conversations(Actor(role="student", student="Cy")),
    lambda d: d.conversation_transcript(Actor(role="student", student="Cy"), "any"),
    lambda d: d.conversation_turns_csv(Actor(role="student", student="Cy")),
    lambda d: d.conversation_errors_csv(Actor(role="student", student="Cy")),
])
def test_students_never_read_conversation_transcripts_or_exports(practised, call):
    with pytest.raises(Forbidden):
        call(practised[0])


def test_an_unknown_conversation_is_a_plain_not_found(practised):
    with pytest.raises(NotFound, match="no conversation 'nope'"):
        practised[0].conversation_transcript(TEACHER, "nope")
