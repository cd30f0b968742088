"""Starting work in a district: several app processes on one PostgreSQL database, each with its
own engine and its own in-process locks. Two of them asked at the same instant to start the same
student's problem (or conversation) open one, and both answer with it, as two quick clicks in
one process do. On SQLite (one app process) the same starts come from two threads of one
service. Reading the open sessions is slowed so that, without the database's lock, both callers
would read before either wrote."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.language.models import Conversation
from tutor_app.language.service import LanguageService
from tutor_app.language.store import ConversationStore
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import LOCAL_ACTOR
from tutor_app.service.auth import Auth
from tutor_app.service.models import Student, TeacherAccount
from tutor_app.service.passwords import verify_secret
from tutor_app.service.people import PeopleStore
from tutor_app.storage.database import Database
from tutor_app.tutoring.service import TutorService
from tutor_app.tutoring.store import TutoringStore

from district_support import at_once, services_on

REPO = Path(__file__).resolve().parent.parent
UNIT, PROBLEM, ANSWER = "linear-equations", "one-step-add", "x = 8"
CONVERSATION_UNIT = "spanish-a2-tapas-bar"
ROUNDS = 20
READ_DELAY_S = 0.1  # between reading what is open and creating: the window two processes race in


@pytest.fixture(scope="module")
def library() -> CurriculumLibrary:
    library = CurriculumLibrary(REPO / "curricula")
    library.reload()
    assert UNIT in library.units and CONVERSATION_UNIT in library.conversations, library.errors
    return library


def slowed(monkeypatch, owner, name: str) -> None:
    real = getattr(owner, name)

    def slow(*args, **kwargs):
        found = real(*args, **kwargs)
        time.sleep(READ_DELAY_S)
        return found

    monkeypatch.setattr(owner, name, slow)


def test_two_processes_starting_a_problem_at_once_open_one_session(databases, library, monkeypatch):
    """Twenty rounds. Even rounds: Ada (the same student every time; new in the first round)
    starts the problem, then solves it so the next round starts afresh. Odd rounds: a new
    student lets the tutor choose. Each round, one session is open and both callers got it."""
    slowed(monkeypatch, TutoringStore, "open_sessions")
    callers = services_on(databases, lambda db: TutorService(db=db, library=library, model=ScriptedBackend(),
                                                             prompts=PromptLibrary()))
    store = TutoringStore(databases[1])
    for round_ in range(ROUNDS):
        student, problem = ("Ada", PROBLEM) if round_ % 2 == 0 else (f"Student {round_}", "")
        started = at_once([lambda s=service: s.start_session(LOCAL_ACTOR, student, UNIT, problem)
                           for service in callers])
        ids = {s.session_id for s in started}
        assert len(ids) == 1, f"round {round_}: two copies opened for {student}: {ids}"
        assert [s.id for s in store.open_sessions(student=student, curriculum_id=UNIT)] == list(ids)
        if student == "Ada":
            assert callers[1].submit_answer(LOCAL_ACTOR, ids.pop(), ANSWER).problem_done
    assert store.sessions_count(student="Ada", curriculum_id=UNIT) == ROUNDS // 2
    for service in set(callers):
        service.close()


def test_two_processes_starting_a_conversation_at_once_open_one(databases, library, monkeypatch):
    """A student's first conversation in a unit, started from two processes at once: one."""
    slowed(monkeypatch, ConversationStore, "latest")
    callers = services_on(databases, lambda db: LanguageService(db=db, library=library, model=ScriptedBackend(),
                                                                prompts=PromptLibrary()))
    for round_ in range(ROUNDS // 2):
        student = f"Student {round_}"
        started = at_once([lambda s=service: s.start_conversation(LOCAL_ACTOR, student, CONVERSATION_UNIT)
                           for service in callers])
        ids = {s.session_id for s in started}
        assert len(ids) == 1, f"round {round_}: two conversations opened for {student}: {ids}"
        with databases[1].session() as session:
            stored = session.scalars(sa.select(Conversation.id).join(Student, Conversation.student_id == Student.id)
                                     .where(Student.name == student)).all()
        assert stored == list(ids)


def test_a_new_student_starting_a_problem_and_a_conversation_at_once_gets_both(databases, library):
    """Two tabs of a student who has never done anything: a problem in one, a conversation in the
    other, at the same instant (other services, other locks). The student's row is made once and
    neither start fails on it."""
    tutors = services_on(databases, lambda db: TutorService(db=db, library=library, model=ScriptedBackend(),
                                                            prompts=PromptLibrary()))
    talks = services_on(databases, lambda db: LanguageService(db=db, library=library, model=ScriptedBackend(),
                                                              prompts=PromptLibrary()))
    for round_ in range(ROUNDS):
        student = f"Newcomer {round_}"
        problem, conversation = at_once([lambda: tutors[0].start_session(LOCAL_ACTOR, student, UNIT, PROBLEM),
                                         lambda: talks[1].start_conversation(LOCAL_ACTOR, student, CONVERSATION_UNIT)])
        assert TutoringStore(databases[1]).get_session(session_id=problem.session_id).student == student
        assert conversation.student == student
    with databases[0].session() as session:
        names = session.scalars(sa.select(Student.name)).all()
    assert sorted(names) == sorted(f"Newcomer {r}" for r in range(ROUNDS))
    for service in set(tutors):
        service.close()


def test_two_processes_starting_on_a_new_database_make_one_teacher_password(postgres_url, tmp_path,
                                                                            monkeypatch):
    """A district's first start: two app processes start on the new database at once, and each
    would make the teacher's first password. One makes it and prints it; the other finds it made
    and prints none: it neither fails nor replaces the printed one. (One process on SQLite makes
    it once; nothing races there.)"""
    slowed(monkeypatch, PeopleStore, "teacher_password_hash")
    databases = [Database(postgres_url), Database(postgres_url)]
    processes = [Auth(db, tmp_path / "roster.json") for db in databases]
    for round_ in range(3):
        made = at_once([auth.first_run_teacher_password for auth in processes])
        printed = [password for password in made if password is not None]
        assert len(printed) == 1, f"round {round_}: {made}"
        with databases[1].session() as session:
            (stored,) = session.scalars(sa.select(TeacherAccount.password_hash)).all()
            assert verify_secret(printed[0], stored)
            session.execute(sa.delete(TeacherAccount))  # the next round is a new district's first start
    for db in databases:
        db.close()


def test_two_clicks_on_adopt_landing_on_two_processes_record_one_change(databases, tmp_path, monkeypatch):
    """The teacher's double click on "adopt the class's fit", sent by the load balancer to two
    app processes: the skill's parameters change once, and the history shows one change."""
    from mastery_fit_support import UNIT_YAML, UNIT_ID, store_simulated_class
    from tutor_app.dashboard.mastery_fit import MasteryFitService
    from tutor_app.service.actor import Actor
    from tutor_app.tutoring.mastery_params import MasteryParamsStore

    curricula = tmp_path / "fit-curricula"
    curricula.mkdir()
    (curricula / "fit.yaml").write_text(UNIT_YAML, encoding="utf-8")
    fit_library = CurriculumLibrary(curricula)
    fit_library.reload()
    store_simulated_class(databases[0])
    slowed(monkeypatch, MasteryParamsStore, "adopted")
    callers = services_on(databases, lambda db: MasteryFitService(db=db, library=fit_library))
    teacher = Actor(role="teacher")
    changes = at_once([lambda s=service: s.adopt(teacher, UNIT_ID, ["drill"]) for service in callers])
    assert sorted(len(c) for c in changes) == [0, 1]  # the second click finds the fit adopted already
    history = callers[1].history(teacher, UNIT_ID)
    assert [(h.skill_id, h.source) for h in history] == [("drill", "fit")]
