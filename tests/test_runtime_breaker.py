"""The circuit breaker on its own: when it opens, what callers read, and how it closes again."""

from __future__ import annotations

import threading
import time

import pytest

from tutor_app.runtime.breaker import CircuitBreaker
from tutor_app.runtime.protocol import ModelUnavailable


def wait_for(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_opens_only_after_failures_in_a_row():
    breaker = CircuitBreaker(lambda: "still down", failures_to_open=3)
    try:
        breaker.failure("no answer")
        breaker.failure("no answer")
        breaker.success()  # one answer in between: the count starts again
        breaker.failure("no answer")
        breaker.failure("no answer")
        assert not breaker.is_open
        breaker.check()
        breaker.failure("did not answer within 30 s")
        assert breaker.is_open
        with pytest.raises(ModelUnavailable, match="The tutor is unavailable: did not answer within 30 s"):
            breaker.check()
    finally:
        breaker.close()


def test_the_probe_closes_it_and_a_failing_probe_keeps_it_open_with_the_latest_reason():
    answers = ["refused", RuntimeError("probe bug"), None]
    calls = []

    def probe():
        calls.append(time.monotonic())
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    breaker = CircuitBreaker(probe, failures_to_open=1, first_pause_s=0.05, max_pause_s=0.2)
    try:
        breaker.trip("no answer at start-up")
        assert breaker.is_open
        assert wait_for(lambda: len(calls) >= 2)
        assert breaker.is_open and "probe bug" in breaker.problem  # a probe that raises is a failed probe
        assert wait_for(lambda: not breaker.is_open)
        breaker.check()
        assert len(calls) == 3  # and no probing once it answers
    finally:
        breaker.close()


def test_reopening_after_a_close_starts_a_new_probe():
    state = {"up": False}
    breaker = CircuitBreaker(lambda: None if state["up"] else "down", failures_to_open=1, first_pause_s=0.02)
    try:
        for _ in range(3):
            state["up"] = False
            breaker.failure("down")
            assert breaker.is_open
            state["up"] = True
            assert wait_for(lambda: not breaker.is_open)
    finally:
        breaker.close()


def test_closing_the_backend_stops_probing():
    calls = []
    breaker = CircuitBreaker(lambda: calls.append(1) or "down", failures_to_open=1, first_pause_s=0.02,
                             max_pause_s=0.02)
    breaker.trip("down")
    assert wait_for(lambda: len(calls) >= 2)
    breaker.close()
    time.sleep(0.1)
    seen = len(calls)
    time.sleep(0.2)
    assert len(calls) == seen
    assert not any(t.name == "model-breaker-probe" and t.is_alive() for t in threading.enumerate())
