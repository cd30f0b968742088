"""A Mixtral-architecture test model made from a dense GGUF by sparse upcycling.

The Mixtral path (expert tensors, routing, experts kept on the CPU) has to be exercised by tests
and benchmarks on machines where a 26 GB Mixtral cannot be downloaded. Mixtral is llama.cpp's
``llama`` architecture plus ``expert_count``/``expert_used_count`` and, per layer, a router
``ffn_gate_inp`` and stacked ``ffn_{gate,up,down}_exps`` tensors. Giving every expert a copy of
the dense model's FFN and the router all-zero weights makes routing a tie: top-2 picks two
equal experts with weight 1/2 each (llama.cpp renormalises the chosen weights for this
architecture), so the MoE computes what the dense model computes and generates the same text,
while llama.cpp runs its real MoE kernels over 8x the FFN bytes.

Quantized tensors are copied as raw bytes: the writer gets their byte shape and ``raw_dtype``
and turns it back into the element shape, so nothing is dequantized.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

DENSE_FFN = re.compile(r"^blk\.(\d+)\.ffn_(gate|up|down)\.weight$")


class UpcycleError(ValueError):
    """The source model cannot be upcycled (named in the message)."""


def upcycle_to_moe(src: str | Path, dst: str | Path, n_experts: int = 8, n_used: int = 2) -> Path:
    """Write ``dst``: ``src`` with each layer's FFN replaced by ``n_experts`` equal experts."""
    from gguf import GGMLQuantizationType, GGUFReader, Keys

    if not 1 <= n_used <= n_experts:
        raise UpcycleError(f"n_used must be between 1 and n_experts ({n_experts}), got {n_used}")
    src, dst = Path(src), Path(dst)
    reader = GGUFReader(str(src))
    arch_field = reader.fields.get(Keys.General.ARCHITECTURE)
    if arch_field is None:
        raise UpcycleError(f"{src}: no general.architecture in the GGUF metadata")
    arch = arch_field.contents()
    expert_keys = {Keys.LLM.EXPERT_COUNT.format(arch=arch), Keys.LLM.EXPERT_USED_COUNT.format(arch=arch)}
    if any(key in reader.fields for key in expert_keys):
        raise UpcycleError(f"{src} is already a mixture of experts")
    n_embd = int(reader.fields[Keys.LLM.EMBEDDING_LENGTH.format(arch=arch)].contents())

    # (name, ggml type, data): the tensor table is written first, then the data in the same order.
    tensors: list[tuple[str, object, np.ndarray | _Stacked]] = []
    layers = set()
    for tensor in reader.tensors:
        dense = DENSE_FFN.match(tensor.name)
        if dense is None:
            tensors.append((tensor.name, tensor.tensor_type, tensor.data))
            continue
        layer, which = dense.groups()
        layers.add(int(layer))
        tensors.append((f"blk.{layer}.ffn_{which}_exps.weight", tensor.tensor_type, _Stacked(tensor.data, n_experts)))
    if not layers:
        raise UpcycleError(f"{src} has no dense ffn_gate/ffn_up/ffn_down tensors to turn into experts")
    for layer in sorted(layers):
        router = np.zeros((n_experts, n_embd), dtype=np.float32)  # equal logits: every expert ties
        tensors.append((f"blk.{layer}.ffn_gate_inp.weight", GGMLQuantizationType.F32, router))

    tmp = dst.with_name(dst.name + ".tmp")
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write(reader, tmp, arch, tensors, n_experts, n_used)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def _write(reader, tmp: Path, arch: str, tensors: list, n_experts: int, n_used: int) -> None:
    from gguf import GGUFValueType, GGUFWriter, Keys

    writer = GGUFWriter(str(tmp), arch)
    for fld in reader.fields.values():
        # GGUF.* are the reader's view of the header; the writer writes its own architecture.
        if fld.name.startswith("GGUF.") or fld.name == Keys.General.ARCHITECTURE:
            continue
        value_type = fld.types[0]
        sub_type = fld.types[-1] if value_type == GGUFValueType.ARRAY else None
        writer.add_key_value(fld.name, fld.contents(), value_type, sub_type=sub_type)
    writer.add_expert_count(n_experts)
    writer.add_expert_used_count(n_used)
    for name, qtype, data in tensors:
        # a quantized tensor's data is its bytes: the writer turns the byte shape back into elements
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, _, data in tensors:
        writer.write_tensor_data(data.materialize() if isinstance(data, _Stacked) else data,
                                 tensor_endianess=reader.endianess)
    writer.close()


class _Stacked:
    """``n`` copies of one tensor's bytes, made only when written (one tensor in memory at a time)."""

    def __init__(self, data: np.ndarray, n: int) -> None:
        self.data, self.n = data, n
        self.shape = (n, *data.shape)
        self.dtype = data.dtype
        self.nbytes = data.nbytes * n

    def materialize(self) -> np.ndarray:
        return np.broadcast_to(self.data, self.shape).copy()
