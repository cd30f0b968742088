"""What the offload planner needs to know about a GGUF model, read from its header.

The planner decides where each tensor goes (GPU, CPU) and how long a context fits, so it needs
byte counts per layer split the way llama.cpp can place them: the routed expert tensors
(``ffn_*_exps``, which ``--override-tensor exps=CPU`` keeps in RAM) apart from attention and
the other per-layer tensors, plus the embedding and output matrices. ``read_model_shape``
gets them from the file's tensor table through ``gguf.GGUFReader`` (memory-mapped: no weight
is read). ``mixtral_8x7b_shape`` builds the same description for the real Mixtral quants from
parameter counts, so the planner can be tested and its table printed without 15-32 GB files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GIB = 2**30

# A routed-expert tensor: llama.cpp's own pattern for `--cpu-moe` / `--override-tensor exps=CPU`.
EXPERT_TENSOR = re.compile(r"ffn_.*_exps")
LAYER_TENSOR = re.compile(r"^blk\.(\d+)\.")


@dataclass(frozen=True)
class ModelShape:
    name: str
    architecture: str
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int  # size of one K (and V) head
    context_length: int  # the context the model was trained for
    n_vocab: int = 32000  # sizes the logits part of llama.cpp's compute buffer
    expert_count: int = 0  # 0: a dense model
    expert_used_count: int = 0
    file_size: int = 0
    # Bytes per layer, index = layer number. Experts: the routed ``ffn_*_exps`` tensors;
    # other: attention, norms, router and shared experts (what stays with the layer).
    layer_expert_bytes: tuple[int, ...] = ()
    layer_other_bytes: tuple[int, ...] = ()
    embedding_bytes: int = 0  # token_embd: always in RAM (llama.cpp looks rows up on the CPU)
    # output.weight + output_norm; with tied embeddings llama.cpp loads token_embd a second
    # time as the output matrix, so its size is counted here too.
    output_bytes: int = 0
    # The same buckets in parameters (weights), for the compute side of the speed estimate.
    layer_expert_params: tuple[int, ...] = ()
    layer_other_params: tuple[int, ...] = ()
    output_params: int = 0
    file_type: str = ""  # quantisation of the file as a whole, e.g. "Q4_K_M"
    tensor_types: dict[str, int] = field(default_factory=dict, compare=False)  # type name -> bytes

    @property
    def is_moe(self) -> bool:
        return self.expert_count > 1 and any(self.layer_expert_bytes)

    @property
    def expert_bytes(self) -> int:
        return sum(self.layer_expert_bytes)

    @property
    def other_layer_bytes(self) -> int:
        return sum(self.layer_other_bytes)

    @property
    def layer_bytes(self) -> tuple[int, ...]:
        return tuple(e + o for e, o in zip(self.layer_expert_bytes, self.layer_other_bytes))

    @property
    def weight_bytes(self) -> int:
        """Bytes of all weights as loaded (a tied output matrix counts twice, as llama.cpp loads it)."""
        return self.expert_bytes + self.other_layer_bytes + self.embedding_bytes + self.output_bytes

    @property
    def expert_fraction(self) -> float:
        total = self.expert_bytes + self.other_layer_bytes + self.embedding_bytes
        return self.expert_bytes / total if total else 0.0

    @property
    def active_expert_share(self) -> float:
        """Share of each layer's expert bytes one token reads (2 of 8 experts for Mixtral)."""
        if not self.is_moe:
            return 1.0
        return min(1.0, self.expert_used_count / self.expert_count)

    def active_bytes_per_token(self) -> int:
        """Weight bytes one decoded token reads: every non-expert layer tensor, the routed share
        of the experts, and the whole output matrix (the embedding lookup reads one row)."""
        experts = self.expert_bytes * self.active_expert_share
        return int(self.other_layer_bytes + experts + self.output_bytes)

    def active_params_per_token(self) -> int:
        """Weights one decoded token multiplies with (two FLOPs each)."""
        experts = sum(self.layer_expert_params) * self.active_expert_share
        return int(sum(self.layer_other_params) + experts + self.output_params)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.file_type})" if self.file_type and self.file_type not in self.name else self.name


# Reading a file ------------------------------------------------------------------------
class GGUFShapeError(ValueError):
    """The file is a GGUF but lacks what the planner needs (named in the message)."""


def read_model_shape(path: str | Path) -> ModelShape:
    """The shape of the GGUF at ``path`` (header and tensor table only; weights stay on disk)."""
    from gguf import GGUFReader

    path = Path(path)
    reader = GGUFReader(str(path))
    fields = {key: _field_value(fld) for key, fld in reader.fields.items() if not key.startswith("tokenizer.ggml.")}
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    n_vocab = len(tokens.data) if tokens is not None else 0
    arch = str(fields.get("general.architecture") or "")
    if not arch:
        raise GGUFShapeError(f"{path}: no general.architecture in the GGUF metadata")

    def number(key: str, default: int | None = None) -> int:
        value = fields.get(f"{arch}.{key}", default)
        if value is None:
            raise GGUFShapeError(f"{path}: the GGUF metadata has no {arch}.{key}")
        if isinstance(value, (list, tuple)):  # per-layer values (some architectures): the largest decides
            value = max(value)
        return int(value)

    n_layers = number("block_count")
    n_embd = number("embedding_length")
    n_head = number("attention.head_count")
    n_head_kv = number("attention.head_count_kv", n_head)
    head_dim = number("attention.key_length", n_embd // max(n_head, 1))

    # [bytes, params] per bucket
    expert = [[0, 0] for _ in range(n_layers)]
    other = [[0, 0] for _ in range(n_layers)]
    embedding, output = [0, 0], [0, 0]
    tied = True
    types: dict[str, int] = {}
    for tensor in reader.tensors:
        size, params = int(tensor.n_bytes), int(tensor.n_elements)
        types[tensor.tensor_type.name] = types.get(tensor.tensor_type.name, 0) + size
        layer = LAYER_TENSOR.match(tensor.name)
        if layer and int(layer.group(1)) < n_layers:
            bucket = (expert if EXPERT_TENSOR.search(tensor.name) else other)[int(layer.group(1))]
        elif tensor.name.startswith("token_embd."):
            bucket = embedding
        elif tensor.name.startswith("output"):
            bucket = output
            tied = tied and tensor.name != "output.weight"
        else:
            bucket = other[-1]  # rare extras (rope factors...): small, count them with a layer
        bucket[0] += size
        bucket[1] += params
    if tied:  # llama.cpp uses token_embd as the output matrix too
        output = [output[0] + embedding[0], output[1] + embedding[1]]

    return ModelShape(
        name=path.stem,  # general.name is often a training-run label ("Smollm2 135M 8k Lc100K Mix1 Ep2")
        architecture=arch,
        n_layers=n_layers,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        context_length=number("context_length", 4096),
        n_vocab=number("vocab_size", n_vocab or 32000),
        expert_count=number("expert_count", 0),
        expert_used_count=number("expert_used_count", 0),
        file_size=path.stat().st_size,
        layer_expert_bytes=tuple(b for b, _ in expert),
        layer_other_bytes=tuple(b for b, _ in other),
        embedding_bytes=embedding[0],
        output_bytes=output[0],
        layer_expert_params=tuple(p for _, p in expert),
        layer_other_params=tuple(p for _, p in other),
        output_params=output[1],
        file_type=_file_type_name(fields.get("general.file_type"), types),
        tensor_types=types,
    )


def _field_value(fld: Any) -> Any:
    try:
        return fld.contents()
    except Exception:  # an odd field must not hide the ones the planner needs
        return None


def _file_type_name(file_type: Any, types: dict[str, int]) -> str:
    from gguf import LlamaFileType

    try:
        name = LlamaFileType(int(file_type)).name
    except (TypeError, ValueError):
        return max(types, key=types.__getitem__) if types else ""
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


# Known shapes without the file ----------------------------------------------------------
# TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF, "Provided files" table of its model card (GB = 1e9 bytes).
MIXTRAL_8X7B_FILE_SIZES = {
    "Q2_K": 15_640_000_000,
    "Q3_K_M": 20_360_000_000,
    "Q4_K_M": 26_440_000_000,
    "Q5_K_M": 32_230_000_000,
}

# Mixtral 8x7B's architecture (its config.json): 32 layers, hidden 4096, FFN 14336, 32 query
# heads and 8 KV heads of 128, 8 experts with 2 routed per token, 32000 tokens, 32k context.
_MIXTRAL = dict(n_layers=32, n_embd=4096, n_ff=14336, n_head=32, n_head_kv=8, head_dim=128, n_vocab=32000,
                n_expert=8, n_used=2, n_ctx=32768)


def mixtral_8x7b_shape(quant: str = "Q4_K_M") -> ModelShape:
    """Mixtral-8x7B-Instruct at one of TheBloke's quants, from parameter counts.

    Every tensor gets the file's average bytes per parameter. The real K-quant mixes keep a
    few tensors (attn_v, output) at more bits, so attention is a little larger than this says;
    the expert share (96.6 % of the bytes) and the totals are what the planner's decisions
    hinge on, and those match the files."""
    if quant not in MIXTRAL_8X7B_FILE_SIZES:
        raise KeyError(f"unknown Mixtral quant {quant!r}; known: {', '.join(MIXTRAL_8X7B_FILE_SIZES)}")
    m = _MIXTRAL
    d, kv = m["n_embd"], m["n_head_kv"] * m["head_dim"]
    expert_params = m["n_expert"] * 3 * d * m["n_ff"]  # gate, up, down per expert
    other_params = 2 * d * d + 2 * d * kv + m["n_expert"] * d + 2 * d  # q,o + k,v + router + 2 norms
    embedding_params = m["n_vocab"] * d
    output_params = m["n_vocab"] * d + d
    total_params = m["n_layers"] * (expert_params + other_params) + embedding_params + output_params
    file_size = MIXTRAL_8X7B_FILE_SIZES[quant]
    per_param = file_size / total_params

    def size(params: int) -> int:
        return round(params * per_param)

    return ModelShape(
        name=f"Mixtral-8x7B-Instruct-v0.1 {quant}",
        architecture="llama",
        n_layers=m["n_layers"],
        n_embd=d,
        n_head=m["n_head"],
        n_head_kv=m["n_head_kv"],
        head_dim=m["head_dim"],
        context_length=m["n_ctx"],
        n_vocab=m["n_vocab"],
        expert_count=m["n_expert"],
        expert_used_count=m["n_used"],
        file_size=file_size,
        layer_expert_bytes=(size(expert_params),) * m["n_layers"],
        layer_other_bytes=(size(other_params),) * m["n_layers"],
        embedding_bytes=size(embedding_params),
        output_bytes=size(output_params),
        layer_expert_params=(expert_params,) * m["n_layers"],
        layer_other_params=(other_params,) * m["n_layers"],
        output_params=output_params,
        file_type=quant,
    )
