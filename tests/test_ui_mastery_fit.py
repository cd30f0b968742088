"""The teacher's mastery page, without a browser: its parts drawn from the service's shapes, and
every handler refusing a student (the browser test drives the page itself)."""

from __future__ import annotations

import pytest

from tutor_app.bootstrap import create_services
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.service.errors import Forbidden
from tutor_app.settings import Settings
from tutor_app.ui import mastery_fit_panel
from tutor_app.ui.app import create_app

from mastery_fit_support import UNIT_ID, UNIT_YAML, store_simulated_class
from ui_harness import add_roster, handlers_refuse

TEACHER = Actor(role="teacher")


@pytest.fixture
def services(tmp_path):
    curricula = tmp_path / "curricula"
    curricula.mkdir()
    (curricula / "fit.yaml").write_text(UNIT_YAML, encoding="utf-8")
    services = create_services(Settings(curricula=curricula, data_dir=tmp_path / "data", require_login=True,
                                        db_url=f"sqlite:///{tmp_path / 'class.sqlite3'}"), model=ScriptedBackend())
    store_simulated_class(services.db)
    yield services
    services.close()


def test_each_skill_card_shows_in_use_beside_fitted_with_the_data(services):
    table, history, message = mastery_fit_panel.snapshot(services, TEACHER, UNIT_ID)
    drill, review, later = (mastery_fit_panel.skill_card_html(s) for s in table.skills)
    assert "in use (unit file)" in drill and "fit can be adopted" in drill
    assert "Rests on 200 students and 2,000 observations." in drill and " ± " in drill
    assert "fit not usable" in review and "Not offered: too uncertain" in review
    assert "too little data" in later and "Rests on 0 students and 0 observations." in later
    intro = mastery_fit_panel.intro_html(table)
    assert "<b>30 students</b> and <b>300 observations</b>" in intro and "±0.1" in intro
    assert "No parameters adopted yet" in history and message == ""

    table, history, message = mastery_fit_panel.adopt(services, TEACHER, UNIT_ID, ["drill"])
    assert message == "Adopted the fitted values for **Doubling drill**."
    assert "by teacher" in mastery_fit_panel.skill_card_html(table.skills[0])
    assert "fit in use" in mastery_fit_panel.skill_card_html(table.skills[0])
    assert "adopted the fit" in history and "200 students, 2,000 observations" in history
    table, history, message = mastery_fit_panel.use_file_values(services, TEACHER, UNIT_ID, "drill")
    assert message == "**Doubling drill**: back to the unit file's values." and "in use (unit file)" in \
        mastery_fit_panel.skill_card_html(table.skills[0])
    assert history.count("<tr>") == 3  # the header and both changes


def test_every_mastery_page_handler_refuses_a_student(services):
    pins = add_roster(services, ["Ana"])
    demo = create_app(services)
    assert demo.tutor_signin.check("Ana", pins["Ana"])
    called = handlers_refuse(demo, "Ana", modules={"tutor_app.ui.mastery_fit_panel"}, names={"open_mastery"})
    assert {"on_show", "on_adopt_all", "open_mastery"} <= set(called)
    ana = Actor(role="student", student="Ana")
    with pytest.raises(Forbidden):  # what the per-skill buttons call
        mastery_fit_panel.adopt(services, ana, UNIT_ID, ["drill"])
    with pytest.raises(Forbidden):
        mastery_fit_panel.use_file_values(services, ana, UNIT_ID, "drill")
    assert services.mastery_fit.history(TEACHER) == []
