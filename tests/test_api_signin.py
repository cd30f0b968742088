"""The sign-in door of the running app, over real HTTP: sign-ins that end (a new PIN, a student
taken off the roster, age), floods of names, bad logins that must not stall the class, and the
teacher who must not be locked out by someone else's guesses.

Client addresses are real: the server listens on 127.0.0.1 and a client may connect from another
loopback address (``127.0.0.2``...). Where a test needs hundreds of addresses it says so with
``X-Forwarded-For``, which the server takes from loopback only (uvicorn's default: a reverse
proxy on the same machine)."""

from __future__ import annotations

import base64
import json
import statistics
import threading
import time

import httpx
import pytest
from gradio_client import Client

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.roster import add_students, load_roster, roster_path, save_roster
from tutor_app.service.throttle import ADDRESS_BURST, MAX_FAILURES, NAME_ALARM, SignInThrottle
from tutor_app.ui.auth import SCHOOL_DAY_S

from ui_harness import TEACHER_PASSWORD, UNIT_ID, running_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path, clock):
    with running_app(tmp_path, ScriptedBackend(), require_login=True, students=["Ana", "Ben", "Zoë Müller"],
                     clock=clock) as (running, pins):
        yield running, pins


def post_login(url: str, name: str, secret: str, *, source: str | None = None, forwarded: str | None = None,
               content: bytes | None = None) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with httpx.Client(transport=transport, timeout=60) as http:
        if content is not None:
            return http.post(url + "login", content=content, headers={
                **headers, "Content-Type": "application/x-www-form-urlencoded"})
        return http.post(url + "login", data={"username": name, "password": secret}, headers=headers)


def wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


# ending a sign-in -----------------------------------------------------------------------
def test_a_new_pin_ends_the_old_sign_in_at_the_next_request(app):
    running, pins = app
    ana = Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)
    session = ana.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
    assert ana.predict(session, "2x = 14", api_name="/submit_answer")["verdict"] == "misconception"

    new_pin = add_students(roster_path(running.services.settings), ["Ana"])["Ana"]  # python app.py roster Ana

    for call in (lambda: ana.predict(session, api_name="/session_state"),
                 lambda: ana.predict(session, "2x = 8", api_name="/submit_answer"),
                 lambda: ana.predict("Ana", UNIT_ID, "", api_name="/start_session")):
        with pytest.raises(Exception):
            call()
    page = httpx.get(running.url, cookies=ana.cookies, timeout=30)
    assert "Sign in" in page.text and "PIN" in page.text  # the old cookie gets the sign-in page
    again = Client(running.url, auth=("Ana", new_pin), verbose=False)
    state = again.predict(session, api_name="/session_state")
    assert [a["answer"] for a in state["attempts"]] == ["2x = 14"]  # nothing went in with the old sign-in


def test_a_student_taken_off_the_roster_is_signed_out_at_once(app):
    running, pins = app
    ben = Client(running.url, auth=("Ben", pins["Ben"]), verbose=False)
    assert ben.predict("Ben", UNIT_ID, "", api_name="/start_session")["session_id"]
    path = roster_path(running.services.settings)
    save_roster(path, [e for e in load_roster(path) if e.name != "Ben"])  # the teacher deletes Ben's line
    with pytest.raises(Exception):
        ben.predict("Ben", UNIT_ID, "", api_name="/start_session")
    assert post_login(running.url, "Ben", pins["Ben"]).status_code == 401


def test_a_sign_in_lasts_a_school_day(app, clock):
    running, pins = app
    ana = Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)
    clock.now += SCHOOL_DAY_S - 60
    assert ana.predict("Ana", UNIT_ID, "", api_name="/start_session")["session_id"]
    clock.now += 120
    with pytest.raises(Exception):
        ana.predict("Ana", UNIT_ID, "", api_name="/start_session")
    assert Client(running.url, auth=("Ana", pins["Ana"]), verbose=False).predict(
        "Ana", UNIT_ID, "", api_name="/start_session")["session_id"]  # signing in again works


# the page and the names -----------------------------------------------------------------
def test_the_sign_in_page_says_what_to_type_and_refusals_are_plain(app):
    running, pins = app
    page = httpx.get(running.url, timeout=30)
    assert page.status_code == 200
    for words in ("Step-by-step tutor", "Students:", "6-digit PIN", "Teacher:", "teacher", "Sign in"):
        assert words in page.text
    refused = post_login(running.url, "Ana", wrong(pins["Ana"]))
    assert refused.status_code == 401 and "do not match" in refused.json()["detail"]
    assert "Incorrect" not in refused.text


def test_names_match_without_accents_and_capitals(app):
    running, pins = app
    zoe = Client(running.url, auth=("zoe  muller", pins["Zoë Müller"]), verbose=False)
    started = zoe.predict("Zoë Müller", UNIT_ID, "", api_name="/start_session")
    state = zoe.predict(started["session_id"], api_name="/session_state")
    assert state["student"] == "Zoë Müller"  # stored as the roster spells it


# floods ----------------------------------------------------------------------------------
def test_huge_names_are_refused_at_the_door_and_the_counters_stay_bounded(app):
    running, pins = app
    auth = running.services.auth
    auth.throttle = SignInThrottle(max_entries=40)  # small, so the test can overflow it
    megabyte = b"username=" + b"x" * 2**20 + b"&password=123456"
    for _ in range(10):
        response = post_login(running.url, "", "", content=megabyte)
        assert response.status_code == 413 and "too long" in response.json()["detail"]
    assert auth.throttle.sizes() == {"pairs": 0, "names": 0, "addresses": 0}  # not even counted
    too_long = post_login(running.url, "y" * 81, "123456")
    assert too_long.status_code == 400 and "at most 80 characters" in too_long.json()["detail"]

    # 120 made-up names from 120 addresses: each is checked and counted, the counters keep 40.
    statuses = set()
    for i in range(120):
        statuses.add(post_login(running.url, f"intruder {i}", "123456", forwarded=f"10.0.{i // 200}.{i % 200}")
                     .status_code)
    assert statuses == {401}
    assert all(size <= 40 for size in auth.throttle.sizes().values()), auth.throttle.sizes()
    assert Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)  # the class still signs in


def test_bad_logins_are_checked_off_the_event_loop_and_limited_per_address(app, clock):
    running, pins = app
    auth = running.services.auth
    auth.throttle = SignInThrottle(clock=clock)  # time stands still: no try is refilled during the flood
    loop_threads, check_threads = set(), []
    screen, verify = auth.screen, auth.verify

    def screened(*args, **kwargs):
        loop_threads.add(threading.get_ident())  # the gate screens on the server's event loop
        return screen(*args, **kwargs)

    def verified(*args, **kwargs):
        check_threads.append(threading.get_ident())
        return verify(*args, **kwargs)

    auth.screen, auth.verify = screened, verified
    ana = Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)
    session = ana.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
    check_threads.clear()

    statuses: list[int] = []

    def flood(source: str) -> None:  # a new name each time: no lockout per name helps here
        for i in range(ADDRESS_BURST + 25):
            statuses.append(post_login(running.url, f"guess {source} {i}", "123456", source=source).status_code)

    attackers = [threading.Thread(target=flood, args=(f"127.0.0.{n}",)) for n in (2, 3, 4)]
    latencies = []
    for attacker in attackers:
        attacker.start()
    while any(a.is_alive() for a in attackers):
        start = time.perf_counter()
        ana.predict(session, api_name="/session_state")
        latencies.append(time.perf_counter() - start)
    for attacker in attackers:
        attacker.join()

    assert len(loop_threads) == 1
    assert check_threads and loop_threads.isdisjoint(check_threads)  # no secret was hashed on the loop
    assert statuses.count(429) == 3 * 25  # beyond its burst each address waits, unchecked
    assert len(check_threads) == 3 * ADDRESS_BURST
    print(f"\nsigned-in student's session_state during the flood: p50 {statistics.median(latencies):.3f} s "
          f"over {len(latencies)} calls; {len(check_threads)} secrets checked of {len(statuses)} tries")


# lockout ---------------------------------------------------------------------------------
def test_guessing_from_one_computer_does_not_lock_the_teacher_out_of_another(app):
    running, _ = app
    for _ in range(MAX_FAILURES):
        assert post_login(running.url, "teacher", "not-the-password", source="127.0.0.2").status_code == 401
    locked = post_login(running.url, "teacher", TEACHER_PASSWORD, source="127.0.0.2")
    assert locked.status_code == 429 and "from this computer" in locked.json()["detail"]
    assert int(locked.headers["Retry-After"]) > 0
    teacher = Client(running.url, auth=("teacher", TEACHER_PASSWORD), verbose=False)  # from 127.0.0.1
    assert teacher.predict("Ana", UNIT_ID, "", api_name="/start_session")["session_id"]


def test_a_name_under_attack_from_many_computers_still_lets_the_right_secret_in(app):
    running, _ = app
    sources = [f"127.0.1.{n}" for n in range(1, NAME_ALARM // MAX_FAILURES + 2)]
    for source in sources:
        for _ in range(MAX_FAILURES):
            post_login(running.url, "teacher", "not-the-password", source=source)
    # The name is under attack: a computer that failed waits even after its own lockout ends ...
    assert post_login(running.url, "teacher", TEACHER_PASSWORD, source=sources[0]).status_code == 429
    # ... a new one gets a single wrong try ...
    assert post_login(running.url, "teacher", "not-the-password", source="127.0.2.1").status_code == 401
    assert post_login(running.url, "teacher", TEACHER_PASSWORD, source="127.0.2.1").status_code == 429
    # ... and the teacher at a computer that never failed signs in.
    assert post_login(running.url, "teacher", TEACHER_PASSWORD, source="127.0.3.1").status_code == 200


# what the probe confirmed, kept under test ---------------------------------------------------
TEACHER_MODULES = {f"tutor_app.ui.{name}" for name in (
    "teacher_view", "class_overview", "transcript_panel", "curricula_panel", "model_panel", "download_panel",
    "exports_panel", "grading_panel", "review_panel", "agreement_panel", "practice_panel", "drafts_panel",
    "student_sheets_panel")}


def unchanged(value) -> bool:
    """An output the page leaves as it was (``gr.skip()``)."""
    return value is None or isinstance(value, dict) and value.get("__type__") == "update" and set(
        value.get("props", {})) <= {"__type__"} and set(value) <= {"__type__", "props"}


def test_without_a_sign_in_every_route_that_does_something_answers_401(app):
    running, _ = app
    with httpx.Client(timeout=30) as http:
        assert http.get(running.url + "config").status_code == 401
        assert http.get(running.url + "gradio_api/info").status_code == 401
        assert http.post(running.url + "gradio_api/call/start_session", json={"data": ["Ana", UNIT_ID, ""]}
                         ).status_code == 401
        assert http.post(running.url + "gradio_api/queue/join", json={"data": [], "fn_index": 0,
                                                                       "session_hash": "x"}).status_code == 401
        assert http.post(running.url + "gradio_api/upload", files=[("files", ("a.csv", b"x"))]).status_code == 401


def test_every_teacher_handler_refuses_a_student_through_the_queue(app):
    """The page's own events are callable by anyone who reads the page's config; a student who calls
    a teacher's event by its index gets the refusal and no data."""
    running, pins = app
    ana = Client(running.url, auth=("Ana", pins["Ana"]), verbose=False)
    teacher_events = {}
    for index, block_fn in running.demo.fns.items():
        handler = getattr(block_fn.fn, "text_guarded", block_fn.fn)
        original = getattr(handler, "__wrapped__", None)
        if original is not None and original.__module__ in TEACHER_MODULES and block_fn.queue is not False:
            teacher_events[index] = (original.__name__, len(block_fn.inputs))
    assert len(teacher_events) >= 34

    session_hash = "probe-session"
    with httpx.Client(cookies=ana.cookies, timeout=120) as http:
        joined = {}
        for index, (name, inputs) in teacher_events.items():
            response = http.post(running.url + "gradio_api/queue/join", json={
                "data": [None] * inputs, "fn_index": index, "session_hash": session_hash, "event_data": None,
                "trigger_id": None})
            assert response.status_code == 200, (name, response.text)
            joined[response.json()["event_id"]] = name
        outcomes: dict[str, dict] = {event: {"logs": []} for event in joined}
        with http.stream("GET", running.url + "gradio_api/queue/data", params={"session_hash": session_hash}) as sse:
            for line in sse.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                event = message.get("event_id")
                if event not in outcomes:
                    continue
                if message.get("msg") == "log":
                    outcomes[event]["logs"].append(message.get("log") or message.get("message") or "")
                if message.get("msg") == "process_completed":
                    outcomes[event]["output"] = message.get("output", {})
                    outcomes[event]["success"] = message.get("success")
                    if all("output" in o for o in outcomes.values()):
                        break
    for event, outcome in outcomes.items():
        name = joined[event]
        refused = any("Only the teacher" in log for log in outcome["logs"])
        failed = outcome["success"] is False  # its inputs were refused before the handler ran
        assert refused or failed, (name, outcome)
        shown = [d for d in (outcome["output"] or {}).get("data") or [] if not unchanged(d)]
        assert not shown, (name, shown)  # nothing of the class reached the student


def test_session_ids_are_128_bit_random(app):
    running, _ = app
    teacher = Client(running.url, auth=("teacher", TEACHER_PASSWORD), verbose=False)
    ids = {teacher.predict(f"Student {n}", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
           for n in range(12)}
    assert len(ids) == 12
    assert all(len(base64.urlsafe_b64decode(i + "=" * (-len(i) % 4))) == 16 for i in ids)  # 128 bits each
