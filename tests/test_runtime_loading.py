"""From settings to a backend: bad model files give a clear message and the app still starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor_app.runtime.default_model import DEFAULT_MODEL_FILE, default_model_path
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.loading import load_backend, load_in_process
from tutor_app.runtime.protocol import ModelBackend, ModelUnavailable
from tutor_app.runtime.unavailable import UnavailableBackend
from tutor_app.settings import Settings


def settings_for(tmp_path: Path, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", **kw)


def unavailable(backend) -> str:
    assert isinstance(backend, UnavailableBackend), backend
    assert isinstance(backend, ModelBackend)
    assert backend.info.available is False and backend.info.backend == "unavailable"
    with pytest.raises(ModelUnavailable) as caught:
        list(backend.stream_chat([{"role": "user", "content": "hi"}]))
    assert str(caught.value) == backend.info.problem
    return backend.info.problem


def test_default_model_is_found_inside_the_wheel(smollm2_path):
    assert default_model_path() == smollm2_path
    assert default_model_path().name == DEFAULT_MODEL_FILE


def test_missing_file(tmp_path):
    problem = unavailable(load_backend(settings_for(tmp_path, model=str(tmp_path / "nope.gguf"))))
    assert "nope.gguf does not exist" in problem and "--download" in problem


def test_empty_file(tmp_path):
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    problem = unavailable(load_backend(settings_for(tmp_path, model=str(path))))
    assert str(path) in problem and "empty" in problem and "--download" in problem


def test_not_a_gguf_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 100)
    problem = unavailable(load_backend(settings_for(tmp_path, model=str(path))))
    assert str(path) in problem and "not a GGUF model file" in problem


@pytest.mark.parametrize("keep", [64, 0.5], ids=["header-cut", "tensors-cut"])
def test_truncated_file(tmp_path, smollm2_path, keep):
    data = smollm2_path.read_bytes()
    size = keep if isinstance(keep, int) else int(len(data) * keep)
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[:size])
    problem = unavailable(load_backend(settings_for(tmp_path, model=str(path))))
    assert str(path) in problem and ("truncated" in problem) and "--download" in problem


def test_folder_instead_of_file(tmp_path):
    problem = unavailable(load_backend(settings_for(tmp_path, model=str(tmp_path))))
    assert "is a folder" in problem


def test_unknown_model_name(tmp_path):
    problem = unavailable(load_backend(settings_for(tmp_path, model="mixtrall-typo")))
    assert "mixtrall-typo" in problem and "--list-models" in problem


def test_file_name_is_looked_up_in_models_dir(tmp_path, smollm2_path):
    from tutor_app.runtime.loading import resolve_model

    models = tmp_path / "models"
    models.mkdir()
    (models / "mine.gguf").symlink_to(smollm2_path)
    assert resolve_model(settings_for(tmp_path, model="mine.gguf")).path == models / "mine.gguf"


def test_missing_lora_is_named(tmp_path, smollm2_path):
    problem = unavailable(load_backend(settings_for(tmp_path, model=str(smollm2_path),
                                                   lora=tmp_path / "adapter.gguf")))
    assert "adapter.gguf" in problem and "--lora" in problem


def test_other_backends(tmp_path):
    assert isinstance(load_backend(settings_for(tmp_path, backend="fake")), ScriptedBackend)
    assert "--backend none" in unavailable(load_backend(settings_for(tmp_path, backend="none")))
    assert "--base-url" in unavailable(load_backend(settings_for(tmp_path, backend="openai")))


def test_unavailable_json_calls_raise_the_same_problem():
    from pydantic import BaseModel

    class Out(BaseModel):
        x: int

    backend = UnavailableBackend("no model: do X")
    with pytest.raises(ModelUnavailable, match="no model: do X"):
        backend.generate_json([{"role": "user", "content": "?"}], Out)


@pytest.mark.model
@pytest.mark.parametrize("where", ["in the model worker", "in this process"])
def test_default_settings_load_the_shipped_model(tmp_path, capsys, where):
    """The app's way: llama.cpp in the model worker, whose plan line (with the CPU buffers chosen,
    and why) comes back and is printed by the app; and ``load_in_process``, the worker's loader."""
    from tutor_app.runtime.llama_backend import LlamaCppBackend
    from tutor_app.runtime.worker_backend import WorkerBackend

    load, kind = (load_backend, WorkerBackend) if where == "in the model worker" else (load_in_process, LlamaCppBackend)
    backend = load(settings_for(tmp_path, n_ctx=512))
    try:
        assert isinstance(backend, kind), backend.info.problem
        info = backend.info
        assert info.available and info.backend == "llama.cpp" and info.n_ctx == 512
        assert "SmolLM2" in info.name and info.offload_plan
        printed = capsys.readouterr().err
        assert info.offload_plan in printed  # the plan's reason is printed at start-up
        assert "CPU extra buffers" in info.detail["cpu_extra_buffers"] and info.detail["cpu_extra_buffers"] in printed
    finally:
        backend.close()


def write_lora(path: Path, scale: float) -> Path:
    """A GGUF LoRA adapter for SmolLM2's attention queries (rank 4); ``scale`` 0 makes it a no-op."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 4.0)
    rng = np.random.default_rng(0)
    for layer in range(30):
        writer.add_tensor(f"blk.{layer}.attn_q.weight.lora_a", (rng.standard_normal((4, 576)) * 0.1).astype(np.float32))
        writer.add_tensor(f"blk.{layer}.attn_q.weight.lora_b", (rng.standard_normal((576, 4)) * scale).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.model
def test_lora_adapter_is_applied(tmp_path, smollm2_path):
    question = [{"role": "user", "content": "What is 2+2?"}]
    replies = {}
    for label, lora in (("base", None), ("zero", write_lora(tmp_path / "zero.gguf", 0.0)),
                        ("strong", write_lora(tmp_path / "strong.gguf", 1.0))):
        backend = load_backend(settings_for(tmp_path, model=str(smollm2_path), n_ctx=512, lora=lora))
        try:
            assert backend.info.available, backend.info.problem
            assert backend.info.detail["lora"] == (str(lora) if lora else None)
            replies[label] = "".join(backend.stream_chat(question, max_tokens=12, temperature=0))
        finally:
            backend.close()
    assert replies["zero"] == replies["base"]  # a zero update changes nothing...
    assert replies["strong"] != replies["base"]  # ...and a real one changes the model


def test_a_model_too_big_for_the_machine_is_not_loaded(tmp_path, smollm2_path, monkeypatch):
    from tutor_app.runtime import machine

    tiny = machine.Machine(total_ram=2 << 30, available_ram=64 << 20, cpu_count=2)
    monkeypatch.setattr(machine, "probe_machine", lambda: tiny)
    # The planner runs where the model loads (in the worker): here, in this process, with the fake machine.
    problem = unavailable(load_in_process(settings_for(tmp_path, model=str(smollm2_path))))
    assert "does not fit this machine" in problem and str(smollm2_path) in problem


def test_a_broken_planner_falls_back_to_the_cpu(tmp_path, smollm2_path, monkeypatch):
    from tutor_app.runtime import loading, machine

    def broken():
        raise OSError("cannot read /proc/meminfo")

    monkeypatch.setattr(machine, "probe_machine", broken)
    plan = loading.plan_for(settings_for(tmp_path, model=str(smollm2_path)), smollm2_path,
                            loading.check_gguf(smollm2_path))
    assert plan.n_gpu_layers == 0 and plan.fits and "offload planner failed" in plan.reason
    assert plan.n_ctx == 4096


def test_explicit_settings_win_over_the_plan(tmp_path, smollm2_path):
    from tutor_app.runtime import loading

    settings = settings_for(tmp_path, model=str(smollm2_path), n_ctx=1024, kv_type="q8_0", threads=1)
    plan = loading.plan_for(settings, smollm2_path, loading.check_gguf(smollm2_path))
    assert (plan.n_ctx, plan.kv_type, plan.threads) == (1024, "q8_0", 1)
    assert plan.flash_attn  # a quantised V cache needs flash attention
    assert "context 1024" in plan.reason


def test_registry_names(tmp_path, smollm2_path):
    from tutor_app.runtime.loading import resolve_model

    shipped = resolve_model(settings_for(tmp_path, model="smollm2-135m-instruct"))
    assert shipped.path == smollm2_path and shipped.registry_name == "smollm2-135m-instruct"
    problem = unavailable(load_backend(settings_for(tmp_path, model="mixtral-8x7b-instruct-q4_k_m")))
    assert "not downloaded yet" in problem and str(tmp_path / "models") in problem
    assert "python app.py --download mixtral-8x7b-instruct-q4_k_m" in problem


def test_unknown_name_lists_the_known_ones(tmp_path):
    problem = unavailable(load_backend(settings_for(tmp_path, model="mixtral-q4")))
    assert "mixtral-8x7b-instruct-q4_k_m" in problem


def test_header_scan_agrees_with_the_gguf_package(tmp_path, smollm2_path):
    """The quick header walk finds the same metadata and tensor extent as ``gguf.GGUFReader``,
    also for a file written by the ``gguf`` writer with nested arrays and odd alignment."""
    import gguf
    import numpy as np

    from tutor_app.runtime.loading import scan_gguf

    path = tmp_path / "odd.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_custom_alignment(64)
    writer.add_array("test.nested", [[1, 2], [3]])
    writer.add_array("test.words", ["a", "bb", "ccc"])
    writer.add_float64("test.pi", 3.25)
    writer.add_tensor("a", np.ones((3, 5), dtype=np.float32))
    writer.add_tensor("b", np.ones((7,), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    for file in (path, smollm2_path):
        metadata, needed = scan_gguf(file)
        reader = gguf.GGUFReader(str(file))
        assert needed == max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
        assert metadata["general.architecture"] == "llama"
    assert scan_gguf(path)[0]["test.pi"] == 3.25


@pytest.mark.model
def test_the_plan_chooses_the_slots_and_the_start_up_line_says_how_many(tmp_path, capsys):
    from tutor_app.runtime.offload import MAX_AUTO_PARALLEL

    backend = load_backend(settings_for(tmp_path, n_ctx=512))  # 512 tokens of KV per slot fit many times here
    try:
        assert backend.info.detail["parallel"] == MAX_AUTO_PARALLEL
        assert f"{MAX_AUTO_PARALLEL} parallel slots" in capsys.readouterr().err
    finally:
        backend.close()
    asked = load_backend(settings_for(tmp_path, n_ctx=512, parallel=3))
    try:
        assert asked.info.detail["parallel"] == 3 and "3 parallel slots" in asked.info.offload_plan
    finally:
        asked.close()


def test_without_a_planner_the_slots_are_the_settings(tmp_path, smollm2_path, monkeypatch):
    from tutor_app.runtime import loading, machine

    def broken():
        raise OSError("cannot read /proc/meminfo")

    monkeypatch.setattr(machine, "probe_machine", broken)
    plan = loading.plan_for(settings_for(tmp_path, model=str(smollm2_path), parallel=2), smollm2_path,
                            loading.check_gguf(smollm2_path))
    assert plan.n_parallel == 2 and "2 parallel slot(s)" in plan.reason
    assert loading.plan_for(settings_for(tmp_path, model=str(smollm2_path)), smollm2_path,
                            loading.check_gguf(smollm2_path)).n_parallel == 1
