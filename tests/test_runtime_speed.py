"""The decode measured on this machine corrects the planner, and ``download auto`` recommends only
what the corrected planner expects at the stated minimum speed (item 14 of the walk-through:
it recommended a 20.4 GB quant that ran at about 1 token/s, while the start-up estimate said 74
tokens/s for the default model where 27.5 was measured)."""

from __future__ import annotations

import json

import pytest

from tutor_app.runtime import download
from tutor_app.runtime.machine import Gpu, Machine, SpeedScale
from tutor_app.runtime.offload import plan_offload
from tutor_app.runtime.registry import DEFAULT_MODEL, get_model
from tutor_app.runtime.speed import (FILE_NAME, SpeedMeasurement, SpeedRecords, calibrated_scale, check_speed,
                                     machine_key, start_speed_check, with_measured_speed)
from tutor_app.settings import Settings

GIB = 2**30
CPU_BOX = Machine(total_ram=64 * GIB, available_ram=60 * GIB, cpu_count=16)
TWO_CORES = Machine(total_ram=32 * GIB, available_ram=30 * GIB, cpu_count=2)  # like the walk-through's VM
GPU_BOX = Machine(total_ram=32 * GIB, available_ram=30 * GIB, cpu_count=8, gpus=[Gpu("RTX", 24 * GIB, 24 * GIB)],
                  gpu_offload_supported=True)


def replanned(entry, machine: Machine, scale: SpeedScale) -> float:
    machine.speed_scale = scale
    try:
        return entry.plan(machine).expected_tokens_per_s
    finally:
        machine.speed_scale = SpeedScale()


@pytest.mark.parametrize("entry, machine, limiting", [
    (DEFAULT_MODEL, TWO_CORES, "cpu_compute"),  # a small model on one thread: computing limits it
    (get_model("mixtral-8x7b-instruct-q4_k_m"), CPU_BOX, "cpu_memory"),  # a big one: reading its weights
    (get_model("mixtral-8x7b-instruct-q2_k"), GPU_BOX, "gpu_memory"),  # all on the GPU
], ids=["small-cpu", "big-cpu", "gpu"])
@pytest.mark.parametrize("measured_share", [0.37, 1.8])
def test_a_measurement_corrects_the_resource_that_limited_it(entry, machine, limiting, measured_share):
    plan = entry.plan(machine)
    terms = plan.seconds_per_token
    cpu = max(terms["cpu_memory"], terms["cpu_compute"])
    assert limiting == ("gpu_memory" if terms["gpu_memory"] > cpu else max(("cpu_memory", "cpu_compute"),
                                                                            key=terms.get))
    measured = plan.expected_tokens_per_s * measured_share
    scale = calibrated_scale(plan, measured, SpeedScale())
    changed = [name for name in ("cpu_memory", "cpu_compute", "gpu_memory") if getattr(scale, name) != 1.0]
    assert limiting in changed and (getattr(scale, limiting) < 1) == (measured_share < 1)
    # slower than planned: only what limited it; faster: also a CPU part that would now be too slow
    allowed = {limiting} | ({"cpu_memory", "cpu_compute"} if measured_share > 1 and limiting != "gpu_memory" else set())
    assert set(changed) <= allowed
    # planned again with the correction, the model is expected at the speed it was measured at
    assert replanned(entry, machine, scale) == pytest.approx(measured, rel=0.02)


def test_the_walk_throughs_machine_gets_no_quant_that_runs_at_a_token_a_second():
    """Two cores and enough RAM: a Mixtral quant fits (what alone used to decide), but the
    planner expects it under 1 token/s, so nothing is recommended, and the reason says so."""
    from tutor_app.runtime.registry import choose_quant, recommend

    fitting = choose_quant(TWO_CORES, min_tokens_per_s=0)
    assert fitting is not None and fitting.plan(TWO_CORES).expected_tokens_per_s < 1
    found = recommend(TWO_CORES, 5.0)
    assert found.entry is None
    assert found.reason.startswith("no Mixtral quant reaches the minimum of 5 tokens/s here: the fastest that fits")


def measurement(model: str, machine: Machine, measured: float, estimated: float, scale: SpeedScale,
                at: str = "2026-12-05T21:00:00+00:00") -> SpeedMeasurement:
    return SpeedMeasurement(model=model, path=f"/models/{model}.gguf", machine=machine_key(machine),
                            measured_tokens_per_s=measured, estimated_tokens_per_s=estimated, tokens=64,
                            measured_at=at, scale=scale)


def test_measurements_are_kept_in_the_data_folder(tmp_path):
    records = SpeedRecords(tmp_path)
    assert records.all() == [] and records.latest(CPU_BOX) is None
    first = measurement("smollm2", CPU_BOX, 27.5, 74.3, SpeedScale(cpu_compute=0.37))
    other_machine = measurement("smollm2", GPU_BOX, 90.0, 80.0, SpeedScale(gpu_memory=1.1))
    records.add(first)
    records.add(other_machine)
    assert records.latest(CPU_BOX) == first and records.latest(GPU_BOX) == other_machine
    assert records.latest_for_model("smollm2") == other_machine
    assert with_measured_speed(CPU_BOX, tmp_path).speed_scale == SpeedScale(cpu_compute=0.37)
    assert with_measured_speed(Machine(total_ram=GIB, available_ram=GIB, cpu_count=1), tmp_path).speed_scale == \
        SpeedScale()  # nothing measured on that one
    (tmp_path / FILE_NAME).write_text("{ not json", encoding="utf-8")
    assert records.all() == []  # a damaged file is no measurement, not a crash


@pytest.fixture
def mixtral_fits_here(monkeypatch):
    """A CPU box where every Mixtral quant fits; the planner's constants expect Q2_K at 6 tokens/s."""
    monkeypatch.setattr("tutor_app.runtime.machine.probe_machine", lambda: CPU_BOX)
    assert get_model("mixtral-8x7b-instruct-q2_k").plan(CPU_BOX).expected_tokens_per_s >= 5
    fetched = []
    monkeypatch.setattr(download, "download_model", lambda name, folder: fetched.append(name) or _fake_file(folder))
    return fetched


def _fake_file(folder):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fetched.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_download_auto_recommends_only_what_reaches_the_minimum_speed_measured_here(mixtral_fits_here, tmp_path,
                                                                                     capsys):
    settings = Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data", min_tokens_per_s=5)
    assert download.download_command("auto", settings) == 0  # the planner's constants: Q2_K at ~6 tokens/s
    assert mixtral_fits_here == ["mixtral-8x7b-instruct-q2_k"]
    assert "speeds are the planner's estimates: no decode has been measured" in capsys.readouterr().out

    plan = DEFAULT_MODEL.plan(CPU_BOX)  # the app measured its default model here at 37% of the estimate
    SpeedRecords(settings.data_dir).add(measurement("smollm2-135m-instruct", CPU_BOX, 27.5,
                                                    plan.expected_tokens_per_s,
                                                    calibrated_scale(plan, plan.expected_tokens_per_s * 0.37,
                                                                     SpeedScale())))
    assert download.download_command("auto", settings) == 1
    err = capsys.readouterr().err
    assert "Nothing to download: no Mixtral quant reaches the minimum of 5 tokens/s here" in err
    assert "smollm2-135m-instruct ran at 27.5 tokens/s here on 2026-12-05" in err
    assert mixtral_fits_here == ["mixtral-8x7b-instruct-q2_k"]  # nothing more was fetched

    assert download.list_models_command(settings) == 0
    out = capsys.readouterr().out
    assert "below the minimum of 5" in out and "--download auto would fetch: nothing" in out
    lower = settings.model_copy(update={"min_tokens_per_s": 2.0})
    assert download.download_command("auto", lower) == 0 and len(mixtral_fits_here) == 2


def test_the_minimum_is_a_setting_with_a_flag(tmp_path):
    from tutor_app.cli.parser import build_parser, settings_from_args

    args = build_parser().parse_args(["list-models", "--min-tokens-per-s", "2.5"])
    assert settings_from_args(args).min_tokens_per_s == 2.5
    assert Settings().min_tokens_per_s == 5.0


@pytest.mark.model
def test_the_loaded_model_is_timed_and_the_planner_learns_from_it(smollm2_path, tmp_path):
    """A real decode of the default model on this machine: measured, stored beside the planner's
    estimate, and the corrected planner now expects the speed that was measured."""
    from tutor_app.runtime.loading import load_backend
    from tutor_app.runtime.machine import probe_machine
    from tutor_app.runtime.queue import ModelQueue

    settings = Settings(data_dir=tmp_path / "data", model=str(smollm2_path), kv_cache_mb=0)
    queue = ModelQueue(load_backend(settings))
    try:
        assert queue.info.backend == "llama.cpp", queue.info.problem
        thread = start_speed_check(queue, settings, idle_wait_s=0)  # what ``python app.py`` starts
        thread.join(timeout=120)
        assert not thread.is_alive()
        (found,) = SpeedRecords(settings.data_dir).all()
        assert found.model == queue.info.name and found.tokens > 10 and found.measured_tokens_per_s > 0
        machine = probe_machine()
        assert found.machine == machine_key(machine)
        assert found.estimated_tokens_per_s == plan_offload(DEFAULT_MODEL.model_shape(), machine,
                                                            settings).expected_tokens_per_s
        corrected = with_measured_speed(machine, settings.data_dir)
        assert DEFAULT_MODEL.plan(corrected).expected_tokens_per_s == pytest.approx(found.measured_tokens_per_s,
                                                                                     rel=0.02)
        again = check_speed(queue, settings)  # a second start builds on the first correction
        assert DEFAULT_MODEL.plan(with_measured_speed(machine, settings.data_dir)).expected_tokens_per_s == \
            pytest.approx(again.measured_tokens_per_s, rel=0.02)
        assert len(json.loads((settings.data_dir / FILE_NAME).read_text())) == 2
    finally:
        queue.close()


def test_only_a_model_this_machine_runs_is_timed(tmp_path):
    from tutor_app.runtime.fake import ScriptedBackend
    from tutor_app.runtime.protocol import ModelError

    assert start_speed_check(ScriptedBackend(), Settings(data_dir=tmp_path)) is None
    with pytest.raises(ModelError, match="only a model this machine runs itself"):
        check_speed(ScriptedBackend(), Settings(data_dir=tmp_path))
    assert not (tmp_path / FILE_NAME).exists()
