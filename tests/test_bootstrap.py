"""The app factory wires one settings object into working services."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor_app.bootstrap import create_services
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.queue import ModelQueue
from tutor_app.service.actor import Actor
from tutor_app.service.roster import add_students, roster_path
from tutor_app.settings import Settings

UNIT = """\
id: percent
title: Percentages
subject: math
skills:
  - id: percent-of
    name: Find a percentage of an amount
misconceptions:
  - id: divide-by-percent
    description: Divides the amount by the percentage
problems:
  - id: ten-percent
    statement: "What is 10% of 50?"
    steps:
      - id: value
        prompt: "What is 10% of 50?"
        answer: "5"
        check: numeric
        skills: [percent-of]
        hints: ["10% is one tenth.", "50 / 10 = 5"]
"""


@pytest.fixture
def settings(tmp_path) -> Settings:
    curricula = tmp_path / "curricula"
    curricula.mkdir()
    (curricula / "percent.yaml").write_text(UNIT)
    return Settings(curricula=curricula, data_dir=tmp_path / "data", backend="none")


def test_services_from_settings_with_a_scripted_model(settings):
    model = ScriptedBackend()
    services = create_services(settings, model=model)
    try:
        assert isinstance(services.model, ModelQueue)  # every model call goes through the queue
        assert (settings.data_dir / "tutor.sqlite3").exists()  # the default database is a file in data_dir
        assert "percent" in services.library.units
        assert services.assessment is not None and services.assessment.model is services.model
        local = Actor(role="local")
        started = services.tutor.start_session(local, "Ada", "percent", "")
        model.enqueue_json({"reasoning": "50 / 10 read as 50 / 0.1", "misconception_id": "divide-by-percent",
                            "feedback": "Is 10% of 50 more or less than 50?"})
        result = services.tutor.submit_answer(local, started.session_id, "500")
        assert (result.verdict, result.misconception_id) == ("incorrect", None)  # at once, by the checker
        assert services.tutor.background.wait(30)  # the model's diagnosis comes after the verdict
        late = services.tutor.session_state(local, started.session_id).attempts[-1]
        assert (late.verdict, late.misconception_id) == ("incorrect", "divide-by-percent")
        assert [c.kind for c in model.calls] == ["json"]  # through the queue to the backend
        assert services.dashboard.misconceptions(local, "percent")[0].misconception_id == "divide-by-percent"
        pin = add_students(roster_path(settings), ["Ada"])["Ada"]
        assert services.auth.authenticate("Ada", pin) == Actor(role="student", student="Ada")
    finally:
        services.close()


def test_services_without_a_model_still_tutor(settings, tmp_path):
    """backend 'none': the model is unavailable, checking and hints work, the chat says why."""
    settings = settings.model_copy(update={"db_url": f"sqlite:///{tmp_path / 'elsewhere' / 'db.sqlite3'}"})
    services = create_services(settings)
    try:
        assert not services.model.info.available
        assert Path(tmp_path / "elsewhere" / "db.sqlite3").exists()  # --db-url wins over data_dir
        local = Actor(role="local")
        sid = services.tutor.start_session(local, "Bo", "percent", "ten-percent").session_id
        assert services.tutor.submit_answer(local, sid, "4").verdict == "incorrect"
        assert services.tutor.request_hint(local, sid).text == "10% is one tenth."
        assert services.tutor.submit_answer(local, sid, "5").problem_done
        reply = list(services.tutor.ask_tutor(local, sid, "why?"))[-1]
        assert reply  # a friendly sentence instead of a model reply
    finally:
        services.close()
