"""The tutoring store on real SQLite (in memory and on a file) and on a real PostgreSQL server (a
district's shared database), including a fresh process reading what another process wrote (what a
restart of the app looks like)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from tutor_app.service.people import PeopleStore
from tutor_app.storage.database import Database
from tutor_app.tutoring.store import TutoringStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["memory", "file", "postgresql"])
def store(request, tmp_path) -> TutoringStore:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = "sqlite://" if request.param == "memory" else f"sqlite:///{tmp_path / 'tutor.sqlite3'}"
    db = Database(url)
    yield TutoringStore(db)
    db.close()


def new_session(store: TutoringStore, session_id: str = "s-1", student: str = "Ada", problem_id: str = "two-step-1",
                curriculum_id: str = "linear-equations"):
    return store.create_session(session_id=session_id, student=student, curriculum_id=curriculum_id,
                                problem_id=problem_id, seed=1234, progress={"step_index": 0}, step_id="isolate")


def test_session_round_trip(store):
    created = new_session(store)
    loaded = store.get_session(session_id="s-1")
    assert loaded == created
    assert loaded.student == "Ada" and loaded.seed == 1234 and loaded.progress == {"step_index": 0}
    assert loaded.created_at.tzinfo == timezone.utc
    assert store.get_session(session_id="nope") is None


def test_attempt_and_progress_are_written_together(store):
    new_session(store)
    attempt = store.add_attempt(session_id="s-1", step_id="isolate", answer=" 2x = 14", normalized="2*x = 14",
                                verdict="misconception", misconception_id="added-instead-of-subtracted",
                                diagnosis="bug_rule", feedback="It looks like you added 3.",
                                progress={"step_index": 0, "attempts": 1}, next_step_id="isolate", done=False)
    store.add_attempt(session_id="s-1", step_id="isolate", answer="2x=8", normalized="2*x = 8", verdict="correct",
                      progress={"step_index": 1}, next_step_id="solve", done=False)
    attempts = store.attempts(session_id="s-1")
    assert [a.answer for a in attempts] == [" 2x = 14", "2x=8"]  # kept exactly as typed
    assert attempts[0] == attempt
    session = store.get_session(session_id="s-1")
    assert session.progress == {"step_index": 1} and session.step_id == "solve" and not session.done


def test_model_diagnosis_is_added_to_a_stored_attempt(store):
    new_session(store)
    attempt = store.add_attempt(session_id="s-1", step_id="isolate", answer="2x=3", normalized="2*x = 3",
                                verdict="incorrect", feedback="Not quite.")
    store.set_diagnosis(attempt_id=attempt.id, misconception_id="added-instead-of-subtracted", diagnosis="model",
                        feedback="Which operation undoes + 3?")
    (stored,) = store.attempts(session_id="s-1")
    assert (stored.verdict, stored.misconception_id, stored.diagnosis) == ("incorrect", "added-instead-of-subtracted",
                                                                           "model")
    with pytest.raises(KeyError):
        store.set_diagnosis(attempt_id=999, misconception_id=None, diagnosis=None, feedback=None)


def test_an_attempt_needs_an_existing_session(store):
    """Foreign keys are on: an orphan attempt is refused instead of silently stored."""
    with pytest.raises(sa.exc.IntegrityError):
        store.add_attempt(session_id="missing", step_id="isolate", answer="1", normalized="1", verdict="incorrect")


def test_hints_are_counted_per_step(store):
    new_session(store)
    store.add_hint(session_id="s-1", step_id="isolate", level=1, text="Which operation undoes + 3?",
                   bottom_out=False, scaffold=False)
    store.add_hint(session_id="s-1", step_id="isolate", level=2, text="What is 11 - 3?", bottom_out=False,
                   scaffold=True, progress={"step_index": 0, "hint": 2}, next_step_id="isolate", done=False)
    store.add_hint(session_id="s-1", step_id="solve", level=1, text="Divide by 2.", bottom_out=False, scaffold=False)
    assert store.hint_counts(session_id="s-1") == {"isolate": 2, "solve": 1}
    assert [h.level for h in store.hints(session_id="s-1")] == [1, 2, 1]
    assert store.get_session(session_id="s-1").progress == {"step_index": 0, "hint": 2}


def test_mastery_keeps_current_value_and_history(store):
    new_session(store)
    store.set_mastery(student="Ada", curriculum_id="linear-equations", values={"inverse-operations": 0.2},
                      session_id="s-1")
    store.set_mastery(student="Ada", curriculum_id="linear-equations",
                      values={"inverse-operations": 0.55, "fractions": 0.3})
    store.set_mastery(student="Ada", curriculum_id="other-unit", values={"inverse-operations": 0.9})
    assert store.mastery(student="Ada", curriculum_id="linear-equations") == {"inverse-operations": 0.55,
                                                                             "fractions": 0.3}
    history = store.mastery_history(student="Ada", curriculum_id="linear-equations")
    assert [(h.skill_id, h.p_known) for h in history] == [("inverse-operations", 0.2), ("inverse-operations", 0.55),
                                                          ("fractions", 0.3)]
    assert history[0].session_id == "s-1"
    assert store.mastery(student="Bob", curriculum_id="linear-equations") == {}


def test_open_and_solved_sessions(store):
    new_session(store, "s-1", problem_id="p1")
    new_session(store, "s-2", problem_id="p2")
    new_session(store, "s-3", student="Bob", problem_id="p1")
    store.update_session(session_id="s-2", progress={"done": True}, step_id=None, done=True)
    assert [s.id for s in store.open_sessions(student="Ada", curriculum_id="linear-equations")] == ["s-1"]
    assert store.open_sessions(student="Ada", curriculum_id="linear-equations", problem_id="p2") == []
    assert store.solved_problems(student="Ada", curriculum_id="linear-equations") == {"p2"}
    assert store.sessions_count(student="Ada", curriculum_id="linear-equations") == 2
    assert PeopleStore(store.db).student_names() == ["Ada", "Bob"]


def test_messages_keep_model_stats(store):
    new_session(store)
    store.add_message(session_id="s-1", role="student", content="I don't get it", step_id="isolate")
    store.add_message(session_id="s-1", role="tutor", content="What undoes + 3?", step_id="isolate",
                      model_name="scripted", prompt_tokens=120, evaluated_tokens=20, completion_tokens=5,
                      ttft_s=0.25, total_s=0.5)
    student, tutor = store.messages(session_id="s-1")
    assert (student.role, tutor.role) == ("student", "tutor")
    assert (tutor.prompt_tokens, tutor.evaluated_tokens, tutor.ttft_s, tutor.complete) == (120, 20, 0.25, True)


def test_concurrent_writes_from_threads(store):
    """Gradio runs handlers on worker threads; no write may be lost or collide."""
    new_session(store)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                store.add_attempt(session_id="s-1", step_id="isolate", answer=f"{n}-{i}", normalized=None,
                                  verdict="incorrect")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.attempts(session_id="s-1")) == 40


def test_data_survives_a_process_restart(school_db_url):
    """Another Python process writes and exits; this one reads what it left on disk."""
    url = school_db_url
    script = textwrap.dedent(f"""
        from tutor_app.storage.database import Database
        from tutor_app.tutoring.store import TutoringStore
        store = TutoringStore(Database({url!r}))
        store.create_session(session_id="s-1", student="Ada", curriculum_id="u", problem_id="p", seed=77,
                             progress={{"step_index": 1}}, step_id="solve")
        store.add_attempt(session_id="s-1", step_id="isolate", answer="2x=8", normalized="2*x = 8",
                          verdict="correct")
        store.set_mastery(student="Ada", curriculum_id="u", values={{"k": 0.62}})
        import os; os._exit(0)  # no clean shutdown: committed data must already be on disk
    """)
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=120)
    db = Database(url)
    store = TutoringStore(db)
    session = store.get_session(session_id="s-1")
    assert (session.seed, session.step_id, session.progress) == (77, "solve", {"step_index": 1})
    assert [a.answer for a in store.attempts(session_id="s-1")] == ["2x=8"]
    assert store.mastery(student="Ada", curriculum_id="u") == {"k": 0.62}
    db.close()


def test_attempt_progress_and_mastery_commit_together(store):
    new_session(store)
    store.add_attempt(session_id="s-1", step_id="isolate", answer="2x=8", normalized="2*x = 8", verdict="correct",
                      progress={"step_index": 1}, next_step_id="solve", done=False,
                      mastery={"inverse-operations": 0.61})
    store.add_hint(session_id="s-1", step_id="solve", level=1, text="Divide by 2.", bottom_out=False, scaffold=False,
                   progress={"step_index": 1, "hint": 1}, next_step_id="solve", done=False,
                   mastery={"inverse-operations": 0.4})
    history = store.mastery_history(student="Ada", curriculum_id="linear-equations")
    assert [(h.p_known, h.session_id) for h in history] == [(0.61, "s-1"), (0.4, "s-1")]
    assert store.mastery(student="Ada", curriculum_id="linear-equations") == {"inverse-operations": 0.4}


def test_a_failed_write_leaves_nothing_half_done(store):
    """An attempt on a session that does not exist must not leave mastery behind either."""
    with pytest.raises(Exception):
        store.add_attempt(session_id="missing", step_id="isolate", answer="1", normalized="1", verdict="correct",
                          progress={"step_index": 1}, next_step_id="solve", done=False, mastery={"k": 0.9})
    assert store.mastery(student="Ada", curriculum_id="linear-equations") == {}
    with store.db.session() as session:
        assert session.scalar(sa.text("select count(*) from attempts")) == 0
