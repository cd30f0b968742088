"""Stored attempts and hints become the observations the live update saw: the rule event by
event, then end to end through the real service and SQLite, where replaying the sequences
reproduces each student's stored mastery exactly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.curriculum.schema import Unit
from tutor_app.engine.mastery import bkt_update, skill_params
from tutor_app.engine.observation_sequences import StepEvent, observation_sequences
from tutor_app.prompting import PromptLibrary
from tutor_app.service.actor import Actor
from tutor_app.storage.database import Database
from tutor_app.tutoring.service import TutorService
from tutor_app.tutoring.store import TutoringStore

UNIT = Unit.model_validate({
    "id": "u", "title": "U", "subject": "math",
    "skills": [{"id": "add", "name": "Add"}, {"id": "mul", "name": "Multiply"}, {"id": "say", "name": "Explain"}],
    "problems": [{"id": "p", "statement": "s", "steps": [
        {"id": "one", "prompt": "?", "answer": "1", "check": "numeric", "skills": ["add", "mul", "gone"]},
        {"id": "two", "prompt": "?", "answer": "2", "check": "numeric", "skills": ["mul"]},
        {"id": "why", "prompt": "Why?", "check": "open", "skills": ["say"],
         "rubric": {"id": "r", "title": "R", "criteria": [{"id": "c", "name": "C", "levels": [
             {"score": 0, "description": "no"}, {"score": 1, "description": "yes"}]}]}},
    ]}],
})
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Events:
    """Events one second apart, in the order written."""

    def __init__(self) -> None:
        self.items: list[StepEvent] = []

    def attempt(self, student, session, step, verdict, *, scaffold=False, problem="p"):
        self._add(student, session, step, "attempt", verdict, scaffold, problem)
        return self

    def hint(self, student, session, step, *, problem="p"):
        self._add(student, session, step, "hint", None, False, problem)
        return self

    def _add(self, student, session, step, kind, verdict, scaffold, problem):
        at = T0 + timedelta(seconds=len(self.items))
        self.items.append(StepEvent(student=student, session_id=session, problem_id=problem, step_id=step, at=at,
                                    kind=kind, verdict=verdict, scaffold=scaffold, order=len(self.items)))


def sequences(events: Events):
    return observation_sequences(UNIT, reversed(events.items)).by_skill  # any order in, time order out


def test_the_first_readable_answer_is_the_observation_and_retries_add_none():
    events = (Events().attempt("ada", "s1", "one", "invalid").attempt("ada", "s1", "one", "incorrect")
              .attempt("ada", "s1", "one", "correct").attempt("ada", "s1", "two", "correct"))
    assert sequences(events) == {"add": {"ada": (False,)}, "mul": {"ada": (False, True)}}


def test_a_hint_before_the_first_answer_is_a_not_right_observation():
    events = (Events().hint("ada", "s1", "one").attempt("ada", "s1", "one", "correct")
              .attempt("ada", "s1", "two", "misconception").hint("ada", "s1", "two")
              .attempt("ada", "s1", "two", "correct"))
    assert sequences(events) == {"add": {"ada": (False,)}, "mul": {"ada": (False, False)}}


def test_scaffold_answers_pending_open_steps_and_unknown_skills_are_not_observations():
    events = (Events().hint("bob", "s2", "one").attempt("bob", "s2", "one", "correct", scaffold=True)
              .attempt("bob", "s2", "two", "correct", scaffold=True).attempt("bob", "s2", "two", "correct")
              .hint("bob", "s2", "why").attempt("bob", "s2", "why", "pending"))
    found = sequences(events)
    assert found == {"add": {"bob": (False,)}, "mul": {"bob": (False, True)}}
    assert "say" not in found and "gone" not in found


def test_each_session_observes_a_step_once_and_students_stay_apart_in_time_order():
    events = (Events().attempt("ada", "s1", "one", "incorrect").attempt("bob", "s2", "one", "correct")
              .attempt("ada", "s3", "one", "correct").attempt("ada", "s1", "one", "correct"))
    assert sequences(events)["add"] == {"ada": (False, True), "bob": (True,)}


def test_events_of_problems_or_steps_the_unit_no_longer_has_are_counted_not_used():
    events = Events().attempt("ada", "s1", "deleted-step", "correct").attempt("ada", "s9", "one", "correct",
                                                                             problem="deleted-problem")
    result = observation_sequences(UNIT, events.items)
    assert result.by_skill == {} and result.ignored == 2


# end to end: the real service writes, the sequences replay to the stored mastery --------
LINEAR = """\
id: linear
title: Linear
subject: math
skills:
  - id: isolate
    name: Isolate the x term
  - id: divide
    name: Divide
    bkt: {p_init: 0.3, p_transit: 0.1, p_guess: 0.25, p_slip: 0.05}
problems:
  - id: two-step
    statement: "Solve $2x + 3 = 11$"
    steps:
      - id: isolate
        prompt: "Subtract 3 from both sides."
        answer: "2x = 8"
        check: equation
        skills: [isolate]
        hints:
          - "Which operation undoes + 3?"
          - {scaffold: "What is 11 - 3?", answer: "8", check: numeric}
          - "2x = 8"
      - id: solve
        prompt: "Now find x."
        answer: "x = 4"
        check: equation
        skills: [divide, isolate]
  - id: one-step
    statement: "Solve $3x = 12$"
    steps:
      - id: solve
        prompt: "Find x."
        answer: "x = 4"
        check: equation
        skills: [divide]
"""


@pytest.fixture
def service(tmp_path, scripted_model):
    (tmp_path / "linear.yaml").write_text(LINEAR)
    library = CurriculumLibrary(tmp_path)
    library.reload()
    db = Database(f"sqlite:///{tmp_path / 'tutor.sqlite3'}")
    service = TutorService(db=db, library=library, model=scripted_model, prompts=PromptLibrary())
    yield service
    service.close()
    db.close()


def stored_events(store: TutoringStore, session_ids) -> list[StepEvent]:
    """The store's attempts and hints as events (the later wiring does the same, field by field)."""
    events = []
    for sid in session_ids:
        record = store.get_session(session_id=sid)
        events += [StepEvent(student=record.student, session_id=sid, problem_id=record.problem_id, step_id=a.step_id,
                             at=a.created_at, kind="attempt", verdict=a.verdict, scaffold=a.scaffold, order=a.id)
                   for a in store.attempts(session_id=sid)]
        events += [StepEvent(student=record.student, session_id=sid, problem_id=record.problem_id, step_id=h.step_id,
                             at=h.created_at, kind="hint", order=h.id) for h in store.hints(session_id=sid)]
    return events


def test_replaying_the_sequences_gives_the_mastery_the_service_stored(service):
    store, sessions = service.store, []

    def start(student, problem):
        sessions.append(service.start_session(Actor(role="student", student=student), student, "linear",
                                               problem).session_id)
        return Actor(role="student", student=student), sessions[-1]

    ada, sid = start("Ada", "two-step")
    service.request_hint(ada, sid)
    service.request_hint(ada, sid)  # opens the scaffold question
    service.submit_answer(ada, sid, "8")  # the scaffold answer: not an observation
    service.submit_answer(ada, sid, "2x = 8")
    service.submit_answer(ada, sid, "x = (")  # unreadable: not counted
    service.submit_answer(ada, sid, "x = 4")
    ada, sid = start("Ada", "one-step")
    service.submit_answer(ada, sid, "x = 3")
    service.submit_answer(ada, sid, "x = 4")
    bob, sid = start("Bob", "two-step")
    service.submit_answer(bob, sid, "2x = 8")
    service.submit_answer(bob, sid, "x = 8")
    service.request_hint(bob, sid)  # after the first answer: adds nothing
    service.submit_answer(bob, sid, "4")
    bob, sid = start("Bob", "one-step")
    service.request_hint(bob, sid)
    service.submit_answer(bob, sid, "x = 4")

    unit = service.library.units["linear"]
    found = observation_sequences(unit, stored_events(store, sessions))
    assert found.by_skill == {"isolate": {"Ada": (False, True), "Bob": (True, False)},
                              "divide": {"Ada": (True, False), "Bob": (False, False)}}
    params = skill_params(unit)
    for student in ("Ada", "Bob"):
        replayed = {}
        for skill_id, by_student in found.by_skill.items():
            p = params[skill_id].p_init
            for right in by_student[student]:
                p = bkt_update(p, right, params[skill_id])
            replayed[skill_id] = p
        assert replayed == pytest.approx(store.mastery(student=student, curriculum_id="linear"), abs=1e-12)
