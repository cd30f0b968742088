"""Starting the app: the refusal to serve the network without sign-in, the teacher's first-run
password, and ``python app.py`` itself (one line with URL, model and plan; the page answers)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client

from tutor_app.service.errors import TutorError
from tutor_app.ui.auth import SignIn
from tutor_app.ui.launch import ensure_teacher_password, roster_notes, serve

from ui_harness import free_port, write_curricula

REPO = Path(__file__).resolve().parent.parent


def test_serving_the_network_without_sign_in_is_refused():
    demo = gr.Blocks()
    demo.tutor_signin = SignIn(None, required=False)
    with pytest.raises(RuntimeError, match="refusing to listen on 0.0.0.0 without sign-in"):
        serve(demo, host="0.0.0.0", port=free_port(), block=False, quiet=True)


class FirstRunAuth:
    def __init__(self, has: bool = False):
        self.password = "set-before" if has else None

    def has_teacher_password(self):
        return self.password is not None

    def first_run_teacher_password(self):
        self.password = "generated-once"
        return self.password

    def set_teacher_password(self, password, *, current=None):
        if len(password) < 8:
            raise TutorError("The teacher password must have at least 8 characters.")
        self.password = password


def test_without_a_terminal_a_password_is_generated_to_print_once():
    auth = FirstRunAuth()
    assert ensure_teacher_password(auth, interactive=False) == "generated-once"
    assert ensure_teacher_password(auth, interactive=False) is None  # only the first run


def test_in_a_terminal_the_teacher_types_it_twice_until_it_is_good():
    auth = FirstRunAuth()
    typed = iter(["short", "short", "long-enough-1", "typo", "long-enough-1", "long-enough-1"])
    said = []
    assert ensure_teacher_password(auth, interactive=True, ask=lambda _: next(typed), say=said.append) is None
    assert auth.password == "long-enough-1"
    assert any("at least 8 characters" in line for line in said)
    assert any("did not match" in line for line in said)


def test_an_existing_password_is_left_alone():
    auth = FirstRunAuth(has=True)
    assert ensure_teacher_password(auth, interactive=True, ask=lambda _: pytest.fail("asked"), say=print) is None
    assert auth.password == "set-before"


class Roster:
    def __init__(self, names, problem=None):
        self.names, self.roster_problem = names, problem

    def roster(self):
        return self.names


def test_start_up_says_when_students_cannot_sign_in_yet():
    assert any("--generate-roster" in n for n in roster_notes(Roster([])))
    assert roster_notes(Roster(["Ana"])) == []
    assert any("roster.yaml:3" in n for n in roster_notes(Roster(["Ana"], problem="roster.yaml:3: not valid YAML")))


def start_app_py(tmp_path: Path, port: int, *extra: str, until: str) -> tuple[subprocess.Popen, list[str]]:
    """``python app.py`` on a fresh port; its output lines up to the one starting with ``until``."""
    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "app.py", "--curricula", str(tmp_path / "curricula"), "--port", str(port),
           "--backend", "none", *extra]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    printed: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [printed.put(line) for line in proc.stdout] and None, daemon=True).start()
    lines = []
    deadline = time.monotonic() + 120
    while not any(line.startswith(until) for line in lines):  # a line that never comes fails, not hangs
        try:
            lines.append(printed.get(timeout=max(0.1, deadline - time.monotonic())).strip())
        except queue.Empty:
            break
    return proc, lines


def wait_for_page(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the page never answered"
        time.sleep(0.5)


def test_python_app_py_starts_the_tutor(tmp_path):
    port = free_port()
    write_curricula(tmp_path)
    proc, lines = start_app_py(tmp_path, port, "--require-login", until="No students")
    try:
        started = next((line for line in lines if line.startswith("tutor_app on ")), None)
        assert started, "\n".join(lines)
        assert f"http://127.0.0.1:{port}" in started and "sign-in required" in started and "model:" in started
        password = next(line for line in lines if line.startswith("Teacher sign-in")).split("password '")[1].split("'")[0]

        url = f"http://127.0.0.1:{port}/"
        wait_for_page(url)
        teacher = Client(url, auth=("teacher", password), verbose=False)
        started_session = teacher.predict("Ana", "equations-test", "two-step-1", api_name="/start_session")
        assert started_session["step_id"] == "isolate"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_after_a_restart_a_broken_unit_is_still_served_and_every_error_is_printed(tmp_path):
    """Item 11 of the walk-through: the last good version of a broken unit survives a restart
    (it is kept in the data folder), and start-up prints each curriculum error with its line."""
    from tutor_app.bootstrap import create_services
    from tutor_app.runtime.unavailable import UnavailableBackend
    from tutor_app.settings import Settings

    curricula = write_curricula(tmp_path)
    earlier = create_services(Settings(curricula=curricula, data_dir=tmp_path / "data"),
                              model=UnavailableBackend("not needed"))  # the run before the teacher's edit
    earlier.close()
    unit = curricula / "equations.yaml"
    unit.write_text(unit.read_text(encoding="utf-8").replace("title: Two-step equations",
                                                             'title: "Two-step equations'), encoding="utf-8")
    (curricula / "typo.yaml").write_text("id: typo\ntitle: Typo\nproblems: [\n", encoding="utf-8")

    port = free_port()
    proc, lines = start_app_py(tmp_path, port, until="Students keep the last good version")
    try:
        printed = "\n".join(lines)
        assert "curricula: 2 files, 0 valid, 2 with errors (still serving the last good version of: " \
               "equations-test)" in printed
        assert "equations.yaml:2: YAML syntax error: the text in double quotes that starts on this line" in printed
        assert "typo.yaml:3: YAML syntax error: a [ opened on this line is never closed" in printed
        url = f"http://127.0.0.1:{port}/"
        wait_for_page(url)
        started = Client(url, verbose=False).predict("Ana", "equations-test", "two-step-1", api_name="/start_session")
        assert started["step_prompt"].startswith("Subtract 3")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
