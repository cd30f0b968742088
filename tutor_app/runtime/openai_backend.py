"""A model served over HTTP by an OpenAI-compatible server: the path a district takes when one
machine is not enough (llama.cpp's ``llama-server``, ``python -m llama_cpp.server``, vLLM, Ollama).

It is a peer of the in-process backend (as llm's ``openai_models.py`` is of its plugins):
streaming, schema-constrained decisions and errors behave the same, so nothing above the
protocol knows which one runs.

Servers disagree on how to ask for schema-constrained output. OpenAI, vLLM, llama-server and
Ollama take ``response_format={"type": "json_schema", ...}``; ``llama_cpp.server`` rejects that
(422) and takes ``{"type": "json_object", "schema": ...}``. The first call tries them in that
order and remembers what the server accepted; a server that takes neither gets the schema in
the prompt. Either way the reply is validated with pydantic, retried once, and a reply that
still does not fit raises ``ModelError``.

A server that hangs must not hold students for minutes (issue 16). Every call streams, JSON
decisions too, so that three limits apply to all of them (``CallTimeouts``): to connect, to the
first piece of the reply, and to the whole reply; batch work (grading a class set) gets a
longer limit than a student waiting at the screen. Failures of the server feed a circuit
breaker (``breaker.py``): after a few in a row, calls fail at once until a background probe
finds the server answering again. The start-up check runs in the background too
(``check_in_background``), so the app listens at once whatever the server does.

The app's own model worker (``worker_backend.py``) speaks this protocol too; with
``extensions=True`` the calls carry its extension fields (``session_key``, ``priority``) and
read its per-call usage (``timings``), as llama-server's are read.

Such servers batch concurrent requests (llama-server's slots, vLLM's continuous batching), so up
to ``parallel`` calls go out at once (``--parallel``, default 4); more wait here for a turn, so a
busy app never floods the server with more requests than it serves together.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx2 as httpx  # the HTTP client the openai package is built on (its timeouts and errors)
import openai
from pydantic import BaseModel, ValidationError

from .breaker import CircuitBreaker
from .protocol import GenerationStats, Message, ModelError, ModelInfo, Priority, StatsCallback, T, combined, report_stats

JsonMode = Literal["json_schema", "json_object", "prompt"]
JSON_MODES: tuple[JsonMode, ...] = ("json_schema", "json_object", "prompt")


@dataclass(frozen=True)
class CallTimeouts:
    """Seconds a call may take: to connect, to the first piece of the reply, to the whole reply.
    Batch work gets ``batch_s`` for both of the latter: nobody watches it, and it must not fail
    only because students' calls went first."""

    connect_s: float = 3.0
    first_token_s: float = 30.0
    total_s: float = 120.0
    batch_s: float = 600.0

    @classmethod
    def from_settings(cls, settings: Any) -> "CallTimeouts":
        return cls(connect_s=settings.model_connect_timeout_s, first_token_s=settings.model_first_token_timeout_s,
                   total_s=settings.model_total_timeout_s, batch_s=settings.model_batch_timeout_s)

    def limits(self, priority: Priority) -> tuple[float, float]:
        """(first piece, whole reply) for a call of this priority."""
        if priority == "batch":
            return self.batch_s, self.batch_s
        return self.first_token_s, self.total_s

    def httpx(self, first_token_s: float) -> httpx.Timeout:
        # read: the longest silence allowed; before the first piece that is the first-token limit
        return httpx.Timeout(connect=self.connect_s, read=first_token_s, write=self.connect_s, pool=self.connect_s)


class ServerTrouble(ModelError):
    """The server did not answer, answered too late or failed (5xx): counted by the breaker."""


class ConnectionLost(ServerTrouble):
    """The connection could not be made or broke off mid-reply (a server that died does this)."""


def normalise_base_url(url: str) -> str:
    """``http://host:8080`` -> ``http://host:8080/v1``: servers put the API under /v1, and
    people usually paste the server's address."""
    parts = urlsplit(url.strip())
    if not parts.scheme:
        parts = urlsplit("http://" + url.strip())
    path = parts.path.rstrip("/")
    if path == "":
        path = "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class OpenAICompatibleBackend:
    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None, *,
                 timeouts: CallTimeouts | None = None, timeout_s: float | None = None,
                 json_mode: JsonMode | None = None, breaker: CircuitBreaker | None = None,
                 failures_to_open: int = 2, extensions: bool = False, where: str | None = None, parallel: int = 4,
                 connect_hint: str = "is it running, and is --base-url right?") -> None:
        """``timeout_s`` (one limit for everything) is shorthand for ``timeouts``; ``breaker``
        may be shared by backends that stand for one server over time (the restarted worker);
        ``where`` and ``connect_hint`` word the errors."""
        self.base_url = normalise_base_url(base_url)
        if timeouts is None:
            timeouts = CallTimeouts() if timeout_s is None else CallTimeouts(timeout_s, timeout_s, timeout_s, timeout_s)
        self.timeouts = timeouts
        self.where = where or f"the model server at {self.base_url}"
        self.connect_hint = connect_hint
        self.extensions = extensions
        self.parallel = max(1, int(parallel))
        self._requests = threading.BoundedSemaphore(self.parallel)
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key or "not-needed",
                                     timeout=timeouts.httpx(timeouts.first_token_s), max_retries=0)
        self.model = model or ""
        self._json_mode: JsonMode | None = json_mode
        self._stats: GenerationStats | None = None
        self.breaker = breaker or CircuitBreaker(self.probe, failures_to_open=failures_to_open, what=self.where)
        self._checked = threading.Event()

    # protocol ---------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name=self.model or "(server default)", backend="openai", n_ctx=0,
                         offload_plan=f"served by {self.base_url}", available=not self.breaker.is_open,
                         problem=self.breaker.problem,
                         detail={"base_url": self.base_url, "json_mode": self._json_mode or "not yet known",
                                 "parallel": self.parallel})

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._stats

    def count_tokens(self, text: str) -> int:
        # No tokenizer on this side of the wire (and no common endpoint for one): ~4 characters a token.
        return (len(text) + 3) // 4 if text else 0

    def probe(self) -> str | None:
        """None when the server answers and serves a model; otherwise what is wrong. Picks the
        served model when none was named. Bounded by the connect and first-token limits."""
        try:
            limited = self._client.with_options(timeout=self.timeouts.httpx(min(self.timeouts.first_token_s, 10.0)))
            served = [m.id for m in limited.models.list().data]
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            return str(self._error(exc, min(self.timeouts.first_token_s, 10.0)))
        if not served:
            return f"{self.where} serves no model"
        if not self.model:
            self.model = served[0]
        return None

    def check_in_background(self, say: Callable[[str], None] | None = None) -> threading.Thread:
        """Probe the server once without holding up start-up; one that does not answer opens the
        breaker (students read "the tutor is unavailable" at once), and the breaker's own probe
        closes it when the server comes. ``say`` receives the one-line result."""
        def check() -> None:
            try:
                problem = self.probe()
                if problem:
                    self.breaker.trip(problem)
                if say is not None:
                    say(f"model: {self.info.name} at {self.base_url}" + (f" (warning: {problem})" if problem else ""))
            finally:
                self._checked.set()

        thread = threading.Thread(target=check, name="model-server-check", daemon=True)
        thread.start()
        return thread

    def wait_checked(self, timeout_s: float | None = None) -> bool:
        """True once the start-up check has finished (tests, and commands that need the name)."""
        return self._checked.wait(timeout_s)

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        started = time.perf_counter()
        stats = GenerationStats(prompt_tokens=self._estimate(messages))
        self._stats = stats
        try:
            request = dict(messages=[dict(m) for m in messages], max_tokens=max_tokens, temperature=temperature,
                           stop=list(stop) or None)
            yield from self._pieces(request, session_key=session_key, priority=priority, cancel=cancel,
                                    stats=stats, started=started)
        finally:
            stats.total_s = time.perf_counter() - started
            report_stats(on_stats, stats)

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        problem = ""
        parts: list[GenerationStats] = []
        try:
            for attempt in range(2):
                text = self._json_text(messages, schema, max_tokens=max_tokens * (attempt + 1),
                                       temperature=temperature if attempt == 0 else max(temperature, 0.3), parts=parts,
                                       session_key=session_key, priority=priority)
                try:
                    # strict=False: llama_cpp.server's grammar lets a raw newline into a string,
                    # which strict JSON rejects although the content itself may be fine.
                    return schema.model_validate(json.loads(_json_block(text), strict=False))
                except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError
                    problem = _problem(exc)
            raise ModelError(f"the model's answer did not fit {schema.__name__} twice ({problem})")
        finally:
            report_stats(on_stats, combined(parts))

    def request_json(self, path: str, body: dict | None = None, *, timeout_s: float | None = None) -> Any:
        """GET ``path`` (POST ``body`` to it) at the server's root: the endpoints that llama-server
        and the app's worker serve beside the OpenAI ones (``/tokenize``, ``/health``,
        ``/v1/info``). The same client and token; ``timeout_s`` to wait for the answer (default:
        the first-token limit)."""
        url = self.base_url.removesuffix("/v1") + path
        options = {"timeout": self.timeouts.httpx(timeout_s or self.timeouts.first_token_s)}
        try:
            if body is None:
                text = self._client.get(url, cast_to=str, options=options)
            else:
                text = self._client.post(url, cast_to=str, body=body, options=options)
            return json.loads(text)
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._error(exc, timeout_s or self.timeouts.first_token_s) from exc
        except ValueError as exc:
            raise ModelError(f"{self.where} answered {path} with something that is not JSON") from exc

    def close(self) -> None:
        self.breaker.close()
        self._client.close()

    # internals --------------------------------------------------------------------------
    def _pieces(self, request: dict, *, session_key: str | None, priority: Priority,
                cancel: threading.Event | None, stats: GenerationStats, started: float) -> Iterator[str]:
        """The reply's text pieces under the call's limits; usage lands in ``stats``. Closing the
        response (the reader stopped, ``cancel``, a limit) makes the server stop generating."""
        self.breaker.check()
        first_s, total_s = self.timeouts.limits(priority)
        extra = {"session_key": session_key, "priority": priority} if self.extensions else None
        with self._requests:  # no more requests at once than the server serves together
            yield from self._stream_pieces(request, session_key=session_key, extra=extra, first_s=first_s,
                                           total_s=total_s, cancel=cancel, stats=stats, started=started)

    def _stream_pieces(self, request: dict, *, session_key: str | None, extra: dict | None, first_s: float, total_s: float,
                       cancel: threading.Event | None, stats: GenerationStats, started: float) -> Iterator[str]:
        pieces = 0
        reported = False  # the server sent its own usage figures
        try:
            stream = self._client.chat.completions.create(
                model=self._model_name(), stream=True, stream_options={"include_usage": True}, user=session_key,
                timeout=self.timeouts.httpx(min(first_s, total_s)), extra_body=extra, **request)
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._failed(exc, first_s) from exc
        try:
            for chunk in stream:
                if chunk.usage is not None:
                    self._apply_usage(stats, chunk)
                    reported = True
                text = (chunk.choices[0].delta.content or "") if chunk.choices else ""
                if text:
                    if pieces == 0:
                        stats.time_to_first_token_s = time.perf_counter() - started
                    pieces += 1
                    yield text
                if cancel is not None and cancel.is_set():
                    break
                if time.perf_counter() - started > total_s:
                    raise self._failed(ServerTrouble(f"{self.where} did not finish the reply within {total_s:g} s"),
                                       first_s)
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._failed(exc, first_s, midway=pieces > 0) from exc
        finally:
            stream.close()
            if not reported:  # estimates: servers send about one token per chunk
                stats.completion_tokens = pieces
                stats.evaluated_tokens = stats.prompt_tokens
        self.breaker.success()

    def _json_text(self, messages: Sequence[Message], schema: type[BaseModel], *, max_tokens: int,
                   temperature: float, parts: list[GenerationStats], session_key: str | None,
                   priority: Priority) -> str:
        modes = (self._json_mode,) if self._json_mode else JSON_MODES
        for mode in modes:
            started = time.perf_counter()
            stats = GenerationStats(prompt_tokens=self._estimate(messages))
            request = dict(messages=_json_messages(messages, schema, mode), max_tokens=max_tokens,
                           temperature=temperature, **_response_format(schema, mode))
            try:
                text = "".join(self._pieces(request, session_key=session_key, priority=priority, cancel=None,
                                            stats=stats, started=started))
            except _FormatRejected as exc:
                if self._json_mode is None and mode != JSON_MODES[-1]:
                    continue  # this server does not take this kind of response_format: try the next
                raise ModelError(str(exc)) from exc
            self._json_mode = mode
            stats.total_s = time.perf_counter() - started
            self._stats = stats
            parts.append(stats)
            return text
        raise ModelError(f"{self.where} accepted no way of asking for JSON")

    def _model_name(self) -> str:
        if not self.model:
            problem = self.probe()
            if problem:
                raise ModelError(problem)
        return self.model

    def _estimate(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    @staticmethod
    def _apply_usage(stats: GenerationStats, chunk: Any) -> None:
        usage = chunk.usage
        stats.prompt_tokens = usage.prompt_tokens or stats.prompt_tokens
        stats.completion_tokens = usage.completion_tokens or stats.completion_tokens
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        stats.evaluated_tokens = max(0, stats.prompt_tokens - cached)
        timings = (chunk.model_extra or {}).get("timings") if hasattr(chunk, "model_extra") else None
        if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
            stats.evaluated_tokens = timings["prompt_n"]  # llama-server's and the worker's own count

    def _failed(self, exc: Exception, first_s: float, *, midway: bool = False) -> ModelError:
        """The error to raise for ``exc``; a failure of the server counts towards the breaker."""
        error = exc if isinstance(exc, ModelError) else self._error(exc, first_s, midway=midway)
        if isinstance(error, ServerTrouble):
            self.breaker.failure(str(error))
        return error

    def _error(self, exc: Exception, first_s: float, *, midway: bool = False) -> ModelError:
        where = self.where
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) or isinstance(exc.__cause__, httpx.ConnectTimeout):
            return ServerTrouble(f"{where} did not accept a connection within {self.timeouts.connect_s:g} s")
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
            return ServerTrouble(f"{where} did not answer within {first_s:g} s")
        if isinstance(exc, httpx.HTTPError) or isinstance(exc, openai.APIConnectionError):
            if midway:
                return ConnectionLost(f"{where} broke off the reply ({type(exc).__name__})")
            return ConnectionLost(f"cannot reach {where} ({self.connect_hint})")
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return ModelError(f"{where} refused the API key (set --api-key or TUTOR_API_KEY)")
        if isinstance(exc, openai.NotFoundError):
            return ModelError(f"{where} has no model {self.model!r} (check --model or TUTOR_MODEL)")
        if isinstance(exc, openai.APIStatusError):
            if _rejects_format(exc):
                return _FormatRejected(f"{where} answered {exc.status_code}: {_short(exc)}")
            kind = ServerTrouble if exc.status_code >= 500 else ModelError
            return kind(f"{where} answered {exc.status_code}: {_short(exc)}")
        return ModelError(f"{where} failed: {exc}")


class _FormatRejected(ModelError):
    """The server refused the request's ``response_format`` (the next mode is tried)."""


def _response_format(schema: type[BaseModel], mode: JsonMode) -> dict:
    js = schema.model_json_schema()
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": schema.__name__, "schema": js, "strict": True}}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": js}}
    return {}


def _json_messages(messages: Sequence[Message], schema: type[BaseModel], mode: JsonMode) -> list[dict]:
    msgs = [dict(m) for m in messages]
    if mode == "prompt":  # nothing constrains the server: at least tell the model the shape
        msgs.append({"role": "system", "content": "Answer with one JSON object only, matching this JSON schema: "
                                                  + json.dumps(schema.model_json_schema())})
    return msgs


def _problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}"
    return f"not JSON: {exc}"


def _rejects_format(exc: openai.APIStatusError) -> bool:
    """The server refused the request's ``response_format`` (llama_cpp.server answers 500 for
    that, with the validation error in the body), as opposed to failing for another reason."""
    return exc.status_code in (400, 422) or "response_format" in str(exc.body or exc.message)


def _json_block(text: str) -> str:
    """The JSON object in a reply, without the code fences some models wrap it in."""
    text = text.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start < end else text


def _short(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        detail = body.get("error", body.get("detail", body))
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        return str(detail)[:300]
    return str(exc)[:300]
