"""PEFT adapter -> GGUF adapter, checked against PEFT's own weight deltas on tiny real models.

The GGUF side is read back with ``gguf.GGUFReader`` and its effective change computed the way
llama.cpp computes it (alpha / rank(lora_b) * B A, in GGUF row order), so these tests fail if a
name, a shape, the scale or the q/k row order is wrong. The end-to-end proof in llama.cpp
itself is tests/test_training_model.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.training_support import TINY, peft_delta, random_adapter, tiny_llama, tiny_mixtral
from tutor_app.training import gguf_adapter
from tutor_app.training.gguf_adapter import AdapterConversionError, BaseShape, convert_peft_adapter, permute_for_rope

N_HEAD, N_KV = TINY["num_attention_heads"], TINY["num_key_value_heads"]
HEAD_DIM = TINY["hidden_size"] // N_HEAD


def read_adapter(path):
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    meta = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    tensors = {t.name: t for t in reader.tensors}
    return meta, tensors


def gguf_delta(tensors, meta, target: str) -> np.ndarray:
    """llama.cpp's change to ``target``: alpha / r * B A, with r read from lora_b (its ne[0])."""
    a, b = tensors[target + ".lora_a"], tensors[target + ".lora_b"]
    rank = int(b.shape[0])
    return meta["adapter.lora.alpha"] / rank * (np.asarray(b.data, dtype=np.float64) @ np.asarray(a.data, dtype=np.float64))


def hf_rows_to_gguf(delta: np.ndarray, n_head: int) -> np.ndarray:
    """Independent of the converter: within each head, GGUF row 2i+j holds HF row i + j*d/2."""
    out = np.empty_like(delta)
    per_head = delta.shape[0] // n_head
    half = per_head // 2
    for h in range(n_head):
        for i in range(half):
            for j in range(2):
                out[h * per_head + 2 * i + j] = delta[h * per_head + i + j * half]
    return out


def test_metadata_names_and_shapes_are_llama_cpps(tmp_path):
    peft_model = random_adapter(tiny_llama(), tmp_path / "peft", targets=("q_proj", "v_proj", "down_proj"))
    config = peft_model.base_model.model.config.to_dict()
    converted = convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", BaseShape.from_hf_config(config))
    meta, tensors = read_adapter(tmp_path / "a.gguf")
    assert meta["general.type"] == "adapter" and meta["adapter.type"] == "lora"
    assert meta["general.architecture"] == "llama" and meta["adapter.lora.alpha"] == 8.0
    assert sorted(tensors) == sorted(f"blk.{i}.{kind}.weight.lora_{ab}" for i in range(2)
                                     for kind in ("attn_q", "attn_v", "ffn_down") for ab in "ab")
    hidden, kv, ffn = TINY["hidden_size"], N_KV * HEAD_DIM, TINY["intermediate_size"]
    # ggml order: lora_a is [in, r], lora_b is [r, out] (llama_adapter_lora_init checks exactly this)
    assert list(tensors["blk.0.attn_q.weight.lora_a"].shape) == [hidden, 4]
    assert list(tensors["blk.0.attn_q.weight.lora_b"].shape) == [4, hidden]
    assert list(tensors["blk.1.attn_v.weight.lora_b"].shape) == [4, kv]
    assert list(tensors["blk.1.ffn_down.weight.lora_a"].shape) == [ffn, 4]
    assert converted.ranks == (4,) and converted.size_bytes == (tmp_path / "a.gguf").stat().st_size


def test_q_and_k_follow_the_gguf_row_permutation_and_the_rest_does_not(tmp_path):
    peft_model = random_adapter(tiny_llama(), tmp_path / "peft")
    base = BaseShape.from_hf_config(peft_model.base_model.model.config.to_dict())
    convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", base)
    meta, tensors = read_adapter(tmp_path / "a.gguf")
    for layer in range(2):
        prefix = f"model.layers.{layer}.self_attn."
        q, k = peft_delta(peft_model, prefix + "q_proj"), peft_delta(peft_model, prefix + "k_proj")
        v, o = peft_delta(peft_model, prefix + "v_proj"), peft_delta(peft_model, prefix + "o_proj")
        np.testing.assert_allclose(gguf_delta(tensors, meta, f"blk.{layer}.attn_q.weight"), hf_rows_to_gguf(q, N_HEAD),
                                   atol=1e-6)
        np.testing.assert_allclose(gguf_delta(tensors, meta, f"blk.{layer}.attn_k.weight"), hf_rows_to_gguf(k, N_KV),
                                   atol=1e-6)
        np.testing.assert_allclose(gguf_delta(tensors, meta, f"blk.{layer}.attn_v.weight"), v, atol=1e-6)
        np.testing.assert_allclose(gguf_delta(tensors, meta, f"blk.{layer}.attn_output.weight"), o, atol=1e-6)
        # and the permutation matters: unpermuted rows are a different matrix
        assert np.abs(gguf_delta(tensors, meta, f"blk.{layer}.attn_q.weight") - q).max() > 1e-3


def test_the_permutation_turns_rotate_half_rope_into_interleaved_rope():
    """What the permutation is for: HF's RoPE rotates pairs (i, i + d/2), GGUF's llama kernel
    (i, i+1); after the permutation both compute the same rotated query."""
    rng = np.random.default_rng(0)
    d = 8
    theta = rng.uniform(0.1, 3.0, d // 2)
    cos, sin = np.cos(theta), np.sin(theta)
    q = rng.standard_normal((2 * d,))  # two heads

    def rotate_half(v):
        out = v.copy()
        for h in range(2):
            x = v[h * d:(h + 1) * d]
            out[h * d:h * d + d // 2] = x[:d // 2] * cos - x[d // 2:] * sin
            out[h * d + d // 2:(h + 1) * d] = x[d // 2:] * cos + x[:d // 2] * sin
        return out

    def interleaved(v):
        out = v.copy()
        for h in range(2):
            x = v[h * d:(h + 1) * d]
            out[h * d:(h + 1) * d:2] = x[0::2] * cos - x[1::2] * sin
            out[h * d + 1:(h + 1) * d:2] = x[0::2] * sin + x[1::2] * cos
        return out

    np.testing.assert_allclose(interleaved(permute_for_rope(q, 2)), permute_for_rope(rotate_half(q), 2), atol=1e-12)


def test_per_module_alpha_and_rslora_scales_are_folded_into_b(tmp_path):
    peft_model = random_adapter(tiny_llama(), tmp_path / "peft", targets=("v_proj", "o_proj"), rank=4, alpha=8.0,
                                use_rslora=True, alpha_pattern={"o_proj": 2.0})
    base = BaseShape.from_hf_config(peft_model.base_model.model.config.to_dict())
    convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", base)
    meta, tensors = read_adapter(tmp_path / "a.gguf")
    for kind, module in (("attn_v", "v_proj"), ("attn_output", "o_proj")):
        np.testing.assert_allclose(gguf_delta(tensors, meta, f"blk.0.{kind}.weight"),
                                   peft_delta(peft_model, f"model.layers.0.self_attn.{module}"), atol=1e-6)


def test_mixtral_attention_adapters_convert_with_grouped_kv_heads(tmp_path):
    peft_model = random_adapter(tiny_mixtral(), tmp_path / "peft")
    config = peft_model.base_model.model.config.to_dict()
    assert config["model_type"] == "mixtral"
    convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", BaseShape.from_hf_config(config))
    meta, tensors = read_adapter(tmp_path / "a.gguf")
    assert meta["general.architecture"] == "llama"
    k = peft_delta(peft_model, "model.layers.1.self_attn.k_proj")
    np.testing.assert_allclose(gguf_delta(tensors, meta, "blk.1.attn_k.weight"), hf_rows_to_gguf(k, N_KV), atol=1e-6)


@pytest.mark.parametrize("targets, options, message", [
    (("q_proj", "lm_head"), {}, r"embeddings or the output layer .*lm_head.*#11554"),
    (("q_proj", "embed_tokens"), {}, r"embeddings or the output layer .*embed_tokens"),
    (("q_proj",), {"use_dora": True}, r"DoRA"),
    (("q_proj",), {"bias": "lora_only"}, r"trains biases"),
    (("q_proj",), {"modules_to_save": ["lm_head"]}, r"saves whole modules \(lm_head\)"),
])
def test_what_llama_cpp_cannot_apply_is_refused(tmp_path, targets, options, message):
    peft_model = random_adapter(tiny_llama(), tmp_path / "peft", targets=targets, **options)
    base = BaseShape.from_hf_config(peft_model.base_model.model.config.to_dict())
    with pytest.raises(AdapterConversionError, match=message):
        convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", base)
    assert not (tmp_path / "a.gguf").exists()


def test_a_mixture_of_experts_router_is_refused(tmp_path):
    peft_model = random_adapter(tiny_mixtral(), tmp_path / "peft", targets=("q_proj", "gate"))
    base = BaseShape.from_hf_config(peft_model.base_model.model.config.to_dict())
    with pytest.raises(AdapterConversionError, match=r"model.layers.0.mlp.gate cannot be converted.*attention-only"):
        convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", base)


def test_an_adapter_for_another_model_is_caught_against_the_gguf(tmp_path):
    from gguf import GGUFWriter

    random_adapter(tiny_llama(), tmp_path / "peft", targets=("q_proj",))
    other = tmp_path / "other.gguf"
    writer = GGUFWriter(str(other), "llama")
    writer.add_block_count(2)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    for layer in range(2):
        writer.add_tensor(f"blk.{layer}.attn_q.weight", np.zeros((96, 96), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(AdapterConversionError, match=r"maps 96 to 96 values, the adapter 64 to 64; .*another model"):
        convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", BaseShape.from_gguf(other))


def test_broken_adapter_folders_say_what_is_missing(tmp_path):
    from safetensors.torch import load_file, save_file

    with pytest.raises(AdapterConversionError, match="adapter_config.json is missing"):
        convert_peft_adapter(tmp_path, tmp_path / "a.gguf", BaseShape("llama", 2, 4, 2))
    random_adapter(tiny_llama(), tmp_path / "peft", targets=("q_proj",))
    weights = load_file(str(tmp_path / "peft" / "adapter_model.safetensors"))
    del weights["base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight"]
    save_file(weights, str(tmp_path / "peft" / "adapter_model.safetensors"))
    with pytest.raises(AdapterConversionError, match=r"model.layers.1.self_attn.q_proj: .*lora_A without its partner"):
        convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", BaseShape("llama", 2, 4, 2))
    config = json.loads((tmp_path / "peft" / "adapter_config.json").read_text())
    (tmp_path / "peft" / "adapter_config.json").write_text(json.dumps({**config, "lora_alpha": 0}))
    with pytest.raises(AdapterConversionError, match="lora_alpha must be above 0"):
        convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", BaseShape("llama", 2, 4, 2))
    assert not (tmp_path / "a.gguf").exists()


def test_qwen2_rows_are_not_permuted(tmp_path, monkeypatch):
    """The permutation is llama-family only: a qwen2 base keeps HF's row order."""
    peft_model = random_adapter(tiny_llama(), tmp_path / "peft", targets=("q_proj",))
    convert_peft_adapter(tmp_path / "peft", tmp_path / "a.gguf", BaseShape("qwen2", 2, N_HEAD, N_KV))
    meta, tensors = read_adapter(tmp_path / "a.gguf")
    np.testing.assert_allclose(gguf_delta(tensors, meta, "blk.0.attn_q.weight"),
                               peft_delta(peft_model, "model.layers.0.self_attn.q_proj"), atol=1e-6)
    assert gguf_adapter.QK_PERMUTED_ARCHS == {"llama"}
