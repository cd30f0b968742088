"""The student-side findings of issue 12 through the JSON API of the running app (gradio_client,
real SQLite file, scripted model): examples that give nothing away (1), open answers with
phrase bug rules that wait to be graded (2), two chat questions answered in order (6), the
verdict at once with the model's diagnosis afterwards (7), units in answers (9), and a phone's
capital letter."""

from __future__ import annotations

import threading
import time

import pytest
from gradio_client import Client

from tutor_app.checking import answers_equivalent
from tutor_app.checking.options import CheckOptions
from tutor_app.runtime.fake import ScriptedBackend

from student_units import FINDINGS_ID, write_findings
from ui_harness import UNIT_ID, running_app

EQUATION = CheckOptions(check="equation")
NUMERIC = CheckOptions(check="numeric")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-findings")
    write_findings(root)
    with running_app(root, ScriptedBackend(chunk_size=3)) as (running, _):
        assert running.services.library.errors == []
        yield running


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def start(client, student: str, unit: str, problem: str) -> str:
    return client.predict(student, unit, problem, api_name="/start_session")["session_id"]


def examples_in(feedback: str) -> list[str]:
    listing = feedback.rsplit("Try something like ", 1)[1].rstrip(".")
    return [part.strip() for chunk in listing.split(" or ") for part in chunk.split(", ")]


# 1: examples -----------------------------------------------------------------------------
def test_an_unreadable_equation_is_not_answered_with_the_answer_as_example(client):
    sid = start(client, "Ines", UNIT_ID, "two-step-1")
    result = client.predict(sid, "(x+1", api_name="/submit_answer")
    assert result["verdict"] == "invalid" and "Try something like" in result["feedback"]
    for example in examples_in(result["feedback"]):
        for answer in ("2x = 8", "x = 4"):  # this step's answer, and the next step's
            assert not answers_equivalent(EQUATION, answer, example), (example, answer)


def test_a_fraction_step_never_suggests_its_own_answer(client):
    sid = start(client, "Ines", FINDINGS_ID, "quarters")
    result = client.predict(sid, "three quarters", api_name="/submit_answer")
    assert result["verdict"] == "invalid"
    examples = examples_in(result["feedback"])
    assert len(examples) == 5  # one of each way to write a number
    assert not any(answers_equivalent(NUMERIC, "3/4", example) for example in examples), examples


# 9 and the capital letter -----------------------------------------------------------------
def test_units_in_answers_are_understood_and_a_wrong_unit_is_told_apart(client):
    sid = start(client, "Jon", FINDINGS_ID, "energy")
    wrong_unit = client.predict(sid, "18 m/s", api_name="/submit_answer")
    assert wrong_unit["verdict"] == "invalid" and wrong_unit["feedback"].startswith("Check the unit")
    assert client.predict(sid, "18 joules", api_name="/submit_answer")["verdict"] == "correct"
    assert client.predict(sid, "€20", api_name="/submit_answer")["verdict"] == "correct"
    other = start(client, "Kai", FINDINGS_ID, "energy")
    assert client.predict(other, "18 J", api_name="/submit_answer")["verdict"] == "correct"
    assert client.predict(other, "20 euros", api_name="/submit_answer")["problem_done"]


def test_a_capitalised_variable_from_a_phone_counts(client):
    sid = start(client, "Lea", FINDINGS_ID, "line")
    result = client.predict(sid, "Y = 7", api_name="/submit_answer")
    assert result["verdict"] == "correct" and result["problem_done"]
    assert result["mastery"]["solving"] > 0.2  # a first try that counts as right


# 2: open answers --------------------------------------------------------------------------
def test_an_open_answer_holding_the_misconception_is_caught_at_once_by_its_phrases(client, app):
    sid = start(client, "Mia", FINDINGS_ID, "pendulum")
    before = client.predict(sid, api_name="/session_state")["mastery"]["explaining"]
    asked = len(app.model.calls)
    caught = client.predict(sid, "It swings lower because in the end the energy is used up by the air.",
                            api_name="/submit_answer")
    assert caught["verdict"] == "misconception" and caught["misconception_id"] == "energy-used-up"
    assert "never used up" in caught["feedback"] and not caught["problem_done"]
    assert len(app.model.calls) == asked  # caught by code, with no model
    assert client.predict(sid, api_name="/session_state")["mastery"]["explaining"] < before

    # saying the opposite is not the misconception: it waits to be graded, shown as waiting, never solved
    waiting = client.predict(sid, "Energy is never used up: it is transferred to the air as thermal energy.",
                             api_name="/submit_answer")
    assert waiting["verdict"] == "pending" and "waiting for your teacher or the tutor" in waiting["feedback"]
    app.services.tutor.background.wait(30)  # the model had no grade scripted: it waits for the teacher
    state = client.predict(sid, api_name="/session_state")
    assert state["attempts"][-1]["verdict"] == "pending" and state["attempts"][-1]["graded_by"] is None


# 7: the verdict at once -------------------------------------------------------------------
def test_a_wrong_answer_is_answered_at_once_and_the_diagnosis_arrives_later(client, app):
    release = threading.Event()

    def slow_diagnosis(messages, schema):
        release.wait(10)
        return {"reasoning": "15 on the right.", "misconception_id": "added-instead-of-subtracted",
                "feedback": "You may have added instead of undoing the + 3."}

    sid = start(client, "Noa", UNIT_ID, "two-step-1")
    app.model.enqueue_json(slow_diagnosis)
    began = time.perf_counter()
    result = client.predict(sid, "2x = 15", api_name="/submit_answer")
    took = time.perf_counter() - began
    assert result["verdict"] == "incorrect" and result["misconception_id"] is None
    assert took < 5  # the model is still thinking: the student already has the verdict
    release.set()
    deadline = time.monotonic() + 20
    while True:
        latest = client.predict(sid, api_name="/session_state")["attempts"][-1]
        if latest["misconception_id"]:
            break
        assert time.monotonic() < deadline, "the diagnosis never arrived"
        time.sleep(0.2)
    assert latest["misconception_id"] == "added-instead-of-subtracted" and "undoing" in latest["feedback"]


# 6: two questions -------------------------------------------------------------------------
def test_a_second_question_sent_while_the_first_reply_streams_is_kept_and_answered_after_it(client, app):
    sid = start(client, "Oli", UNIT_ID, "two-step-2")
    app.model.delay_s = 0.05  # the first reply takes a few seconds
    app.model.enqueue_text("What was added to 3x? " * 6)
    app.model.enqueue_text("Think about what undoes taking 5 away.")
    first = client.submit(sid, "Where do I start?", api_name="/ask_tutor")
    deadline = time.monotonic() + 20
    while not app.services.tutor.store.messages(session_id=sid):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = client.submit(sid, "Do I add 5?", api_name="/ask_tutor")
    assert first.result().startswith("What was added")
    assert second.result().startswith("Think about what undoes")
    app.model.delay_s = 0.0
    messages = app.services.tutor.store.messages(session_id=sid)
    assert [(m.role, m.content[:12]) for m in messages] == [
        ("student", "Where do I s"), ("tutor", "What was add"), ("student", "Do I add 5?"), ("tutor", "Think about ")]
    assert messages[3].reply_to == messages[2].id and messages[1].reply_to == messages[0].id
