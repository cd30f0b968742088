"""The teacher's dashboard over hand-made class data: mastery table, misconception counts,
stuck students, transcripts, CSV exports, and the teacher-only rule."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from tutor_app.curriculum.schema import Unit
from tutor_app.dashboard.service import DashboardService
from tutor_app.engine.mastery import MASTERY_THRESHOLD
from tutor_app.service.actor import LOCAL_ACTOR, Actor
from tutor_app.service.errors import Forbidden, NotFound
from tutor_app.tutoring.models import Attempt, HintShown, TutorMessage
from tutor_app.storage.database import Database
from tutor_app.tutoring.store import TutoringStore

TEACHER = Actor(role="teacher")
ADA = Actor(role="student", student="Ada")

UNIT = Unit.model_validate({
    "id": "fractions", "title": "Adding fractions", "subject": "math",
    "skills": [{"id": "common-denominator", "name": "Find a common denominator"},
               {"id": "add-numerators", "name": "Add the numerators"}],
    "misconceptions": [{"id": "add-denominators", "description": "Adds the denominators as well as the numerators"},
                       {"id": "no-common-denominator", "description": "Adds without a common denominator"}],
    "problems": [{"id": "halves-thirds", "statement": "Work out $1/2 + 1/3$.", "steps": [
        {"id": "denominator", "prompt": "What common denominator can you use?", "answer": "6", "check": "numeric",
         "skills": ["common-denominator"]},
        {"id": "sum", "prompt": "What is the sum?", "answer": "5/6", "check": "numeric",
         "skills": ["add-numerators"]},
    ]}],
})

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def store() -> TutoringStore:
    db = Database("sqlite://")
    yield TutoringStore(db)
    db.close()


@pytest.fixture
def dashboard(store) -> DashboardService:
    return DashboardService(db=store.db, library=SimpleNamespace(units={"fractions": UNIT}))


def add(store: TutoringStore, *rows) -> None:
    with store.db.session() as session:
        session.add_all(rows)


def attempt(session_id, step_id, answer, verdict, minutes, misconception=None, diagnosis=None, scaffold=False):
    return Attempt(session_id=session_id, step_id=step_id, answer=answer, normalized=answer, verdict=verdict,
                   misconception_id=misconception, diagnosis=diagnosis, feedback=None, scaffold=scaffold,
                   created_at=T0 + timedelta(minutes=minutes))


@pytest.fixture
def class_data(store):
    """Ada: stuck on 'sum' (4 wrong, still there). Bob: saw the bottom-out hint on 'denominator',
    then finished. Cy: one wrong answer, fine. Dee: another unit."""
    for sid, student, step_id, done in [("s-ada", "Ada", "sum", False), ("s-bob", "Bob", None, True),
                                        ("s-cy", "Cy", "sum", False), ("s-dee", "Dee", "x", False)]:
        store.create_session(session_id=sid, student=student, curriculum_id="other" if sid == "s-dee" else "fractions",
                             problem_id="halves-thirds", seed=7, progress={}, step_id=step_id, done=done)
    add(store,
        attempt("s-ada", "denominator", "6", "correct", 1),
        attempt("s-ada", "sum", "2/5", "misconception", 2, "add-denominators", "bug_rule"),
        attempt("s-ada", "sum", "=2/5", "misconception", 3, "add-denominators", "bug_rule"),
        attempt("s-ada", "sum", "1/6", "incorrect", 4, "no-common-denominator", "model"),
        attempt("s-ada", "sum", "what", "invalid", 5),
        attempt("s-bob", "denominator", "5", "incorrect", 1),
        attempt("s-bob", "denominator", "6", "correct", 3),
        attempt("s-bob", "sum", "2/5", "misconception", 4, "add-denominators", "bug_rule"),
        attempt("s-bob", "sum", "5/6", "correct", 5),
        attempt("s-cy", "denominator", "-3", "incorrect", 1),
        attempt("s-dee", "x", "2/5", "misconception", 1, "add-denominators", "bug_rule"),
        HintShown(session_id="s-bob", step_id="denominator", level=1, text="Which number do 2 and 3 both divide?",
                  bottom_out=False, scaffold=False, created_at=T0 + timedelta(minutes=2)),
        HintShown(session_id="s-bob", step_id="denominator", level=2, text="2 x 3 = 6", bottom_out=True,
                  scaffold=False, created_at=T0 + timedelta(minutes=2, seconds=30)),
        TutorMessage(session_id="s-ada", role="student", content="why not 2/5?", step_id="sum", complete=True,
                     created_at=T0 + timedelta(minutes=2, seconds=10)),
        TutorMessage(session_id="s-ada", role="tutor", content="What does the denominator count?", step_id="sum",
                     complete=True, created_at=T0 + timedelta(minutes=2, seconds=20)))
    store.set_mastery(student="Ada", curriculum_id="fractions", values={"common-denominator": 0.91,
                                                                        "add-numerators": 0.12})
    store.set_mastery(student="Bob", curriculum_id="fractions", values={"common-denominator": 0.55})
    store.set_mastery(student="Bob", curriculum_id="fractions", values={"common-denominator": 0.97,
                                                                        "add-numerators": 0.96})
    store.set_mastery(student="Dee", curriculum_id="other", values={"x": 0.5})


def test_class_mastery_per_student_and_skill(dashboard, class_data):
    table = dashboard.class_mastery(TEACHER, "fractions")
    assert table.title == "Adding fractions" and table.threshold == MASTERY_THRESHOLD
    assert [s.id for s in table.skills] == ["common-denominator", "add-numerators"]
    assert [s.name for s in table.skills][0] == "Find a common denominator"
    rows = {row.student: row for row in table.students}
    assert set(rows) == {"Ada", "Bob"}  # Dee practised another unit
    assert rows["Ada"].mastery == {"common-denominator": 0.91, "add-numerators": 0.12}
    assert rows["Bob"].mastery == {"common-denominator": 0.97, "add-numerators": 0.96}  # current, not history
    expected_ada = [k for k, p in rows["Ada"].mastery.items() if p >= MASTERY_THRESHOLD]
    assert rows["Ada"].mastered == sorted(expected_ada)
    with pytest.raises(NotFound, match="no unit 'nope'"):
        dashboard.class_mastery(TEACHER, "nope")


def test_most_frequent_misconceptions_per_step(dashboard, class_data):
    counts = dashboard.misconceptions(TEACHER, "fractions")
    top = counts[0]
    assert (top.step_id, top.misconception_id, top.count, top.students) == ("sum", "add-denominators", 3, 2)
    assert (top.by_bug_rule, top.by_model) == (3, 0)
    assert top.description == "Adds the denominators as well as the numerators"
    assert [(c.misconception_id, c.count, c.by_model) for c in counts[1:]] == [("no-common-denominator", 1, 1)]
    everywhere = dashboard.misconceptions(TEACHER)
    assert ("other", "add-denominators") in {(c.curriculum_id, c.misconception_id) for c in everywhere}
    assert next(c for c in everywhere if c.curriculum_id == "other").description == ""  # unit not loaded


def test_stuck_students(dashboard, class_data):
    stuck = dashboard.stuck_students(TEACHER, "fractions")
    assert [(s.student, s.step_id, s.still_on_step) for s in stuck] == [("Ada", "sum", True),
                                                                        ("Bob", "denominator", False)]
    ada, bob = stuck
    assert ada.wrong_attempts == 4 and ada.reason == "4 wrong attempts"
    assert bob.bottom_out_hints == 1 and "bottom-out" in bob.reason
    assert ada.last_at == T0 + timedelta(minutes=5)
    assert bob.last_at == T0 + timedelta(minutes=2, seconds=30)


def test_transcript_is_in_time_order(dashboard, class_data):
    transcript = dashboard.transcript(TEACHER, "s-ada")
    assert transcript.session.student == "Ada" and transcript.session.attempts == 5
    assert transcript.statement == "Work out $1/2 + 1/3$." and transcript.seed == 7
    assert [(e.kind, e.text) for e in transcript.entries] == [
        ("attempt", "6"), ("attempt", "2/5"), ("student", "why not 2/5?"),
        ("tutor", "What does the denominator count?"), ("attempt", "=2/5"), ("attempt", "1/6"), ("attempt", "what")]
    bob = dashboard.transcript(TEACHER, "s-bob")
    hints = [e for e in bob.entries if e.kind == "hint"]
    assert [(h.level, h.bottom_out) for h in hints] == [(1, False), (2, True)]
    with pytest.raises(NotFound, match="no session 'nope'"):
        dashboard.transcript(TEACHER, "nope")


def test_sessions_list(dashboard, class_data):
    listed = dashboard.sessions(TEACHER, "fractions")
    assert {s.session_id for s in listed} == {"s-ada", "s-bob", "s-cy"}
    assert [s.session_id for s in dashboard.sessions(TEACHER, student="Bob")] == ["s-bob"]
    assert next(s for s in listed if s.session_id == "s-bob").hints == 2


def test_attempts_csv(dashboard, class_data, tmp_path):
    out = tmp_path / "exports" / "attempts.csv"
    text = dashboard.attempts_csv(TEACHER, "fractions", path=out)
    assert out.read_text() == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 10  # Dee's other unit excluded
    assert rows[0]["student"] == "Ada" and rows[0]["at"].startswith("2026-03-02T09:01:00")
    answers = [r["answer"] for r in rows]
    assert "'=2/5" in answers  # a formula-looking answer stays text in a spreadsheet
    assert "-3" in answers  # a negative number is left alone
    assert {r["misconception_id"] for r in rows} >= {"add-denominators", "no-common-denominator"}


def test_mastery_csv_current_and_history(dashboard, class_data):
    current = list(csv.DictReader(io.StringIO(dashboard.mastery_csv(TEACHER, "fractions"))))
    assert [(r["student"], r["skill_id"], r["p_known"]) for r in current] == [
        ("Ada", "add-numerators", "0.1200"), ("Ada", "common-denominator", "0.9100"),
        ("Bob", "add-numerators", "0.9600"), ("Bob", "common-denominator", "0.9700")]
    assert current[1]["skill_name"] == "Find a common denominator"
    history = list(csv.DictReader(io.StringIO(dashboard.mastery_csv(TEACHER, "fractions", history=True))))
    assert len(history) == 5 and "session_id" in history[0]


@pytest.mark.parametrize("call", [
    lambda d: d.class_mastery(ADA, "fractions"),
    lambda d: d.misconceptions(ADA),
    lambda d: d.stuck_students(ADA),
    lambda d: d.sessions(ADA),
    lambda d: d.transcript(ADA, "s-ada"),  # not even her own session's teacher view
    lambda d: d.attempts_csv(ADA),
    lambda d: d.mastery_csv(ADA),
])
def test_students_are_refused(dashboard, class_data, call):
    with pytest.raises(Forbidden, match="Only the teacher"):
        call(dashboard)


def test_local_user_sees_the_dashboard(dashboard, class_data):
    assert dashboard.class_mastery(LOCAL_ACTOR, "fractions").students
