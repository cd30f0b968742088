"""Tensor buffer overrides (llama.cpp's ``--override-tensor``) for llama-cpp-python's ``Llama``.

Why: for a mixture of experts on a small GPU the best split keeps attention, shared weights and
the KV cache on the GPU and the routed experts in RAM (``--override-tensor "exps=CPU"``,
``--n-cpu-moe N``). llama-cpp-python 0.3.x builds ``llama_model_params`` inside
``Llama.__init__`` and offers no argument for its ``tensor_buft_overrides`` field (the binding
declares it as an unused ``c_void_p``). The C library reads it, though: a NULL-terminated array
of ``{const char *pattern; ggml_backend_buffer_type_t buft}``, each pattern a regex searched in
tensor names.

How: ``tensor_buffer_overrides([...])`` is a context manager; while it is active, a model loaded
*by this thread* through ``Llama(...)`` gets the overrides set on its params just before
``llama_model_load_from_file``. It does so by swapping ``llama_cpp._internals.LlamaModel`` (the
class ``Llama.__init__`` instantiates) for a subclass for the duration, so ``Llama`` itself and
its subclasses stay untouched. The ctypes array and its strings are kept on the model object,
alive as long as the model.

llama.cpp reports each override at debug level ("tensor blk.0.ffn_up_exps.weight (... MiB q4_1)
buffer type overridden to CPU"); ``Llama(verbose=True)`` prints those lines, which is how the
tests prove the overrides reach the loader even on a CPU-only build.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from .machine import GGML_DEVICE_TYPE_CPU, ggml_library

EXPERTS_PATTERN = r"ffn_.*_exps"  # llama.cpp's --cpu-moe pattern: every routed expert tensor
_patch_lock = threading.Lock()


class TensorOverrideError(RuntimeError):
    """An override cannot be applied (unknown device, too many patterns, changed binding)."""


class llama_model_tensor_buft_override(ctypes.Structure):
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


@dataclass(frozen=True)
class Override:
    pattern: str  # regex searched in tensor names, e.g. r"blk\.(0|1)\.ffn_.*_exps"
    device: str = "CPU"  # "CPU", a llama.cpp device name such as "CUDA0", or "CPU_REPACK"


def expert_patterns(cpu_expert_layers: int | None = None, n_layers: int | None = None) -> list[str]:
    """Patterns that keep routed experts in RAM: of every layer (None), or of the first
    ``cpu_expert_layers`` layers, which is what llama.cpp's ``--n-cpu-moe N`` does."""
    if cpu_expert_layers is None or (n_layers is not None and cpu_expert_layers >= n_layers):
        return [EXPERTS_PATTERN]
    if cpu_expert_layers <= 0:
        return []
    layers = "|".join(str(i) for i in range(cpu_expert_layers))
    return [rf"^blk\.({layers})\.ffn_.*_exps"]


def buffer_type(device: str) -> int:
    """Address of the default buffer type of a llama.cpp device, found the way llama.cpp's
    own argument parser does (for "CPU" that is ``ggml_backend_cpu_buffer_type()``, the value
    the loader compares against to pick the CPU's repacked layouts). One of the CPU's extra
    buffer types is named as such ("CPU_REPACK")."""
    if device.upper() in EXTRA_BUFFER_TYPES:
        return cpu_extra_buffer_type(device.upper())
    lib = ggml_library()
    if device.upper() == "CPU":
        dev = lib.ggml_backend_dev_by_type(GGML_DEVICE_TYPE_CPU)
    else:
        dev = lib.ggml_backend_dev_by_name(device.encode())
    if not dev:
        raise TensorOverrideError(f"llama.cpp has no device named {device!r} in this build")
    buft = lib.ggml_backend_dev_buffer_type(dev)
    if not buft:
        raise TensorOverrideError(f"llama.cpp device {device!r} has no buffer type")
    return buft


EXTRA_BUFFER_TYPES = ("CPU_REPACK", "AMX")


def cpu_extra_buffer_type(name: str) -> int:
    """Address of one of the CPU device's extra buffer types, by name: the list llama.cpp walks
    when ``use_extra_bufts`` is on (``ggml_backend_dev_get_extra_bufts``, reached through the
    CPU backend's proc-address table, as llama.cpp's loader reaches it)."""
    lib = ggml_library()
    for fn, argtypes, restype in (("ggml_backend_dev_backend_reg", [ctypes.c_void_p], ctypes.c_void_p),
                                  ("ggml_backend_reg_get_proc_address", [ctypes.c_void_p, ctypes.c_char_p],
                                   ctypes.c_void_p),
                                  ("ggml_backend_buft_name", [ctypes.c_void_p], ctypes.c_char_p)):
        getattr(lib, fn).argtypes, getattr(lib, fn).restype = argtypes, restype
    dev = lib.ggml_backend_dev_by_type(GGML_DEVICE_TYPE_CPU)
    address = lib.ggml_backend_reg_get_proc_address(lib.ggml_backend_dev_backend_reg(dev),
                                                    b"ggml_backend_dev_get_extra_bufts") if dev else None
    if not address:
        raise TensorOverrideError("this llama.cpp build lists no extra CPU buffer types")
    listed = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(address)(dev)
    names = []
    for i in itertools.count():
        if not listed or not listed[i]:
            break
        found = (lib.ggml_backend_buft_name(listed[i]) or b"").decode()
        if found == name:
            return listed[i]
        names.append(found)
    raise TensorOverrideError(f"the CPU has no {name} buffer type in this llama.cpp build (it has: "
                              f"{', '.join(names) or 'none'})")


class OverrideArray:
    """The C array for ``llama_model_params.tensor_buft_overrides`` and the bytes it points to."""

    def __init__(self, overrides: Sequence[Override]) -> None:
        import llama_cpp

        limit = int(llama_cpp.llama_max_tensor_buft_overrides())
        if len(overrides) >= limit:
            raise TensorOverrideError(f"{len(overrides)} tensor overrides; llama.cpp takes at most {limit - 1}")
        self.overrides = list(overrides)
        self._patterns = [o.pattern.encode() for o in overrides]
        self.array = (llama_model_tensor_buft_override * (len(overrides) + 1))()
        for slot, (override, pattern) in enumerate(zip(overrides, self._patterns)):
            self.array[slot].pattern = pattern
            self.array[slot].buft = buffer_type(override.device)
        # the last slot stays {NULL, NULL}: the terminator llama.cpp looks for

    @property
    def address(self) -> int:
        return ctypes.addressof(self.array)


def set_overrides(model_params: Any, overrides: OverrideArray) -> None:
    """Point ``model_params.tensor_buft_overrides`` at the array (keep ``overrides`` alive)."""
    fields = dict(type(model_params)._fields_)
    if "tensor_buft_overrides" not in fields:
        raise TensorOverrideError("this llama-cpp-python's llama_model_params has no tensor_buft_overrides field")
    model_params.tensor_buft_overrides = overrides.address


@contextlib.contextmanager
def tensor_buffer_overrides(overrides: Sequence[Override]) -> Iterator[OverrideArray]:
    """Apply ``overrides`` to every model this thread loads through ``Llama(...)`` inside the block."""
    import llama_cpp._internals as internals

    array = OverrideArray(overrides)
    owner = threading.get_ident()
    with _patch_lock:
        original = internals.LlamaModel

        class LlamaModelWithOverrides(original):  # type: ignore[misc, valid-type]
            def __init__(self, *, path_model: str, params: Any, verbose: bool = True) -> None:
                if threading.get_ident() == owner and array.overrides:
                    set_overrides(params, array)
                    self._tensor_overrides = array  # the C side may read it while the model lives
                super().__init__(path_model=path_model, params=params, verbose=verbose)

        internals.LlamaModel = LlamaModelWithOverrides
        try:
            yield array
        finally:
            internals.LlamaModel = original


def experts_on_cpu(plan: Any = None) -> contextlib.AbstractContextManager[OverrideArray]:
    """Keep routed experts in RAM while a model loads (the loader enters this around ``Llama``).

    ``plan``: an ``OffloadPlan`` (its ``cpu_expert_layers`` of ``n_layers`` layers), or None for
    the experts of every layer."""
    layers = getattr(plan, "cpu_expert_layers", None)
    total = getattr(plan, "n_layers", None)
    return tensor_buffer_overrides([Override(p, "CPU") for p in expert_patterns(layers, total)])
