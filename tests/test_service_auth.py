"""Sign-in: roster PINs (hashed, generated, checked), the teacher's password, lockout."""

from __future__ import annotations

import re

import pytest

from tutor_app.service.auth import MAX_FAILURES, Auth
from tutor_app.service.errors import Forbidden, TutorError
from tutor_app.service.passwords import hash_secret, new_password, new_pin, verify_secret
from tutor_app.service.roster import RosterError, add_students, load_roster, roster_path
from tutor_app.settings import Settings
from tutor_app.storage.database import Database

from cli_support import run_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path) -> Settings:
    (tmp_path / "curricula").mkdir()
    (tmp_path / "data").mkdir()
    return Settings(curricula=tmp_path / "curricula", data_dir=tmp_path / "data", db_url="sqlite://")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(settings, clock) -> Auth:
    return Auth(Database("sqlite://"), roster_path(settings), clock=clock)


def test_hashes_are_salted_and_verify():
    a, b = hash_secret("123456"), hash_secret("123456")
    assert a != b and "123456" not in a
    assert verify_secret("123456", a) and verify_secret("123456", b)
    assert not verify_secret("123457", a)
    assert not verify_secret("123456", None)
    assert not verify_secret("123456", "scrypt$broken")
    assert not verify_secret("123456", "md5$1$2$3$abc$def")


def test_pins_and_passwords_are_random_and_well_formed():
    pins = {new_pin() for _ in range(50)}
    assert all(re.fullmatch(r"\d{6}", p) for p in pins) and len(pins) > 40
    assert re.fullmatch(r"([a-z2-9]{4}-){3}[a-z2-9]{4}", new_password())


def generate_roster_command(names: list[str], settings: Settings) -> int:
    return run_app(settings, "roster", *names)


def test_generate_roster_prints_pins_once_and_stores_hashes(settings, capsys, auth):
    assert generate_roster_command(["Ada Lovelace", "Alan Turing"], settings) == 0
    out = capsys.readouterr().out
    pins = dict(re.findall(r"^(Ada Lovelace|Alan Turing)\s+(\d{6})", out, re.MULTILINE))
    assert set(pins) == {"Ada Lovelace", "Alan Turing"}
    path = roster_path(settings)
    assert path == settings.data_dir.resolve() / "roster.yaml"  # in the data folder, not in the project folder
    assert settings.curricula.resolve() not in path.parents
    text = path.read_text()
    assert pins["Ada Lovelace"] not in text and pins["Alan Turing"] not in text
    assert (path.stat().st_mode & 0o077) == 0

    actor = auth.authenticate("ada lovelace ", pins["Ada Lovelace"])  # any case and spacing
    assert actor is not None and actor.role == "student" and actor.student == "Ada Lovelace"
    assert auth.authenticate("Ada Lovelace", pins["Alan Turing"]) is None
    assert auth.authenticate("Grace Hopper", pins["Ada Lovelace"]) is None


def test_regenerating_a_pin_replaces_the_old_one(settings, auth):
    old = add_students(roster_path(settings), ["Ada"])["Ada"]
    assert auth.authenticate("Ada", old) is not None
    new = add_students(roster_path(settings), ["ada"])["Ada"]  # spelled as the roster spells it
    assert [e.name for e in load_roster(roster_path(settings))] == ["Ada"]
    if new != old:
        assert auth.authenticate("Ada", old) is None
    assert auth.authenticate("Ada", new).student == "Ada"


@pytest.mark.parametrize("names, message", [
    (["teacher"], "reserved for the teacher"),
    (["  "], "empty"),
    (["x" * 81], "longer than 80"),
    (["Ada", "ADA"], "named more than once"),
    (["bad\x07name"], "control characters"),
])
def test_bad_names_are_refused_before_anything_is_written(settings, capsys, names, message):
    assert generate_roster_command(names, settings) == 1
    assert message in capsys.readouterr().err
    assert not roster_path(settings).exists()


def test_broken_roster_file_names_file_and_line(settings, auth):
    path = roster_path(settings)
    path.write_text("students:\n  - name: Ada\n    pin_hash: [unclosed\n")
    with pytest.raises(RosterError, match=r"roster\.yaml:\d+: not valid YAML"):
        load_roster(path)
    path.write_text("students:\n  - name: Ada\n")
    with pytest.raises(RosterError, match=r"students\[0\]: needs 'name' and 'pin_hash'"):
        load_roster(path)


def test_a_broken_edit_keeps_the_last_good_roster(settings, auth):
    pin = add_students(roster_path(settings), ["Ada"])["Ada"]
    assert auth.authenticate("Ada", pin) is not None
    roster_path(settings).write_text("students: [\n")
    assert auth.authenticate("Ada", pin) is not None
    assert "not valid YAML" in auth.roster_problem


def test_roster_changes_are_seen_without_restart(settings, auth):
    assert auth.roster() == []
    pin = add_students(roster_path(settings), ["Bea"])["Bea"]
    assert auth.roster() == ["Bea"]
    assert auth.authenticate("Bea", pin).student == "Bea"


def test_teacher_password_first_run_and_change(auth):
    assert auth.authenticate("teacher", "anything") is None  # nothing set yet: nobody is teacher
    assert not auth.has_teacher_password()
    with pytest.raises(TutorError, match="at least 8"):
        auth.set_teacher_password("short")
    auth.set_teacher_password("correct horse")
    assert auth.people.teacher_password_hash() != "correct horse"
    actor = auth.authenticate("Teacher", "correct horse")
    assert actor is not None and actor.role == "teacher" and actor.is_teacher
    assert auth.authenticate("teacher", "wrong horse") is None

    with pytest.raises(Forbidden, match="current teacher password is wrong"):
        auth.set_teacher_password("battery staple", current="nope")
    auth.set_teacher_password("battery staple", current="correct horse")
    assert auth.authenticate("teacher", "battery staple") is not None
    assert auth.authenticate("teacher", "correct horse") is None
    assert auth.first_run_teacher_password() is None


def test_first_run_generates_a_password_once(auth):
    password = auth.first_run_teacher_password()
    assert password and auth.authenticate("teacher", password).role == "teacher"
    assert auth.first_run_teacher_password() is None


def test_repeated_failures_lock_the_name_for_a_while(settings, auth, clock):
    pin = add_students(roster_path(settings), ["Ada"])["Ada"]
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(MAX_FAILURES):
        assert auth.authenticate("Ada", wrong) is None
    assert auth.authenticate("Ada", pin) is None  # locked, even with the right PIN
    clock.now += 61
    assert auth.authenticate("Ada", pin).student == "Ada"


@pytest.mark.parametrize("username, secret", [(None, "1"), ("Ada", None), ("Ada", "1" * 500), ("", "123456")])
def test_malformed_sign_in_is_refused_not_crashing(auth, username, secret):
    assert auth.authenticate(username, secret) is None


# names and where the roster lives ----------------------------------------------------------
def test_names_match_without_accents_capitals_or_extra_spaces(settings, auth):
    pin = add_students(roster_path(settings), ["Zoë Müller"])["Zoë Müller"]
    for typed in ("zoe muller", "ZOË  MÜLLER", " Zoe Muller "):
        assert auth.authenticate(typed, pin).student == "Zoë Müller", typed


def test_two_names_that_sign_in_alike_are_refused(settings, capsys):
    path = roster_path(settings)
    add_students(path, ["Zoë Müller"])
    with pytest.raises(RosterError, match="cannot be told apart from 'Zoë Müller'"):
        add_students(path, ["Zoe Muller"])
    assert generate_roster_command(["René", "Rene"], settings) == 1
    assert "cannot be told apart" in capsys.readouterr().err
    assert [e.name for e in load_roster(path)] == ["Zoë Müller"]  # nothing was written
    assert add_students(path, ["zoë müller"])  # the same name in other capitals: a new PIN for Zoë
    path.write_text(path.read_text(encoding="utf-8") + "- {name: Zoe Muller, pin_hash: x}\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"students\[1\]\.name: 'Zoe Muller' cannot be told apart"):
        load_roster(path)


def test_a_roster_beside_the_curricula_moves_into_the_data_folder_once(settings, capsys):
    from tutor_app.service.roster import legacy_roster_path

    old = legacy_roster_path(settings)
    pins = add_students(old, ["Ada"])  # where an older version kept it
    assert run_app(settings, "roster", "Bea") == 0
    out = capsys.readouterr().out
    assert f"Moved the roster from {old} to {roster_path(settings)}" in out
    assert not old.exists() and (roster_path(settings).stat().st_mode & 0o077) == 0
    assert [e.name for e in load_roster(roster_path(settings))] == ["Ada", "Bea"]
    auth = Auth(Database("sqlite://"), roster_path(settings))
    assert auth.authenticate("Ada", pins["Ada"]).student == "Ada"  # the old PINs still work
    assert run_app(settings, "roster", "Cy") == 0
    assert "Moved" not in capsys.readouterr().out  # once


def test_a_sign_in_holds_while_its_pin_does(settings, auth):
    pin = add_students(roster_path(settings), ["Ada"])["Ada"]
    result = auth.sign_in("Ada", pin)
    assert auth.still_valid(result.actor, result.credential)
    add_students(roster_path(settings), ["Ada"])  # a new PIN
    assert not auth.still_valid(result.actor, result.credential)
