"""The model worker's HTTP face: any ``ModelBackend`` served with the OpenAI-compatible protocol.

Why HTTP and this protocol: it is the one llama-server, vLLM and Ollama speak, so the app's
client (``openai_backend.py``) talks to its own worker exactly as it talks to a district's GPU
server, and the worker could be swapped for one of them. Loopback only, with a bearer token
that changes at every start.

Endpoints: ``/v1/chat/completions`` (SSE streaming or not; ``response_format`` json_schema or
json_object with a schema; usage per call with ``prompt_tokens_details.cached_tokens`` and
llama-server's ``timings``), ``/v1/models``, ``/tokenize``, ``/health``, ``/v1/adapter`` (switch the LoRA adapter) and ``/v1/info`` (the
``ModelInfo``: name, context, offload plan, KV-state figures). Extension fields of a request:
``session_key`` (falls back to OpenAI's ``user``) and ``priority``.

One thread per request (``ThreadingHTTPServer``), so concurrent requests reach the backend
concurrently: a backend that batches serves them together, one that cannot serialises them
itself. A client that goes away (it closed the stream, or its process died) is noticed within
``DISCONNECT_POLL_S`` by a watcher on its socket, and its generation is cancelled at once, even
while the prompt is still being evaluated.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import select
import socket
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import BaseModel

from .protocol import GenerationStats, ModelBackend, ModelError, SwitchesAdapters

log = logging.getLogger(__name__)

DISCONNECT_POLL_S = 0.05
MAX_BODY_BYTES = 8 << 20  # a prompt is a few thousand tokens; this is far above and still bounded
RECENT_CALLS = 20

PieceHook = Callable[[int], None]  # called with how many pieces a stream has sent (test hooks only)


class WorkerState:
    """What the server serves: the backend once loaded (None while loading)."""

    def __init__(self, token: str, *, piece_hook: PieceHook | None = None) -> None:
        self.token = token
        self.backend: ModelBackend | None = None
        self.loading_problem: str | None = None
        self.piece_hook = piece_hook
        # What the last calls cost here, as the worker saw them (also those whose client left
        # before the usage chunk): shown with the model's info.
        self.recent_calls: deque[dict] = deque(maxlen=RECENT_CALLS)

    def record(self, stats: list[GenerationStats], cancelled: bool) -> None:
        s = stats[-1] if stats else GenerationStats()
        self.recent_calls.append({"prompt_tokens": s.prompt_tokens, "evaluated_tokens": s.evaluated_tokens,
                                  "completion_tokens": s.completion_tokens, "total_s": round(s.total_s, 3),
                                  "cancelled": cancelled})


class RequestError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.kind = status, kind


def wire_schema(schema: dict) -> type:
    """A stand-in for a pydantic model, made from the JSON schema a request carries: the backend
    builds its grammar from ``model_json_schema()``; the text is returned as the model wrote it,
    and the client validates it against its own pydantic model (and asks again if it must)."""

    class WireSchema(BaseModel):
        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict:
            return schema

        @classmethod
        def model_validate_json(cls, json_data: str | bytes, **kwargs: Any) -> "RawJson":  # type: ignore[override]
            return RawJson(json_data if isinstance(json_data, str) else json_data.decode("utf-8", "replace"))

    WireSchema.__name__ = str(schema.get("title") or "ResponseFormat")
    return WireSchema


@dataclasses.dataclass
class RawJson:
    text: str


def usage_of(stats: GenerationStats | None) -> tuple[dict, dict]:
    """OpenAI's ``usage`` and llama-server's ``timings`` for one call."""
    s = stats or GenerationStats()
    cached = max(0, s.prompt_tokens - s.evaluated_tokens)
    usage = {"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
             "total_tokens": s.prompt_tokens + s.completion_tokens, "prompt_tokens_details": {"cached_tokens": cached}}
    timings = {"prompt_n": s.evaluated_tokens, "cache_n": cached, "prompt_ms": round(s.time_to_first_token_s * 1000, 3),
               "predicted_n": s.completion_tokens,
               "predicted_ms": round(max(0.0, s.total_s - s.time_to_first_token_s) * 1000, 3)}
    return usage, timings


def _messages(body: dict) -> list[dict]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages must be a non-empty list")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise RequestError(400, f"messages[{i}] needs a role of system, user or assistant")
        content = m.get("content") or ""
        if isinstance(content, list):  # OpenAI's content parts: the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
        if not isinstance(content, str):
            raise RequestError(400, f"messages[{i}].content must be text")
        out.append({"role": m["role"], "content": content})
    return out


def _schema(body: dict) -> dict | None:
    fmt = body.get("response_format")
    if not fmt:
        return None
    if not isinstance(fmt, dict):
        raise RequestError(400, "response_format must be an object")
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise RequestError(400, "response_format.json_schema.schema must be a JSON schema")
        return schema
    if fmt.get("type") == "json_object":
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    if fmt.get("type") == "text":
        return None
    raise RequestError(400, f"response_format type {fmt.get('type')!r} is not supported")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the app counts tokens over this connection often
    server: "WorkerHTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # the log file is for trouble, not every call
        pass

    # routing ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._route({"/health": self._health, "/v1/models": self._models, "/models": self._models,
                     "/v1/info": self._info}, body=False)

    def do_POST(self) -> None:
        self._route({"/v1/chat/completions": self._chat, "/chat/completions": self._chat,
                     "/tokenize": self._tokenize, "/v1/tokenize": self._tokenize, "/v1/adapter": self._adapter},
                    body=True)

    def _route(self, routes: dict, *, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        try:
            payload = self._read_json() if body else {}
            handler = routes.get(path)
            if handler is None:
                raise RequestError(404, f"no endpoint {path}", "not_found_error")
            if path != "/health":
                self._authorise()
            handler(payload)
        except RequestError as exc:
            self._send_json(exc.status, {"error": {"message": str(exc), "type": exc.kind}})
        except OSError:
            self.close_connection = True  # the client left; nothing to answer
        except Exception as exc:  # a bug here must answer 500, not kill the worker
            log.exception("worker request %s failed", path)
            self._send_json(500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}})

    def _authorise(self) -> None:
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.state.token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise RequestError(401, "a valid bearer token is needed", "authentication_error")

    def _backend(self) -> ModelBackend:
        backend = self.server.state.backend
        if backend is None:
            raise RequestError(503, self.server.state.loading_problem or "the model is loading", "unavailable")
        return backend

    # endpoints --------------------------------------------------------------------------
    def _health(self, _: dict) -> None:
        state = self.server.state
        if state.backend is not None:
            self._send_json(200, {"status": "ok"})
        else:
            self._send_json(503, {"status": "loading" if state.loading_problem is None else "error",
                                  "problem": state.loading_problem})

    def _models(self, _: dict) -> None:
        info = self._backend().info
        self._send_json(200, {"object": "list", "data": [{"id": info.name, "object": "model", "created": 0,
                                                          "owned_by": "tutor_app", "meta": {"n_ctx": info.n_ctx}}]})

    def _info(self, _: dict) -> None:
        info = dataclasses.asdict(self._backend().info)
        info["detail"]["recent_calls"] = list(self.server.state.recent_calls)
        self._send_json(200, info)

    def _tokenize(self, body: dict) -> None:
        content = body.get("content")
        if not isinstance(content, str):
            raise RequestError(400, "content must be text")
        self._send_json(200, {"count": self._backend().count_tokens(content)})

    def _adapter(self, body: dict) -> None:
        """Switch the LoRA adapter (``{"path": FILE}``; null: the base model). The app's own
        extension: the teacher deploys a trained adapter without restarting anything."""
        backend = self._backend()
        if not isinstance(backend, SwitchesAdapters):
            raise RequestError(400, f"the {backend.info.backend} backend cannot switch LoRA adapters")
        path = body.get("path")
        if path is not None and not isinstance(path, str):
            raise RequestError(400, "path must be the adapter's file name or null")
        try:
            info = backend.set_adapter(Path(path) if path else None)
        except ModelError as exc:
            raise RequestError(400, str(exc)) from exc
        self._send_json(200, dataclasses.asdict(info))

    def _chat(self, body: dict) -> None:
        backend = self._backend()
        messages = _messages(body)
        schema = _schema(body)
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or (512 if schema else 256))
        temperature = float(body["temperature"]) if body.get("temperature") is not None else (0.0 if schema else 0.7)
        priority = "batch" if body.get("priority") == "batch" else "interactive"
        session_key = body.get("session_key") or body.get("user") or None
        stats: list[GenerationStats] = []
        cancel = threading.Event()
        if schema is not None:
            def pieces() -> Iterator[str]:
                result = backend.generate_json(messages, wire_schema(schema), max_tokens=max_tokens,
                                               temperature=temperature, session_key=session_key, priority=priority,
                                               on_stats=stats.append)
                yield result.text if isinstance(result, RawJson) else result.model_dump_json()
            chunks = pieces()
        else:
            chunks = backend.stream_chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                         session_key=session_key, cancel=cancel, priority=priority,
                                         on_stats=stats.append)
        completion = Completion(model=backend.info.name)
        try:
            with _DisconnectWatch(self.connection, cancel):
                if body.get("stream"):
                    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    self._stream(chunks, completion, stats, include_usage)
                else:
                    self._whole(chunks, completion, stats)
        finally:
            self.server.state.record(stats, cancel.is_set())

    # answering --------------------------------------------------------------------------
    def _whole(self, chunks: Iterator[str], completion: "Completion", stats: list[GenerationStats]) -> None:
        try:
            text = "".join(chunks)
        except ModelError as exc:
            raise RequestError(500, str(exc), "server_error") from exc
        usage, timings = usage_of(stats[-1] if stats else None)
        self._send_json(200, completion.whole(text, usage, timings))

    def _stream(self, chunks: Iterator[str], completion: "Completion", stats: list[GenerationStats],
                include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        hook = self.server.state.piece_hook
        sent = 0
        try:
            self._event(completion.delta({"role": "assistant", "content": ""}))
            try:
                for piece in chunks:
                    self._event(completion.delta({"content": piece}))
                    sent += 1
                    if hook is not None:
                        hook(sent)
            except ModelError as exc:
                self._event({"error": {"message": str(exc), "type": "server_error"}})
                return
            finally:
                close = getattr(chunks, "close", None)
                if callable(close):
                    close()  # also when the client left: the backend stops and reports its usage
            self._event(completion.delta({}, finish_reason="stop"))
            if include_usage:
                usage, timings = usage_of(stats[-1] if stats else None)
                self._event(completion.usage_chunk(usage, timings))
            self._write_chunk(b"data: [DONE]\n\n")
        finally:
            self._write_chunk(b"", last=True)

    def _event(self, payload: dict) -> None:
        self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write_chunk(self, data: bytes, *, last: bool = False) -> None:
        try:
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if last:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            if not last:
                raise

    def _read_json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise RequestError(413, f"the request is larger than {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise RequestError(400, f"the request body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise RequestError(400, "the request body must be a JSON object")
        return body

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


@dataclasses.dataclass
class Completion:
    """The fixed parts of one completion's chunks."""

    model: str
    id: str = dataclasses.field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = dataclasses.field(default_factory=lambda: int(time.time()))

    def delta(self, delta: dict, finish_reason: str | None = None) -> dict:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    def usage_chunk(self, usage: dict, timings: dict) -> dict:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": usage, "timings": timings}

    def whole(self, text: str, usage: dict, timings: dict) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage, "timings": timings}


class _DisconnectWatch:
    """Set ``cancel`` as soon as the client's end of ``sock`` closes. The client sends nothing
    while it waits for its reply, so a readable socket means it closed (or, rarely, pipelined
    another request: then watching stops without cancelling)."""

    def __init__(self, sock: socket.socket, cancel: threading.Event) -> None:
        self.sock, self.cancel = sock, cancel
        self.done = threading.Event()

    def __enter__(self) -> "_DisconnectWatch":
        threading.Thread(target=self._watch, name="worker-disconnect-watch", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()

    def _watch(self) -> None:
        while not self.done.is_set():
            try:
                readable, _, _ = select.select([self.sock], [], [], DISCONNECT_POLL_S)
                if not readable:
                    continue
                if self.sock.recv(1, socket.MSG_PEEK) == b"":
                    self.cancel.set()
            except (OSError, ValueError):  # the socket is gone: so is the client
                self.cancel.set()
            return


class WorkerHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, state: WorkerState, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.state = state

    @property
    def port(self) -> int:
        return self.server_address[1]


def serve_in_background(state: WorkerState, host: str = "127.0.0.1", port: int = 0) -> WorkerHTTPServer:
    server = WorkerHTTPServer(state, host, port)
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    return server
