"""How an adapter is trained: LoRA shape, optimiser, and the two recipes the app ships.

- ``CPU_RECIPE`` for the shipped SmolLM2 (and other small GGUFs): base weights dequantized from
  the GGUF itself to float32, LoRA on attention and MLP, runs on the CPU offline.
- ``MIXTRAL_QLORA`` follows Hugging Face's Mixtral recipe: the HF checkpoint loaded in 4-bit
  (bitsandbytes NF4, double quantization, bf16 compute) on one GPU with at least about 30 GB,
  r=16, alpha=32, **attention only** (q/k/v/o). PEFT on the sparse experts is what the recipe
  warns against, and llama.cpp's converter would need all 8 experts x 3 matrices per layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
DENSE_MLP = ("gate_proj", "up_proj", "down_proj")
# Registry names (runtime/registry.py) whose weights come from a Hugging Face checkpoint, not the GGUF.
HF_CHECKPOINTS = {"mixtral-8x7b-instruct": "mistralai/Mixtral-8x7B-Instruct-v0.1"}


@dataclass(frozen=True)
class LoraShape:
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ATTENTION + DENSE_MLP


@dataclass(frozen=True)
class TrainConfig:
    lora: LoraShape = field(default_factory=LoraShape)
    learning_rate: float = 2e-4
    epochs: float = 3.0
    max_steps: int | None = None  # when set, wins over epochs
    batch_size: int = 4
    gradient_accumulation: int = 1
    max_tokens: int = 1024  # longer examples are left out (and counted), not cut
    warmup_ratio: float = 0.03
    scheduler: str = "cosine"
    optimizer: str = "adamw_torch"
    seed: int = 0
    load_in_4bit: bool = False  # QLoRA: needs a CUDA GPU (bitsandbytes)
    gradient_checkpointing: bool = False
    bf16: bool = False
    # CPU threads for torch (None: torch's default, all cores). On a machine shared with other
    # work, fewer threads can be several times faster: OpenMP threads wait for each other at
    # every operation, and one that is descheduled holds up the rest.
    threads: int | None = None

    def with_overrides(self, **changes) -> "TrainConfig":
        lora_changes = {k: changes.pop(k) for k in list(changes) if k in LoraShape.__dataclass_fields__}
        config = replace(self, **{k: v for k, v in changes.items() if v is not None})
        if lora_changes:
            config = replace(config, lora=replace(config.lora, **{k: v for k, v in lora_changes.items() if v is not None}))
        return config


CPU_RECIPE = TrainConfig(lora=LoraShape(rank=8, alpha=16.0, dropout=0.05, target_modules=ATTENTION + DENSE_MLP),
                         learning_rate=2e-4, batch_size=4, max_tokens=1024)

MIXTRAL_QLORA = TrainConfig(lora=LoraShape(rank=16, alpha=32.0, dropout=0.05, target_modules=ATTENTION),
                            learning_rate=2e-4, batch_size=1, gradient_accumulation=8, max_tokens=2048,
                            optimizer="paged_adamw_8bit", load_in_4bit=True, gradient_checkpointing=True, bf16=True)


def hf_checkpoint_for(registry_name: str | None) -> str | None:
    """The Hugging Face checkpoint to train on for a registry model whose GGUF transformers
    cannot read (Mixtral's expert tensors are not mapped), or None to train on the GGUF."""
    if not registry_name:
        return None
    return next((repo for prefix, repo in HF_CHECKPOINTS.items() if registry_name.startswith(prefix)), None)
