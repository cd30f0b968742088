"""The one interface every model backend implements.

In-process llama.cpp, an OpenAI-compatible HTTP server and the scripted fake used by tests
are peers behind this protocol (the shape follows simonw/llm's ``Model.execute``). The rest
of the application talks to a ``ModelBackend`` and never imports ``llama_cpp``.

Two kinds of call:
- ``stream_chat`` for explanations the student reads (tokens as they come);
- ``generate_json`` for calls that *decide* something (misconception classification, rubric
  scores, corrections). Output is constrained by the JSON schema of a pydantic model, so the
  result always parses and validates, or the call raises ``ModelError``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Literal, Protocol, Sequence, TypedDict, TypeVar, runtime_checkable

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class GenerationStats:
    """What one call cost. ``evaluated_tokens`` < ``prompt_tokens`` when a session's KV state was reused."""

    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_s: float = 0.0
    total_s: float = 0.0

    @property
    def decode_tokens_per_s(self) -> float:
        decode_time = self.total_s - self.time_to_first_token_s
        if self.completion_tokens <= 1 or decode_time <= 0:
            return 0.0
        return (self.completion_tokens - 1) / decode_time


@dataclass
class ModelInfo:
    """What the teacher's model panel shows."""

    name: str
    backend: Literal["llama.cpp", "openai", "fake", "unavailable"]
    available: bool = True
    path: str | None = None
    n_ctx: int = 0
    offload_plan: str = ""  # one line: what runs where, and why
    detail: dict = field(default_factory=dict)
    problem: str | None = None  # when unavailable: what went wrong and what to do
    adapter: str | None = None  # the LoRA adapter version in use (runtime/adapters.py); None: the base model


# Students' calls go before batch work (grading a class set, drafting practice) wherever calls wait.
Priority = Literal["interactive", "batch"]
# Receives one call's own usage figures, once, when that call ends (finished, cancelled or failed).
# Per call, not a shared "last stats": under load another call may have finished in between.
StatsCallback = Callable[[GenerationStats], None]


def report_stats(on_stats: StatsCallback | None, stats: GenerationStats | None) -> None:
    """Hand ``stats`` to the caller's callback; a failing callback must not fail the model call."""
    if on_stats is None or stats is None:
        return
    try:
        on_stats(stats)
    except Exception:  # the caller's bookkeeping, not the model, went wrong
        import logging

        logging.getLogger(__name__).warning("a usage callback failed", exc_info=True)


def parallel_calls(model: "ModelBackend") -> int:
    """How many calls ``model`` serves at once (``info.detail["parallel"]``; 1 when it does not say).
    Batch work submits that many calls together; the queue lets that many run."""
    try:
        return max(1, int(model.info.detail.get("parallel") or 1))
    except (TypeError, ValueError):
        return 1


def combined(parts: Sequence[GenerationStats]) -> GenerationStats | None:
    """One call's usage when it took several model requests (a JSON retry)."""
    if not parts:
        return None
    return GenerationStats(prompt_tokens=sum(p.prompt_tokens for p in parts),
                           evaluated_tokens=sum(p.evaluated_tokens for p in parts),
                           completion_tokens=sum(p.completion_tokens for p in parts),
                           time_to_first_token_s=parts[0].time_to_first_token_s,
                           total_s=sum(p.total_s for p in parts))


class ModelError(RuntimeError):
    """A model call failed in a way the caller should report, not crash on."""


class ModelUnavailable(ModelError):
    """No model is loaded; the tutoring features that need none keep working."""


class ModelCrashed(ModelError):
    """The model's process died during this call and is being restarted: the caller may say so
    ("the tutor restarted, please ask again") rather than report a failure."""


@runtime_checkable
class ModelBackend(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    @property
    def last_stats(self) -> GenerationStats | None: ...

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        stop: Sequence[str] = (),
        session_key: str | None = None,
        cancel: threading.Event | None = None,
        priority: Priority = "interactive",
        on_stats: StatsCallback | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces. ``session_key`` lets a backend keep that conversation's
        KV state between turns; ``cancel`` set by the caller stops generation promptly;
        ``on_stats`` receives this call's usage when it ends."""
        ...

    def generate_json(
        self,
        messages: Sequence[Message],
        schema: type[T],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        session_key: str | None = None,
        priority: Priority = "interactive",
        on_stats: StatsCallback | None = None,
    ) -> T:
        """Return an instance of ``schema`` produced under its JSON-schema constraint
        (``on_stats``: this call's usage, retries included)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class SwitchesAdapters(Protocol):
    """A backend that can change its LoRA adapter while the app runs (the in-process llama.cpp)."""

    def set_adapter(self, path: Path | None) -> ModelInfo:
        """Apply the adapter at ``path`` (None: the base model) before the next call; ``ModelError`` when it cannot."""
        ...


@runtime_checkable
class ServedModel(ModelBackend, Protocol):
    """The one model as the app shares it among a class (``ModelQueue`` today; whatever stands
    between the app and a model worker later): the calls, plus what the pages and the tutoring
    service read of it. A student's page says how many are ahead (``waiting`` beyond the
    ``parallel`` places), the tutoring service asks the model for extras only when a place is free
    (``free_places``), and the teacher's model panel shows the last calls' costs (``recent_stats``)."""

    @property
    def parallel(self) -> int:
        """How many calls the model serves at once."""
        ...

    def waiting(self) -> int:
        """Calls holding or waiting for the model, the ones being served included."""
        ...

    def free_places(self) -> int:
        """Places a call arriving now would find free (0: it would wait)."""
        ...

    def recent_stats(self) -> list[GenerationStats]:
        """The last calls' costs, oldest first."""
        ...
