"""Limits at the edges of the running app, over real HTTP: uploads (size, who, and what is left
behind), the text and the time one grading may take, text that is not valid Unicode in any field,
and a database that cannot store anything."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client
from gradio_client.exceptions import AppError

from tutor_app.bootstrap import create_services
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.settings import Settings
from tutor_app.storage.database import Database
from tutor_app.ui import grading_panel
from tutor_app.ui.app import create_app
from tutor_app.ui.errors import GENERIC_MESSAGE
from tutor_app.ui.launch import serve
from tutor_app.ui.model_panel import model_snapshot

from assessment_support import REPO, enqueue_grading
from ui_harness import TEACHER_PASSWORD, UNIT_ID, free_port, running_app, write_curricula

RUBRIC_ID = "explain-your-reasoning"
SHORT_RUBRIC = """\
kind: rubric
id: one-line
title: One line
max_chars: 100
criteria:
  - id: idea
    name: Idea
    levels: [{score: 0, description: none}, {score: 1, description: an idea}]
"""
TEACHER = Actor(role="teacher")
MB = 1024 * 1024


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits")
    curricula = write_curricula(root)
    (curricula / "rubrics").mkdir()
    shutil.copy(REPO / "curricula" / "rubrics" / f"{RUBRIC_ID}.yaml", curricula / "rubrics")
    (curricula / "rubrics" / "one-line.yaml").write_text(SHORT_RUBRIC, encoding="utf-8")
    shutil.copy(REPO / "curricula" / "language" / "spanish-a2-restaurant.yaml", curricula)
    with running_app(root, ScriptedBackend(), require_login=True, students=["Ana"]) as (running, pins):
        assert running.services.library.errors == []
        yield running, pins


@pytest.fixture(scope="module")
def ana(app) -> Client:
    running, pins = app
    return Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)


@pytest.fixture(scope="module")
def teacher(app) -> Client:
    return Client(app[0].url, auth=("teacher", TEACHER_PASSWORD), verbose=False)


def upload(url: str, client: Client, name: str, data: bytes) -> httpx.Response:
    return httpx.post(url + "gradio_api/upload", files=[("files", (name, data, "text/csv"))], cookies=client.cookies,
                      timeout=120)


def raw_call(url: str, client: Client, api_name: str, *args) -> tuple[str, str]:
    """An API call as a script sends it, JSON with ``\\ud800`` escapes (``gradio_client`` cannot
    encode a lone surrogate): (the last event, its data)."""
    body = json.dumps({"data": list(args)}, ensure_ascii=True).encode("ascii")
    with httpx.Client(cookies=client.cookies, timeout=60) as http:
        event_id = http.post(f"{url}gradio_api/call/{api_name}", content=body,
                             headers={"Content-Type": "application/json"}).json()["event_id"]
        stream = http.get(f"{url}gradio_api/call/{api_name}/{event_id}").text
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.MULTILINE)
    return events[-1]


def refusal(call) -> str:
    with pytest.raises(AppError) as caught:
        call()
    message = str(caught.value)
    assert message != GENERIC_MESSAGE and "Traceback" not in message
    return message


# uploads -----------------------------------------------------------------------------------
def test_students_cannot_upload_and_the_teacher_only_up_to_the_limit(app, ana, teacher):
    running, _ = app
    big = b"student,text\n" + b"x" * (50 * MB)
    refused = upload(running.url, ana, "essays.csv", big)
    assert refused.status_code == 403 and "Only the teacher" in refused.text
    too_big = upload(running.url, teacher, "essays.csv", b"student,text\n" + b"x" * (21 * MB))
    assert too_big.status_code == 413
    assert upload(running.url, teacher, "essays.csv", b"student,text\nAna,Metal conducts heat.\n").status_code == 200


def test_an_upload_and_its_working_copy_are_gone_once_graded(app, teacher):
    running, _ = app
    response = upload(running.url, teacher, "class.csv", b"student,text\nAna,Metal conducts heat faster.\n")
    (uploaded,) = response.json()
    assert get_upload_folder() in uploaded
    enqueue_grading(running.model, 5)
    run = grading_panel.grade_uploads(running.services, TEACHER, RUBRIC_ID, [uploaded])
    assert run.report.count("graded") == 1
    assert not Path(uploaded).exists()  # the students' texts are not left in the upload folder
    assert sorted(p.suffix for p in run.folder.iterdir()) == [".csv", ".json"]  # only the results, to download
    grading_panel.remove_run_folder(run.folder)  # what the page does once it has its copy
    assert not run.folder.exists()
    with pytest.raises(Exception, match="Upload them again"):
        grading_panel.grade_uploads(running.services, TEACHER, RUBRIC_ID, [uploaded])


# grading ----------------------------------------------------------------------------------
def test_a_text_longer_than_the_rubric_allows_is_refused_before_the_model(app, ana):
    running, _ = app
    calls = len(running.model.calls)
    message = refusal(lambda: ana.predict("one-line", "x" * 101, api_name="/grade_submission"))
    assert "101 characters" in message and "at most 100 (its max_chars)" in message
    default = refusal(lambda: ana.predict(RUBRIC_ID, "word " * 1201, api_name="/grade_submission"))
    assert "at most 6,000" in default  # a rubric that states none gets the default
    assert len(running.model.calls) == calls
    assert running.services.assessment.astore.submissions(rubric_id="one-line") == []


def test_one_grading_uses_the_model_for_a_limited_time(app, ana):
    running, _ = app
    assessment = running.services.assessment
    limit, assessment.time_limit_s = assessment.time_limit_s, 1.0
    calls = len(running.model.calls)

    def slow(messages, schema):
        time.sleep(0.6)
        return {"justification": "It says so.", "score": 1, "next_step": "Say more."}

    for _ in range(5):
        running.model.enqueue_json(slow)
    try:
        message = refusal(lambda: ana.predict(RUBRIC_ID, "Metal feels colder.", api_name="/grade_submission"))
    finally:
        assessment.time_limit_s = limit
    assert "stopped after 1 seconds" in message
    assert len(running.model.calls) - calls == 2  # the third call was never made


# text that cannot be stored ------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["\ud800", "x\udfffy", "nul\x00"])
def test_text_that_is_not_valid_unicode_is_refused_by_name_in_every_field(app, ana, bad):
    running, _ = app
    session = ana.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
    conversation = ana.predict("Ana", "spanish-a2-tapas-bar", True, api_name="/start_conversation")["session_id"]
    before = ana.predict(session, api_name="/session_state")["attempts"]
    calls = [
        ("student", "start_session", ["Ana" + bad, UNIT_ID, ""]),
        ("answer", "submit_answer", [session, "2x = 8" + bad]),
        ("message", "ask_tutor", [session, "help" + bad]),
        ("text", "grade_submission", [RUBRIC_ID, "Metal" + bad]),
        ("session id", "session_state", [session + bad]),
        ("message", "conversation_say", [conversation, "Hola" + bad]),
    ]
    for field, api_name, args in calls:
        event, data = raw_call(running.url, ana, api_name, *args)
        assert event == "error", (api_name, data)
        assert f"The {field} contains" in data and "not valid text" in data, data
        assert "Something went wrong" not in data
    assert ana.predict(session, api_name="/session_state")["attempts"] == before
    assert all(bad not in s.text for s in running.services.assessment.astore.submissions(rubric_id=RUBRIC_ID))


def test_the_sign_in_form_refuses_text_that_cannot_be_stored(app):
    running, _ = app
    for raw, said in ((b"username=Ana&password=12%00", "The PIN or password contains an invisible NUL"),
                      (b"username=An%ED%A0%80a&password=123456", "not valid text"),  # an encoded surrogate
                      (b"username=%FF&password=1", "not valid text")):
        refused = httpx.post(running.url + "login", content=raw, timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 400 and said in refused.json()["detail"], refused.text


# a database that cannot store ------------------------------------------------------------------
def test_a_read_only_database_tells_the_student_their_answer_was_not_saved(tmp_path):
    path = tmp_path / "data" / "tutor.sqlite3"
    settings = Settings(curricula=write_curricula(tmp_path), data_dir=tmp_path / "data", backend="fake",
                        db_url=f"sqlite:///{path}")
    writable = create_services(settings, model=ScriptedBackend())
    started = writable.tutor.start_session(TEACHER, "Ana", UNIT_ID, "two-step-1")
    writable.auth.set_teacher_password(TEACHER_PASSWORD)
    writable.close()

    read_only = settings.model_copy(update={"db_url": f"sqlite:///file:{path}?mode=ro&uri=true"})
    services = create_services(read_only, model=ScriptedBackend())
    demo = create_app(services)
    url = serve(demo, host="127.0.0.1", port=free_port(), block=False, quiet=True)
    try:
        client = Client(url, verbose=False)
        resumed = client.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")  # reading works
        assert resumed["session_id"] == started.session_id
        message = refusal(lambda: client.predict(started.session_id, "2x = 8", api_name="/submit_answer"))
        assert message.startswith("Your answer was not saved") and "try again" in message
        assert client.predict(started.session_id, api_name="/session_state")["attempts"] == []
        summary, _ = model_snapshot(services.model, services.db.health)  # the teacher's Model page
        assert "cannot store anything" in summary and "read-only" in summary and "1 student action" in summary
    finally:
        demo.close()
        services.close()
    assert Database(settings.database_url).health.ok  # the file itself was never damaged
