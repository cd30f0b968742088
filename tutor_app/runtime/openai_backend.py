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

Such servers batch concurrent requests (llama-server's slots, vLLM's continuous batching), so up
to ``parallel`` calls go out at once (``--parallel``, default 4); more wait here for a turn, so a
busy app never floods the server with more requests than it serves together.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any, Iterator, Literal, Sequence
from urllib.parse import urlsplit, urlunsplit

import openai
from pydantic import BaseModel, ValidationError

from .protocol import GenerationStats, Message, ModelError, ModelInfo, Priority, StatsCallback, T, combined, report_stats

JsonMode = Literal["json_schema", "json_object", "prompt"]
JSON_MODES: tuple[JsonMode, ...] = ("json_schema", "json_object", "prompt")


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
                 timeout_s: float = 120.0, json_mode: JsonMode | None = None, parallel: int = 4) -> None:
        self.base_url = normalise_base_url(base_url)
        self.timeout_s = timeout_s
        self.parallel = max(1, int(parallel))
        self._requests = threading.BoundedSemaphore(self.parallel)
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key or "not-needed", timeout=timeout_s,
                                     max_retries=0)
        self.model = model or ""
        self._json_mode: JsonMode | None = json_mode
        self._stats: GenerationStats | None = None

    # protocol ---------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name=self.model or "(server default)", backend="openai", n_ctx=0,
                         offload_plan=f"served by {self.base_url}",
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
        served model when none was named."""
        try:
            served = [m.id for m in self._client.models.list().data]
        except openai.OpenAIError as exc:
            return str(self._error(exc))
        if not served:
            return f"the model server at {self.base_url} serves no model"
        if not self.model:
            self.model = served[0]
        return None

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        started = time.perf_counter()
        stats = GenerationStats(prompt_tokens=self._estimate(messages))
        self._stats = stats
        pieces = 0
        self._requests.acquire()
        try:
            stream = self._client.chat.completions.create(
                model=self._model_name(), messages=[dict(m) for m in messages], max_tokens=max_tokens,
                temperature=temperature, stop=list(stop) or None, stream=True, stream_options={"include_usage": True},
                user=session_key)
            try:
                for chunk in stream:
                    if chunk.usage is not None:
                        self._apply_usage(stats, chunk.usage)
                    if not chunk.choices:
                        continue
                    text = chunk.choices[0].delta.content or ""
                    if not text:
                        continue
                    if pieces == 0:
                        stats.time_to_first_token_s = time.perf_counter() - started
                    pieces += 1
                    yield text
                    if cancel is not None and cancel.is_set():
                        break
            finally:
                stream.close()  # closing the response makes the server stop generating
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        finally:
            self._requests.release()
            if stats.completion_tokens == 0:
                stats.completion_tokens = pieces  # servers send about one token per chunk
            if stats.evaluated_tokens == 0:
                stats.evaluated_tokens = stats.prompt_tokens
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
                                       temperature=temperature if attempt == 0 else max(temperature, 0.3), parts=parts)
                try:
                    # strict=False: llama_cpp.server's grammar lets a raw newline into a string,
                    # which strict JSON rejects although the content itself may be fine.
                    return schema.model_validate(json.loads(_json_block(text), strict=False))
                except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError
                    problem = _problem(exc)
            raise ModelError(f"the model's answer did not fit {schema.__name__} twice ({problem})")
        finally:
            report_stats(on_stats, combined(parts))

    def close(self) -> None:
        self._client.close()

    # internals --------------------------------------------------------------------------
    def _json_text(self, messages: Sequence[Message], schema: type[BaseModel], *, max_tokens: int,
                   temperature: float, parts: list[GenerationStats]) -> str:
        modes = (self._json_mode,) if self._json_mode else JSON_MODES
        for mode in modes:
            started = time.perf_counter()
            try:
                with self._requests:
                    reply = self._client.chat.completions.create(
                        model=self._model_name(), messages=_json_messages(messages, schema, mode),
                        max_tokens=max_tokens, temperature=temperature, **_response_format(schema, mode))
            except openai.APIStatusError as exc:
                if self._json_mode is None and mode != JSON_MODES[-1] and _rejects_format(exc):
                    continue  # this server does not take this kind of response_format: try the next
                raise self._error(exc) from exc
            except openai.OpenAIError as exc:
                raise self._error(exc) from exc
            self._json_mode = mode
            stats = GenerationStats(prompt_tokens=self._estimate(messages))
            if reply.usage is not None:
                self._apply_usage(stats, reply.usage)
            stats.evaluated_tokens = stats.evaluated_tokens or stats.prompt_tokens
            stats.total_s = stats.time_to_first_token_s = time.perf_counter() - started
            self._stats = stats
            parts.append(stats)
            return (reply.choices[0].message.content or "") if reply.choices else ""
        raise ModelError(f"the model server at {self.base_url} accepted no way of asking for JSON")

    def _model_name(self) -> str:
        if not self.model:
            problem = self.probe()
            if problem:
                raise ModelError(problem)
        return self.model

    def _estimate(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    @staticmethod
    def _apply_usage(stats: GenerationStats, usage: Any) -> None:
        stats.prompt_tokens = usage.prompt_tokens or stats.prompt_tokens
        stats.completion_tokens = usage.completion_tokens or stats.completion_tokens
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        stats.evaluated_tokens = max(0, stats.prompt_tokens - cached)

    def _error(self, exc: openai.OpenAIError) -> ModelError:
        url = self.base_url
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"the model server at {url} did not answer within {self.timeout_s:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return ModelError(f"cannot reach the model server at {url} (is it running, and is --base-url right?)")
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return ModelError(f"the model server at {url} refused the API key (set --api-key or TUTOR_API_KEY)")
        if isinstance(exc, openai.NotFoundError):
            return ModelError(f"the model server at {url} has no model {self.model!r} (check --model or TUTOR_MODEL)")
        if isinstance(exc, openai.APIStatusError):
            return ModelError(f"the model server at {url} answered {exc.status_code}: {_short(exc)}")
        return ModelError(f"the model server at {url} failed: {exc}")


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
