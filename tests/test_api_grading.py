"""Rubric grading through the JSON API, with gradio_client against the running app:
``/grade_submission`` (shape, stored grades, clear errors) and an ``open`` step answered
through ``/submit_answer`` coming back graded, in the same shape as every other answer."""

from __future__ import annotations

import time

import shutil

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.ui.errors import GENERIC_MESSAGE

from assessment_support import REPO, enqueue_grading, json_calls
from ui_harness import running_app

RUBRIC_ID = "explain-your-reasoning"
GRADE_KEYS = {"rubric_id", "total", "max_total", "criteria", "next_steps"}
SUBMIT_KEYS = {"verdict", "misconception_id", "feedback", "scaffold", "problem_done", "next_step_id",
               "next_step_prompt", "mastery"}
TEXT = ("Both spoons are at room temperature. The metal one feels colder because metal conducts heat "
        "away from my hand much faster than wood.")
TEACHER = Actor(role="teacher")


def by_criterion(name: str, _text: str, allowed: list[int]) -> int:
    return {"Claim": 3, "Evidence": 1, "Reasoning": 2}.get(name, 0)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-grading")
    curricula = root / "curricula"
    (curricula / "rubrics").mkdir(parents=True)
    shutil.copy(REPO / "curricula" / "rubrics" / f"{RUBRIC_ID}.yaml", curricula / "rubrics")
    shutil.copy(REPO / "curricula" / "science" / "energy-explanations.yaml", curricula)
    with running_app(root, ScriptedBackend()) as (running, _):
        assert running.services.library.errors == []
        yield running


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def error_of(call) -> str:
    with pytest.raises(AppError) as caught:
        call()
    message = str(caught.value)
    assert "Traceback" not in message and 'File "' not in message
    return message


def test_grade_submission_returns_a_score_and_comment_per_criterion(app, client):
    enqueue_grading(app.model, 5, by_criterion)
    result = client.predict(RUBRIC_ID, TEXT, api_name="/grade_submission")
    assert set(result) == GRADE_KEYS
    assert result["rubric_id"] == RUBRIC_ID
    assert [(c["id"], c["score"]) for c in result["criteria"]] == [
        ("claim", 3), ("evidence", 1), ("reasoning", 2), ("communication", 0)]
    assert all(set(c) == {"id", "score", "comment"} for c in result["criteria"])
    assert result["criteria"][0]["comment"] == 'The student writes "Both spoons are at".'
    assert (result["total"], result["max_total"]) == (3 + 1 + 2 * 2 + 0, 3 + 3 + 2 * 3 + 2)  # reasoning weighs 2
    assert result["next_steps"] == ["Add one more piece of evidence.", "Explain how heat moves."]
    # Each criterion was its own constrained call, its score limited to that criterion's levels.
    schemas = [c.schema.model_json_schema() for c in json_calls(app.model)[-5:-1]]
    assert [s["properties"]["score"]["enum"] for s in schemas] == [[0, 1, 2, 3]] * 3 + [[0, 1, 2]]


def test_the_same_text_again_is_the_stored_grade(app, client):
    enqueue_grading(app.model, 5)
    first = client.predict(RUBRIC_ID, "Metal conducts heat faster than wood.", api_name="/grade_submission")
    calls = len(app.model.calls)
    assert client.predict(RUBRIC_ID, "Metal conducts heat faster than wood.", api_name="/grade_submission") == first
    assert len(app.model.calls) == calls


def test_bad_requests_are_clear_errors(app, client):
    unknown = error_of(lambda: client.predict("no-such-rubric", TEXT, api_name="/grade_submission"))
    assert "unknown rubric 'no-such-rubric'" in unknown and RUBRIC_ID in unknown
    assert "empty" in error_of(lambda: client.predict(RUBRIC_ID, "   ", api_name="/grade_submission"))
    assert "empty" in error_of(lambda: client.predict(RUBRIC_ID, None, api_name="/grade_submission"))
    assert "'text' must be text" in error_of(lambda: client.predict(RUBRIC_ID, 42, api_name="/grade_submission"))
    assert "'rubric_id' must be text" in error_of(lambda: client.predict(["x"], TEXT, api_name="/grade_submission"))
    # The model gave nothing usable (no reply scripted): said plainly, and nothing is stored as a grade.
    failed = error_of(lambda: client.predict(RUBRIC_ID, "A text the model fails on.", api_name="/grade_submission"))
    assert "could not grade criterion 'Claim'" in failed


def test_an_unexpected_failure_gives_the_generic_message(app, client, monkeypatch):
    def broken(actor, rubric_id, text):
        raise RuntimeError("database is locked: /var/lib/secret/tutor.sqlite3")

    monkeypatch.setattr(app.services.assessment, "grade_submission", broken)
    message = error_of(lambda: client.predict(RUBRIC_ID, TEXT, api_name="/grade_submission"))
    assert message == GENERIC_MESSAGE


def graded_state(client, sid: str, timeout_s: float = 30) -> dict:
    """``/session_state`` once the latest attempt is graded."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = client.predict(sid, api_name="/session_state")
        if state["attempts"] and state["attempts"][-1]["graded_by"]:
            return state
        assert time.monotonic() < deadline, "the open answer was never graded"
        time.sleep(0.2)


def test_an_open_step_answer_comes_back_graded_in_the_usual_shape(app, client):
    started = client.predict("Noor", "energy-explanations", "swinging-pendulum", api_name="/start_session")
    sid = started["session_id"]
    first = client.predict(sid, "It was transferred to the surroundings as thermal energy and sound.",
                           api_name="/submit_answer")
    assert first["verdict"] == "correct" and first["next_step_id"] == "explain"

    enqueue_grading(app.model, 4, lambda name, _t, allowed: 1)
    answer = ("At the top the pendulum has potential energy and at the bottom kinetic energy. "
              "Air resistance makes thermal energy, so the swings get lower.")
    result = client.predict(sid, answer, api_name="/submit_answer")
    assert set(result) == SUBMIT_KEYS
    assert result["verdict"] == "pending" and result["problem_done"] and result["misconception_id"] is None
    assert "waiting for your teacher or the tutor" in result["feedback"]  # at once; the grade comes after

    state = graded_state(client, sid)  # the grade, when it arrives, is in the session's state
    feedback = state["attempts"][-1]["feedback"]
    assert "Rubric feedback: 4 of 8 points" in feedback  # stores 1 + transfers 1x2 + conservation 1
    for line in ("**Energy stores** 1/2", "**Transfers** 1/2", "**Conservation** 1/2", "**Next steps**"):
        assert line in feedback
    assert [a["verdict"] for a in state["attempts"]] == ["correct", "pending"]
    (row,) = app.services.assessment.list_grades(TEACHER, "pendulum-energy-explanation")
    assert (row.student, row.graded, row.total) == ("Noor", True, 4)
