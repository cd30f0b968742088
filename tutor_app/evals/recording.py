"""A ``ModelBackend`` wrapper that times every call and notes whether a decision came back valid.

The evaluation calls the app's own functions (``classify_misconception``, ``Grader``), which
catch a failed model call and fall back, as they must in class. To *measure* JSON validity and
latency anyway, the runner hands them this wrapper: it records each call with the case it
belongs to, then behaves exactly like the backend underneath (the same result, the same error).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Iterator, Literal, Sequence

from ..runtime.protocol import (GenerationStats, Message, ModelBackend, ModelInfo, Priority, StatsCallback, T)


@dataclass(frozen=True)
class CallRecord:
    case: str  # the case id the call was made for
    kind: Literal["json", "chat"]
    seconds: float
    ok: bool  # json: a valid object came back; chat: the stream ended without an error
    error: str | None = None


class RecordingBackend:
    def __init__(self, inner: ModelBackend) -> None:
        self.inner = inner
        self.calls: list[CallRecord] = []
        self.case = ""

    @property
    def info(self) -> ModelInfo:
        return self.inner.info

    @property
    def last_stats(self) -> GenerationStats | None:
        return self.inner.last_stats

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        started = time.perf_counter()
        try:
            result = self.inner.generate_json(messages, schema, max_tokens=max_tokens, temperature=temperature,
                                              session_key=session_key, priority=priority, on_stats=on_stats)
        except Exception as exc:
            self.calls.append(CallRecord(self.case, "json", time.perf_counter() - started, False, _one_line(exc)))
            raise
        self.calls.append(CallRecord(self.case, "json", time.perf_counter() - started, True))
        return result

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None, cancel: threading.Event | None = None,
                    priority: Priority = "interactive", on_stats: StatsCallback | None = None) -> Iterator[str]:
        started = time.perf_counter()
        error: str | None = None
        try:
            yield from self.inner.stream_chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                              session_key=session_key, cancel=cancel, priority=priority,
                                              on_stats=on_stats)
        except Exception as exc:
            error = _one_line(exc)
            raise
        finally:
            self.calls.append(CallRecord(self.case, "chat", time.perf_counter() - started, error is None, error))


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
