"""One model, a whole class: the line in front of the backend, with as many places as it serves at once.

A backend serves a few calls at the same time (``info.detail["parallel"]``: the slots of the
batched llama.cpp engine, or the parallel requests a model server takes; 1 when it does not
say). Up to that many calls run at once; the others wait, and who goes next is
``scheduling.FairLine``'s order: students' calls before batch work, sessions taking turns, and a
quarter of the places kept free of batch work. The UI shows each student their place
(``on_wait`` callbacks and ``waiting()``), and the teacher's model panel shows the last calls'
costs (``recent_stats``).

A stream holds its place from its first ``next()`` until it is exhausted or closed, so a
student who leaves (the UI closes the stream, or sets ``cancel``) frees the place at once.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .protocol import (GenerationStats, Message, ModelBackend, ModelError, ModelInfo, Priority, StatsCallback,
                       SwitchesAdapters, T, parallel_calls, report_stats)
from .scheduling import FairLine, batch_places

WaitCallback = Callable[[int], None]  # called with how many calls are ahead of this one
_POLL_S = 0.25  # how often a waiting stream looks at its cancel event


class ModelQueue:
    """A ``ServedModel`` in front of one backend."""

    def __init__(self, backend: ModelBackend, *, history: int = 20, parallel: int | None = None) -> None:
        """``parallel``: places, when the backend's own figure should not be used."""
        self.backend = backend
        self._fixed = parallel
        self._places = self._read_places()
        self._running: set[int] = set()  # tickets holding a place
        self._line: FairLine[int] = FairLine()  # tickets waiting for one
        self._priority: dict[int, Priority] = {}  # of every ticket in either
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

    @property
    def parallel(self) -> int:
        """How many calls run at once."""
        return self._places

    def waiting(self) -> int:
        """Calls holding or waiting for a place (the ones being served included)."""
        with self._cond:
            return len(self._running) + len(self._line)

    def free_places(self) -> int:
        """Places a call arriving now would find free (0 when it would have to wait)."""
        with self._cond:
            return max(0, self._places - len(self._running) - len(self._line))

    def position(self, ticket: int) -> int | None:
        """How many calls are ahead of ``ticket`` (0: being served), None when it is not in line.
        A waiting call has at least one ahead: a running call whose place it waits for."""
        with self._cond:
            if ticket in self._running:
                return 0
            if ticket not in self._line:
                return None
            return self._line.ordered().index(ticket) + 1

    def recent_stats(self) -> list[GenerationStats]:
        """The last calls' costs, oldest first (for the teacher's model panel)."""
        with self._cond:
            return list(self._recent)

    # the line ---------------------------------------------------------------------------
    def _read_places(self) -> int:
        if self._fixed:
            return max(1, int(self._fixed))
        try:
            return parallel_calls(self.backend)
        except Exception:  # a backend whose info fails now (a model server that is down) serves one
            return getattr(self, "_places", 1)

    def _enter(self, priority: Priority, session_key: str | None) -> int:
        places = self._read_places()  # outside the lock: a remote backend's info may take a moment
        with self._cond:
            self._places = places
            ticket = next(self._tickets)
            self._priority[ticket] = priority
            self._line.add(ticket, session=session_key, priority=priority)
            self._admit()
            return ticket

    def _admit(self) -> None:
        """Give free places to waiting tickets in the line's order (the lock is held)."""
        while len(self._running) < self._places and self._line:
            batch_running = sum(1 for t in self._running if self._priority[t] == "batch")
            ticket = self._line.pop(lambda t: self._priority[t] != "batch" or batch_running < batch_places(self._places))
            if ticket is None:
                return
            self._running.add(ticket)

    def _wait_turn(self, ticket: int, on_wait: WaitCallback | None, cancel: threading.Event | None) -> bool:
        """Block until ``ticket`` holds a place; False if ``cancel`` was set while waiting."""
        told: int | None = None
        with self._cond:
            while True:
                if ticket in self._running:
                    return True
                if cancel is not None and cancel.is_set():
                    return False
                ahead = self._line.ordered().index(ticket) + 1
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
            self._running.discard(ticket)
            self._line.remove(ticket)
            self._priority.pop(ticket, None)
            self._admit()
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
        ticket = self._enter(priority, session_key)
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
        ticket = self._enter(priority, session_key)
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
        """Switch the LoRA adapter between calls: the backend lets the calls it is serving finish
        under the old adapter and starts the next ones under the new one, so no call sees a
        half-switched model (llama.cpp's engine drains its slots first)."""
        if not isinstance(self.backend, SwitchesAdapters):
            raise ModelError(f"the {self.backend.info.backend} backend cannot switch LoRA adapters while the app "
                             "runs; start the app with --lora FILE instead (or load the adapter into the server)")
        return self.backend.set_adapter(path)

    def close(self) -> None:
        self.backend.close()
