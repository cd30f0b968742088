"""The model worker's HTTP server, in this process over a scripted backend: the OpenAI protocol as
the app's client speaks it, the token, per-call usage, concurrency and cancel on disconnect.
(The real worker process with the real model: test_runtime_worker.py.)"""

from __future__ import annotations

import json
import threading
import time
from typing import Literal

import httpx
import pytest
from pydantic import BaseModel

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.openai_backend import OpenAICompatibleBackend
from tutor_app.runtime.protocol import GenerationStats, ModelError
from tutor_app.runtime.worker_server import WorkerState, serve_in_background

TOKEN = "secret-token-for-this-start"


class Verdict(BaseModel):
    verdict: Literal["right", "wrong"]
    note: str


class GatedBackend(ScriptedBackend):
    """Streams that wait: until ``gate`` lets them go, or until they are cancelled; each call's
    cancel event is kept so a test can see when the server set it."""

    def __init__(self, gate: threading.Barrier | None = None) -> None:
        super().__init__()
        self.gate = gate
        self.cancels: list[threading.Event] = []
        self.cancelled_at: list[float] = []

    def stream_chat(self, messages, *, cancel=None, on_stats=None, **kw):
        self.cancels.append(cancel)
        if self.gate is not None:
            self.gate.wait(timeout=10)  # breaks (and fails the call) unless two calls are inside at once
            yield from super().stream_chat(messages, cancel=cancel, on_stats=on_stats, **kw)
            return
        while not cancel.wait(0.01):  # a long prompt evaluation: nothing is sent meanwhile
            pass
        self.cancelled_at.append(time.monotonic())
        on_stats(GenerationStats(prompt_tokens=7))


@pytest.fixture
def serve():
    servers = []

    def start(backend) -> str:
        state = WorkerState(TOKEN)
        state.backend = backend
        server = serve_in_background(state)
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client(url: str) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(url, api_key=TOKEN, json_mode="json_schema", extensions=True, timeout_s=10)


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_streams_through_the_openai_client_with_per_call_usage(serve):
    model = ScriptedBackend(chunk_size=3)
    model.enqueue_text("Subtract three from both sides first.")
    remote = client(serve(model))
    usage: list[GenerationStats] = []
    pieces = list(remote.stream_chat(ask("How do I solve 2x + 3 = 11?"), session_key="s-1", priority="batch",
                                     on_stats=usage.append))
    assert "".join(pieces) == "Subtract three from both sides first." and len(pieces) > 3
    assert model.calls[0].session_key == "s-1"  # the extension field reached the backend
    # the backend's own figures for this call, not an estimate from this side of the wire
    assert usage[0].prompt_tokens == 9 and usage[0].completion_tokens == 6 and usage[0].evaluated_tokens == 0


def test_json_schema_decisions_come_back_and_validate(serve):
    model = ScriptedBackend()
    model.enqueue_json({"verdict": "wrong", "note": "sign error"})
    remote = client(serve(model))
    assert remote.generate_json(ask("2x = 14?"), Verdict) == Verdict(verdict="wrong", note="sign error")
    sent = model.calls[0].schema.model_json_schema()
    assert sent["properties"]["verdict"]["enum"] == ["right", "wrong"]  # the schema crossed the wire


def test_a_reply_that_does_not_fit_the_schema_is_asked_for_again_then_refused(serve):
    model = ScriptedBackend()
    model.enqueue_json({"verdict": "maybe", "note": "?"})
    model.enqueue_json({"verdict": "right", "note": "ok"})
    assert client(serve(model)).generate_json(ask("?"), Verdict).verdict == "right"
    model.enqueue_json({"verdict": "maybe", "note": "?"})
    model.enqueue_json({"oops": 1})
    with pytest.raises(ModelError, match="did not fit Verdict twice"):
        client(serve(model)).generate_json(ask("?"), Verdict)


def test_the_token_is_required(serve):
    url = serve(ScriptedBackend())
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}  # liveness needs no token
    assert httpx.get(f"{url}/v1/models").status_code == 401
    assert httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with pytest.raises(ModelError, match="refused the API key"):
        list(OpenAICompatibleBackend(url, api_key="wrong", timeout_s=5).stream_chat(ask("hi")))
    served = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert served["data"][0]["id"] == "scripted"


def test_info_and_token_counts(serve):
    remote = client(serve(ScriptedBackend()))
    info = remote.request_json("/v1/info")
    assert info["name"] == "scripted" and info["n_ctx"] == 4096 and info["offload_plan"]
    assert remote.request_json("/tokenize", {"content": "three words here"}) == {"count": 3}


def test_bad_requests_get_clear_errors(serve):
    url = serve(ScriptedBackend())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    reply = httpx.post(f"{url}/v1/chat/completions", headers=headers, content=b"not json")
    assert reply.status_code == 400 and "not JSON" in reply.json()["error"]["message"]
    reply = httpx.post(f"{url}/v1/chat/completions", headers=headers, json={"messages": [{"role": "robot"}]})
    assert reply.status_code == 400 and "messages[0]" in reply.json()["error"]["message"]


def test_a_loading_worker_says_so(serve):
    state = WorkerState(TOKEN)
    server = serve_in_background(state)
    try:
        reply = httpx.get(f"http://127.0.0.1:{server.port}/health")
        assert reply.status_code == 503 and reply.json()["status"] == "loading"
    finally:
        server.shutdown()
        server.server_close()


def test_concurrent_requests_reach_the_backend_together(serve):
    """A batching backend can only batch what reaches it at once: one thread per request."""
    model = GatedBackend(gate=threading.Barrier(2))
    url = serve(model)
    replies: list[str] = []
    errors: list[Exception] = []

    def one(text: str) -> None:
        try:
            replies.append("".join(client(url).stream_chat(ask(text))))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(f"question {i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(replies) == 2 and not model.gate.broken


def test_a_client_that_disconnects_cancels_its_generation_at_once(serve):
    """Even before anything was sent (a long prompt being evaluated), the worker notices the
    client went away and cancels the backend's call."""
    model = GatedBackend()
    url = serve(model)
    body = {"model": "x", "messages": ask("a long prompt"), "stream": True}
    with httpx.Client(timeout=10) as http:
        with http.stream("POST", f"{url}/v1/chat/completions", json=body,
                         headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status_code == 200
            deadline = time.monotonic() + 5
            while not model.cancels and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
            assert not model.cancels[0].is_set()  # still generating while the client listens
            closed_at = time.monotonic()
    deadline = time.monotonic() + 5
    while not model.cancelled_at and time.monotonic() < deadline:
        time.sleep(0.01)
    assert model.cancels[0].is_set() and model.cancelled_at
    assert model.cancelled_at[0] - closed_at < 1.0  # polled every 50 ms; generous for a busy machine


def test_usage_chunk_follows_llama_servers_shape(serve):
    model = ScriptedBackend()
    model.enqueue_text("one two three")
    url = serve(model)
    body = {"model": "x", "messages": ask("count"), "stream": True, "stream_options": {"include_usage": True}}
    events = []
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[6:]))
    last = events[-1]
    assert last["usage"]["completion_tokens"] == 3 and "cached_tokens" in last["usage"]["prompt_tokens_details"]
    assert set(last["timings"]) >= {"prompt_n", "prompt_ms", "predicted_n", "predicted_ms", "cache_n"}
