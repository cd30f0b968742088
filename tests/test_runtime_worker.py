"""Everything the in-process backend did, through the real model worker process and the default
model: streaming with per-call usage, cancel, per-session KV reuse with spill to disk,
JSON-schema decisions, token counts, concurrent calls, and the offload plan (experts on the
CPU). LoRA through the worker: test_runtime_loading.py. Crashes: test_runtime_supervisor.py."""

from __future__ import annotations

import json
import threading
import time
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from bench.upcycle import upcycle_to_moe
from tutor_app.runtime.loading import load_backend
from tutor_app.runtime.protocol import GenerationStats, ModelBackend
from tutor_app.runtime.worker_backend import WorkerBackend
from tutor_app.settings import Settings

pytestmark = pytest.mark.model

SYSTEM = {"role": "system", "content": "You are a patient math tutor. Ask one guiding question at a time."}


class Diagnosis(BaseModel):
    misconception: Literal["sign_error", "distributed_wrong", "none"]
    confidence: int = Field(ge=0, le=4)
    feedback: str = Field(max_length=30)


def ask(text: str) -> list[dict]:
    return [SYSTEM, {"role": "user", "content": text}]


def start(tmp_path, **kw) -> WorkerBackend:
    backend = load_backend(Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", **kw))
    assert isinstance(backend, WorkerBackend), backend.info.problem
    return backend


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    backend = start(tmp_path_factory.mktemp("worker"), n_ctx=2048)
    yield backend
    backend.close()


def recent_calls(backend: WorkerBackend) -> list[dict]:
    backend._info_at = 0  # read the worker's figures now
    return backend.info.detail["recent_calls"]


def test_streams_with_this_calls_own_usage(worker):
    assert isinstance(worker, ModelBackend)
    usage: list[GenerationStats] = []
    pieces = list(worker.stream_chat(ask("How do I solve 2x + 3 = 11?"), max_tokens=24, temperature=0,
                                     on_stats=usage.append))
    assert len(pieces) > 3 and "".join(pieces).strip()
    stats = usage[0]
    assert 0 < stats.completion_tokens <= 24 and stats.prompt_tokens > 20
    assert 0 < stats.time_to_first_token_s < stats.total_s
    assert recent_calls(worker)[-1]["completion_tokens"] == stats.completion_tokens  # the worker's own count


def test_cancel_stops_generation_in_the_worker(worker):
    cancel = threading.Event()
    pieces = []
    for piece in worker.stream_chat(ask("Write a very long story about numbers."), max_tokens=200, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    time.sleep(0.5)
    last = recent_calls(worker)[-1]
    assert last["cancelled"] and last["completion_tokens"] < 40  # not the 200 asked for


def test_a_reader_that_stops_early_stops_the_worker(worker):
    stream = worker.stream_chat(ask("Write a very long story about primes."), max_tokens=200)
    next(stream)
    stream.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        last = recent_calls(worker)[-1]
        if last["cancelled"]:
            break
        time.sleep(0.2)
    assert last["cancelled"] and last["completion_tokens"] < 40


@pytest.mark.parametrize("temperature", [0.0, 1.5])
def test_json_decisions_validate_under_the_schema(worker, temperature):
    for prompt in ("The student wrote 2x = 14 for 2x + 3 = 11. Which misconception? Explain at length.",
                   "Say the confidence is -7 and write feedback of at least eighty words."):
        result = worker.generate_json(ask(prompt), Diagnosis, temperature=temperature, max_tokens=96)
        assert isinstance(result, Diagnosis) and len(result.feedback) <= 30


def test_token_counts_come_from_the_models_tokenizer_and_are_cached(worker, smollm2_path, monkeypatch):
    from llama_cpp import Llama

    text = "Subtract three from both sides: 2x + 3 - 3 = 11 - 3."
    vocab_only = Llama(str(smollm2_path), vocab_only=True, verbose=False)
    assert worker.count_tokens(text) == len(vocab_only.tokenize(text.encode(), add_bos=False, special=False))
    asked = []
    remote = worker._remote
    original = remote.request_json
    monkeypatch.setattr(remote, "request_json", lambda *a, **k: asked.append(a) or original(*a, **k))
    worker.count_tokens(text)
    assert asked == []  # the second count of the same text never left this process


def test_concurrent_calls_are_all_served(worker):
    replies: dict[int, str] = {}

    def one(i: int) -> None:
        replies[i] = "".join(worker.stream_chat(ask(f"What is {i} + {i}?"), max_tokens=12, temperature=0,
                                                session_key=f"student-{i}"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(replies) == [0, 1, 2] and all(r.strip() for r in replies.values())


def take_turn(backend, history: list[dict], question: str) -> GenerationStats:
    usage: list[GenerationStats] = []
    history.append({"role": "user", "content": question})
    reply = "".join(backend.stream_chat(history, max_tokens=16, temperature=0, session_key=history[0]["content"],
                                        on_stats=usage.append))
    history.append({"role": "assistant", "content": reply})
    return usage[0]


def test_each_session_keeps_its_kv_state_also_spilled_to_disk(tmp_path):
    """Two students taking turns: each turn evaluates only what is new since that student's
    last turn, with their states saved (here: spilled to disk, 1 MB of RAM) in between."""
    backend = start(tmp_path, n_ctx=2048, kv_cache_mb=1)
    try:
        ana = [{"role": "system", "content": "You are a patient math tutor. (Ana)"}]
        ben = [{"role": "system", "content": "You are a patient math tutor. (Ben)"}]
        first = take_turn(backend, ana, "How do I solve 2x + 3 = 11?")
        assert first.evaluated_tokens == first.prompt_tokens
        take_turn(backend, ben, "What is a prime number?")
        second = take_turn(backend, ana, "I took away 3 from both sides. Now what?")
        reused = second.prompt_tokens - second.evaluated_tokens
        assert reused >= first.prompt_tokens  # Ana's whole first turn came back from her saved state
        backend._info_at = 0
        kv = backend.info.detail["kv_states"]
        assert kv["on_disk"] >= 1 and kv["disk_mb"] > 0
        assert (tmp_path / "data" / "kv-states").is_dir()  # spilled under the data dir
    finally:
        backend.close()


def test_experts_on_cpu_plans_reach_the_worker(tmp_path, monkeypatch, smollm2_path):
    """On a (pretended) machine with a small GPU the planner keeps the experts of an upcycled
    mixture of experts in RAM: the plan is made in the worker and the overrides reach its loader."""
    from tutor_app.runtime.gguf_info import read_model_shape
    from tutor_app.runtime.machine import Gpu, Machine
    from tutor_app.runtime.offload import VRAM_RESERVE_BYTES, plan_offload

    moe = upcycle_to_moe(smollm2_path, tmp_path / "moe.gguf")
    shape = read_model_shape(moe)
    machine = None
    for free_mb in range(200, 1200, 25):  # a GPU just big enough for attention and some experts
        vram = VRAM_RESERVE_BYTES + (free_mb << 20)
        candidate = Machine(total_ram=32 << 30, available_ram=32 << 30, cpu_count=2, gpu_offload_supported=True,
                            gpus=[Gpu("pretend GPU", vram, vram)])
        if plan_offload(shape, candidate, Settings(n_ctx=1024)).experts_on_cpu:
            machine = candidate
            break
    assert machine is not None, "no VRAM size made the planner keep experts in RAM"
    monkeypatch.setenv("TUTOR_WORKER_TEST_HOOKS", "1")
    monkeypatch.setenv("TUTOR_WORKER_TEST_MACHINE", json.dumps({
        "total_ram": machine.total_ram, "available_ram": machine.available_ram, "cpu_count": 2,
        "gpu_offload_supported": True, "gpus": [{"name": "pretend GPU", "free_vram": machine.gpus[0].free_vram,
                                                 "total_vram": machine.gpus[0].total_vram}]}))
    backend = start(tmp_path, model=str(moe), n_ctx=1024)
    try:
        info = backend.info
        assert info.detail["experts_on_cpu"] is True and info.detail["placement"] == "experts-cpu"
        assert "experts" in info.offload_plan
        log = (tmp_path / "data" / "model-worker.log").read_text(errors="replace")
        assert "ffn_up_exps.weight" in log and "buffer type overridden to CPU" in log
        assert "".join(backend.stream_chat(ask("What is 2 + 2?"), max_tokens=8, temperature=0)).strip()
    finally:
        backend.close()
