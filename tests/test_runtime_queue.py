"""The line in front of the one model: strict first-come order, positions, cancel, stats."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import BaseModel

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelBackend, ServedModel
from tutor_app.runtime.queue import ModelQueue


class Verdict(BaseModel):
    ok: bool


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_implements_the_protocol_and_passes_info_through():
    backend = ScriptedBackend()
    q = ModelQueue(backend)
    assert isinstance(q, ModelBackend) and isinstance(q, ServedModel)
    assert q.info == backend.info and q.waiting() == 0 and q.recent_stats() == []
    assert q.count_tokens("one two three") == 3


def test_calls_are_served_in_arrival_order_with_positions():
    backend = ScriptedBackend(chunk_size=1, delay_s=0.002)
    q = ModelQueue(backend)
    gate = threading.Event()
    order: list[int] = []
    positions: dict[int, list[int]] = {i: [] for i in range(5)}

    def holder():
        for i, _ in enumerate(q.stream_chat([{"role": "user", "content": "first"}])):
            if i == 0:
                gate.wait(5)

    def student(i: int):
        for _ in q.stream_chat([{"role": "user", "content": f"s{i}"}], on_wait=positions[i].append):
            pass
        order.append(i)

    first = threading.Thread(target=holder)
    first.start()
    wait_for(lambda: q.waiting() == 1)
    threads = []
    for i in range(5):  # arrive one after another while the model is busy
        t = threading.Thread(target=student, args=(i,))
        t.start()
        threads.append(t)
        wait_for(lambda: q.waiting() == i + 2)
    assert [positions[i][0] for i in range(5)] == [1, 2, 3, 4, 5]
    gate.set()
    first.join(5)
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]
    # told as the line moved (a busy machine may merge two moves into one report)
    assert positions[4][0] == 5 and positions[4][-1] == 1 and positions[4] == sorted(positions[4], reverse=True)
    assert q.waiting() == 0
    assert len(q.recent_stats()) == 6


def test_a_waiting_caller_that_cancels_leaves_the_line():
    backend = ScriptedBackend(chunk_size=1)
    q = ModelQueue(backend)
    gate = threading.Event()
    cancel = threading.Event()
    got: list[str] = []

    def holder():
        for i, _ in enumerate(q.stream_chat([{"role": "user", "content": "x"}])):
            if i == 0:
                gate.wait(5)

    def impatient():
        got.extend(q.stream_chat([{"role": "user", "content": "y"}], cancel=cancel))

    a, b = threading.Thread(target=holder), threading.Thread(target=impatient)
    a.start()
    wait_for(lambda: q.waiting() == 1)
    b.start()
    wait_for(lambda: q.waiting() == 2)
    cancel.set()
    b.join(5)
    assert not b.is_alive() and got == [] and q.waiting() == 1
    gate.set()
    a.join(5)
    assert q.waiting() == 0
    assert len(backend.calls) == 1  # the cancelled call never reached the model


def test_closing_a_stream_early_frees_the_model():
    backend = ScriptedBackend(chunk_size=1)
    q = ModelQueue(backend)
    stream = q.stream_chat([{"role": "user", "content": "x"}])
    next(stream)
    assert q.waiting() == 1
    stream.close()
    assert q.waiting() == 0


def test_json_calls_queue_too_and_record_stats():
    backend = ScriptedBackend()
    q = ModelQueue(backend)
    backend.enqueue_json({"ok": True})
    assert q.generate_json([{"role": "user", "content": "?"}], Verdict) == Verdict(ok=True)
    assert q.waiting() == 0


def test_recent_stats_is_a_bounded_ring():
    q = ModelQueue(ScriptedBackend(), history=20)
    for i in range(25):
        list(q.stream_chat([{"role": "user", "content": f"q{i}"}]))
    recent = q.recent_stats()
    assert len(recent) == 20 and recent[-1] is q.last_stats


def test_a_failing_backend_does_not_block_the_line():
    q = ModelQueue(ScriptedBackend())
    try:
        q.generate_json([{"role": "user", "content": "?"}], Verdict)  # nothing scripted: raises
    except Exception:
        pass
    assert q.waiting() == 0
    assert list(q.stream_chat([{"role": "user", "content": "hi"}]))


@pytest.mark.model
def test_students_share_the_real_model_through_the_queue(smollm2_path):
    from tutor_app.runtime.kv_cache import SessionStateCache
    from tutor_app.runtime.llama_backend import LlamaCppBackend

    backend = LlamaCppBackend(smollm2_path, n_ctx=1024,
                              state_cache=SessionStateCache(ram_budget_bytes=32 << 20, disk_budget_bytes=0))
    q = ModelQueue(backend)
    replies: dict[str, str] = {}
    told: dict[str, list[int]] = {}

    def student(name: str):
        told[name] = []
        messages = [{"role": "user", "content": f"Hello, I am {name}. What is 2 + {len(name)}?"}]
        replies[name] = "".join(q.stream_chat(messages, max_tokens=16, temperature=0, session_key=name,
                                              on_wait=told[name].append))

    try:
        threads = [threading.Thread(target=student, args=(n,)) for n in ("ana", "ben", "cleo")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(replies[n].strip() for n in ("ana", "ben", "cleo"))
        assert len(q.recent_stats()) == 3 and q.waiting() == 0
        assert sum(1 for n in told if told[n]) >= 1  # someone had to wait for the model
    finally:
        q.close()
