"""The OpenAI-compatible backend against a real server: ``python -m llama_cpp.server`` serving
the default model on loopback, started here (not a mock)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import httpx
import pytest
from pydantic import BaseModel, Field

from tutor_app.runtime.loading import load_backend
from tutor_app.runtime.openai_backend import OpenAICompatibleBackend, _json_block, normalise_base_url
from tutor_app.runtime.protocol import ModelBackend, ModelError
from tutor_app.runtime.queue import ModelQueue
from tutor_app.settings import Settings


class Diagnosis(BaseModel):
    misconception: Literal["sign_error", "distributed_wrong", "none"]
    feedback: str = Field(max_length=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "wb") as out:
        # The server loads its model as the app does: no CPU extra buffers where they crash.
        start = ("import runpy, sys; from tutor_app.runtime.cpu_features import apply_extra_buffers; "
                 "apply_extra_buffers(); sys.argv[0] = 'llama_cpp.server'; "
                 "runpy.run_module('llama_cpp.server', run_name='__main__')")
        proc = subprocess.Popen([sys.executable, "-c", start, "--model", str(smollm2_path),
                                 "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024",
                                 # it serves one request at a time; by default a second request cuts
                                 # the stream of the first, which parallel calls must not suffer
                                 "--interrupt_requests", "False"],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not come up: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def remote(server):
    backend = OpenAICompatibleBackend(server)
    assert backend.probe() is None
    yield backend
    backend.close()


def ask(text: str) -> list[dict]:
    return [{"role": "system", "content": "You are a patient math tutor."}, {"role": "user", "content": text}]


@pytest.mark.model
def test_streams_pieces(remote):
    assert isinstance(remote, ModelBackend) and remote.info.backend == "openai"
    assert remote.model.endswith(".gguf")  # picked from /v1/models
    pieces = list(remote.stream_chat(ask("How do I solve 2x + 3 = 11?"), max_tokens=24, temperature=0))
    assert len(pieces) > 3 and "".join(pieces).strip()
    stats = remote.last_stats
    assert 0 < stats.completion_tokens <= 24 and 0 < stats.time_to_first_token_s <= stats.total_s


@pytest.mark.model
def test_cancel_stops_the_stream(remote):
    cancel = threading.Event()
    pieces = []
    for piece in remote.stream_chat(ask("Tell a long story about numbers."), max_tokens=200, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()
    assert len(pieces) == 2


@pytest.mark.model
@pytest.mark.parametrize("temperature", [0.0, 1.0, 1.5])
def test_json_schema_output_validates(remote, temperature):
    for prompt in ("The student wrote 2x = 14 for 2x + 3 = 11. Which misconception? Explain at length.",
                   "Classify: 3(x+2) = 3x + 2."):
        result = remote.generate_json(ask(prompt), Diagnosis, temperature=temperature, max_tokens=96)
        assert isinstance(result, Diagnosis) and len(result.feedback) <= 30
    # llama_cpp.server refuses {"type": "json_schema"} and takes {"type": "json_object", "schema": ...}
    assert remote.info.detail["json_mode"] == "json_object"


@pytest.mark.model
def test_load_backend_picks_the_served_model(server, tmp_path):
    backend = load_backend(Settings(backend="openai", base_url=server.removesuffix("/v1"), data_dir=tmp_path))
    try:
        assert isinstance(backend, OpenAICompatibleBackend) and backend.base_url == server
        assert backend.info.name.endswith(".gguf")
    finally:
        backend.close()


def test_unreachable_server_gives_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAICompatibleBackend(url, "some-model", timeout_s=5)
    with pytest.raises(ModelError, match=f"cannot reach the model server at {url}"):
        list(backend.stream_chat(ask("hi")))
    with pytest.raises(ModelError, match="cannot reach the model server"):
        backend.generate_json(ask("hi"), Diagnosis)
    assert "cannot reach" in backend.probe()


@pytest.mark.parametrize("given, expected", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1"),
    ("127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
    ("https://llm.school.example/api/v1", "https://llm.school.example/api/v1"),
])
def test_base_url_normalised(given, expected):
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize("text", ['{"a": 1}', '```json\n{"a": 1}\n```', 'Sure! {"a": 1} Hope that helps.'])
def test_json_block(text):
    assert _json_block(text) == '{"a": 1}'


# parallel calls -------------------------------------------------------------------------
@pytest.mark.model
def test_parallel_calls_to_a_real_server_all_come_back_whole(server):
    backend = OpenAICompatibleBackend(server, parallel=4)
    results: dict[str, object] = {}

    def chat(i: int) -> None:
        try:
            results[f"chat{i}"] = "".join(backend.stream_chat(ask(f"What is {i} + {i}?"), max_tokens=16, temperature=0))
        except Exception as exc:  # reported below
            results[f"chat{i}"] = exc

    def decide(i: int) -> None:
        try:
            results[f"json{i}"] = backend.generate_json(ask(f"Classify: 3(x+{i}) = 3x + {i}."), Diagnosis,
                                                        max_tokens=96)
        except Exception as exc:  # reported below
            results[f"json{i}"] = exc

    try:
        threads = [threading.Thread(target=f, args=(i,)) for i in range(3) for f in (chat, decide)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        assert len(results) == 6
        for key, value in results.items():
            assert not isinstance(value, Exception), (key, value)
            assert isinstance(value, Diagnosis) if key.startswith("json") else value.strip()
    finally:
        backend.close()


class StandIn(ThreadingHTTPServer):
    """A loopback OpenAI-compatible server that answers after a pause and records how many
    requests it was serving at the same time."""

    daemon_threads = True

    def __init__(self, pause_s: float = 0.3) -> None:
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.pause_s = pause_s
        self.lock = threading.Lock()
        self.serving = 0
        self.most = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class StandInHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _send(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send({"object": "list", "data": [{"id": "stand-in", "object": "model", "owned_by": "test"}]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server: StandIn = self.server
        with server.lock:
            server.serving += 1
            server.requests += 1
            server.most = max(server.most, server.serving)
        try:
            time.sleep(server.pause_s)
            content = '{"misconception": "none", "feedback": "ok"}' if "response_format" in request else "Hello there"
            if request.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in (content[:5], content[5:]):
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "stand-in",
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            self._send({"id": "c", "object": "chat.completion", "created": 0, "model": "stand-in",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
        finally:
            with server.lock:
                server.serving -= 1


@pytest.fixture
def stand_in():
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def many_calls(model, n: int) -> list[object]:
    out: list[object] = []

    def one(i: int) -> None:
        if i % 2:
            out.append(model.generate_json(ask("?"), Diagnosis))
        else:
            out.append("".join(model.stream_chat(ask("hi"))))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


@pytest.mark.parametrize("parallel", [1, 3])
def test_up_to_parallel_calls_go_out_at_once(stand_in, parallel):
    backend = OpenAICompatibleBackend(stand_in.url, "stand-in", parallel=parallel, json_mode="json_schema")
    try:
        out = many_calls(backend, 9)
    finally:
        backend.close()
    assert len(out) == 9 and out.count("Hello there") == 5
    assert stand_in.requests == 9 and stand_in.most == parallel


def test_the_app_queue_sends_parallel_calls_to_a_server(stand_in, tmp_path):
    backend = load_backend(Settings(backend="openai", base_url=stand_in.url, data_dir=tmp_path, parallel=3))
    queue = ModelQueue(backend)
    try:
        assert backend.info.detail["parallel"] == 3 and queue.parallel == 3
        out = many_calls(queue, 8)
    finally:
        queue.close()
    assert len(out) == 8 and stand_in.most == 3
    default = load_backend(Settings(backend="openai", base_url=stand_in.url, data_dir=tmp_path))
    assert default.info.detail["parallel"] == 4
    default.close()
