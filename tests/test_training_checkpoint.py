"""The Mixtral path, as far as a machine without a GPU can take it.

A tiny randomly initialised Mixtral checkpoint (real transformers classes, sharded safetensors,
a tokenizer with Mixtral's chat template) is served by a local stand-in for the Hugging Face
Hub, fetched with the real huggingface_hub code, loaded, trained for two steps with the Mixtral
recipe's LoRA shape (attention only) and converted. Only the 4-bit load itself needs the GPU;
its configuration and the refusal without a GPU are tested here.
"""

from __future__ import annotations

import json

import pytest

from tests.test_runtime_download import REPO, FakeHub
from tests.test_runtime_llama import MIXTRAL_TEMPLATE
from tests.training_support import tiny_mixtral
from tutor_app.settings import Settings
from tutor_app.training.base_model import (BaseModelError, fetch_hf_checkpoint, load_hf_base, quantization_config,
                                           require_gpu_for_4bit)
from tutor_app.training.commands import plan_base
from tutor_app.training.config import MIXTRAL_QLORA
from tutor_app.training.encode import encode_examples
from tutor_app.training.examples import ChatExample
from tutor_app.training.gguf_adapter import BaseShape, convert_peft_adapter
from tutor_app.training.trainer import train_lora

WORDS = "be kind . what is 2x = 8 ? which operation undoes times 2 let's reason together hi ok".split()


def fetched(hub: FakeHub) -> list[str]:
    """The files the download code GETs from the stand-in Hub."""
    return [path.rsplit("/", 1)[-1] for _, path, _ in hub.gets()]


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "[INST]": 3, "[/INST]": 4}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="</s>", additional_special_tokens=["[INST]", "[/INST]"])
    tokenizer.chat_template = MIXTRAL_TEMPLATE
    return tokenizer


@pytest.fixture(scope="module")
def checkpoint_files(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("tiny-mixtral")
    tiny_mixtral(vocab_size=64).save_pretrained(str(folder), max_shard_size="400KB")
    tiny_tokenizer().save_pretrained(str(folder))
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    files["consolidated.00.pt"] = b"a second copy of the weights that must not be downloaded"
    return files


@pytest.fixture
def hub(checkpoint_files, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    fake = FakeHub(checkpoint_files)
    yield fake
    fake.close()


def test_the_checkpoint_is_fetched_file_by_file_and_only_once(hub, checkpoint_files, tmp_path):
    shards = sorted(set(json.loads(checkpoint_files["model.safetensors.index.json"])["weight_map"].values()))
    assert len(shards) > 1
    dest = fetch_hf_checkpoint(REPO, tmp_path / "ckpt", endpoint=hub.url)
    for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                 "model.safetensors.index.json", *shards]:
        assert (dest / name).read_bytes() == checkpoint_files[name], name
    assert "consolidated.00.pt" not in fetched(hub) and not (dest / "consolidated.00.pt").exists()
    hub.requests.clear()
    fetch_hf_checkpoint(REPO, dest, endpoint=hub.url)
    assert fetched(hub) == []  # complete files are checked, not fetched again


def test_a_missing_repository_file_is_a_plain_message(hub, tmp_path):
    with pytest.raises(BaseModelError, match="test-org/other has no config.json|cannot download config.json"):
        fetch_hf_checkpoint("test-org/other", tmp_path / "ckpt", endpoint=hub.url)


def test_the_checkpoint_trains_attention_only_and_converts(hub, tmp_path):
    dest = fetch_hf_checkpoint(REPO, tmp_path / "ckpt", endpoint=hub.url)
    base = load_hf_base(dest, load_in_4bit=False)
    assert base.shape == BaseShape(arch="llama", n_layers=2, n_head=4, n_head_kv=2)
    example = ChatExample.model_validate({"messages": [
        {"role": "system", "content": "be kind ."}, {"role": "user", "content": "what is 2x = 8 ?"},
        {"role": "assistant", "content": "which operation undoes times 2 ?"}]})
    # Mixtral's template refuses the system turn: it is folded into the user's, as the runtime does
    assert base.renderer.render(example.as_messages()[:2], add_generation_prompt=True) == \
        "<s>[INST] be kind .\n\nwhat is 2x = 8 ? [/INST]"
    encoded = encode_examples([example] * 4, base.renderer, base.tokenize, max_tokens=64)
    assert encoded.trained_tokens == 4 * 7  # six words and </s>, in each of four examples
    config = MIXTRAL_QLORA.with_overrides(load_in_4bit=False, optimizer="adamw_torch", bf16=False, max_steps=2,
                                          batch_size=2, gradient_accumulation=1, threads=1)
    result = train_lora(base, encoded, config, tmp_path / "peft")
    assert result.steps == 2 and len(result.losses) == 2
    saved = json.loads((tmp_path / "peft" / "adapter_config.json").read_text())
    assert sorted(saved["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"] and saved["r"] == 16
    converted = convert_peft_adapter(tmp_path / "peft", tmp_path / "mixtral-lora.gguf", base.shape)
    assert sorted(converted.tensor_names) == sorted(f"blk.{i}.{kind}.weight" for i in range(2)
                                                    for kind in ("attn_q", "attn_k", "attn_v", "attn_output"))


def test_four_bit_is_qlora_nf4_and_needs_a_gpu():
    import torch

    config = quantization_config(True)
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert quantization_config(False) is None
    with pytest.raises(BaseModelError, match="NVIDIA GPU .* at least about 30 GB"):
        require_gpu_for_4bit(lambda: False, lambda: True)
    with pytest.raises(BaseModelError, match="pip install -r requirements-train-gpu.txt"):
        require_gpu_for_4bit(lambda: True, lambda: False)
    require_gpu_for_4bit(lambda: True, lambda: True)


def test_mixtral_trains_from_its_checkpoint_with_the_gguf_it_will_run_on(tmp_path):
    settings = Settings(model="mixtral-8x7b-instruct-q4_k_m", models_dir=tmp_path)
    plan = plan_base(settings)
    assert plan.checkpoint == "mistralai/Mixtral-8x7B-Instruct-v0.1" and plan.gguf_path is None
    assert plan.recipe is MIXTRAL_QLORA
    gguf = tmp_path / "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF")  # downloaded: its template, vocabulary and shapes are used
    assert plan_base(settings).gguf_path == gguf
    default = plan_base(Settings(models_dir=tmp_path))
    assert default.checkpoint is None and default.gguf_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert default.recipe.load_in_4bit is False
