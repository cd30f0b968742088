"""A model server that accepts connections and never answers (issue 16): start-up must not wait
for it, each call must fail within its limit, and after a few failures model features must say
"the tutor is unavailable" at once, until a background probe finds the server answering again.

The server here is a real loopback HTTP server that holds every request open ("hang") until it
is told to answer like an OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import pytest
from gradio_client import Client
from pydantic import BaseModel

from tutor_app.bootstrap import create_services
from tutor_app.dialogue.phrases import phrase
from tutor_app.runtime.openai_backend import CallTimeouts, OpenAICompatibleBackend
from tutor_app.runtime.protocol import ModelError, ModelUnavailable
from tutor_app.settings import Settings
from tutor_app.ui.app import create_app
from tutor_app.ui.launch import serve

from ui_harness import UNIT_ID, free_port, write_curricula

REPLY = "What operation undoes adding three?"


class Diagnosis(BaseModel):
    misconception: Literal["added-instead-of-subtracted", "none"]


class HangingServer(ThreadingHTTPServer):
    """Holds every request open while ``hang`` is set; otherwise serves one model and a fixed reply."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hang = threading.Event()
        self.hang.set()
        self.released = threading.Event()
        self.open_requests = 0
        self.seen = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def answer_from_now_on(self) -> None:
        self.hang.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _hold_while_hanging(self) -> bool:
        with self.server.lock:
            self.server.seen += 1
            self.server.open_requests += 1
        try:
            while self.server.hang.is_set() and not self.server.released.wait(0.05):
                pass
            return not self.server.hang.is_set()
        finally:
            with self.server.lock:
                self.server.open_requests -= 1

    def do_GET(self) -> None:
        if not self._hold_while_hanging():
            return
        self._send(200, {"object": "list", "data": [{"id": "stand-in", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self._hold_while_hanging():
            return
        text = json.dumps({"misconception": "none"}) if body.get("response_format") else REPLY
        events = [{"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
                  {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}]
        data = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def hanging():
    server = HangingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.released.set()
    server.shutdown()
    server.server_close()


def ask(text: str = "How do I start?") -> list[dict]:
    return [{"role": "user", "content": text}]


SHORT = CallTimeouts(connect_s=1.0, first_token_s=1.0, total_s=4.0, batch_s=3.0)


def elapsed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_each_call_fails_within_its_first_token_limit(hanging):
    backend = OpenAICompatibleBackend(hanging.url, "stand-in", timeouts=SHORT, failures_to_open=10)
    try:
        def chat():
            with pytest.raises(ModelError, match="did not answer within 1 s"):
                list(backend.stream_chat(ask()))

        def decision():
            with pytest.raises(ModelError, match="did not answer within 1 s"):
                backend.generate_json(ask(), Diagnosis)

        def batch():
            with pytest.raises(ModelError, match="did not answer within 3 s"):
                list(backend.stream_chat(ask(), priority="batch"))

        # the old default waited 120 s per call; these limits are the settings' short ones
        assert elapsed(chat) < 8 and elapsed(decision) < 8
        assert 2.5 < elapsed(batch) < 12  # batch work gets its own, longer limit
    finally:
        backend.close()


def test_after_failures_calls_fail_at_once_until_the_server_answers_again(hanging):
    backend = OpenAICompatibleBackend(hanging.url, "stand-in", timeouts=SHORT, failures_to_open=2)
    backend.breaker.first_pause_s = 0.2
    try:
        for _ in range(2):
            with pytest.raises(ModelError):
                list(backend.stream_chat(ask()))
        info = backend.info
        assert not info.available and "The tutor is unavailable" in info.problem
        seen = hanging.seen

        def refused_at_once():
            with pytest.raises(ModelUnavailable, match="The tutor is unavailable"):
                list(backend.stream_chat(ask()))
            with pytest.raises(ModelUnavailable):
                backend.generate_json(ask(), Diagnosis)

        assert elapsed(refused_at_once) < 0.5  # no request was even sent for these
        hanging.answer_from_now_on()
        deadline = time.monotonic() + 30
        while not backend.info.available and time.monotonic() < deadline:
            time.sleep(0.1)
        assert backend.info.available and hanging.seen > seen  # the background probe closed the breaker
        assert "".join(backend.stream_chat(ask())) == REPLY
    finally:
        backend.close()


# the app -----------------------------------------------------------------------------------
def app_settings(root, server: HangingServer, **timeouts) -> Settings:
    return Settings(curricula=write_curricula(root), data_dir=root / "data", db_url=f"sqlite:///{root / 'db.sqlite3'}",
                    backend="openai", base_url=server.url, model="stand-in", **timeouts)


def test_start_up_listens_at_once_while_the_model_check_is_still_waiting(hanging, tmp_path):
    # A check that may take 30 s (the old code waited 120 s before listening).
    services = create_services(app_settings(tmp_path, hanging, model_first_token_timeout_s=30.0))
    demo = create_app(services)
    try:
        url = serve(demo, host="127.0.0.1", port=free_port(), block=False, quiet=True)
        session = Client(url, verbose=False).predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")
        assert session["step_id"] == "isolate"
        # the page served a student while the server still had not answered the start-up check
        assert not services.model.backend.wait_checked(0) and hanging.open_requests >= 1
    finally:
        hanging.released.set()
        demo.close()
        services.close()


def test_a_server_that_starts_hanging_costs_students_one_short_wait_then_nothing(hanging, tmp_path):
    """The probe's case: a background classification hung, and the tutor reply waited behind it
    for minutes. Now each waits at most its first-token limit, and then the breaker is open."""
    hanging.answer_from_now_on()
    services = create_services(app_settings(tmp_path, hanging, model_connect_timeout_s=1.0,
                                            model_first_token_timeout_s=6.0, model_total_timeout_s=20.0,
                                            model_failures_to_open=2))
    assert services.model.backend.wait_checked(20) and services.model.info.available
    demo = create_app(services)
    try:
        url = serve(demo, host="127.0.0.1", port=free_port(), block=False, quiet=True)
        client = Client(url, verbose=False)
        sid = client.predict("Ana", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
        hanging.hang.set()  # from now on the server accepts and never answers
        # An unexpected wrong answer asks the model to classify it: the student gets the checker's
        # feedback after the 5 s budget, while the classification call still hangs.
        submitted = client.predict(sid, "2x = 3", api_name="/submit_answer")
        assert submitted["verdict"] == "incorrect"
        started = time.monotonic()
        reply = client.predict(sid, "Where do I start?", api_name="/ask_tutor")
        assert time.monotonic() - started < 20  # it waited 235 s before; now at most two 6 s limits
        assert reply in (phrase("model_failed", "en"), phrase("model_unavailable", "en"))
        # Two failures in a row: "the tutor is unavailable" comes at once from now on...
        assert not services.model.info.available
        assert elapsed(lambda: client.predict(sid, "And now?", api_name="/ask_tutor")) < 5
        assert client.predict(sid, "And now?", api_name="/ask_tutor") == phrase("model_unavailable", "en")
        # ...and everything that needs no model answers as always.
        assert client.predict(sid, "2x = 8", api_name="/submit_answer")["verdict"] == "correct"
        assert client.predict(sid, api_name="/request_hint")["level"] == 1
    finally:
        hanging.released.set()
        demo.close()
        services.close()
