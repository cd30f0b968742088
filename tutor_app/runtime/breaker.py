"""A circuit breaker in front of a model server, so a server that hangs costs one timeout, not minutes.

Measured before it existed (issue 16): with a server that accepted connections and never
answered, every model call waited its full timeout behind the one before it; a tutor reply took
four minutes to fail. After ``failures_to_open`` consecutive failures the breaker opens: every
model call fails at once with "the tutor is unavailable" (``ModelUnavailable``, which the
tutoring code already turns into a friendly sentence), and a background thread probes the
server, with growing pauses, until it answers; then the breaker closes and calls flow again.

Only failures of the *server* count (no connection, no answer in time, 5xx); a reply that did
not fit its JSON schema is the model's failure, not the server's.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .protocol import ModelUnavailable

log = logging.getLogger(__name__)

Probe = Callable[[], "str | None"]  # None: the server answers; otherwise what is wrong


class CircuitBreaker:
    def __init__(self, probe: Probe, *, failures_to_open: int = 2, first_pause_s: float = 1.0,
                 max_pause_s: float = 30.0, what: str = "the model server") -> None:
        self._probe = probe
        self.failures_to_open = max(1, failures_to_open)
        self.first_pause_s = first_pause_s
        self.max_pause_s = max_pause_s
        self.what = what
        self._lock = threading.Lock()
        self._failures = 0
        self._problem: str | None = None  # set while open
        self._probing = False  # a probe thread runs (read and written under the lock)
        self._closed_for_good = threading.Event()  # the backend is shutting down: stop probing

    # state ------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._problem is not None

    @property
    def problem(self) -> str | None:
        """What the teacher and students read while the breaker is open."""
        problem = self._problem
        if problem is None:
            return None
        return f"The tutor is unavailable: {problem} (checking again in the background)."

    def check(self) -> None:
        """Raise at once while open: the caller must not wait on a server known not to answer."""
        problem = self.problem
        if problem is not None:
            raise ModelUnavailable(problem)

    # events -----------------------------------------------------------------------------
    def success(self) -> None:
        with self._lock:
            self._failures = 0

    def failure(self, problem: str) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failures_to_open:
                self._open(problem)

    def trip(self, problem: str) -> None:
        """Open at once (the server did not answer the start-up check)."""
        with self._lock:
            self._open(problem)

    def close(self) -> None:
        """Stop probing for good (the backend is closing)."""
        self._closed_for_good.set()

    # internals --------------------------------------------------------------------------
    def _open(self, problem: str) -> None:
        if self._problem is None:
            log.warning("%s is unavailable: %s", self.what, problem)
        self._problem = problem
        if not self._probing:
            self._probing = True
            threading.Thread(target=self._probe_until_it_answers, name="model-breaker-probe", daemon=True).start()

    def _probe_until_it_answers(self) -> None:
        pause = self.first_pause_s
        while not self._closed_for_good.wait(pause):
            try:
                problem = self._probe()
            except Exception as exc:  # a probe must never kill its thread
                problem = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if problem is None:
                    log.warning("%s answers again; model calls resume", self.what)
                    self._problem, self._failures, self._probing = None, 0, False
                    return
                self._problem = problem
            pause = min(self.max_pause_s, pause * 2)
        with self._lock:
            self._probing = False
