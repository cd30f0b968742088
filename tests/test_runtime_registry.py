"""The registry of known models and choosing a Mixtral quant by the machine's memory."""

from __future__ import annotations

import pytest

from tutor_app.runtime.machine import Gpu, Machine, SpeedScale
from tutor_app.runtime.registry import (DEFAULT_MODEL, KNOWN_MODELS, MIXTRAL_QUANTS, choose_quant, get_model,
                                       recommend)

GIB = 2**30


def box(ram_gib: int, vram_gib: int = 0) -> Machine:
    gpus = [Gpu("GPU", vram_gib * GIB, vram_gib * GIB)] if vram_gib else []
    return Machine(total_ram=ram_gib * GIB, available_ram=ram_gib * GIB, cpu_count=8, gpus=gpus,
                   gpu_offload_supported=bool(gpus))


def test_known_models():
    assert list(KNOWN_MODELS) == ["smollm2-135m-instruct", "mixtral-8x7b-instruct-q2_k", "mixtral-8x7b-instruct-q3_k_m",
                                  "mixtral-8x7b-instruct-q4_k_m", "mixtral-8x7b-instruct-q5_k_m"]
    files = {e.filename for e in MIXTRAL_QUANTS}
    assert files == {f"mixtral-8x7b-instruct-v0.1.{q}.gguf" for q in ("Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M")}
    assert all(e.repo_id == "TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF" for e in MIXTRAL_QUANTS)
    sizes = [e.size_bytes for e in MIXTRAL_QUANTS]
    assert sizes == sorted(sizes) and 15e9 < sizes[0] and sizes[-1] < 33e9
    for entry in MIXTRAL_QUANTS:  # the planner's shape is the file the registry names
        assert entry.model_shape().file_size == entry.size_bytes and entry.quant in entry.model_shape().name
        assert entry.sha256 is None or len(entry.sha256) == 64
    with pytest.raises(KeyError, match="unknown model 'gpt-9'"):
        get_model("gpt-9")


def test_shipped_default_is_found_not_downloaded(smollm2_path, tmp_path):
    assert DEFAULT_MODEL.shipped and DEFAULT_MODEL.local_path(tmp_path) == smollm2_path
    assert DEFAULT_MODEL.size_bytes == smollm2_path.stat().st_size
    shape = DEFAULT_MODEL.model_shape()  # read from the shipped file
    assert shape.n_layers == 30 and DEFAULT_MODEL.plan(box(8)).fits
    mixtral = get_model("mixtral-8x7b-instruct-q4_k_m")
    assert mixtral.local_path(tmp_path) == tmp_path / "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf"


@pytest.mark.parametrize(("ram", "vram", "expected"), [
    (16, 0, None),
    (20, 0, "mixtral-8x7b-instruct-q2_k"),
    (32, 0, "mixtral-8x7b-instruct-q4_k_m"),
    (64, 0, "mixtral-8x7b-instruct-q5_k_m"),
    (32, 8, "mixtral-8x7b-instruct-q5_k_m"),  # experts in RAM, the rest on the GPU
    (16, 12, "mixtral-8x7b-instruct-q3_k_m"),
])
def test_choose_quant_takes_the_largest_that_fits(ram, vram, expected):
    chosen = choose_quant(box(ram, vram), min_tokens_per_s=0)  # any speed: what fits decides
    assert (chosen.name if chosen else None) == expected
    if chosen is not None:  # and the next larger one really does not fit
        larger = MIXTRAL_QUANTS[MIXTRAL_QUANTS.index(chosen) + 1:]
        assert all(not e.plan(box(ram, vram)).fits for e in larger)


@pytest.mark.parametrize(("ram", "vram", "minimum", "expected"), [
    (64, 0, 5.0, None),  # every quant fits, none reaches 5 tokens/s on eight CPU cores
    (64, 0, 3.0, "mixtral-8x7b-instruct-q5_k_m"),
    (32, 8, 5.0, "mixtral-8x7b-instruct-q2_k"),  # all fit; only the smallest is fast enough
    (16, 12, 5.0, "mixtral-8x7b-instruct-q3_k_m"),
    (16, 12, 7.0, "mixtral-8x7b-instruct-q2_k"),
])
def test_only_a_quant_expected_at_the_minimum_speed_is_recommended(ram, vram, minimum, expected):
    found = recommend(box(ram, vram), minimum)
    assert (found.entry.name if found.entry else None) == expected
    if found.entry is None:
        assert f"no Mixtral quant reaches the minimum of {minimum:g} tokens/s here" in found.reason
    else:
        assert found.entry.plan(box(ram, vram)).expected_tokens_per_s >= minimum
        larger = MIXTRAL_QUANTS[MIXTRAL_QUANTS.index(found.entry) + 1:]
        assert all(not e.plan(box(ram, vram)).fits or e.plan(box(ram, vram)).expected_tokens_per_s < minimum
                   for e in larger)


def test_a_slower_machine_than_the_planner_assumes_gets_a_smaller_recommendation():
    measured = box(16, 12)
    measured.speed_scale = SpeedScale(cpu_compute=0.6)  # its cores did 60% of the FLOPs the planner assumes
    assert recommend(box(16, 12), 5.0).entry.quant == "Q3_K_M"
    assert recommend(measured, 5.0).entry.quant == "Q2_K"
