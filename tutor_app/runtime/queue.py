"""One model, a whole class: a first-come-first-served line in front of the backend.

A llama.cpp context serves one generation at a time. Without a line, concurrent students
would either corrupt each other's KV state or be served in whatever order a lock happens to
wake threads, so a student could wait indefinitely. Each call takes a ticket; tickets are
served strictly in order. The UI shows each student their place (``on_wait`` callbacks and
``waiting()``), and the teacher's model panel shows the last calls' costs (``recent_stats``).

A stream holds its place from its first ``next()`` until it is exhausted or closed, so a
student who leaves (the UI closes the stream, or sets ``cancel``) frees the model at once.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .protocol import (GenerationStats, Message, ModelBackend, ModelError, ModelInfo, Priority, StatsCallback,
                       SwitchesAdapters, T, report_stats)

WaitCallback = Callable[[int], None]  # called with how many calls are ahead of this one
_POLL_S = 0.25  # how often a waiting stream looks at its cancel event


class ModelQueue:
    """A ``ServedModel`` in front of one backend."""

    def __init__(self, backend: ModelBackend, *, history: int = 20) -> None:
        self.backend = backend
        self._line: deque[int] = deque()  # tickets, the one being served first
        self._tickets = itertools.count(1)
        self._cond = threading.Condition()
        self._recent: deque[GenerationStats] = deque(maxlen=history)

    # what the UI shows ------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return self.backend.info

    @property
    def last_stats(self) -> GenerationStats | None:
        return self.backend.last_stats

    def waiting(self) -> int:
        """Calls holding or waiting for the model (the one being served included)."""
        with self._cond:
            return len(self._line)

    def position(self, ticket: int) -> int | None:
        """How many calls are ahead of ``ticket`` (0: being served), None when it is not in line."""
        with self._cond:
            try:
                return self._line.index(ticket)
            except ValueError:
                return None

    def recent_stats(self) -> list[GenerationStats]:
        """The last calls' costs, oldest first (for the teacher's model panel)."""
        with self._cond:
            return list(self._recent)

    # the line ---------------------------------------------------------------------------
    def _enter(self) -> int:
        with self._cond:
            ticket = next(self._tickets)
            self._line.append(ticket)
            return ticket

    def _wait_turn(self, ticket: int, on_wait: WaitCallback | None, cancel: threading.Event | None) -> bool:
        """Block until ``ticket`` is first in line; False if ``cancel`` was set while waiting."""
        told: int | None = None
        with self._cond:
            while True:
                ahead = self._line.index(ticket)
                if ahead == 0:
                    return True
                if cancel is not None and cancel.is_set():
                    return False
                if on_wait is not None and ahead != told:
                    told = ahead
                    self._cond.release()
                    try:
                        on_wait(ahead)  # outside the lock: a callback may ask for waiting()
                    finally:
                        self._cond.acquire()
                    continue
                self._cond.wait(timeout=_POLL_S if cancel is not None else None)

    def _leave(self, ticket: int) -> None:
        with self._cond:
            try:
                self._line.remove(ticket)
            except ValueError:
                pass
            self._cond.notify_all()

    def _recorder(self, on_stats: StatsCallback | None) -> StatsCallback:
        """Keep each call's own usage for the panel, and pass it on to the caller."""
        def record(stats: GenerationStats) -> None:
            with self._cond:
                self._recent.append(stats)
            report_stats(on_stats, stats)
        return record

    # the protocol -----------------------------------------------------------------------
    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None, on_wait: WaitCallback | None = None) -> Iterator[str]:
        ticket = self._enter()
        try:
            if not self._wait_turn(ticket, on_wait, cancel):
                return
            yield from self.backend.stream_chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                                session_key=session_key, cancel=cancel, priority=priority,
                                                on_stats=self._recorder(on_stats))
        finally:
            self._leave(ticket)

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None, on_wait: WaitCallback | None = None) -> T:
        ticket = self._enter()
        try:
            self._wait_turn(ticket, on_wait, None)
            return self.backend.generate_json(messages, schema, max_tokens=max_tokens, temperature=temperature,
                                              session_key=session_key, priority=priority,
                                              on_stats=self._recorder(on_stats))
        finally:
            self._leave(ticket)

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)  # tokenising does not touch the context: no queue

    def set_adapter(self, path: Path | None) -> ModelInfo:
        """Switch the LoRA adapter in line like a call: the calls before it finish under the old
        adapter, the ones after it start under the new one, and none sees a half-switched model."""
        if not isinstance(self.backend, SwitchesAdapters):
            raise ModelError(f"the {self.backend.info.backend} backend cannot switch LoRA adapters while the app "
                             "runs; start the app with --lora FILE instead (or load the adapter into the server)")
        ticket = self._enter()
        try:
            self._wait_turn(ticket, None, None)
            return self.backend.set_adapter(path)
        finally:
            self._leave(ticket)

    def close(self) -> None:
        self.backend.close()
