"""A PEFT LoRA adapter (``adapter_config.json`` + ``adapter_model.safetensors``) to a GGUF LoRA
adapter that llama.cpp loads on top of the GGUF the app runs.

The format is llama.cpp's own (``convert_lora_to_gguf.py``, read by ``llama_adapter_lora_init``):
metadata ``general.type = adapter``, ``general.architecture`` equal to the base model's,
``adapter.type = lora`` and ``adapter.lora.alpha``; one tensor pair per adapted weight named
after the base tensor, ``blk.3.attn_q.weight.lora_a`` (ne = [in, r]) and ``.lora_b``
(ne = [r, out]). llama.cpp computes ``W x + (alpha / r) * B (A x)``, with r read from each
lora_b. Written here with ``gguf.GGUFWriter`` rather than by running llama.cpp's script, which
imports a whole llama.cpp checkout (``convert_hf_to_gguf``) that the ``gguf`` package lacks.

Three details decide whether the adapter does in llama.cpp what it did in transformers:

- **The llama q/k permutation.** llama.cpp's converter reorders the rows of every llama-family
  ``q_proj``/``k_proj`` weight (HF's rotate-half RoPE layout to GGUF's interleaved one). The
  adapter's product B A must be reordered the same way, which is a reorder of B's rows only.
- **Scale.** GGUF holds one alpha for the whole adapter and llama.cpp divides it by each
  tensor's rank. PEFT's scale can differ per module (``alpha_pattern``, ``rank_pattern``) or
  be alpha / sqrt(r) (rsLoRA), so any difference is folded into B.
- **What llama.cpp cannot hold** is refused with a reason, not silently dropped: embeddings
  and ``lm_head`` (llama.cpp #11554; SmolLM2 ties them anyway), ``modules_to_save``, trained
  biases, DoRA, and mixture-of-experts expert weights (train Mixtral attention-only).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# Architectures whose q/k rows llama.cpp's converter permutes (its LlamaModel: Llama, Mistral, Mixtral).
QK_PERMUTED_ARCHS = {"llama"}
# GGUF architecture of each Hugging Face model_type this converter knows.
HF_MODEL_TYPES = {"llama": "llama", "mistral": "llama", "mixtral": "llama", "qwen2": "qwen2"}
# The base tensors an adapter may adapt: attention and dense MLP projections. A mixture of
# experts' router (ffn_gate_inp) and experts are left alone (Hugging Face's Mixtral recipe).
ADAPTABLE = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
_EMBEDDINGS = re.compile(r"(^|\.)(lm_head|embed_tokens)(\.|$)")
_LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])(?:\.[A-Za-z0-9_-]+)?\.weight$")


class AdapterConversionError(ValueError):
    """The adapter cannot become a GGUF adapter for this base; the message says why and what to do."""


@dataclass(frozen=True)
class BaseShape:
    """What the converter must know of the model the adapter will run on.

    ``tensor_shapes`` (GGUF name -> (ne0, ne1), i.e. (in, out)) is known when the shape was read
    from the GGUF itself, and then every adapted tensor is checked against it: a mismatch is
    found here, not by llama.cpp in front of a class."""

    arch: str
    n_layers: int
    n_head: int
    n_head_kv: int
    tensor_shapes: dict[str, tuple[int, int]] | None = None

    @classmethod
    def from_gguf(cls, path: str | Path) -> "BaseShape":
        from gguf import GGUFReader

        reader = GGUFReader(str(path))

        def field(key: str):
            value = reader.fields.get(key)
            if value is None:
                raise AdapterConversionError(f"{path}: the GGUF has no {key}; is it a model file?")
            return value.contents()

        arch = str(field("general.architecture"))
        n_head = int(field(f"{arch}.attention.head_count"))
        kv = reader.fields.get(f"{arch}.attention.head_count_kv")
        shapes = {t.name: (int(t.shape[0]), int(t.shape[1])) for t in reader.tensors if len(t.shape) == 2}
        return cls(arch=arch, n_layers=int(field(f"{arch}.block_count")), n_head=n_head,
                   n_head_kv=int(kv.contents()) if kv is not None else n_head, tensor_shapes=shapes)

    @classmethod
    def from_hf_config(cls, config: dict) -> "BaseShape":
        """From a Hugging Face ``config.json`` (a checkpoint trained without its GGUF at hand)."""
        model_type = config.get("model_type", "")
        arch = HF_MODEL_TYPES.get(model_type)
        if arch is None:
            raise AdapterConversionError(f"model type {model_type!r} is not one this converter knows "
                                         f"({', '.join(sorted(HF_MODEL_TYPES))})")
        n_head = int(config["num_attention_heads"])
        return cls(arch=arch, n_layers=int(config["num_hidden_layers"]), n_head=n_head,
                   n_head_kv=int(config.get("num_key_value_heads") or n_head))


@dataclass(frozen=True)
class ConvertedAdapter:
    path: Path
    arch: str
    alpha: float
    ranks: tuple[int, ...]  # the distinct ranks of its tensor pairs
    tensor_names: tuple[str, ...]  # the GGUF base tensors it adapts
    size_bytes: int


def permute_for_rope(rows: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's ``LlamaModel.permute`` over the first axis: within each head, HF's halves
    (rotate-half pairs i and i + d/2) become GGUF's interleaved pairs (2i, 2i + 1)."""
    out = rows.shape[0]
    if out % (2 * n_head):
        raise AdapterConversionError(f"{out} rows do not split into {n_head} heads of pairs")
    return rows.reshape(n_head, 2, out // n_head // 2, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def read_adapter_config(adapter_dir: Path) -> dict:
    path = Path(adapter_dir) / ADAPTER_CONFIG
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdapterConversionError(f"{adapter_dir} is not a PEFT adapter folder: {ADAPTER_CONFIG} is missing") from None
    except (OSError, ValueError) as exc:
        raise AdapterConversionError(f"{path} cannot be read: {exc}") from None


def convert_peft_adapter(adapter_dir: str | Path, out_path: str | Path, base: BaseShape, *,
                         dtype: Literal["f32", "f16"] = "f32", name: str | None = None) -> ConvertedAdapter:
    """Write ``out_path`` (a GGUF LoRA adapter for ``base``) from the PEFT adapter in ``adapter_dir``."""
    adapter_dir, out_path = Path(adapter_dir), Path(out_path)
    config = read_adapter_config(adapter_dir)
    _refuse_unsupported(config)
    alpha = float(config.get("lora_alpha") or 0)
    if alpha <= 0:
        raise AdapterConversionError(f"{adapter_dir}: lora_alpha must be above 0 (llama.cpp reads 0 as 'no scaling')")
    if base.arch not in HF_MODEL_TYPES.values():
        raise AdapterConversionError(f"architecture {base.arch!r} is not one this converter knows "
                                     f"({', '.join(sorted(set(HF_MODEL_TYPES.values())))})")
    pairs = _lora_pairs(_load_weights(adapter_dir))
    if not pairs:
        raise AdapterConversionError(f"{adapter_dir}: the adapter holds no LoRA weights")

    import gguf

    name_map = gguf.get_tensor_name_map(_arch_enum(base.arch), base.n_layers)
    tensors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for module, (a, b) in sorted(pairs.items()):
        target = _gguf_name(module, name_map)
        rank = a.shape[0]
        if b.shape[1] != rank:
            raise AdapterConversionError(f"{module}: lora_A has rank {rank} but lora_B has {b.shape[1]}")
        factor = _peft_scale(config, module, rank) / (alpha / rank)
        if not math.isclose(factor, 1.0, rel_tol=1e-12):
            b = b * np.float32(factor)
        if base.arch in QK_PERMUTED_ARCHS and module.endswith(("q_proj", "k_proj")):
            b = permute_for_rope(b, base.n_head if module.endswith("q_proj") else base.n_head_kv)
        _check_fits(base, target, module, a, b)
        tensors[target] = (a, b)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    numpy_type = np.float16 if dtype == "f16" else np.float32
    writer = gguf.GGUFWriter(str(out_path), base.arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_name(name or out_path.stem)
    for target, (a, b) in tensors.items():
        writer.add_tensor(f"{target}.lora_a", np.ascontiguousarray(a, dtype=numpy_type))
        writer.add_tensor(f"{target}.lora_b", np.ascontiguousarray(b, dtype=numpy_type))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return ConvertedAdapter(path=out_path, arch=base.arch, alpha=alpha,
                            ranks=tuple(sorted({a.shape[0] for a, _ in tensors.values()})),
                            tensor_names=tuple(tensors), size_bytes=out_path.stat().st_size)


# helpers ----------------------------------------------------------------------------------
def _refuse_unsupported(config: dict) -> None:
    if config.get("peft_type", "LORA") != "LORA":
        raise AdapterConversionError(f"a {config.get('peft_type')} adapter is not a LoRA; llama.cpp loads LoRA only")
    if config.get("use_dora"):
        raise AdapterConversionError("DoRA adapters (use_dora) have no llama.cpp equivalent; train a plain LoRA")
    if config.get("modules_to_save"):
        raise AdapterConversionError(f"the adapter saves whole modules ({', '.join(config['modules_to_save'])}); "
                                     "llama.cpp adapters hold LoRA pairs only: train without modules_to_save")
    if config.get("bias", "none") != "none":
        raise AdapterConversionError(f"the adapter trains biases (bias={config['bias']!r}); llama.cpp adapters "
                                     "cannot hold them: train with bias='none'")
    if config.get("fan_in_fan_out"):
        raise AdapterConversionError("fan_in_fan_out adapters (GPT-2 style Conv1D weights) are not supported")


def _load_weights(adapter_dir: Path) -> dict[str, np.ndarray]:
    path = adapter_dir / ADAPTER_WEIGHTS
    if not path.is_file():
        raise AdapterConversionError(f"{adapter_dir}: {ADAPTER_WEIGHTS} is missing (save the adapter with "
                                     "save_pretrained(..., safe_serialization=True))")
    from safetensors.torch import load_file  # torch: the weights may be bfloat16, which numpy lacks

    return {key: value.float().numpy() for key, value in load_file(str(path), device="cpu").items()}


def _lora_pairs(weights: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    halves: dict[str, dict[str, np.ndarray]] = {}
    for key, value in weights.items():
        if "lora_embedding" in key or _EMBEDDINGS.search(key):
            raise AdapterConversionError(_EMBEDDING_REFUSAL.format(key=key))
        match = _LORA_KEY.match(key)
        if match is None:
            raise AdapterConversionError(f"unexpected tensor {key!r} in the adapter: only LoRA pairs "
                                         "(lora_A/lora_B weights) can be converted")
        halves.setdefault(match["module"], {})[match["part"]] = value
    pairs = {}
    for module, parts in halves.items():
        if set(parts) != {"A", "B"}:
            raise AdapterConversionError(f"{module}: the adapter has lora_{next(iter(parts))} without its partner")
        pairs[module] = (parts["A"], parts["B"])
    return pairs


_EMBEDDING_REFUSAL = ("the adapter adapts the embeddings or the output layer ({key}); llama.cpp cannot apply "
                      "those (llama.cpp #11554, and SmolLM2 ties them): train without embed_tokens/lm_head "
                      "in target_modules")


def _gguf_name(module: str, name_map) -> str:
    short = module.rsplit(".", 1)[-1]
    if short in ("lm_head", "embed_tokens"):
        raise AdapterConversionError(_EMBEDDING_REFUSAL.format(key=module))
    target = name_map.get_name(module)
    if target is None or target.split(".")[-1] not in ADAPTABLE:
        raise AdapterConversionError(
            f"{module} cannot be converted: adapters here cover the attention (q/k/v/o) and dense MLP projections; "
            "a mixture of experts' router and experts are not supported, so train Mixtral attention-only")
    return target + ".weight"


def _peft_scale(config: dict, module: str, rank: int) -> float:
    """PEFT's scale for ``module``: its alpha (``alpha_pattern`` may override) over r, or over
    sqrt(r) with rsLoRA. Patterns match the module name's end, as PEFT matches them."""
    alpha = float(config.get("lora_alpha") or 0)
    for pattern, value in (config.get("alpha_pattern") or {}).items():
        if re.search(rf"(^|\.){pattern}$", module):
            alpha = float(value)
    return alpha / (math.sqrt(rank) if config.get("use_rslora") else rank)


def _check_fits(base: BaseShape, target: str, module: str, a: np.ndarray, b: np.ndarray) -> None:
    if base.tensor_shapes is None:
        return
    shape = base.tensor_shapes.get(target)
    if shape is None:
        raise AdapterConversionError(f"{module}: the base model has no tensor {target}; is this the model the "
                                     "adapter was trained on?")
    if shape != (a.shape[1], b.shape[0]):
        raise AdapterConversionError(f"{module}: the base model's {target} maps {shape[0]} to {shape[1]} values, the "
                                     f"adapter {a.shape[1]} to {b.shape[0]}; the adapter was trained on another model")


def _arch_enum(arch: str):
    import gguf

    for key, value in gguf.MODEL_ARCH_NAMES.items():
        if value == arch:
            return key
    raise AdapterConversionError(f"gguf does not know the architecture {arch!r}")
