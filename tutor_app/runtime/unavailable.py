"""The backend that stands in when no model could be loaded.

The app must still start without a model: answer checking, hints and mastery need none. This
backend carries the reason (which file, what went wrong, what to do) so the teacher's model
panel can show it, and every model call raises ``ModelUnavailable`` with that same text, which
the tutoring code already handles by falling back to its no-model behaviour.
"""

from __future__ import annotations

import threading
from typing import Iterator, Sequence

from .protocol import GenerationStats, Message, ModelInfo, ModelUnavailable, Priority, StatsCallback, T


class UnavailableBackend:
    def __init__(self, problem: str, *, name: str = "no model", path: str | None = None) -> None:
        self.problem = problem
        self._info = ModelInfo(name=name, backend="unavailable", available=False, path=path, problem=problem)

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def last_stats(self) -> GenerationStats | None:
        return None

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        # A generator like the other backends' streams, so the error surfaces where they fail.
        raise ModelUnavailable(self.problem)
        yield ""  # pragma: no cover - makes this function a generator

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        raise ModelUnavailable(self.problem)

    def count_tokens(self, text: str) -> int:
        # Callers budget prompts before calling; a rough count keeps that working without a model.
        return max(1, len(text) // 4) if text else 0

    def close(self) -> None:
        pass
