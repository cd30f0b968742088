"""The supervisor with real worker processes that really crash (a NULL dereference armed by the
test hooks): a crash mid-reply is reported as such and the worker comes back; a worker that
crashes at every start is given up with the reason; the teacher's panel shows the crashes."""

from __future__ import annotations

import threading
import time

import pytest

from tutor_app.runtime.loading import load_backend
from tutor_app.runtime.protocol import ModelCrashed, ModelUnavailable
from tutor_app.runtime.queue import ModelQueue
from tutor_app.runtime.worker_backend import WorkerBackend
from tutor_app.runtime.worker_hooks import ARM_FILE, START_ARM_FILE
from tutor_app.settings import Settings
from tutor_app.ui.model_panel import model_snapshot

pytestmark = pytest.mark.model

QUESTION = [{"role": "user", "content": "Write a long story about numbers and the people who love them."}]


@pytest.fixture
def hooks(monkeypatch):
    monkeypatch.setenv("TUTOR_WORKER_TEST_HOOKS", "1")


def settings_for(tmp_path, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", n_ctx=1024, **kw)


def quick_restarts(backend: WorkerBackend) -> WorkerBackend:
    backend.supervisor.backoff_s = (0.2,)
    return backend


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def test_a_crash_mid_reply_is_reported_and_the_worker_comes_back(tmp_path, hooks):
    backend = quick_restarts(load_backend(settings_for(tmp_path)))
    assert isinstance(backend, WorkerBackend), backend.info.problem
    try:
        first_pid = backend.info.detail["worker"]["pid"]
        (tmp_path / "data" / ARM_FILE).write_text("5")
        pieces = []
        with pytest.raises(ModelCrashed, match="killed by SIGSEGV"):
            for piece in backend.stream_chat(QUESTION, max_tokens=100, temperature=0):
                pieces.append(piece)
        assert len(pieces) >= 4  # the part sent before the crash reached the caller
        assert wait_for(lambda: backend.supervisor.restarts == 1 and backend.info.available, 120), backend.info.problem
        worker = backend.info.detail["worker"]
        assert worker["state"] == "ready" and worker["pid"] != first_pid and worker["restarts"] == 1
        crash = worker["crashes"][0]
        assert crash["signal"] == "SIGSEGV" and crash["exit_code"] is None and crash["during"] == "serving"
        assert any("dereferencing NULL" in line for line in crash["log_tail"])  # the log's last lines
        assert "".join(backend.stream_chat(QUESTION, max_tokens=8, temperature=0)).strip()  # the new worker answers
        # the teacher's model panel shows the crash: when, how, and the log lines
        summary, _ = model_snapshot(ModelQueue(backend))
        assert "SIGSEGV" in summary and "dereferencing NULL" in summary and "Restarts" in summary
    finally:
        backend.close()


def test_while_the_worker_restarts_calls_fail_fast_with_the_reason(tmp_path, hooks):
    backend = quick_restarts(load_backend(settings_for(tmp_path)))
    backend.supervisor.backoff_s = (3.0,)  # a restart that takes a while
    try:
        (tmp_path / "data" / ARM_FILE).write_text("1")
        with pytest.raises(ModelCrashed):
            list(backend.stream_chat(QUESTION, max_tokens=50))
        assert wait_for(lambda: backend.supervisor.status == "restarting", 10)
        info = backend.info
        assert not info.available and "restarts in 3 s" in info.problem
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match="restarts in"):
            list(backend.stream_chat(QUESTION, max_tokens=5))
        assert time.monotonic() - started < 2 * backend.timeouts.connect_s + 1  # no minutes-long wait
        assert backend.count_tokens("four words right here") > 0  # prompt budgeting keeps working
    finally:
        backend.close()


def test_a_worker_that_crashes_at_every_start_is_given_up_with_the_reason(tmp_path, hooks):
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / START_ARM_FILE).write_text("")
    backend = WorkerBackend.start(settings_for(tmp_path), backoff_s=(0.1,))
    try:
        assert backend.supervisor.wait_settled(120) == "gave up"
        info = backend.info
        assert not info.available and info.backend == "unavailable"
        assert "crashed 3 times in a row while starting" in info.problem and "SIGSEGV" in info.problem
        assert "dereferencing NULL" in info.problem  # the log's last lines say why
        assert len(info.detail["worker"]["crashes"]) == 3
        with pytest.raises(ModelUnavailable, match="crashed 3 times"):
            list(backend.stream_chat(QUESTION))
        # the command-line way (load_backend waits) gives the same reason as an unavailable backend
        waited = load_backend(settings_for(tmp_path))
        assert waited.info.backend == "unavailable" and "crashed 3 times" in waited.info.problem
    finally:
        backend.close()


def test_a_model_the_worker_cannot_load_is_not_restarted(tmp_path):
    """Not a crash: a whole GGUF of an architecture llama.cpp does not know passes the app's file
    check; llama.cpp refuses it in the worker, which says so and ends. No restart loop."""
    import gguf
    import numpy as np

    path = tmp_path / "unknown-architecture.gguf"
    writer = gguf.GGUFWriter(str(path), "no-such-architecture")
    writer.add_tensor("token_embd.weight", np.ones((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    backend = WorkerBackend.start(settings_for(tmp_path, model=str(path)), backoff_s=(0.1,))
    try:
        assert backend.supervisor.wait_settled(120) == "unavailable"
        time.sleep(1)
        info = backend.info
        assert "could not load" in info.problem and not info.detail["worker"]["crashes"]
        assert backend.supervisor.restarts == 0
    finally:
        backend.close()


def test_closing_the_app_ends_its_worker(tmp_path):
    backend = load_backend(settings_for(tmp_path))
    process = backend.supervisor.current.process
    backend.close()
    assert process.poll() is not None
    assert backend.supervisor.status == "stopped"


@pytest.mark.parametrize("steps", [10, 0])
def test_the_worker_runs_below_the_apps_cpu_priority(tmp_path, steps):
    """Answer checks and hints are plain code in the app's process; the model's threads must not
    take the cores from them (``--worker-nice``, 0 keeps the app's priority)."""
    import os

    backend = load_backend(settings_for(tmp_path, worker_nice=steps))
    try:
        pid = backend.supervisor.current.process.pid
        app = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(app + steps, 19)
        assert list(backend.stream_chat(QUESTION, max_tokens=4, temperature=0))  # and it still answers
    finally:
        backend.close()


def test_a_worker_whose_app_died_ends_itself(tmp_path):
    """Its stdin is the app's pipe: when the app is gone, so is the worker (no orphans)."""
    backend = load_backend(settings_for(tmp_path))
    process = backend.supervisor.current.process
    try:
        process.stdin.close()  # what the kernel does when the app process dies
        assert wait_for(lambda: process.poll() is not None, 30)
    finally:
        backend.supervisor._stop.set()
        backend.close()


def test_the_streams_of_other_students_are_not_disturbed_by_one_closing(tmp_path):
    backend = load_backend(settings_for(tmp_path))
    try:
        results = {}

        def reader(name: str, stop_after: int | None) -> None:
            pieces = []
            stream = backend.stream_chat(QUESTION, max_tokens=20, temperature=0, session_key=name)
            for piece in stream:
                pieces.append(piece)
                if stop_after and len(pieces) >= stop_after:
                    stream.close()
                    break
            results[name] = pieces

        threads = [threading.Thread(target=reader, args=("ana", 2)), threading.Thread(target=reader, args=("ben", None))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results["ana"]) == 2 and len(results["ben"]) > 2
    finally:
        backend.close()
