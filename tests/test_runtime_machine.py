"""Reading the machine: RAM, llama.cpp's devices, nvidia-smi (present or not)."""

from __future__ import annotations

import os
import stat

from tutor_app.runtime.machine import (
    GGML_DEVICE_TYPE_CPU, MIB, Machine, backend_devices, nvidia_smi_gpus, parse_nvidia_smi, probe_machine, read_ram,
)
from tutor_app.runtime.offload import plan_offload
from tutor_app.runtime.gguf_info import mixtral_8x7b_shape

MEMINFO = """MemTotal:       32768000 kB
MemFree:         1000000 kB
MemAvailable:   20000000 kB
Buffers:          100000 kB
"""


def test_read_ram_from_meminfo(tmp_path):
    path = tmp_path / "meminfo"
    path.write_text(MEMINFO)
    assert read_ram(path) == (32768000 * 1024, 20000000 * 1024)


def test_read_ram_falls_back_to_sysconf(tmp_path):
    total, available = read_ram(tmp_path / "missing")
    assert total == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < available <= total


def test_probe_this_machine():
    machine = probe_machine()
    assert machine.total_ram > 0 and 0 < machine.available_ram <= machine.total_ram
    assert machine.cpu_count >= 1
    assert isinstance(machine.gpu_offload_supported, bool)
    if not machine.gpu_offload_supported:
        assert machine.usable_gpus == []  # a GPU llama.cpp cannot use must not be planned on
    # and the planner accepts what the probe returns
    assert plan_offload(mixtral_8x7b_shape("Q2_K"), machine).reason


def test_llama_cpp_devices_include_the_cpu():
    devices = backend_devices()
    cpu = [d for d in devices if d.kind == GGML_DEVICE_TYPE_CPU]
    assert cpu and cpu[0].name == "CPU" and cpu[0].total > 0


def test_parse_nvidia_smi_rows():
    text = "NVIDIA GeForce RTX 3060, 12288, 11950\nNVIDIA A100-SXM4-80GB, 81920, 81000\nOdd GPU, [N/A], [N/A]\n"
    gpus = parse_nvidia_smi(text)
    assert [(g.name, g.total_vram, g.free_vram) for g in gpus] == [
        ("NVIDIA GeForce RTX 3060", 12288 * MIB, 11950 * MIB),
        ("NVIDIA A100-SXM4-80GB", 81920 * MIB, 81000 * MIB),
    ]


def test_nvidia_smi_absent_or_present(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert nvidia_smi_gpus() == []  # no nvidia-smi on PATH: no GPUs, no error
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA GeForce RTX 4060, 8188, 7900'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    gpus = nvidia_smi_gpus()
    assert [(g.name, g.free_vram) for g in gpus] == [("NVIDIA GeForce RTX 4060", 7900 * MIB)]
    failing = tmp_path / "nvidia-smi"
    failing.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert nvidia_smi_gpus() == []


def test_gpu_listed_but_not_usable_without_gpu_build():
    machine = Machine(total_ram=1, available_ram=1, cpu_count=1, gpus=parse_nvidia_smi("X, 8192, 8000"))
    assert machine.usable_gpus == []
    machine.gpu_offload_supported = True
    assert len(machine.usable_gpus) == 1
