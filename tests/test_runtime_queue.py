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


# several places ---------------------------------------------------------------------------
class Overlap:
    """Wraps a scripted backend and records how many of its calls run at the same time."""

    def __init__(self, backend: ScriptedBackend, parallel: int | None = None) -> None:
        self.backend = backend
        self.running = 0
        self.most = 0
        self.started: list[str] = []
        self._lock = threading.Lock()
        self.parallel = parallel

    @property
    def info(self):
        info = self.backend.info
        if self.parallel is not None:
            info.detail["parallel"] = self.parallel
        return info

    @property
    def last_stats(self):
        return self.backend.last_stats

    def stream_chat(self, messages, **kwargs):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.append(messages[-1]["content"])
        try:
            yield from self.backend.stream_chat(messages, **kwargs)
        finally:
            with self._lock:
                self.running -= 1

    def generate_json(self, *args, **kwargs):
        return self.backend.generate_json(*args, **kwargs)

    def count_tokens(self, text):
        return self.backend.count_tokens(text)

    def close(self):
        pass


def drain(q, text, **kwargs):
    return "".join(q.stream_chat([{"role": "user", "content": text}], **kwargs))


def test_as_many_calls_run_at_once_as_the_backend_serves():
    inner = Overlap(ScriptedBackend(chunk_size=1, delay_s=0.01), parallel=3)
    q = ModelQueue(inner)
    assert q.parallel == 3
    threads = [threading.Thread(target=drain, args=(q, f"s{i}")) for i in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert inner.most == 3 and q.waiting() == 0 and len(q.recent_stats()) == 7


def test_a_backend_that_does_not_say_serves_one_call_at_a_time():
    inner = Overlap(ScriptedBackend(chunk_size=1, delay_s=0.005))
    q = ModelQueue(inner)
    threads = [threading.Thread(target=drain, args=(q, f"s{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert q.parallel == 1 and inner.most == 1


def test_a_call_waits_only_when_every_place_is_taken_and_is_told_its_place():
    inner = Overlap(ScriptedBackend(chunk_size=1), parallel=2)
    q = ModelQueue(inner)
    gate = threading.Event()

    def holder(text):
        for i, _ in enumerate(q.stream_chat([{"role": "user", "content": text}])):
            if i == 0:
                gate.wait(5)

    holders = [threading.Thread(target=holder, args=(f"h{i}",)) for i in range(2)]
    assert q.free_places() == 2
    holders[0].start()
    wait_for(lambda: q.waiting() == 1)
    assert q.free_places() == 1
    holders[1].start()
    wait_for(lambda: q.waiting() == 2)
    assert q.free_places() == 0
    told: list[int] = []
    late = threading.Thread(target=drain, args=(q, "late"), kwargs={"on_wait": told.append})
    late.start()
    wait_for(lambda: told == [1])
    gate.set()
    for t in (*holders, late):
        t.join(5)
    assert inner.started[-1] == "late" and q.waiting() == 0


def test_students_go_before_batch_work_and_batch_work_leaves_them_a_place():
    inner = Overlap(ScriptedBackend(chunk_size=1), parallel=4)
    q = ModelQueue(inner)
    gate = threading.Event()

    def grading(i):
        for n, _ in enumerate(q.stream_chat([{"role": "user", "content": f"grade-{i}"}], priority="batch")):
            if n == 0:
                gate.wait(5)

    batch = [threading.Thread(target=grading, args=(i,)) for i in range(6)]
    for t in batch:
        t.start()
    wait_for(lambda: q.waiting() == 6)
    assert inner.running == 3  # 3 of 4 places: one stays free for a student
    student = threading.Thread(target=drain, args=(q, "student"))
    student.start()
    student.join(5)
    assert not student.is_alive() and "student" in inner.started[:4]
    gate.set()
    for t in batch:
        t.join(5)
    assert inner.most == 4


def test_sessions_take_turns_for_the_places():
    inner = Overlap(ScriptedBackend(chunk_size=1), parallel=1)
    q = ModelQueue(inner)
    gate = threading.Event()

    def holder():
        for i, _ in enumerate(q.stream_chat([{"role": "user", "content": "hold"}])):
            if i == 0:
                gate.wait(5)

    first = threading.Thread(target=holder)
    first.start()
    wait_for(lambda: q.waiting() == 1)
    calls = [("a1", "ana"), ("a2", "ana"), ("a3", "ana"), ("b1", "ben")]
    threads = []
    for n, (text, session) in enumerate(calls):
        threads.append(threading.Thread(target=drain, args=(q, text), kwargs={"session_key": session}))
        threads[-1].start()
        wait_for(lambda: q.waiting() == n + 2)
    gate.set()
    for t in (first, *threads):
        t.join(5)
    order = inner.started[1:]
    assert order.index("b1") < order.index("a2")  # ben's one call does not wait behind two of ana's
