"""Every endpoint of the JSON API, driven with gradio_client against the running app
(no sign-in: the loopback-only local user), including the error cases."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.ui.errors import GENERIC_MESSAGE

from ui_harness import UNIT_ID, running_app

START_KEYS = {"session_id", "curriculum_id", "problem_id", "statement", "step_id", "step_prompt"}
SUBMIT_KEYS = {"verdict", "misconception_id", "feedback", "scaffold", "problem_done", "next_step_id",
               "next_step_prompt", "mastery"}
STATE_KEYS = {"session_id", "student", "curriculum_id", "problem_id", "step_id", "done", "attempts", "hints_used",
              "mastery"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    model = ScriptedBackend(chunk_size=3)
    with running_app(tmp_path_factory.mktemp("api"), model) as (running, _):
        yield running


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def start(client, student="Ana", problem_id="two-step-1") -> dict:
    return client.predict(student, UNIT_ID, problem_id, api_name="/start_session")


def error_of(call) -> str:
    with pytest.raises(AppError) as caught:
        call()
    message = str(caught.value)
    assert "Traceback" not in message and 'File "' not in message
    return message


def test_the_api_lists_exactly_its_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/start_session", "/submit_answer", "/request_hint", "/ask_tutor",
                                           "/session_state", "/grade_submission", "/start_conversation",
                                           "/conversation_say", "/translate_message", "/conversation_state"}
    assert not api["unnamed_endpoints"]  # the page's own events are not part of the API


def test_start_session_returns_the_statement_and_first_step(client):
    result = start(client, "Ana")
    assert set(result) == START_KEYS
    assert result["curriculum_id"] == UNIT_ID and result["problem_id"] == "two-step-1"
    assert result["step_id"] == "isolate" and "Subtract 3" in result["step_prompt"]
    assert "2x + 3 = 11" in result["statement"]


def test_an_empty_problem_id_lets_the_mastery_model_choose(client):
    result = client.predict("Chooser", UNIT_ID, "", api_name="/start_session")
    assert result["problem_id"] in {"two-step-1", "two-step-2"}


def test_starting_an_unfinished_problem_again_resumes_it(client):
    first = start(client, "Resumer")
    client.predict(first["session_id"], "2x = 8", api_name="/submit_answer")
    again = start(client, "Resumer")
    assert again["session_id"] == first["session_id"] and again["step_id"] == "solve"


def test_a_whole_problem_through_the_api(client):
    sid = start(client, "Walker")["session_id"]

    wrong = client.predict(sid, "2x = 14", api_name="/submit_answer")
    assert set(wrong) == SUBMIT_KEYS
    assert wrong["verdict"] == "misconception" and wrong["misconception_id"] == "added-instead-of-subtracted"
    assert "added 3" in wrong["feedback"] and not wrong["problem_done"]

    hint = client.predict(sid, api_name="/request_hint")
    assert hint == {"level": 1, "text": "Which operation undoes $+ 3$?", "bottom_out": False, "scaffold": False}
    scaffold = client.predict(sid, api_name="/request_hint")
    assert scaffold["level"] == 2 and scaffold["scaffold"] and "11 - 3" in scaffold["text"]

    sub = client.predict(sid, "8", api_name="/submit_answer")  # goes to the scaffold question
    assert sub["scaffold"] and sub["verdict"] == "correct" and sub["next_step_id"] is None

    step1 = client.predict(sid, "8 = 2x", api_name="/submit_answer")  # an equivalent form
    assert step1["verdict"] == "correct" and not step1["scaffold"]
    assert step1["next_step_id"] == "solve" and "find $x$" in step1["next_step_prompt"]
    assert set(step1["mastery"]) == {"inverse-operations", "divide-coefficient"}
    assert all(0.0 <= p <= 1.0 for p in step1["mastery"].values())

    invalid = client.predict(sid, "x = = 4", api_name="/submit_answer")
    assert invalid["verdict"] == "invalid" and invalid["feedback"]

    done = client.predict(sid, "x = 4", api_name="/submit_answer")
    assert done["verdict"] == "correct" and done["problem_done"]

    state = client.predict(sid, api_name="/session_state")
    assert set(state) == STATE_KEYS
    assert state["student"] == "Walker" and state["done"] and state["step_id"] is None
    verdicts = [(a["step_id"], a["answer"], a["verdict"]) for a in state["attempts"]]
    assert ("isolate", "2x = 14", "misconception") in verdicts and ("solve", "x = 4", "correct") in verdicts
    assert state["attempts"][0]["misconception_id"] == "added-instead-of-subtracted" and state["attempts"][0]["at"]
    assert state["hints_used"] == {"isolate": 2}
    assert state["mastery"] == done["mastery"]


def test_the_hint_ladder_ends_with_the_bottom_out_hint(client):
    sid = start(client, "Hinter")["session_id"]
    levels = [client.predict(sid, api_name="/request_hint") for _ in range(2)]
    client.predict(sid, "8", api_name="/submit_answer")  # answer the scaffold so the ladder goes on
    last = client.predict(sid, api_name="/request_hint")
    assert [h["level"] for h in levels] == [1, 2] and last["level"] == 3
    assert last["bottom_out"] and "2x = 8" in last["text"]


def test_ask_tutor_streams_the_reply_and_knows_the_problem(app, client):
    sid = start(client, "Asker")["session_id"]
    reply = "What operation would undo adding three? Try it on both sides."
    app.model.enqueue_text(reply)
    job = client.submit(sid, "I don't understand step one", api_name="/ask_tutor")
    pieces = list(job)
    assert job.outputs()[-1] == reply
    assert len(pieces) > 1 and all(reply.startswith(p) for p in pieces)  # cumulative text, in pieces
    sent = "\n".join(m["content"] for m in app.model.calls[-1].messages)
    assert "I don't understand step one" in sent and "2x + 3 = 11" in sent


# errors --------------------------------------------------------------------------------
def test_an_unknown_session_is_a_clear_error(client):
    for call in (lambda: client.predict("no-such-session", "4", api_name="/submit_answer"),
                 lambda: client.predict("no-such-session", api_name="/request_hint"),
                 lambda: client.predict("no-such-session", api_name="/session_state"),
                 lambda: client.predict("no-such-session", "hi", api_name="/ask_tutor")):
        assert "no session 'no-such-session'" in error_of(call)


def test_bad_arguments_are_clear_errors(client):
    assert "no unit 'algebra-9000'" in error_of(lambda: client.predict("Ana", "algebra-9000", "", api_name="/start_session"))
    assert "no problem 'nope'" in error_of(lambda: client.predict("Ana", UNIT_ID, "nope", api_name="/start_session"))
    assert "unit" in error_of(lambda: client.predict("Ana", "", "", api_name="/start_session")).lower()
    assert "must be text" in error_of(lambda: client.predict(42, UNIT_ID, "", api_name="/start_session"))
    sid = start(client, "Typo")["session_id"]
    assert "empty" in error_of(lambda: client.predict(sid, "   ", api_name="/submit_answer"))
    assert "empty" in error_of(lambda: client.predict(sid, "", api_name="/ask_tutor"))


def test_a_solved_problem_takes_no_more_answers_or_hints(client):
    sid = start(client, "Finisher")["session_id"]
    client.predict(sid, "2x = 8", api_name="/submit_answer")
    client.predict(sid, "x = 4", api_name="/submit_answer")
    assert "already solved" in error_of(lambda: client.predict(sid, "x = 4", api_name="/submit_answer"))
    assert "already solved" in error_of(lambda: client.predict(sid, api_name="/request_hint"))


def test_an_unexpected_failure_gives_a_generic_message_without_internals(app, client, monkeypatch):
    def broken(actor, session_id):
        raise RuntimeError("disk I/O error in /var/lib/secret/tutor.sqlite3")

    monkeypatch.setattr(app.services.tutor, "session_state", broken)
    message = error_of(lambda: client.predict("anything", api_name="/session_state"))
    assert message == GENERIC_MESSAGE and "secret" not in message


def test_a_session_resumes_after_the_app_restarts(tmp_path):
    with running_app(tmp_path, ScriptedBackend()) as (first, _):
        before = Client(first.url, verbose=False)
        sid = start(before, "Restarter")["session_id"]
        before.predict(sid, "2x = 14", api_name="/submit_answer")
        before.predict(sid, "2x = 8", api_name="/submit_answer")
        before.predict(sid, api_name="/request_hint")
    with running_app(tmp_path, ScriptedBackend()) as (second, _):  # same database file, a new process state
        after = Client(second.url, verbose=False)
        resumed = after.predict("Restarter", UNIT_ID, "", api_name="/start_session")
        assert resumed["session_id"] == sid and resumed["step_id"] == "solve"
        state = after.predict(sid, api_name="/session_state")
        assert [a["answer"] for a in state["attempts"]] == ["2x = 14", "2x = 8"]
        assert state["hints_used"] == {"solve": 1}
        assert after.predict(sid, "x = 4", api_name="/submit_answer")["problem_done"]
