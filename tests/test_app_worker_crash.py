"""Proof with real processes (issue 10): ``python app.py`` with the default model in its worker.

The app is started as a school starts it, in a child process whose imports are watched: any
attempt to import ``llama_cpp`` there is written to a file and refused. Through gradio_client,
a student works a problem and chats with the tutor; then the worker is made to crash for real
(a NULL dereference after a few streamed pieces, armed by the test hooks) in the middle of a
reply. The app must stay up, tell the student the tutor restarted, keep what was shown, answer
answer checks and hints at once while the worker restarts, answer the next question from the
new worker, and keep every attempt stored before the crash.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tutor_app.dialogue.phrases import phrase
from tutor_app.runtime.worker_hooks import ARM_FILE
from tutor_app.storage.database import Database
from tutor_app.tutoring.store import TutoringStore

from ui_harness import UNIT_ID, free_port, write_curricula

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parent.parent
UNAVAILABLE = phrase("model_unavailable", "en")
RESTARTED = phrase("model_restarted", "en")

# Run app.py with an import hook that records and refuses any import of llama_cpp.
WATCHED_START = """
import runpy, sys, traceback
marker = sys.argv.pop(1)

class RefuseLlamaCpp:
    def find_spec(self, name, path=None, target=None):
        if name == "llama_cpp" or name.startswith("llama_cpp."):
            with open(marker, "a") as f:
                f.write(name + "\\n" + "".join(traceback.format_stack()) + "\\n")
            raise ImportError("the web app's process must not import llama_cpp")
        return None

sys.meta_path.insert(0, RefuseLlamaCpp())
sys.argv[0] = "app.py"
runpy.run_path("app.py", run_name="__main__")
"""


class RunningApp:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.marker = root / "llama_cpp-imports.txt"
        self.data = root / "data"
        env = {**os.environ, "TUTOR_WORKER_TEST_HOOKS": "1", "TUTOR_DATA_DIR": str(self.data),
               "TUTOR_N_CTX": "1024", "TUTOR_DB_URL": f"sqlite:///{root / 'tutor.sqlite3'}"}
        cmd = [sys.executable, "-c", WATCHED_START, str(self.marker), "--curricula", str(write_curricula(root)),
               "--port", str(self.port)]
        self.process = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_until_serving(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"the app never answered:\n{self.output()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    running = RunningApp(tmp_path_factory.mktemp("crash-app"))
    try:
        running.wait_until_serving()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def wait_for_the_model(client: Client, timeout_s: float = 240) -> str:
    """Ask in a new session each time until the tutor's model answers (while it loads, or
    restarts, the app answers with its fallback sentence). A new student each time: the tiny
    model readily repeats a fallback sentence that is already in a conversation's history."""
    deadline = time.monotonic() + timeout_s
    for attempt in itertools.count():
        sid = client.predict(f"Probe {attempt}", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
        reply = client.predict(sid, "How do I start?", api_name="/ask_tutor")
        if reply not in (UNAVAILABLE, RESTARTED) and reply.strip():
            return reply
        assert time.monotonic() < deadline, f"the tutor never answered: {reply!r}"
        time.sleep(1)


def last_tutor_message(app, session_id: str):
    db = Database(f"sqlite:///{app.root / 'tutor.sqlite3'}")
    try:
        return [m for m in TutoringStore(db).messages(session_id=session_id) if m.role == "tutor"][-1]
    finally:
        db.close()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_the_app_listens_at_once_and_its_process_never_loads_llama_cpp(app, client):
    started = next(line for line in app.lines if line.startswith("tutor_app on "))
    assert "starting in the model worker" in started  # the page was up before the model
    assert wait_for_the_model(client).strip()
    assert any(line.startswith("model: SmolLM2") and "CPU extra buffers" in line for line in app.lines)
    assert not app.marker.exists(), app.marker.read_text()
    maps = Path(f"/proc/{app.process.pid}/maps").read_text()
    assert "libllama" not in maps and "libggml" not in maps  # not even loaded as a library


def test_a_worker_crash_mid_reply_costs_one_reply_and_nothing_stored(app, client):
    sid = client.predict("Ben", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
    assert client.predict(sid, "2x = 14", api_name="/submit_answer")["verdict"] == "misconception"
    assert client.predict(sid, "2x = 8", api_name="/submit_answer")["verdict"] == "correct"
    wait_for_the_model(client)
    assert client.predict(sid, "What do I do now?", api_name="/ask_tutor").strip()
    assert last_tutor_message(app, sid).completion_tokens  # written by the model, with its usage

    (app.data / ARM_FILE).write_text("4")  # the next streamed reply crashes after 4 pieces
    cut = client.predict(sid, "Tell me a long story about dividing.", api_name="/ask_tutor")
    assert cut.endswith(RESTARTED) and len(cut) > len(RESTARTED) + 2  # the part shown, then the notice
    assert "Traceback" not in cut and "SIGSEGV" not in cut
    assert app.process.poll() is None  # the app is still up

    # Checking and hints answer at once while the worker restarts.
    (hint, hint_s) = timed(lambda: client.predict(sid, api_name="/request_hint"))
    (checked, check_s) = timed(lambda: client.predict(sid, "x = 6", api_name="/submit_answer"))
    assert hint["level"] == 1 and checked["verdict"] == "misconception"
    assert hint_s < 10 and check_s < 10  # seconds at most on a busy machine, not a model load

    # The next question is answered by the restarted worker.
    wait_for_the_model(client)
    assert client.predict(sid, "Can you say that again?", api_name="/ask_tutor").strip()
    answered = last_tutor_message(app, sid)
    assert answered.complete and answered.completion_tokens  # the model's reply, not a fallback sentence
    assert "killed by SIGSEGV" in app.output()  # the app logged the crash

    # Nothing stored before the crash is lost; the cut reply is stored as the student saw it.
    state = client.predict(sid, api_name="/session_state")
    assert [a["answer"] for a in state["attempts"]] == ["2x = 14", "2x = 8", "x = 6"]
    db = Database(f"sqlite:///{app.root / 'tutor.sqlite3'}")
    try:
        store = TutoringStore(db)
        assert [a.answer for a in store.attempts(session_id=sid)] == ["2x = 14", "2x = 8", "x = 6"]
        tutor_lines = [m for m in store.messages(session_id=sid) if m.role == "tutor"]
        assert any(m.content == cut for m in tutor_lines)  # what the student saw, notice included
    finally:
        db.close()
    assert not app.marker.exists(), app.marker.read_text()
