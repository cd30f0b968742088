"""Mastery parameters fitted from the class: shown beside the ones in use with the data they rest
on, adopted per skill or all at once (by the teacher or ``python app.py fit-mastery --adopt``),
kept as a history, and used by the tutor in place of the unit file's values."""

from __future__ import annotations

import pytest

from tutor_app.bootstrap import create_services
from tutor_app.engine.bkt_fit import MAX_MARGIN, MIN_OBSERVATIONS, MIN_STUDENTS
from tutor_app.engine.mastery import bkt_update
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.service.errors import Forbidden, TutorError
from tutor_app.settings import Settings

from cli_support import run_app
from mastery_fit_support import (FEW_STUDENTS, FILE_PARAMS, FITTED_STUDENTS, STEPS, TRUTH, UNIT_ID, UNIT_YAML,
                                 store_simulated_class)

TEACHER = Actor(role="teacher")


@pytest.fixture
def settings(tmp_path) -> Settings:
    curricula = tmp_path / "curricula"
    curricula.mkdir()
    (curricula / "fit.yaml").write_text(UNIT_YAML, encoding="utf-8")
    return Settings(curricula=curricula, data_dir=tmp_path / "data", db_url=f"sqlite:///{tmp_path / 'class.sqlite3'}",
                    backend="none")


@pytest.fixture
def services(settings):
    services = create_services(settings, model=ScriptedBackend())
    store_simulated_class(services.db)
    yield services
    services.close()


def params_of(values) -> dict[str, float]:
    return values.model_dump()


def test_the_fitted_values_stand_beside_the_ones_in_use_with_the_data_they_rest_on(services):
    table = services.mastery_fit.fits(TEACHER, UNIT_ID)
    assert (table.min_students, table.min_observations, table.max_margin) == (MIN_STUDENTS, MIN_OBSERVATIONS,
                                                                              MAX_MARGIN)
    drill, review, later = table.skills
    assert (drill.skill_id, drill.skill_name, drill.source) == ("drill", "Doubling drill", "file")
    assert params_of(drill.current) == FILE_PARAMS.model_dump()
    assert (drill.status, drill.students, drill.observations, drill.adoptable) == (
        "fitted", FITTED_STUDENTS, FITTED_STUDENTS * STEPS, True)
    for name, value in params_of(drill.fitted).items():  # the class's answers were simulated from TRUTH
        assert abs(value - getattr(TRUTH, name)) <= drill.margins[name] <= MAX_MARGIN, name
    assert (review.status, review.students, review.observations, review.adoptable) == (
        "rejected", FEW_STUDENTS, FEW_STUDENTS * STEPS, False)
    assert review.reason.startswith("too uncertain") and review.fitted is not None
    assert (later.status, later.students, later.observations, later.fitted) == ("too-little-data", 0, 0, None)
    assert f"at least {MIN_STUDENTS} students and {MIN_OBSERVATIONS} observations" in later.reason


def test_adopting_a_skill_records_who_when_old_and_new_and_the_tutor_then_uses_it(services, settings):
    before = (settings.curricula / "fit.yaml").read_text(encoding="utf-8")
    fitted = services.mastery_fit.fits(TEACHER, UNIT_ID).skills[0].fitted
    (change,) = services.mastery_fit.adopt(TEACHER, UNIT_ID, ["drill"])
    assert (change.skill_id, change.source, change.changed_by) == ("drill", "fit", "teacher")
    assert params_of(change.before) == FILE_PARAMS.model_dump()
    assert params_of(change.after) == pytest.approx(params_of(fitted), abs=5e-5)  # stored to four places
    assert (change.students, change.observations) == (FITTED_STUDENTS, FITTED_STUDENTS * STEPS)
    assert services.mastery_fit.history(TEACHER, UNIT_ID) == [change]

    drill = services.mastery_fit.fits(TEACHER, UNIT_ID).skills[0]
    assert (drill.source, drill.adopted_by, drill.adopted_at, drill.adoptable) == ("adopted", "teacher", change.at,
                                                                                    False)
    assert drill.current == change.after
    assert (settings.curricula / "fit.yaml").read_text(encoding="utf-8") == before  # the teacher's file

    # A new student's mastery starts at the adopted p_init and moves by the adopted values.
    adopted = services.tutor.params.adopted(curriculum_id=UNIT_ID)["drill"]
    ada = Actor(role="student", student="Ada")
    started = services.tutor.start_session(ada, "Ada", UNIT_ID, "drill-problem")
    assert services.tutor.mastery(ada, "Ada", UNIT_ID)["drill"] == pytest.approx(adopted.p_init)
    result = services.tutor.submit_answer(ada, started.session_id, "2")
    assert result.mastery["drill"] == pytest.approx(bkt_update(adopted.p_init, True, adopted))
    assert result.mastery["review"] == pytest.approx(FILE_PARAMS.p_init)  # not adopted: the file's values


def test_a_skill_without_a_usable_fit_is_not_adopted_and_the_reason_is_given(services):
    with pytest.raises(TutorError, match="skill 'review' has no fit to adopt: too uncertain"):
        services.mastery_fit.adopt(TEACHER, UNIT_ID, ["drill", "review"])
    with pytest.raises(TutorError, match="skill 'nope' is not in this unit"):
        services.mastery_fit.adopt(TEACHER, UNIT_ID, ["nope"])
    assert services.mastery_fit.history(TEACHER) == []  # all or nothing


def test_adopting_all_takes_every_usable_fit_and_the_file_values_can_come_back(services):
    (change,) = services.mastery_fit.adopt(Actor(role="local"), UNIT_ID)
    assert change.skill_id == "drill" and change.changed_by == "local user (this computer)"
    assert services.mastery_fit.adopt(TEACHER, UNIT_ID) == []  # adopting again changes nothing

    back = services.mastery_fit.use_file_values(TEACHER, UNIT_ID, "drill")
    assert (back.source, back.before, back.after) == ("file", change.after, None)
    assert services.tutor.params.adopted(curriculum_id=UNIT_ID) == {}
    assert services.mastery_fit.fits(TEACHER, UNIT_ID).skills[0].source == "file"
    assert services.mastery_fit.use_file_values(TEACHER, UNIT_ID, "drill") is None
    assert [c.source for c in services.mastery_fit.history(TEACHER, UNIT_ID)] == ["file", "fit"]  # newest first


def test_only_the_teacher_sees_or_changes_the_parameters(services):
    ana = Actor(role="student", student="Ana")
    for call in (lambda: services.mastery_fit.fits(ana, UNIT_ID), lambda: services.mastery_fit.adopt(ana, UNIT_ID),
                 lambda: services.mastery_fit.history(ana),
                 lambda: services.mastery_fit.use_file_values(ana, UNIT_ID, "drill")):
        with pytest.raises(Forbidden):
            call()
    assert services.mastery_fit.history(TEACHER) == []


def test_fit_mastery_prints_the_fits_and_adopts_with_adopt(services, settings, capsys):
    assert run_app(settings, "fit-mastery") == 0
    out = capsys.readouterr().out
    assert f"{UNIT_ID} (Fit practice): a fit needs at least {MIN_STUDENTS} students" in out
    assert "  drill: in use p_init=0.200 p_transit=0.150 p_guess=0.200 p_slip=0.100 (unit file)" in out
    assert f"from {FITTED_STUDENTS} students, {FITTED_STUDENTS * STEPS} observations: can be adopted" in out
    assert f"not adoptable ({FEW_STUDENTS} students, {FEW_STUDENTS * STEPS} observations): too uncertain" in out
    assert services.mastery_fit.history(TEACHER) == []  # looking adopts nothing

    assert run_app(settings, "fit-mastery", UNIT_ID, "--adopt", "--skill", "review") == 1
    assert "skill 'review' has no fit to adopt" in capsys.readouterr().err
    assert run_app(settings, "fit-mastery", UNIT_ID, "--adopt") == 0
    assert "  adopted for drill: p_init=0.200 p_transit=0.150 p_guess=0.200 p_slip=0.100 -> " in capsys.readouterr().out
    (change,) = services.mastery_fit.history(TEACHER)
    assert change.changed_by == "command line (python app.py fit-mastery)"
    assert run_app(settings, "fit-mastery", "--adopt") == 0
    assert "nothing to adopt" in capsys.readouterr().out


def test_fit_mastery_names_an_unknown_unit(services, settings, capsys):
    assert run_app(settings, "fit-mastery", "geometry") == 1
    assert "There is no unit 'geometry'" in capsys.readouterr().err
