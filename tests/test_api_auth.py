"""With sign-in on: who may call what through the API. A student reaches only their own
sessions, whatever session id they send; the teacher reaches everyone's."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, AuthenticationError

from tutor_app.runtime.fake import ScriptedBackend

from ui_harness import TEACHER_PASSWORD, UNIT_ID, running_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("auth"), ScriptedBackend(), require_login=True,
                     students=["Ana", "Ben"]) as (running, pins):
        yield running, pins


@pytest.fixture(scope="module")
def ana(app) -> Client:
    running, pins = app
    return Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)


@pytest.fixture(scope="module")
def ben(app) -> Client:
    running, pins = app
    return Client(running.url, auth=("ben", pins["Ben"]), verbose=False)  # any case signs in


@pytest.fixture(scope="module")
def teacher(app) -> Client:
    running, _ = app
    return Client(running.url, auth=("teacher", TEACHER_PASSWORD), verbose=False)


@pytest.fixture(scope="module")
def anas_session(ana) -> str:
    return ana.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]


def refused(call) -> str:
    with pytest.raises(AppError) as caught:
        call()
    return str(caught.value)


def test_nobody_gets_in_without_a_valid_sign_in(app):
    running, pins = app
    with pytest.raises(AuthenticationError):
        Client(running.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(running.url, auth=("Ana", "000000" if pins["Ana"] != "000000" else "111111"), verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(running.url, auth=("Mallory", pins["Ana"]), verbose=False)  # not on the roster


def test_a_student_works_on_their_own_session(ana, anas_session):
    result = ana.predict(anas_session, "2x = 14", api_name="/submit_answer")
    assert result["verdict"] == "misconception"
    state = ana.predict(anas_session, api_name="/session_state")
    assert state["student"] == "Ana" and len(state["attempts"]) == 1


def test_another_student_cannot_touch_that_session(ben, anas_session):
    calls = [
        lambda: ben.predict(anas_session, api_name="/session_state"),
        lambda: ben.predict(anas_session, "2x = 8", api_name="/submit_answer"),
        lambda: ben.predict(anas_session, api_name="/request_hint"),
        lambda: ben.predict(anas_session, "what is the answer?", api_name="/ask_tutor"),
    ]
    for call in calls:
        assert "another student" in refused(call)


def test_nothing_was_changed_by_the_refused_calls(ana, anas_session):
    state = ana.predict(anas_session, api_name="/session_state")
    assert [a["answer"] for a in state["attempts"]] == ["2x = 14"] and state["hints_used"] == {}


def test_a_student_cannot_start_a_session_in_another_students_name(ben):
    assert "your own" in refused(lambda: ben.predict("Ana", UNIT_ID, "", api_name="/start_session"))
    own = ben.predict("Ben", UNIT_ID, "", api_name="/start_session")
    assert own["session_id"]


def test_the_teacher_may_read_any_session(teacher, anas_session):
    state = teacher.predict(anas_session, api_name="/session_state")
    assert state["student"] == "Ana"
