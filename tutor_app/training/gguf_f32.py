"""An F32 copy of a quantized GGUF: the same model, metadata and vocabulary, every tensor dequantized.

transformers trains on the GGUF's weights dequantized to float32; llama.cpp runs the quantized
file and quantizes activations on the way (Q8 for Q4 weights). Comparing the two directly mixes
the adapter's error with quantization noise. Loaded in llama.cpp, this copy holds exactly the
weights transformers trained on, so an adapter's logits can be checked against PEFT's to float
rounding (tests/test_training_model.py). It is a verification tool, not something to deploy: it is
8 times the size of a Q4 file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_HEADER_FIELDS = ("GGUF.version", "GGUF.tensor_count", "GGUF.kv_count")


def write_f32_copy(source: str | Path, dest: str | Path) -> Path:
    """Write ``dest``: ``source`` with its tensors as F32 (``general.file_type`` says so)."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    arch = str(reader.fields["general.architecture"].contents())
    writer = gguf.GGUFWriter(str(dest), arch)
    for key, field in reader.fields.items():
        if key in _HEADER_FIELDS or key in ("general.architecture", "general.file_type", "general.alignment"):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), value_type, sub_type)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    for tensor in reader.tensors:
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        writer.add_tensor(tensor.name, np.ascontiguousarray(values, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(dest)
