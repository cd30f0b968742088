"""The base model to train on, with what belongs to it: tokenizer, chat renderer and GGUF shape.

Two sources:

- **The GGUF the app runs** (the shipped SmolLM2, or any GGUF of an architecture transformers
  maps: Llama, Mistral, Qwen2). transformers reads it and dequantizes to float32, so training
  needs no download and the adapter fits that file by construction.
- **A Hugging Face checkpoint** (Mixtral: its GGUF stores expert tensors transformers does not
  map), fetched with huggingface_hub and loaded in 4-bit with bitsandbytes on a GPU. The chat
  template, the tokenizer and the shape check still come from the GGUF the adapter will run on,
  when it is on this machine, so training sees exactly the token ids inference sends.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .chat_render import ChatRenderer
from .gguf_adapter import BaseShape

# What from_pretrained needs of a checkpoint; optional ones may be missing from a repository.
CHECKPOINT_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")
OPTIONAL_FILES = ("generation_config.json", "special_tokens_map.json", "tokenizer.model", "chat_template.jinja")
INDEX_FILE = "model.safetensors.index.json"
SINGLE_WEIGHTS = "model.safetensors"


class BaseModelError(RuntimeError):
    """The base model cannot be loaded or fetched; the message says why and what to do."""


@dataclass
class LoadedBase:
    model: Any  # a transformers causal LM
    tokenizer: Any  # transformers' tokenizer: padding id; tokenizing when no GGUF is at hand
    renderer: ChatRenderer
    shape: BaseShape
    description: str
    gguf_path: Path | None = None
    vocab: Any = None  # runtime.vocab.GgufVocab of gguf_path: the inference tokenizer

    def tokenize(self, text: str) -> list[int]:
        """Text with the template's special tokens in it -> the ids inference would send: llama.cpp's
        tokenizer of the GGUF the adapter runs on, transformers' only when that GGUF is not here."""
        if self.vocab is not None:
            return self.vocab.tokenize(text)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])


def inference_vocab(path: str | Path):
    from ..runtime.vocab import GgufVocab

    return GgufVocab(path)


def gguf_renderer(path: str | Path) -> ChatRenderer:
    """The chat renderer the runtime builds for this GGUF (its template, BOS and EOS texts)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    metadata = {key: field.contents() for key, field in reader.fields.items()
                if key in ("tokenizer.chat_template", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")}
    tokens_field = reader.fields.get("tokenizer.ggml.tokens")
    tokens = tokens_field.contents() if tokens_field is not None else []
    return ChatRenderer.from_gguf_metadata(metadata, tokens)


def load_gguf_base(path: str | Path) -> LoadedBase:
    """Base weights and tokenizer from the GGUF itself (dequantized to float32 by transformers)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    path = Path(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        # dequantize=True: a plain dense float32 model that PEFT trains, not weights kept in
        # GGUF blocks (which transformers cannot train through).
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32,
                                                     quantization_config=GgufConfig(dequantize=True))
    except Exception as exc:  # an architecture or quant type transformers does not read
        raise BaseModelError(f"transformers cannot read {path.name} as training weights ({type(exc).__name__}: "
                             f"{exc}). It reads Llama, Mistral and Qwen2 GGUFs in Q4_0, Q4_1, Q8_0 and Q2_K-Q6_K; "
                             "for Mixtral the Hugging Face checkpoint is used instead.") from exc
    return LoadedBase(model=model, tokenizer=tokenizer, renderer=gguf_renderer(path), shape=BaseShape.from_gguf(path),
                      description=f"{path.name} (dequantized to float32)", gguf_path=path, vocab=inference_vocab(path))


def quantization_config(load_in_4bit: bool):
    """QLoRA's 4-bit NF4 with double quantization and bf16 compute (the Mixtral recipe), or None."""
    if not load_in_4bit:
        return None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def require_gpu_for_4bit(cuda_available: Callable[[], bool] | None = None,
                         bitsandbytes_installed: Callable[[], bool] | None = None) -> None:
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available
    if bitsandbytes_installed is None:
        def bitsandbytes_installed() -> bool:
            return importlib.util.find_spec("bitsandbytes") is not None

    if not cuda_available():
        raise BaseModelError("4-bit (QLoRA) training runs on an NVIDIA GPU through bitsandbytes, and this machine "
                             "has none that PyTorch can use. Mixtral 8x7B needs one GPU with at least about 30 GB "
                             "(see the README, 'Adapting the model to your school').")
    if not bitsandbytes_installed():
        raise BaseModelError("4-bit (QLoRA) training needs bitsandbytes: pip install -r requirements-train-gpu.txt")


def fetch_hf_checkpoint(repo_id: str, dest: str | Path, *, revision: str = "main", endpoint: str | None = None,
                        token: str | bool | None = None) -> Path:
    """Download a checkpoint's config, tokenizer and safetensors weights into ``dest``.

    File by file through the Hub's resolve endpoint (``hf_hub_download``), not a whole-repo
    snapshot: Mixtral's repository also holds a second copy of the weights as ``.pt`` files
    (another 90 GB), and a file that is already complete is not fetched again."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    dest = Path(dest)

    def fetch(name: str, optional: bool = False) -> Path | None:
        try:
            return Path(hf_hub_download(repo_id, name, revision=revision, local_dir=dest, endpoint=endpoint,
                                        token=token))
        except EntryNotFoundError:
            if optional:
                return None
            raise BaseModelError(f"{repo_id} has no {name}; is it a transformers checkpoint?") from None
        except Exception as exc:
            raise BaseModelError(f"cannot download {name} of {repo_id} ({type(exc).__name__}: {exc}). Check the "
                                 "network and the token (HF_TOKEN) for gated models; run again to resume.") from exc

    for name in CHECKPOINT_FILES:
        fetch(name)
    for name in OPTIONAL_FILES:
        fetch(name, optional=True)
    index = fetch(INDEX_FILE, optional=True)
    if index is None:
        fetch(SINGLE_WEIGHTS)
    else:
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        for shard in shards:
            fetch(shard)
    return dest


def load_hf_base(checkpoint_dir: str | Path, *, load_in_4bit: bool, inference_gguf: str | Path | None = None) -> LoadedBase:
    """Weights from a local checkpoint folder; 4-bit on a GPU for QLoRA. The renderer and shape
    come from ``inference_gguf`` when given (the file the adapter will run on)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    checkpoint_dir = Path(checkpoint_dir)
    if load_in_4bit:
        require_gpu_for_4bit()
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint_dir))
    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if load_in_4bit else torch.float32}
    if load_in_4bit:
        kwargs.update(quantization_config=quantization_config(True), device_map={"": 0})
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint_dir), **kwargs)
    if load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    if inference_gguf is not None:
        renderer, shape = gguf_renderer(inference_gguf), BaseShape.from_gguf(inference_gguf)
    else:
        renderer = ChatRenderer(tokenizer.chat_template, bos_token=tokenizer.bos_token or "",
                                eos_token=tokenizer.eos_token or "")
        shape = BaseShape.from_hf_config(json.loads((checkpoint_dir / "config.json").read_text(encoding="utf-8")))
    return LoadedBase(model=model, tokenizer=tokenizer, renderer=renderer, shape=shape,
                      description=f"{checkpoint_dir.name}{' (4-bit NF4)' if load_in_4bit else ''}",
                      gguf_path=Path(inference_gguf) if inference_gguf else None,
                      vocab=inference_vocab(inference_gguf) if inference_gguf else None)
