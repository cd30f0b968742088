"""Errors found in conversations reach the teacher's dashboard beside the math misconceptions:
counted per unit, category and level, described with the unit's words, teacher-only."""

from __future__ import annotations

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.language.service import LanguageService
from tutor_app.prompting import PromptLibrary
from tutor_app.service.dashboard import DashboardService
from tutor_app.service.shapes import Actor, Forbidden
from tutor_app.storage.store import Store
from tutor_app.ui.class_overview import misconception_frame, overview_choices

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
    store = Store(f"sqlite:///{tmp_path / 'school.sqlite3'}")
    language = LanguageService(store=store, library=library, model=scripted_model, prompts=PromptLibrary())
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
    yield DashboardService(store=store, library=library), library
    store.close()


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
    frame = misconception_frame(dashboard.misconceptions(TEACHER, "tapas"))
    assert list(frame["where"]) == ["conversation · A2", "conversation · A2"]
    assert list(frame["count"]) == [3, 1]


def test_only_the_teacher_sees_the_counts(school):
    dashboard, _ = school
    with pytest.raises(Forbidden):
        dashboard.misconceptions(Actor(role="student", student="Ana"), "tapas")
