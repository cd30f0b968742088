"""Switching the LoRA adapter of the running model, with the real default model in llama.cpp.

What a teacher relies on when pressing "use this adapter" in the model panel: the running model
then answers exactly as a model started with ``--lora`` that adapter does; "back to the base
model" answers exactly as before; nothing computed under the old adapter is reused (the KV cache
and the saved session states go); a file that is not an adapter is refused and the model keeps
working as it was; and the switch waits for the call in progress (the queue puts it in line).
"""

from __future__ import annotations

import threading

import pytest

from tutor_app.runtime.adapters import adapter_version
from tutor_app.runtime.kv_cache import SessionStateCache
from tutor_app.runtime.llama_backend import LlamaCppBackend
from tutor_app.runtime.lora import AdapterError
from tutor_app.runtime.protocol import ModelError
from tutor_app.runtime.queue import ModelQueue

from adapter_support import random_gguf_adapter

pytestmark = pytest.mark.model

CONVERSATION = [{"role": "system", "content": "You are a patient maths tutor."},
                {"role": "user", "content": "How do I solve 2x + 3 = 11?"}]


def reply(backend, session_key=None, stats=None) -> str:
    return "".join(backend.stream_chat(CONVERSATION, max_tokens=12, temperature=0.0, session_key=session_key,
                                       on_stats=stats.append if stats is not None else None))


@pytest.fixture(scope="module")
def adapter(smollm2_path, tmp_path_factory):
    return random_gguf_adapter(smollm2_path, tmp_path_factory.mktemp("adapters") / "random.gguf")


def test_switching_at_run_time_answers_as_loading_with_lora_does(smollm2_path, adapter):
    with_lora = LlamaCppBackend(smollm2_path, n_ctx=512, lora_path=adapter)
    try:
        expected = reply(with_lora)
        assert with_lora.info.adapter == adapter_version(adapter)
    finally:
        with_lora.close()

    backend = LlamaCppBackend(smollm2_path, n_ctx=512)
    try:
        base = reply(backend)
        assert base != expected, "the random adapter must change what the model says, or this test proves nothing"
        assert backend.info.adapter is None
        info = backend.set_adapter(adapter)
        assert info.adapter == adapter_version(adapter) and info.detail["lora"] == str(adapter.resolve())
        assert reply(backend) == expected
        assert backend.set_adapter(None).adapter is None
        assert reply(backend) == base
        backend.set_adapter(adapter)  # the second time, the loaded adapter is reused
        assert reply(backend) == expected
    finally:
        backend.close()


def test_saved_session_states_are_not_reused_across_a_switch(smollm2_path, adapter, tmp_path):
    cache = SessionStateCache(ram_budget_bytes=64 << 20, disk_budget_bytes=0)
    backend = LlamaCppBackend(smollm2_path, n_ctx=512, state_cache=cache)
    try:
        stats = []
        reply(backend, "ada", stats)
        reply(backend, "ada", stats)
        assert stats[1].evaluated_tokens < stats[1].prompt_tokens  # reused within one adapter
        reply(backend, "ben", stats)  # Ada's state is saved when Ben takes the context
        assert "ada" in cache
        backend.set_adapter(adapter)
        assert len(cache) == 0
        reply(backend, "ada", stats)
        assert stats[-1].evaluated_tokens == stats[-1].prompt_tokens  # computed afresh under the adapter
    finally:
        backend.close()


def test_a_file_that_is_not_an_adapter_is_refused_and_the_model_keeps_its_adapter(smollm2_path, adapter, tmp_path):
    backend = LlamaCppBackend(smollm2_path, n_ctx=512, lora_path=adapter)
    try:
        before = reply(backend)
        bad = tmp_path / "notes.gguf"
        bad.write_bytes(b"this is not a GGUF file")
        with pytest.raises(AdapterError, match="notes.gguf"):
            backend.set_adapter(bad)
        with pytest.raises(AdapterError, match="does not exist"):
            backend.set_adapter(tmp_path / "missing.gguf")
        assert backend.info.adapter == adapter_version(adapter)
        assert reply(backend) == before
    finally:
        backend.close()


def test_the_queue_switches_between_calls_not_during_one(smollm2_path, adapter):
    queue = ModelQueue(LlamaCppBackend(smollm2_path, n_ctx=512))
    try:
        # A reply long enough to be still decoding when the switch is asked for (the engine
        # decodes ahead of the reader, so a short one may already be complete).
        base = "".join(queue.stream_chat(CONVERSATION, max_tokens=160, temperature=0.0))
        stream = queue.stream_chat(CONVERSATION, max_tokens=160, temperature=0.0)
        first = next(stream)  # this call holds a slot now
        switched = threading.Event()
        thread = threading.Thread(target=lambda: (queue.set_adapter(adapter), switched.set()))
        thread.start()
        assert not switched.wait(0.5), "the switch must wait for the reply being written"
        assert first + "".join(stream) == base  # the reply in progress finishes under the base model
        thread.join(timeout=30)
        assert switched.is_set() and queue.info.adapter == adapter_version(adapter)
    finally:
        queue.close()


def test_a_backend_that_cannot_switch_says_so(scripted_model):
    class NoSwitch:  # an OpenAI-compatible server: the adapter is the server's business
        info = scripted_model.info

    queue = ModelQueue(NoSwitch())
    with pytest.raises(ModelError, match="--lora"):
        queue.set_adapter(None)


def test_the_model_worker_switches_and_a_restarted_worker_keeps_the_deployed_adapter(smollm2_path, adapter,
                                                                                     tmp_path):
    """``python app.py`` runs llama.cpp in its model worker: the teacher's switch reaches it over
    the worker's /v1/adapter, answers as ``--lora`` does, and survives the worker's restart."""
    import os
    import signal
    import time

    from tutor_app.runtime.loading import load_backend
    from tutor_app.runtime.worker_backend import WorkerBackend
    from tutor_app.settings import Settings

    with_lora = LlamaCppBackend(smollm2_path, n_ctx=512, lora_path=adapter)
    try:
        expected = reply(with_lora)
    finally:
        with_lora.close()
    backend = load_backend(Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", n_ctx=512,
                                    kv_cache_mb=0))
    assert isinstance(backend, WorkerBackend), backend.info.problem
    backend.supervisor.backoff_s = (0.2,)
    queue = ModelQueue(backend)
    try:
        assert queue.info.adapter is None
        assert queue.set_adapter(adapter).adapter == adapter_version(adapter)
        assert reply(queue) == expected
        with pytest.raises(ModelError, match="not-an-adapter"):
            queue.set_adapter(tmp_path / "not-an-adapter.gguf")
        assert queue.info.adapter == adapter_version(adapter)  # a refused file changes nothing

        os.kill(backend.info.detail["worker"]["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 120
        while not (backend.supervisor.restarts == 1 and backend.info.available) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert backend.supervisor.restarts == 1, backend.info.problem
        backend._info_at = 0  # read the new worker's own figures
        assert queue.info.adapter == adapter_version(adapter)
        assert reply(queue) == expected
    finally:
        queue.close()
