"""The real app process, from outside, as a school's IT person meets it: killed with SIGKILL in the
middle of a tutor reply, its disk refusing writes and then recovering, and the files it leaves.

``scripted_app`` starts ``launch`` (what ``python app.py`` runs) in a child process with a scripted
model that streams slowly; ``python app.py`` itself runs for the file modes, with the default model.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tutor_app.dialogue.phrases import phrase
from tutor_app.tutoring.streamed_reply import FLUSH_CHARS

from app_process_support import started_app
from ui_harness import UNIT_ID, free_port, write_curricula

REPO = Path(__file__).resolve().parent.parent
SENTENCE = "Think about what each side of the equation tells you, one part at a time. "
LAUNCHER = f"""
import sys
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.settings import Settings
from tutor_app.ui.launch import launch

model = ScriptedBackend(default_reply={SENTENCE * 12!r}, chunk_size=4, delay_s=0.05)
sys.exit(launch(Settings(), model=model))
"""


class AppProcess:
    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]) -> None:
        self.proc, self.url, self.lines = proc, url, lines

    def output(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def app_process(root: Path, command: list[str], env: dict[str, str]) -> Iterator[AppProcess]:
    port = free_port()
    env = {"TUTOR_CURRICULA": str(write_curricula(root)), "TUTOR_DATA_DIR": str(root / "data"),
           "TUTOR_PORT": str(port), "GRADIO_TEMP_DIR": str(root / "gradio"), **env}
    url = f"http://127.0.0.1:{port}/"
    with started_app(command, env, ready=lambda _: answers(url), timeout_s=180) as (proc, lines):
        yield AppProcess(proc, url, lines)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def scripted_app(root: Path):
    return app_process(root, [sys.executable, "-c", LAUNCHER], {"TUTOR_BACKEND": "fake"})


def test_a_reply_cut_by_sigkill_keeps_what_the_student_saw(tmp_path):
    with scripted_app(tmp_path) as app:
        client = Client(app.url, verbose=False)
        session = client.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
        job = client.submit(session, "How do I start?", api_name="/ask_tutor")
        seen, deadline = "", time.monotonic() + 60
        while len(seen) < 4 * FLUSH_CHARS:
            assert time.monotonic() < deadline and not job.done(), f"the reply did not stream: {seen!r}"
            outputs = job.outputs()
            seen = outputs[-1] if outputs else ""
            time.sleep(0.02)
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait(timeout=30)

    with sqlite3.connect(tmp_path / "data" / "tutor.sqlite3") as db:
        rows = db.execute("SELECT role, content, complete FROM tutor_messages WHERE session_id = ? ORDER BY id",
                          (session,)).fetchall()
    assert rows[0] == ("student", "How do I start?", 1)
    role, stored, complete = rows[1]
    assert (role, complete) == ("tutor", 0) and len(rows) == 2
    assert seen.startswith(stored) or stored.startswith(seen)  # the same reply, cut at some point
    assert len(seen) - len(stored) < FLUSH_CHARS, (len(seen), len(stored))  # at most the last few words lost
    assert len(stored) < len(SENTENCE * 12)  # it really was cut mid-stream


def test_every_acknowledged_answer_survives_sigkill(tmp_path):
    acknowledged: dict[str, int] = {}
    with scripted_app(tmp_path) as app:
        def student(n: int) -> None:
            client = Client(app.url, verbose=False)
            session = client.predict(f"Student {n}", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
            acknowledged[session] = 0
            while True:
                try:  # a misconception: the step stays, so the same answer can be sent again and again
                    client.predict(session, "2x = 14", api_name="/submit_answer")
                except Exception:
                    return  # the server is gone
                acknowledged[session] += 1

        students = [threading.Thread(target=student, args=(n,), daemon=True) for n in range(4)]
        for thread in students:
            thread.start()
        deadline = time.monotonic() + 120
        while sum(acknowledged.values()) < 40:
            assert time.monotonic() < deadline, acknowledged
            time.sleep(0.05)
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait(timeout=30)
        for thread in students:
            thread.join(timeout=60)

    with sqlite3.connect(tmp_path / "data" / "tutor.sqlite3") as db:
        stored = dict(db.execute("SELECT session_id, count(*) FROM attempts GROUP BY session_id").fetchall())
    for session, count in acknowledged.items():
        assert stored.get(session, 0) >= count, (session, stored.get(session), count)  # none acknowledged was lost


def test_a_disk_that_refuses_writes_loses_nothing_silently_and_recovers_without_restart(tmp_path):
    with scripted_app(tmp_path) as app:
        client = Client(app.url, verbose=False)
        session = client.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
        assert client.predict(session, "2x = 14", api_name="/submit_answer")["verdict"] == "misconception"

        _, hard = resource.prlimit(app.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(app.proc.pid, resource.RLIMIT_FSIZE, (1, hard))  # no file of the app may grow
        try:
            with pytest.raises(AppError) as caught:
                client.predict(session, "2x = 8", api_name="/submit_answer")
        finally:
            resource.prlimit(app.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))  # the disk is fixed
        message = str(caught.value)
        assert message.startswith("Your answer was not saved") and "try again" in message

        again = client.predict(session, "2x = 8", api_name="/submit_answer")  # the same process, no restart
        assert again["verdict"] == "correct"
        state = client.predict(session, api_name="/session_state")
        assert [a["answer"] for a in state["attempts"]] == ["2x = 14", "2x = 8"]
        log = app.output()
        assert re.search(r"the database cannot store anything: the disk could not be read or written", log), log
        assert "the database stores again" in log


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


NOT_THE_MODEL = (phrase("model_unavailable", "en"), phrase("model_restarted", "en"), "")


@pytest.mark.model
def test_the_data_folder_and_every_file_in_it_are_owner_only(tmp_path):
    env = {"TUTOR_CURRICULA": str(write_curricula(tmp_path)), "TUTOR_DATA_DIR": str(tmp_path / "data")}
    roster = subprocess.run([sys.executable, "app.py", "roster", "Ana", "Ben"], cwd=REPO,
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert roster.returncode == 0, roster.stderr
    pins = dict(re.findall(r"^(Ana|Ben)\s+(\d{6})", roster.stdout, re.MULTILINE))
    # One slot: Ben's question moves Ana's KV state out of the model, to disk (2 MB of RAM).
    command = [sys.executable, "app.py", "--require-login", "--kv-cache-mb", "2", "--parallel", "1"]
    with app_process(tmp_path, command, {}) as app:
        for name in ("Ana", "Ben"):
            student = Client(app.url, auth=(name, pins[name]), verbose=False)
            session = student.predict(name, UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
            student.predict(session, "2x = 14", api_name="/submit_answer")
            deadline = time.monotonic() + 240  # the model worker loads while the app already answers
            while (reply := student.predict(session, "What should I do first?", api_name="/ask_tutor")) in NOT_THE_MODEL:
                assert time.monotonic() < deadline, f"the model never answered: {reply!r}\n" + "\n".join(app.lines)
                time.sleep(1)
        data = tmp_path / "data"
        found = modes(data)
        for name in ("tutor.sqlite3", "tutor.sqlite3-wal", "tutor.sqlite3-shm", "roster.yaml"):
            assert name in found, sorted(found)
        assert any(name.endswith(".kv") for name in found), sorted(found)  # a spilled KV state
        loose = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
        assert loose == {}, loose  # nobody but the tutor's own account can read children's data
        assert found["."] == 0o700 and found["tutor.sqlite3"] == 0o600
