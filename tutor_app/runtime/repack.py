"""REPACK without AMX: llama.cpp's interleaved CPU weight layouts on a CPU whose AMX buffers crash.

With ``use_extra_bufts`` off (``cpu_features``), llama.cpp keeps every weight in plain CPU
buffers, and so also loses the REPACK layouts that evaluate prompts faster (on this project's
Xeon, a Q4_0 SmolLM2: 314 against 195 prompt tokens/s, decode unchanged; bench/RESULTS.md). A
tensor buffer override can still send chosen weights to the CPU_REPACK buffer type, but without
the loader's own check that REPACK has a layout for them: one it has none for crashes the
process (seen here for q4_1 matrices and for 1-D norm weights, segfault at the first decode).

So only what REPACK has supported on x86 since it exists is chosen, by reading the GGUF: 2-D
Q4_0 and Q4_K matrices whose row count divides by 8, on a CPU with AVX2 (llama.cpp's
``ggml_repack_get_optimal_repack_type``: ``q4_0_8x8``, ``q4_K_8x8``). Everything else stays in
plain CPU buffers. Only for plans that keep every layer on the CPU: an override to a CPU buffer
would pull a layer off the GPU.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .tensor_overrides import Override

REPACK_TYPES = ("Q4_0", "Q4_K")
ROWS_MULTIPLE = 8  # the 8x8 interleave takes rows eight at a time
_LAYER_TENSOR = re.compile(r"^blk\.(\d+)\.(.+)$")


@dataclass(frozen=True)
class TensorFacts:
    name: str
    type_name: str  # ggml's name: "Q4_0", "Q4_K", "F32"...
    shape: tuple[int, ...]  # ggml order: ne[0] (row length), ne[1] (rows), ...


@dataclass(frozen=True)
class RepackChoice:
    overrides: list[Override]
    tensors: int
    why: str


def repackable(tensor: TensorFacts) -> bool:
    return (tensor.type_name in REPACK_TYPES and len(tensor.shape) == 2 and tensor.shape[1] % ROWS_MULTIPLE == 0
            and tensor.name.endswith(".weight"))


def tensor_facts(path: Path) -> list[TensorFacts]:
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    return [TensorFacts(t.name, t.tensor_type.name, tuple(int(n) for n in t.shape)) for t in reader.tensors]


def name_patterns(names: Sequence[str]) -> list[str]:
    """Anchored regexes matching exactly ``names``, one per tensor kind (``attn_q.weight``) with
    its layers listed: llama.cpp compiles every pattern once per tensor it loads, so few and short."""
    layers: dict[str, list[str]] = defaultdict(list)
    others = []
    for name in names:
        match = _LAYER_TENSOR.match(name)
        if match:
            layers[match.group(2)].append(match.group(1))
        else:
            others.append(name)
    patterns = [rf"^blk\.({'|'.join(numbers)})\.{re.escape(kind)}$" for kind, numbers in layers.items()]
    return patterns + [f"^{re.escape(name)}$" for name in others]


def choose_repack(tensors: Iterable[TensorFacts]) -> RepackChoice:
    tensors = list(tensors)
    chosen = [t for t in tensors if repackable(t)]
    if not chosen:
        kinds = sorted({t.type_name for t in tensors if len(t.shape) == 2 and t.name.endswith(".weight")})
        return RepackChoice([], 0, f"no weights REPACK suits ({'/'.join(kinds) or 'none'}; it takes "
                                   f"{'/'.join(REPACK_TYPES)})")
    kinds = "/".join(sorted({t.type_name for t in chosen}))
    overrides = [Override(pattern, "CPU_REPACK") for pattern in name_patterns([t.name for t in chosen])]
    return RepackChoice(overrides, len(chosen), f"REPACK kept for {len(chosen)} {kinds} weight matrices")


def repack_for_file(path: Path) -> RepackChoice:
    try:
        return choose_repack(tensor_facts(path))
    except Exception as exc:  # a file the header walk accepted but gguf cannot list: no REPACK, no failure
        return RepackChoice([], 0, f"REPACK not used ({type(exc).__name__}: {exc})")
