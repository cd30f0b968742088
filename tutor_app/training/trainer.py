"""Train a LoRA adapter with PEFT and transformers' ``Trainer`` on encoded examples.

The ecosystem's standard loop (optimiser, schedule, accumulation, bf16 and 4-bit on a GPU)
rather than a hand-written one; this module adds what the school needs around it: the loss
only on assistant tokens (labels from ``encode.py``), progress events per step, and the adapter
saved as PEFT safetensors for ``gguf_adapter.py`` to convert.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base_model import LoadedBase
from .config import LoraShape, TrainConfig
from .encode import IGNORE, EncodedSet
from .progress import ProgressCallback, ProgressEvent


class TrainingError(RuntimeError):
    """Training cannot start or failed; the message says why."""


@dataclass
class TrainResult:
    adapter_dir: Path
    losses: list[tuple[int, float]]  # (step, loss) as logged
    steps: int
    seconds: float
    examples: int
    trained_tokens: int
    model: Any = None  # the PEFT model, still in memory (for checks right after training)


def lora_config(shape: LoraShape):
    from peft import LoraConfig

    return LoraConfig(r=shape.rank, lora_alpha=shape.alpha, lora_dropout=shape.dropout,
                      target_modules=list(shape.target_modules), bias="none", task_type="CAUSAL_LM")


def pad_batch(items: list[dict], pad_id: int) -> dict:
    """Right-pad a batch; padding is masked out of attention and out of the loss."""
    import torch

    width = max(len(item["input_ids"]) for item in items)
    ids, labels, mask = [], [], []
    for item in items:
        gap = width - len(item["input_ids"])
        ids.append(item["input_ids"] + [pad_id] * gap)
        labels.append(item["labels"] + [IGNORE] * gap)
        mask.append([1] * len(item["input_ids"]) + [0] * gap)
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


def train_lora(base: LoadedBase, encoded: EncodedSet, config: TrainConfig, adapter_dir: str | Path, *,
               on_progress: ProgressCallback | None = None) -> TrainResult:
    """Train on ``encoded`` and save the adapter in ``adapter_dir`` (PEFT format)."""
    import torch
    from peft import get_peft_model
    from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments, set_seed

    if not encoded.examples:
        raise TrainingError("there is nothing to train on: no example fits (see the messages above)")
    adapter_dir = Path(adapter_dir)
    set_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    model = get_peft_model(base.model, lora_config(config.lora))
    if config.gradient_checkpointing:
        model.enable_input_require_grads()  # checkpointing a frozen base needs gradients at its input
    pad_id = base.tokenizer.pad_token_id if base.tokenizer.pad_token_id is not None else base.tokenizer.eos_token_id
    dataset = [{"input_ids": e.input_ids, "labels": e.labels} for e in encoded.examples]
    losses: list[tuple[int, float]] = []
    started = time.perf_counter()

    class Progress(TrainerCallback):
        # logging_steps=1: every optimiser step logs its loss, after its on_step_end.
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return  # the closing summary (train_runtime ...)
            losses.append((state.global_step, float(logs["loss"])))
            if on_progress is not None:
                on_progress(ProgressEvent(state.global_step, state.max_steps, losses[-1][1],
                                          time.perf_counter() - started))

    with tempfile.TemporaryDirectory(prefix="tutor-train-") as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=config.batch_size,
            gradient_accumulation_steps=config.gradient_accumulation, learning_rate=config.learning_rate,
            num_train_epochs=config.epochs, max_steps=config.max_steps or -1, lr_scheduler_type=config.scheduler,
            warmup_steps=config.warmup_ratio, optim=config.optimizer, logging_steps=1, save_strategy="no",
            report_to=[], disable_tqdm=True, seed=config.seed, data_seed=config.seed, bf16=config.bf16,
            use_cpu=not torch.cuda.is_available(), activation_checkpointing=config.gradient_checkpointing,
            remove_unused_columns=False, dataloader_num_workers=0, dataloader_pin_memory=False)
        trainer = Trainer(model=model, args=args, train_dataset=dataset,
                          data_collator=lambda items: pad_batch(items, pad_id), callbacks=[Progress()])
        trainer.remove_callback(PrinterCallback)  # our progress lines replace its dicts
        output = trainer.train()
    model.save_pretrained(str(adapter_dir))
    return TrainResult(adapter_dir=adapter_dir, losses=losses, steps=int(output.global_step),
                       seconds=time.perf_counter() - started, examples=len(encoded.examples),
                       trained_tokens=encoded.trained_tokens, model=model)
