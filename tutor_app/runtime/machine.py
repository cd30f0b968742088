"""The memory this machine can give a model: RAM, and VRAM per GPU that llama.cpp can use.

GPUs are read from llama.cpp's own device registry (ggml's backend devices) when the installed
llama-cpp-python was built with GPU support, because that is exactly what the model will be
offloaded to (CUDA, ROCm, Vulkan or Metal alike). When it was not, ``nvidia-smi`` still tells
us a GPU is there, so the planner can say that a GPU build would help instead of staying silent.
Every probe fails soft: a machine we cannot read is planned as CPU-only.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MIB = 2**20
GGML_DEVICE_TYPE_CPU = 0
GGML_DEVICE_TYPE_GPU = 1  # discrete GPU; integrated ones (type 2) share system RAM and add no memory


@dataclass(frozen=True)
class Gpu:
    name: str
    free_vram: int
    total_vram: int
    bandwidth: float | None = None  # bytes/s; None: the planner's default for a consumer GPU


@dataclass(frozen=True)
class SpeedScale:
    """How this machine's resources ran against the planner's constants: 0.37 for CPU compute
    means its threads did 37% of the FLOPs the planner assumes. 1.0 until a decode has been
    measured here (``speed.py`` derives these from a measurement; the planner applies them)."""

    cpu_memory: float = 1.0
    cpu_compute: float = 1.0
    gpu_memory: float = 1.0


@dataclass
class Machine:
    total_ram: int
    available_ram: int
    cpu_count: int
    gpus: list[Gpu] = field(default_factory=list)
    gpu_offload_supported: bool = False  # the installed llama.cpp can offload to a GPU
    memory_bandwidth: float | None = None  # bytes/s of RAM; None: the planner's default
    name: str = "this machine"
    speed_scale: SpeedScale = field(default_factory=SpeedScale)

    @property
    def usable_gpus(self) -> list[Gpu]:
        return self.gpus if self.gpu_offload_supported else []


def probe_machine() -> Machine:
    total, available = read_ram()
    supported = llama_gpu_offload_supported()
    gpus = llama_gpus() if supported else []
    if not gpus:
        gpus = nvidia_smi_gpus()
    return Machine(total_ram=total, available_ram=available, cpu_count=cpu_count(), gpus=gpus,
                   gpu_offload_supported=supported)


def probe_machine_in_child(timeout_s: float = 60.0) -> Machine:
    """``probe_machine`` run in a short-lived child process, for the web app: asking llama.cpp
    for its GPUs loads llama.cpp, which the app's own process never does (issue 10). If the
    child fails, the machine as read without llama.cpp (RAM, cores, nvidia-smi)."""
    import json
    import sys

    code = ("import dataclasses, json; from tutor_app.runtime.machine import probe_machine; "
            "print(json.dumps(dataclasses.asdict(probe_machine())))")
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s,
                              env=env, check=True)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        data["gpus"] = [Gpu(**g) for g in data.get("gpus", [])]
        return Machine(**data)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, TypeError):
        total, available = read_ram()
        return Machine(total_ram=total, available_ram=available, cpu_count=cpu_count(), gpus=nvidia_smi_gpus())


def read_ram(meminfo: Path = Path("/proc/meminfo")) -> tuple[int, int]:
    """(total, available) bytes. MemAvailable counts reclaimable page cache, which is where an
    mmapped model lives, so it is the right measure of what a model can still take."""
    try:
        values = {}
        for line in meminfo.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) * 1024  # kB
        total = values["MemTotal"]
        return total, values.get("MemAvailable", values.get("MemFree", total))
    except (OSError, KeyError):
        pass
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
        try:
            available = page * os.sysconf("SC_AVPHYS_PAGES")
        except (ValueError, OSError):
            available = total
        return total, available
    except (ValueError, OSError, AttributeError):
        return 0, 0


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# llama.cpp's view ------------------------------------------------------------------------
def llama_gpu_offload_supported() -> bool:
    try:
        import llama_cpp
    except Exception:  # not installed, or its shared library does not load
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


@functools.cache
def ggml_library() -> ctypes.CDLL:
    """libggml shipped with llama-cpp-python (the device registry and buffer types). libllama is
    linked against it, so this is the very copy the loaded models use, not a second one."""
    import llama_cpp

    lib_dir = Path(llama_cpp.__file__).resolve().parent / "lib"
    names = ["libggml.so", "libggml.dylib", "ggml.dll", "libggml.dll"]
    path = next((lib_dir / n for n in names if (lib_dir / n).exists()), None)
    if path is None:
        raise OSError(f"libggml not found in {lib_dir}")
    lib = ctypes.CDLL(str(path))
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    lib.ggml_backend_dev_by_type.argtypes = [ctypes.c_int]
    lib.ggml_backend_dev_by_type.restype = ctypes.c_void_p
    lib.ggml_backend_dev_by_name.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_dev_by_name.restype = ctypes.c_void_p
    lib.ggml_backend_dev_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_name.restype = ctypes.c_char_p
    lib.ggml_backend_dev_description.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_description.restype = ctypes.c_char_p
    lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_type.restype = ctypes.c_int
    lib.ggml_backend_dev_memory.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                            ctypes.POINTER(ctypes.c_size_t)]
    lib.ggml_backend_dev_memory.restype = None
    lib.ggml_backend_dev_buffer_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_buffer_type.restype = ctypes.c_void_p
    lib.ggml_backend_buft_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_buft_name.restype = ctypes.c_char_p
    return lib


@dataclass(frozen=True)
class BackendDevice:
    name: str  # "CPU", "CUDA0"...: the names llama.cpp's --override-tensor accepts
    description: str
    kind: int  # GGML_DEVICE_TYPE_*
    free: int
    total: int


def backend_devices() -> list[BackendDevice]:
    """Every device llama.cpp registered (the CPU always, GPUs in a GPU build)."""
    lib = ggml_library()
    out = []
    for i in range(lib.ggml_backend_dev_count()):
        dev = lib.ggml_backend_dev_get(i)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        out.append(BackendDevice(name=(lib.ggml_backend_dev_name(dev) or b"").decode(),
                                 description=(lib.ggml_backend_dev_description(dev) or b"").decode(),
                                 kind=lib.ggml_backend_dev_type(dev), free=free.value, total=total.value))
    return out


def llama_gpus() -> list[Gpu]:
    try:
        devices = backend_devices()
    except Exception:
        return []
    return [Gpu(name=d.description or d.name, free_vram=d.free, total_vram=d.total)
            for d in devices if d.kind == GGML_DEVICE_TYPE_GPU]


# nvidia-smi ------------------------------------------------------------------------------
NVIDIA_SMI_QUERY = ["--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]


def nvidia_smi_gpus(timeout_s: float = 5.0) -> list[Gpu]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        done = subprocess.run([exe, *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else []


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """Rows of ``name, total MiB, free MiB``; rows that do not parse ("[N/A]") are skipped."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            continue
        name, total, free = parts
        if not (total.isdigit() and free.isdigit()):
            continue
        gpus.append(Gpu(name=name, free_vram=int(free) * MIB, total_vram=int(total) * MIB))
    return gpus
