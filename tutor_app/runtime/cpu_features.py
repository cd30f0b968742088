"""Which CPU features this llama.cpp build sees, and whether weights may go to extra buffers.

llama.cpp repacks weights into "extra" CPU buffer types when the CPU supports them: REPACK
(interleaved layouts for AVX2/AVX-512/NEON) and AMX (Intel's tile unit). The AMX matrix
multiply crashes on some machines (llama.cpp #20824, "segfault in ggml_backend_amx_mul_mat";
seen here as SIGILL on ``tilezero`` in a VM that reports AMX but does not grant the tile state),
and a native crash takes the whole process with it. So on a CPU that reports AMX the default
is to keep weights out of extra buffers (``use_extra_bufts = False``).

The features are read from ggml's own system line (``llama_print_system_info``), which says
what *this build* will use, not from /proc/cpuinfo, which says what the silicon has.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

ExtraBuffers = Literal["auto", "on", "off"]
CRASHING_FEATURES = ("AMX_INT8", "AMX_BF16", "AMX")  # extra buffer types known to crash on decode


def parse_system_info(line: str) -> dict[str, bool]:
    """``"CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 1 |"`` -> ``{"SSE3": True, "AVX2": True, ...}``."""
    return {name: value.strip() != "0" for name, value in re.findall(r"([A-Z0-9_]+)\s*=\s*(\d+)", line)}


@functools.cache
def ggml_cpu_features() -> dict[str, bool]:
    import llama_cpp

    return parse_system_info(llama_cpp.llama_print_system_info().decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class ExtraBufferChoice:
    use: bool
    why: str
    # AMX is kept out, but REPACK's layouts may still be given to the weights they suit through
    # tensor overrides (``repack.py``): a CPU with AMX has AVX2, where they speed up prompts.
    repack_by_override: bool = False


def choose_extra_buffers(setting: ExtraBuffers = "auto", features: dict[str, bool] | None = None) -> ExtraBufferChoice:
    """``auto``: extra buffers unless the CPU reports a feature whose buffer type is known to crash."""
    if setting == "on":
        return ExtraBufferChoice(True, "CPU extra buffers on (--cpu-extra-buffers on)")
    if setting == "off":
        return ExtraBufferChoice(False, "CPU extra buffers off (--cpu-extra-buffers off)")
    features = ggml_cpu_features() if features is None else features
    crashing = [name for name in CRASHING_FEATURES if features.get(name)]
    if crashing:
        return ExtraBufferChoice(False, f"CPU extra buffers off: this CPU reports {crashing[0]}, whose repacked "
                                        "weights crash llama.cpp on some machines (--cpu-extra-buffers on to opt in)",
                                 repack_by_override=bool(features.get("REPACK") and features.get("AVX2")))
    kinds = [name for name in ("REPACK",) if features.get(name)]
    return ExtraBufferChoice(True, "CPU extra buffers on" + (f" ({', '.join(kinds)})" if kinds else ""))


_applied: list[ExtraBufferChoice] = []


def apply_extra_buffers(setting: ExtraBuffers = "auto") -> ExtraBufferChoice:
    """Make every model this process loads from now on follow ``choose_extra_buffers(setting)``.

    llama-cpp-python's ``Llama.__init__`` builds its ``llama_model_params`` from
    ``llama_model_default_params()`` and has no argument for ``use_extra_bufts``, so the default
    itself is wrapped, once per process. The model worker loads one model per process, and the
    tests and benchmarks that call ``Llama(...)`` directly get the same safe default."""
    from llama_cpp import llama_cpp as lib

    choice = choose_extra_buffers(setting)
    if not _applied:
        original = lib.llama_model_default_params

        def model_default_params():
            params = original()
            params.use_extra_bufts = _applied[-1].use
            return params

        lib.llama_model_default_params = model_default_params
    _applied.append(choice)
    return choice
