"""The upcycled mixture of experts (built from the shipped model) and tensor buffer overrides."""

from __future__ import annotations

import re
import threading

import pytest
from gguf import GGUFReader

from tutor_app.runtime.gguf_info import read_model_shape
from tutor_app.runtime.machine import Gpu, Machine
from tutor_app.runtime.offload import VRAM_RESERVE_BYTES, plan_offload
from tutor_app.runtime.tensor_overrides import (
    Override, TensorOverrideError, buffer_type, expert_patterns, experts_on_cpu, tensor_buffer_overrides,
)
from bench.upcycle import UpcycleError, upcycle_to_moe

PROMPT = "The capital of France is"
OVERRIDE_LINE = re.compile(r"tensor (\S+) \(.*\) buffer type overridden to CPU")
MIB = 2**20


@pytest.fixture(scope="session")
def upcycled_moe(tmp_path_factory, smollm2_path):
    return upcycle_to_moe(smollm2_path, tmp_path_factory.mktemp("moe") / "smollm2-8x-moe.gguf")


def greedy(path, *, verbose=False, tokens=20):
    from llama_cpp import Llama

    llm = Llama(str(path), n_ctx=256, verbose=verbose, seed=1)
    try:
        text = llm.create_completion(PROMPT, max_tokens=tokens, temperature=0.0)["choices"][0]["text"]
        return text, dict(llm.metadata)
    finally:
        llm.close()


@pytest.fixture(scope="session")
def dense_text(smollm2_path):
    return greedy(smollm2_path)[0]


def test_upcycled_file_is_an_8_expert_top2_moe(upcycled_moe, smollm2_path):
    dense, moe = GGUFReader(str(smollm2_path)), GGUFReader(str(upcycled_moe))
    assert moe.fields["llama.expert_count"].contents() == 8
    assert moe.fields["llama.expert_used_count"].contents() == 2
    for key, fld in dense.fields.items():  # every key of the source is carried over unchanged
        if not key.startswith("GGUF."):
            assert moe.fields[key].contents() == fld.contents(), key
    tensors = {t.name: t for t in moe.tensors}
    dense_tensors = {t.name: t for t in dense.tensors}
    assert not any(re.match(r"blk\.\d+\.ffn_(gate|up|down)\.weight$", name) for name in tensors)
    for layer in range(30):
        router = tensors[f"blk.{layer}.ffn_gate_inp.weight"]
        assert router.tensor_type.name == "F32" and list(router.shape) == [576, 8] and not router.data.any()
        for which in ("gate", "up", "down"):
            stacked = tensors[f"blk.{layer}.ffn_{which}_exps.weight"]
            source = dense_tensors[f"blk.{layer}.ffn_{which}.weight"]
            assert stacked.tensor_type == source.tensor_type  # still Q4_1: bytes copied, not requantised
            assert list(stacked.shape) == [*source.shape, 8]
            assert stacked.n_bytes == 8 * source.n_bytes
            assert (stacked.data[0] == source.data).all() and (stacked.data[7] == source.data).all()
    shape = read_model_shape(upcycled_moe)
    assert shape.is_moe and (shape.expert_count, shape.expert_used_count) == (8, 2)
    assert shape.expert_bytes == 8 * 30 * 3 * dense_tensors["blk.0.ffn_up.weight"].n_bytes
    assert 400 * MIB < upcycled_moe.stat().st_size < 460 * MIB


def test_upcycle_refuses_bad_input(upcycled_moe, smollm2_path, tmp_path):
    with pytest.raises(UpcycleError, match="already a mixture of experts"):
        upcycle_to_moe(upcycled_moe, tmp_path / "twice.gguf")
    with pytest.raises(UpcycleError, match="n_used"):
        upcycle_to_moe(smollm2_path, tmp_path / "x.gguf", n_experts=2, n_used=3)
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


@pytest.mark.model
def test_llama_cpp_runs_it_as_moe_with_the_dense_text(upcycled_moe, dense_text):
    text, metadata = greedy(upcycled_moe)
    assert metadata["llama.expert_count"] == "8" and metadata["llama.expert_used_count"] == "2"
    assert text == dense_text and text.strip()


@pytest.mark.model
def test_experts_on_cpu_overrides_reach_llama_cpp(upcycled_moe, dense_text, capsys):
    capsys.readouterr()
    with experts_on_cpu():
        text, _ = greedy(upcycled_moe, verbose=True)
    overridden = OVERRIDE_LINE.findall(capsys.readouterr().err)
    assert len(overridden) == 30 * 3
    assert all(re.fullmatch(r"blk\.\d+\.ffn_(gate|up|down)_exps\.weight", name) for name in overridden)
    assert text == dense_text  # on this CPU-only build the placement is the same, and so is the text

    greedy(upcycled_moe, verbose=True)  # outside the block: a plain load
    assert OVERRIDE_LINE.findall(capsys.readouterr().err) == []


@pytest.mark.model
def test_plan_with_some_experts_in_ram_overrides_exactly_those(upcycled_moe, capsys):
    """The planner's --n-cpu-moe split for the real file turns into overrides of its first layers."""
    shape = read_model_shape(upcycled_moe)
    plan = None
    for free_mib in range(200, 1200, 25):  # a GPU just big enough for some of the experts
        gpu = Gpu("small GPU", VRAM_RESERVE_BYTES + free_mib * MIB, VRAM_RESERVE_BYTES + free_mib * MIB)
        machine = Machine(total_ram=32 << 30, available_ram=32 << 30, cpu_count=2, gpus=[gpu],
                          gpu_offload_supported=True)
        candidate = plan_offload(shape, machine)
        if candidate.experts_on_cpu and 0 < candidate.cpu_expert_layers < shape.n_layers:
            plan = candidate
            break
    assert plan is not None, "no GPU size made the planner keep only some experts in RAM"
    capsys.readouterr()
    with experts_on_cpu(plan):
        greedy(upcycled_moe, verbose=True, tokens=2)
    layers = {int(name.split(".")[1]) for name in OVERRIDE_LINE.findall(capsys.readouterr().err)}
    assert layers == set(range(plan.cpu_expert_layers))


@pytest.mark.model
def test_overrides_apply_only_to_this_threads_loads(upcycled_moe, capsys):
    import llama_cpp._internals as internals

    original = internals.LlamaModel
    other_thread_text = []
    capsys.readouterr()
    with experts_on_cpu():
        worker = threading.Thread(target=lambda: other_thread_text.append(greedy(upcycled_moe, verbose=True, tokens=2)))
        worker.start()
        worker.join()
    assert other_thread_text and OVERRIDE_LINE.findall(capsys.readouterr().err) == []
    assert internals.LlamaModel is original


def test_override_targets_and_patterns():
    from tutor_app.runtime.machine import ggml_library

    lib = ggml_library()
    assert lib.ggml_backend_buft_name(buffer_type("CPU")) == b"CPU"
    with pytest.raises(TensorOverrideError, match="CUDA7"):
        with tensor_buffer_overrides([Override("ffn_.*_exps", "CUDA7")]):
            pass
    assert expert_patterns() == ["ffn_.*_exps"]
    assert expert_patterns(2, 30) == [r"^blk\.(0|1)\.ffn_.*_exps"]
    assert expert_patterns(30, 30) == ["ffn_.*_exps"] and expert_patterns(0, 30) == []
    pattern = re.compile(expert_patterns(2, 30)[0])
    assert pattern.search("blk.1.ffn_up_exps.weight") and not pattern.search("blk.12.ffn_up_exps.weight")
    assert not pattern.search("blk.1.attn_q.weight")
