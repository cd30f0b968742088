"""The offload planner over a table of machines and real model shapes (no model is loaded)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tutor_app.runtime.gguf_info import MIXTRAL_8X7B_FILE_SIZES, mixtral_8x7b_shape
from tutor_app.runtime.machine import Gpu, Machine
from tutor_app.runtime.offload import (
    DEFAULT_CTX, MAX_AUTO_PARALLEL, MIN_CTX, kv_cache_bytes, main, offload_table, plan_offload, table_machines,
)
from tutor_app.settings import Settings

GIB = 2**30
DOCS_TABLE = Path(__file__).resolve().parent.parent / "docs" / "offload_table.md"


def cpu_box(ram_gib: float) -> Machine:
    return Machine(total_ram=int(ram_gib * GIB), available_ram=int(ram_gib * GIB), cpu_count=16)


def gpu_box(vram_gib: float, ram_gib: float = 32, bandwidth: float | None = None, supported: bool = True) -> Machine:
    gpu = Gpu("test GPU", int(vram_gib * GIB), int(vram_gib * GIB), bandwidth)
    return Machine(total_ram=int(ram_gib * GIB), available_ram=int(ram_gib * GIB), cpu_count=16, gpus=[gpu],
                   gpu_offload_supported=supported)


MACHINES = {m.name: m for m in table_machines()}
QUANTS = list(MIXTRAL_8X7B_FILE_SIZES)

# (machine, quant) -> (fits, placement) as the planner must decide them.
EXPECTED = {
    ("Laptop, CPU only, 16 GB RAM", "Q2_K"): (False, None),
    ("Laptop, CPU only, 16 GB RAM", "Q5_K_M"): (False, None),
    ("Laptop, CPU only, 32 GB RAM", "Q4_K_M"): (True, "cpu"),
    ("Laptop, CPU only, 32 GB RAM", "Q5_K_M"): (False, None),
    ("Laptop/desktop, CPU only, 64 GB RAM", "Q5_K_M"): (True, "cpu"),
    ("Desktop, 8 GB GPU (RTX 4060 class), 32 GB RAM", "Q4_K_M"): (True, "experts-cpu"),
    ("Desktop, 12 GB GPU (RTX 3060 class), 32 GB RAM", "Q4_K_M"): (True, "experts-cpu"),
    ("Desktop, 24 GB GPU (RTX 3090 class), 32 GB RAM", "Q2_K"): (True, "layers"),
    ("Desktop, 24 GB GPU (RTX 3090 class), 32 GB RAM", "Q5_K_M"): (True, "experts-cpu"),
    ("Workstation, 48 GB GPU (RTX A6000 class), 64 GB RAM", "Q5_K_M"): (True, "layers"),
    ("Workstation, 80 GB GPU (A100 80GB class), 128 GB RAM", "Q5_K_M"): (True, "layers"),
}


@pytest.mark.parametrize(("machine_name", "quant"), list(EXPECTED))
def test_table_of_machines_and_mixtral_quants(machine_name, quant):
    fits, placement = EXPECTED[(machine_name, quant)]
    plan = plan_offload(mixtral_8x7b_shape(quant), MACHINES[machine_name])
    assert plan.fits is fits, plan.reason
    if fits:
        assert plan.placement == placement, plan.reason
        assert plan.ram_bytes <= plan.ram_budget and plan.vram_bytes <= plan.vram_budget
    else:
        assert "does not fit" in plan.reason and "smaller quant" in plan.reason


@pytest.mark.parametrize("machine", table_machines(), ids=lambda m: m.name)
@pytest.mark.parametrize("quant", QUANTS)
def test_every_plan_is_consistent(machine, quant):
    plan = plan_offload(mixtral_8x7b_shape(quant), machine)
    assert "\n" not in plan.reason and plan.reason
    assert MIN_CTX <= plan.n_ctx <= DEFAULT_CTX
    if not machine.gpus:
        assert plan.n_gpu_layers == 0 and plan.vram_bytes == 0
    if plan.fits:
        assert plan.ram_bytes <= plan.ram_budget and plan.vram_bytes <= plan.vram_budget
        assert plan.expected_tokens_per_s > 0
    if plan.experts_on_cpu:
        assert plan.n_gpu_layers == plan.n_layers + 1  # every layer offloaded, experts overridden to RAM
        assert 0 < plan.cpu_expert_layers <= plan.n_layers
        assert plan.override_patterns


def test_eight_gb_gpu_keeps_experts_in_ram_because_it_is_faster():
    plan = plan_offload(mixtral_8x7b_shape("Q4_K_M"), gpu_box(8, ram_gib=32, bandwidth=272e9))
    assert plan.experts_on_cpu and plan.placement == "experts-cpu"
    # a close call on decoding speed alone (both are bound by the experts read from RAM)
    assert plan.compared["experts-cpu"] > plan.compared["layers"]
    assert "faster than whole layers" in plan.reason
    # the attention of all 32 layers and the KV cache are on the GPU, most experts in RAM
    assert plan.n_gpu_layers == 33 and plan.cpu_expert_layers > 16
    assert plan.override_patterns == [r"^blk\.(" + "|".join(map(str, range(plan.cpu_expert_layers))) + r")\.ffn_.*_exps"]


def test_larger_gpu_keeps_fewer_experts_in_ram():
    shape = mixtral_8x7b_shape("Q5_K_M")
    in_ram = [plan_offload(shape, gpu_box(v, ram_gib=64)).cpu_expert_layers for v in (8, 12, 24)]
    assert in_ram[0] > in_ram[1] > in_ram[2] > 0
    assert plan_offload(shape, gpu_box(48, ram_gib=64)).placement == "layers"  # everything fits on the GPU


def test_moe_offload_layers_forces_whole_layers():
    plan = plan_offload(mixtral_8x7b_shape("Q4_K_M"), gpu_box(8), moe_offload="layers")
    assert plan.placement == "layers" and not plan.experts_on_cpu
    assert 0 < plan.n_gpu_layers < 32


def test_quantises_kv_then_shrinks_context_then_refuses():
    shape = mixtral_8x7b_shape("Q4_K_M")
    big = cpu_box(1024)

    def need(ctx, kv):  # for one slot: more slots only take what is left over
        return plan_offload(shape, big, n_ctx=ctx, kv_type=kv, parallel=1).ram_bytes

    def with_budget(budget):  # a large machine whose available RAM is exactly ``budget``
        return replace(big, available_ram=budget)

    full = plan_offload(shape, with_budget(need(DEFAULT_CTX, "f16")))
    assert (full.fits, full.n_ctx, full.kv_type) == (True, DEFAULT_CTX, "f16")

    q8 = plan_offload(shape, with_budget(need(DEFAULT_CTX, "f16") - 1))
    assert (q8.fits, q8.n_ctx, q8.kv_type, q8.flash_attn) == (True, DEFAULT_CTX, "q8_0", True)
    assert "KV cache q8_0" in q8.reason

    half = plan_offload(shape, with_budget(need(DEFAULT_CTX, "q8_0") - 1))
    assert (half.fits, half.n_ctx) == (True, DEFAULT_CTX // 2)
    assert f"context reduced from {DEFAULT_CTX} to {DEFAULT_CTX // 2}" in half.reason

    smallest = plan_offload(shape, with_budget(need(MIN_CTX, "q8_0")))
    assert (smallest.fits, smallest.n_ctx, smallest.kv_type) == (True, MIN_CTX, "q8_0")

    refused = plan_offload(shape, with_budget(need(MIN_CTX, "q8_0") - 1))
    assert not refused.fits
    assert f"even with context {MIN_CTX} and a q8_0 KV cache" in refused.reason


def test_more_memory_never_turns_a_fit_into_a_refusal():
    shape = mixtral_8x7b_shape("Q3_K_M")
    fits = [plan_offload(shape, cpu_box(gib)).fits for gib in range(8, 80, 2)]
    assert fits == sorted(fits)  # False ... False True ... True
    speeds = [plan_offload(shape, gpu_box(v, ram_gib=32)).expected_tokens_per_s for v in range(4, 40, 2)]
    assert speeds == sorted(speeds)


def test_explicit_settings_are_kept():
    shape = mixtral_8x7b_shape("Q4_K_M")
    plan = plan_offload(shape, gpu_box(24), Settings(n_gpu_layers=10, n_ctx=4096, kv_type="q4_0"))
    assert (plan.n_gpu_layers, plan.n_ctx, plan.kv_type, plan.placement) == (10, 4096, "q4_0", "layers")
    # keyword arguments win over the settings object
    assert plan_offload(shape, gpu_box(24), Settings(n_ctx=4096), n_ctx=2048).n_ctx == 2048
    explicit_experts = plan_offload(shape, gpu_box(24), n_gpu_layers=-1, moe_offload="experts-cpu")
    assert explicit_experts.experts_on_cpu and explicit_experts.cpu_expert_layers == 32
    assert explicit_experts.override_patterns == [r"ffn_.*_exps"]


def test_gpu_that_this_build_cannot_use_is_named():
    plan = plan_offload(mixtral_8x7b_shape("Q2_K"), gpu_box(24, ram_gib=64, supported=False))
    assert plan.placement == "cpu" and plan.n_gpu_layers == 0
    assert "built without GPU support" in plan.reason
    asked = plan_offload(mixtral_8x7b_shape("Q2_K"), cpu_box(64), n_gpu_layers=20)
    assert asked.n_gpu_layers == 0 and "--n-gpu-layers 20 ignored" in asked.reason


def test_dense_model_ignores_experts_cpu():
    shape = replace(mixtral_8x7b_shape("Q4_K_M"), expert_count=0, expert_used_count=0)
    plan = plan_offload(shape, gpu_box(8), moe_offload="experts-cpu")
    assert not plan.experts_on_cpu and "experts-cpu does not apply" in plan.reason


def test_kv_cache_bytes_formula():
    mixtral = mixtral_8x7b_shape("Q4_K_M")
    # 2 (K and V) * 32 layers * 32768 tokens * 8 KV heads * 128 * 2 bytes = 4 GiB
    assert kv_cache_bytes(mixtral, 32768, "f16") == 4 * GIB
    # q8_0 K and V (with flash attention): 34 bytes per 32 elements
    assert kv_cache_bytes(mixtral, 32768, "q8_0") == 2 * 32 * 32768 * 8 * 128 * 34 // 32
    # without flash attention llama.cpp keeps V in f16
    assert kv_cache_bytes(mixtral, 32768, "q8_0", flash_attn=False) == 32 * 32768 * 8 * 128 * (2 + 34 / 32)


def test_offload_table_is_the_documented_one(capsys):
    assert main(["--table"]) == 0
    printed = capsys.readouterr().out
    assert printed == offload_table() + "\n"
    lines = [line for line in printed.splitlines() if line.startswith("| ") and "GB RAM" in line]
    assert len(lines) == len(table_machines()) * (1 + len(QUANTS))  # matrix rows + detail rows
    assert DOCS_TABLE.read_text() == offload_table(), "regenerate: python -m tutor_app.runtime.offload --table"


def test_slots_take_the_memory_left_over_up_to_eight():
    shape = mixtral_8x7b_shape("Q4_K_M")
    one = plan_offload(shape, cpu_box(1024), parallel=1)
    per_slot = kv_cache_bytes(shape, one.n_ctx, one.kv_type)
    assert plan_offload(shape, cpu_box(1024)).n_parallel == MAX_AUTO_PARALLEL
    tight = replace(cpu_box(1024), available_ram=one.ram_bytes + 2 * per_slot + per_slot // 2)
    plan = plan_offload(shape, tight)
    assert (plan.n_parallel, plan.n_ctx, plan.kv_type) == (3, one.n_ctx, one.kv_type)  # slots never cost context
    assert plan.ram_bytes == one.ram_bytes + 2 * per_slot
    assert "3 parallel slots" in plan.reason
    alone = plan_offload(shape, replace(cpu_box(1024), available_ram=one.ram_bytes))
    assert alone.n_parallel == 1 and "1 slot (one reply at a time)" in alone.reason


def test_asked_for_slots_are_kept_and_the_context_shrinks_to_hold_them():
    shape = mixtral_8x7b_shape("Q4_K_M")
    one = plan_offload(shape, cpu_box(1024), parallel=1)
    machine = replace(cpu_box(1024), available_ram=one.ram_bytes + kv_cache_bytes(shape, one.n_ctx, "f16"))
    asked = plan_offload(shape, machine, Settings(parallel=6))
    assert asked.fits and asked.n_parallel == 6 and asked.n_ctx < one.n_ctx and asked.ram_bytes <= asked.ram_budget
    assert plan_offload(shape, cpu_box(8), parallel=6).reason.count("for 6 parallel slots") == 1
