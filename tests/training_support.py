"""Tiny randomly initialised llama-family models and PEFT adapters on them, for the converter
and checkpoint tests: real transformers and PEFT objects, seconds to build, no weights to download."""

from __future__ import annotations

from pathlib import Path

TINY = dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128)


def tiny_llama(seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**TINY, tie_word_embeddings=True))


def tiny_mixtral(seed: int = 0, vocab_size: int = TINY["vocab_size"]):
    import torch
    from transformers import MixtralConfig, MixtralForCausalLM

    torch.manual_seed(seed)
    return MixtralForCausalLM(MixtralConfig(**{**TINY, "vocab_size": vocab_size}, num_local_experts=4,
                                            num_experts_per_tok=2))


def random_adapter(model, out_dir: Path, *, targets=("q_proj", "k_proj", "v_proj", "o_proj"), rank: int = 4,
                   alpha: float = 8.0, seed: int = 1, **lora_options):
    """A PEFT adapter whose B is not zero (PEFT starts B at zero), saved to ``out_dir``; returns the PEFT model."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    peft_model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(targets),
                                                  lora_dropout=0.0, **lora_options))
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    peft_model.save_pretrained(str(out_dir))
    return peft_model


def peft_delta(peft_model, module: str):
    """PEFT's own weight change for ``module`` (its scaling times B A), as numpy."""
    layer = peft_model.get_submodule("base_model.model." + module)
    return layer.get_delta_weight("default").detach().float().numpy()
