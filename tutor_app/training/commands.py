"""``python app.py train-lora DIR --out models/adapters/NAME.gguf``: examples in, a GGUF adapter out.

What it writes next to ``NAME.gguf``: ``NAME.peft/`` (the PEFT adapter, to convert again for
another quant of the same model), ``NAME.loss.png`` (the loss curve) and ``NAME.train.json``
(what was trained on what, for the model panel and the datasheet). Every failure is a message
and exit code 1, never a traceback: a bad line in the data, a model transformers cannot read,
no GPU for Mixtral.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..runtime.loading import ModelFileProblem
from .base_model import BaseModelError
from .chat_render import TemplateError
from .config import CPU_RECIPE, MIXTRAL_QLORA, TrainConfig, hf_checkpoint_for
from .examples import load_training_data
from .gguf_adapter import AdapterConversionError
from .trainer import TrainingError

MAX_ERRORS_SHOWN = 50
Print = Callable[[str], None]


@dataclass(frozen=True)
class BasePlan:
    """Where the training weights come from, and which GGUF the adapter will run on."""

    name: str
    gguf_path: Path | None  # the inference GGUF (training weights too when checkpoint is None)
    checkpoint: str | None  # a Hugging Face repo id or a local folder
    recipe: TrainConfig


def plan_base(settings, hf_checkpoint: str | None = None) -> BasePlan:
    """The base for ``settings.model``: the GGUF itself, or (Mixtral) its Hugging Face checkpoint."""
    from ..runtime.loading import resolve_model

    registry_name = settings.model.strip() if settings.model else None
    checkpoint = hf_checkpoint or hf_checkpoint_for(registry_name)
    try:
        model = resolve_model(settings)
    except ModelFileProblem:
        if checkpoint is None:
            raise
        # Mixtral's GGUF not downloaded yet: train from the checkpoint; the template comes from it too.
        return BasePlan(name=registry_name or checkpoint, gguf_path=None, checkpoint=checkpoint, recipe=MIXTRAL_QLORA)
    if checkpoint is None:
        return BasePlan(name=model.name, gguf_path=model.path, checkpoint=None, recipe=CPU_RECIPE)
    return BasePlan(name=model.name, gguf_path=model.path, checkpoint=checkpoint, recipe=MIXTRAL_QLORA)


def train_lora_command(data_dir: str | Path, out_path: str | Path, settings, *, config: TrainConfig | None = None,
                       steps: int | None = None, epochs: float | None = None, learning_rate: float | None = None,
                       hf_checkpoint: str | None = None, endpoint: str | None = None, out: Print = print) -> int:
    """Train on ``data_dir``'s training files and write the GGUF adapter ``out_path``; 0 when done."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".gguf":
        out(f"--out must name a .gguf file (for example models/adapters/my-school.gguf), not {out_path}")
        return 1
    data = load_training_data(data_dir)
    if not data.files:
        out(f"{data_dir}: no training files (*.jsonl, or train/*.jsonl) found; export them first "
            "(python app.py export-training DIR)")
        return 1
    for error in data.errors[:MAX_ERRORS_SHOWN]:
        out(str(error))
    if data.errors:
        more = len(data.errors) - MAX_ERRORS_SHOWN
        out((f"... and {more} more. " if more > 0 else "") + f"{len(data.errors)} problem(s) in the training files; "
            "fix them and run again (nothing was trained)")
        return 1
    if not data.examples:
        out(f"{data_dir}: the training files hold no examples")
        return 1
    try:
        return _train(data, out_path, settings, config, steps, epochs, learning_rate, hf_checkpoint, endpoint, out)
    except ImportError as exc:
        out(f"training needs PyTorch, transformers and PEFT ({exc}): pip install -r requirements-train.txt")
    except (ModelFileProblem, TemplateError, AdapterConversionError, BaseModelError, TrainingError) as exc:
        out(f"cannot train: {exc}")
    except RuntimeError as exc:  # torch's own (out of memory, a device error)
        out(f"training failed: {type(exc).__name__}: {exc}")
    return 1


def _train(data, out_path: Path, settings, config, steps, epochs, learning_rate, hf_checkpoint, endpoint,
           out: Print) -> int:
    from .base_model import fetch_hf_checkpoint, load_gguf_base, load_hf_base
    from .encode import encode_examples
    from .gguf_adapter import convert_peft_adapter
    from .loss_plot import plot_losses
    from .progress import progress_line
    from .trainer import train_lora

    plan = plan_base(settings, hf_checkpoint)
    config = (config or plan.recipe).with_overrides(max_steps=steps, epochs=epochs, learning_rate=learning_rate)
    started = time.perf_counter()
    if plan.checkpoint is None:
        out(f"base model: {plan.name} ({plan.gguf_path}), weights dequantized from the GGUF")
        base = load_gguf_base(plan.gguf_path)
    else:
        folder = Path(plan.checkpoint)
        if not folder.is_dir():
            folder = Path(settings.models_dir) / "checkpoints" / plan.checkpoint.replace("/", "--")
            out(f"base model: {plan.checkpoint} (Hugging Face checkpoint, into {folder})")
            fetch_hf_checkpoint(plan.checkpoint, folder, endpoint=endpoint)
        base = load_hf_base(folder, load_in_4bit=config.load_in_4bit, inference_gguf=plan.gguf_path)
    encoded = encode_examples(data.examples, base.renderer, base.tokenize, config.max_tokens)
    for problem in encoded.problems[:MAX_ERRORS_SHOWN]:
        out(f"left out: {problem}")
    if encoded.too_long:
        out(f"left out: {encoded.too_long} example(s) longer than {config.max_tokens} tokens")
    out(f"training on {len(encoded.examples)} example(s), {encoded.trained_tokens} reply token(s)")

    adapter_dir = out_path.with_name(out_path.stem + ".peft")
    result = train_lora(base, encoded, config, adapter_dir, on_progress=lambda event: out(progress_line(event)))
    converted = convert_peft_adapter(adapter_dir, out_path, base.shape, name=out_path.stem)
    plot = plot_losses(result.losses, out_path.with_name(out_path.stem + ".loss.png"),
                       title=f"{out_path.stem}: training loss")
    record = {
        "adapter": out_path.name, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base_model": plan.name, "base_gguf": str(plan.gguf_path) if plan.gguf_path else None,
        "checkpoint": plan.checkpoint, "training_files": [str(p) for p in data.files],
        "examples": result.examples, "left_out": len(encoded.problems) + encoded.too_long,
        "trained_tokens": result.trained_tokens, "steps": result.steps, "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "final_loss": result.losses[-1][1] if result.losses else None, "losses": result.losses,
        "adapter_bytes": converted.size_bytes, "tensors": len(converted.tensor_names), "alpha": converted.alpha,
        "ranks": list(converted.ranks), "config": asdict(config), "machine": platform.machine(),
    }
    out_path.with_name(out_path.stem + ".train.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    out(f"wrote {out_path} ({converted.size_bytes / 2**20:.1f} MiB, {len(converted.tensor_names)} adapted tensors) "
        f"after {result.steps} steps in {result.seconds:.0f} s; loss curve: {plot}")
    return 0
