"""gguf_info on the real shipped model, and the planner's memory arithmetic against llama.cpp's own."""

from __future__ import annotations

import re

import pytest

from tutor_app.runtime.gguf_info import GGUFShapeError, mixtral_8x7b_shape, read_model_shape
from tutor_app.runtime.offload import compute_buffer_bytes, kv_cache_bytes

MIB = 2**20


def test_shape_of_the_shipped_model(smollm2_path):
    shape = read_model_shape(smollm2_path)
    assert (shape.architecture, shape.n_layers, shape.n_embd, shape.n_head, shape.n_head_kv, shape.head_dim) == \
        ("llama", 30, 576, 9, 3, 64)
    assert (shape.context_length, shape.n_vocab, shape.file_type) == (8192, 49152, "Q4_1")
    assert not shape.is_moe and shape.expert_bytes == 0 and shape.active_expert_share == 1.0
    assert shape.file_size == smollm2_path.stat().st_size
    # every tensor byte lands in exactly one bucket (the tied output matrix is token_embd again)
    tensor_bytes = sum(shape.tensor_types.values())
    assert shape.other_layer_bytes + shape.embedding_bytes + (shape.output_bytes - shape.embedding_bytes) == tensor_bytes
    assert tensor_bytes < shape.file_size < tensor_bytes + 4 * MIB  # the rest is header and vocabulary
    assert len(set(shape.layer_other_bytes)) == 1  # 30 identical layers
    assert set(shape.tensor_types) == {"Q4_1", "Q8_0", "F32"}
    # a token multiplies with every weight once: the tied embedding as output, not as the lookup
    from gguf import GGUFReader

    assert shape.active_params_per_token() == sum(int(t.n_elements) for t in GGUFReader(smollm2_path).tensors)


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not a gguf at all" * 10)
    with pytest.raises(ValueError):
        read_model_shape(bad)


def test_gguf_without_architecture(tmp_path):
    import numpy as np
    from gguf import GGUFWriter

    path = tmp_path / "noarch.gguf"
    writer = GGUFWriter(str(path), "llama")
    writer.kv_data[0].pop("general.architecture")  # a broken converter's output
    writer.add_tensor("t", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(GGUFShapeError, match="general.architecture"):
        read_model_shape(path)


def test_mixtral_shapes_match_the_published_files():
    for quant, size_gb in [("Q2_K", 15.64), ("Q3_K_M", 20.36), ("Q4_K_M", 26.44), ("Q5_K_M", 32.23)]:
        shape = mixtral_8x7b_shape(quant)
        assert shape.n_layers == 32 and shape.expert_count == 8 and shape.expert_used_count == 2
        loaded_once = shape.weight_bytes  # output is not tied in Mixtral
        assert abs(loaded_once / 1e9 - size_gb) < 0.01
        assert 0.96 < shape.expert_fraction < 0.97  # experts are ~96 % of the bytes
        # 12.9B of 46.7B parameters are active per token
        assert abs(shape.active_bytes_per_token() / loaded_once - 12.9 / 46.7) < 0.01
        # Mistral's 12.9B counts the embedding table too, which a token only looks one row up in
        assert abs((shape.active_params_per_token() + 32000 * 4096) / 1e9 - 12.9) < 0.05
    with pytest.raises(KeyError, match="Q4_K_M"):
        mixtral_8x7b_shape("Q9")


@pytest.mark.model
@pytest.mark.parametrize("n_ctx", [2048, 8192])  # logits dominate at 2048, attention scores at 8192
def test_planner_memory_matches_llama_cpp_report(smollm2_path, capsys, n_ctx):
    """The KV cache and compute buffer the planner budgets are what llama.cpp allocates."""
    from llama_cpp import Llama

    shape = read_model_shape(smollm2_path)
    llm = Llama(str(smollm2_path), n_ctx=n_ctx, n_batch=512, verbose=True)
    llm.close()
    log = capsys.readouterr().err
    kv = float(re.search(r"KV buffer size =\s+([\d.]+) MiB", log).group(1))
    compute = float(re.search(r"CPU compute buffer size =\s+([\d.]+) MiB", log).group(1))
    assert kv == pytest.approx(kv_cache_bytes(shape, n_ctx, "f16") / MIB, abs=0.01)
    estimate = compute_buffer_bytes(shape, n_ctx, flash_attn=False) / MIB
    assert compute <= estimate <= compute * 1.15  # never less than llama.cpp needs, and close
