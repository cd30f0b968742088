"""GGUF LoRA adapters written directly with the ``gguf`` package, for the tests of switching
adapters: llama.cpp's own file format, random pairs big enough to change what the model says,
seconds to write, no training stack needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def random_gguf_adapter(base_gguf: Path, out: Path, *, seed: int = 0, rank: int = 4, scale: float = 0.5,
                        targets: tuple[str, ...] = ("attn_q", "attn_v", "ffn_down")) -> Path:
    """A LoRA adapter for ``base_gguf`` on ``targets`` of every layer, with random A and B."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))
    arch = str(reader.fields["general.architecture"].contents())
    shapes = {t.name: (int(t.shape[0]), int(t.shape[1])) for t in reader.tensors if len(t.shape) == 2}
    rng = np.random.default_rng(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(rank))
    for name, (n_in, n_out) in sorted(shapes.items()):
        if not name.startswith("blk.") or name.split(".")[2] not in targets:
            continue
        writer.add_tensor(f"{name}.lora_a", (rng.standard_normal((rank, n_in)) * scale / np.sqrt(n_in)).astype(np.float32))
        writer.add_tensor(f"{name}.lora_b", (rng.standard_normal((n_out, rank)) * scale).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
