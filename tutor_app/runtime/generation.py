"""One call to the engine: what to generate, and the thread-safe channel its text comes back on.

The caller's thread builds a ``Generation``, hands it to the engine and reads ``pieces`` (text
as it is sampled, then an end marker or an error). The engine thread is the only writer of the
generation's progress; the caller only ever sets ``cancelled``. Usage figures (``stats``) are
final when ``done`` is set.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Sequence

from llama_cpp.llama_grammar import LlamaGrammar

from .protocol import GenerationStats, ModelError, Priority

_ids = itertools.count(1)


@dataclass(eq=False)
class Generation:
    tokens: list[int]  # the prompt, exactly as the model reads it
    max_tokens: int
    temperature: float
    stop: Sequence[str] = ()
    session_key: str | None = None
    grammar: LlamaGrammar | None = None
    priority: Priority = "interactive"
    started: float = field(default_factory=time.perf_counter)  # when the caller asked (TTFT counts from here)
    id: int = field(default_factory=lambda: next(_ids))
    stats: GenerationStats = field(init=False)
    cancelled: threading.Event = field(default_factory=threading.Event, init=False)
    done: threading.Event = field(default_factory=threading.Event, init=False)
    _pieces: queue.SimpleQueue = field(default_factory=queue.SimpleQueue, init=False)

    def __post_init__(self) -> None:
        self.stats = GenerationStats(prompt_tokens=len(self.tokens))

    def __hash__(self) -> int:
        return self.id

    # the caller's side -----------------------------------------------------------------
    def next_piece(self, timeout: float | None) -> tuple[str, object] | None:
        """("text", str), ("end", None) or ("error", ModelError); None after ``timeout`` seconds
        (None: wait until one comes; the engine always ends a generation it was given)."""
        try:
            return self._pieces.get(timeout=timeout)
        except queue.Empty:
            return None

    def cancel(self) -> None:
        self.cancelled.set()

    # the engine's side -----------------------------------------------------------------
    def emit(self, text: str) -> None:
        if text:
            self._pieces.put(("text", text))

    def finish(self, error: ModelError | None = None) -> None:
        """End the call (finished, cancelled or failed): usage is final from here on."""
        if self.done.is_set():
            return
        now = time.perf_counter()
        if self.stats.completion_tokens == 0:
            self.stats.time_to_first_token_s = now - self.started
        self.stats.total_s = now - self.started
        self.done.set()
        self._pieces.put(("error", error) if error is not None else ("end", None))
