"""A scripted model for tests of the logic above the model (like llm's MockModel).

It is a ``ServedModel`` with nobody waiting, so the services take it as they take the queue.
Queue replies with ``enqueue_text`` / ``enqueue_json``; every call is recorded in ``calls``
so a test can assert what the tutor sent. When the script runs dry, text calls echo a fixed
reply and JSON calls raise, so a test that forgot to script a decision fails loudly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from pydantic import BaseModel

from .adapters import adapter_version
from .protocol import GenerationStats, Message, ModelError, ModelInfo, Priority, StatsCallback, T, report_stats


@dataclass
class RecordedCall:
    kind: str  # "chat" or "json"
    messages: list[Message]
    schema: type[BaseModel] | None
    session_key: str | None


class ScriptedBackend:
    def __init__(self, *, default_reply: str = "Let's think about it together. What do you notice?",
                 chunk_size: int = 4, delay_s: float = 0.0) -> None:
        self._texts: deque[str | Callable[[list[Message]], str]] = deque()
        self._jsons: deque[Any] = deque()
        self.default_reply = default_reply
        self.chunk_size = chunk_size
        self.delay_s = delay_s
        self.calls: list[RecordedCall] = []
        self.adapter: str | None = None  # the version label of the "applied" LoRA adapter
        self._stats: GenerationStats | None = None
        self._lock = threading.Lock()

    # scripting -----------------------------------------------------------------------
    def enqueue_text(self, reply: str | Callable[[list[Message]], str]) -> None:
        self._texts.append(reply)

    def enqueue_json(self, payload: str | dict | BaseModel | Callable[[list[Message], type[BaseModel]], Any]) -> None:
        """A dict or model is sent as JSON text written correctly; a ``str`` is the JSON text
        itself, exactly as a model wrote it (its escapes and all)."""
        self._jsons.append(payload)

    # protocol ------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="scripted", backend="fake", n_ctx=4096, offload_plan="scripted replies (tests)",
                         adapter=self.adapter)

    def set_adapter(self, path: Path | None) -> ModelInfo:
        """Switch adapters as llama.cpp does, minus the weights: the file must exist, its version is recorded."""
        if path is not None and not Path(path).is_file():
            raise ModelError(f"the adapter {path} does not exist")
        self.adapter = adapter_version(path) if path is not None else None
        return self.info

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._stats

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        msgs = [dict(m) for m in messages]
        with self._lock:
            self.calls.append(RecordedCall("chat", msgs, None, session_key))
            reply = self._texts.popleft() if self._texts else self.default_reply
        if callable(reply):
            reply = reply(msgs)
        started = time.perf_counter()
        pieces = [reply[i:i + self.chunk_size] for i in range(0, len(reply), self.chunk_size)]
        sent = ""
        try:
            for piece in pieces:
                if cancel is not None and cancel.is_set():
                    break
                if self.delay_s:
                    time.sleep(self.delay_s)
                sent += piece
                yield piece
        finally:
            self._stats = GenerationStats(prompt_tokens=sum(self.count_tokens(m["content"]) for m in msgs),
                                          evaluated_tokens=0, completion_tokens=self.count_tokens(sent),
                                          time_to_first_token_s=self.delay_s, total_s=time.perf_counter() - started)
            report_stats(on_stats, self._stats)

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        msgs = [dict(m) for m in messages]
        with self._lock:
            self.calls.append(RecordedCall("json", msgs, schema, session_key))
            if not self._jsons:
                raise ModelError(f"ScriptedBackend: no JSON reply scripted for {schema.__name__}")
            payload = self._jsons.popleft()
        if callable(payload) and not isinstance(payload, BaseModel):
            payload = payload(msgs, schema)
        if isinstance(payload, BaseModel):
            payload = payload.model_dump()
        # Round-trip through JSON text, as a real backend does, so schema violations surface here.
        text = payload if isinstance(payload, str) else json.dumps(payload)
        report_stats(on_stats, GenerationStats(prompt_tokens=sum(self.count_tokens(m["content"]) for m in msgs),
                                               completion_tokens=self.count_tokens(text)))
        return schema.model_validate_json(text)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text.split())) if text else 0

    # what the app reads of a shared model (``ServedModel``): a script has no line in front of it
    @property
    def parallel(self) -> int:
        return 1

    def waiting(self) -> int:
        return 0

    def free_places(self) -> int:
        return max(0, self.parallel - self.waiting())

    def recent_stats(self) -> list[GenerationStats]:
        return [self._stats] if self._stats is not None else []

    def close(self) -> None:
        pass
