"""The model's extras for a student, run after the student has their answer: never in the way.

Checking, bug rules and hints answer at once. What the model adds (a misconception diagnosis
for a plain wrong answer, the rubric grade of an open answer) runs here, on a small pool of
threads, after the reply has gone back; it stores its result and the student's page picks it up
(it polls while a session has work here or an open answer waiting). Jobs are counted per
session so that the chat can tell a student's own background work from other students' calls:
a lone student is never told "1 student ahead of you" because of their own diagnosis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

log = logging.getLogger(__name__)

WORKERS = 2


class BackgroundJobs:
    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="model-extra")
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()
        self._futures: set[Future] = set()

    def submit(self, session_id: str, job: Callable[[], object], *, what: str) -> Future:
        """Run ``job`` for ``session_id``; a failure is logged (the student already has the
        checker's words, so it only costs the model's extra ones)."""
        with self._lock:
            self._running[session_id] += 1

        def run():
            try:
                return job()
            except Exception:
                log.warning("%s failed in the background; the checker's feedback stands", what, exc_info=True)
                return None
            finally:
                with self._lock:
                    self._running[session_id] -= 1
                    if self._running[session_id] <= 0:
                        del self._running[session_id]

        future = self._pool.submit(run)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def running(self, session_id: str) -> int:
        """Jobs of this session queued or running."""
        with self._lock:
            return self._running.get(session_id, 0)

    def wait(self, timeout: float = 30.0) -> bool:
        """Until every job so far has finished (tests, and a clean shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            if time.monotonic() > deadline:
                return False
            pending[0].exception(timeout=max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
