"""Where a model's tensors go on this machine, how long a context fits, and why: the offload planner.

``plan_offload`` is a pure function of the model's shape (``gguf_info``), the machine
(``machine``) and the teacher's settings. It tries contexts from ``DEFAULT_CTX`` down to
``MIN_CTX``, at each one an f16 then a q8_0 KV cache, and takes the first that fits with the
fastest placement among:
- everything on the CPU;
- the last *k* whole layers on the GPU (``n_gpu_layers``; llama.cpp offloads from the end);
- for a mixture of experts, every layer on the GPU but the routed experts of the first *m*
  layers kept in RAM (llama.cpp's ``--n-cpu-moe m``; *m* = all is ``--cpu-moe``), done here
  with tensor buffer overrides (``tensor_overrides``).

Speed is estimated per generated token as a roofline: the bytes it reads (every non-expert
weight, the routed share of the experts (2 of 8 for Mixtral), the output matrix and the KV cache
of a typical conversation), each over the bandwidth of the memory it sits in; on the CPU at
least the time for two FLOPs per active weight; plus small fixed costs per GPU layer and per
CPU-GPU hand-over. The constants below say where their values come from; once a decode has
been measured on the machine, ``Machine.speed_scale`` corrects the resource that limited it
(``speed.py``), and each plan keeps its seconds per token by resource for that.

``python -m tutor_app.runtime.offload --table`` prints the Markdown table of Mixtral quants on
typical school machines (docs/offload_table.md).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

from .gguf_info import ModelShape
from .machine import Machine

GIB = 2**30
MIB = 2**20

# Safety margins: what the planner leaves to others.
RAM_RESERVE_FRACTION = 0.10  # of total RAM, for the OS and other programs
RAM_RESERVE_BYTES = 1 * GIB  # the app itself: Python, Gradio, SQLite, saved KV states
VRAM_RESERVE_BYTES = 512 * MIB  # per GPU: the CUDA/ROCm context and BLAS workspaces
N_UBATCH = 512  # llama.cpp's default micro-batch; compute buffers grow with it
COMPUTE_SLACK_BYTES = 8 * MIB  # norms, activations and rounding around the big tensors

# Contexts: a tutoring conversation of 20 turns needs about 3-4k tokens; 8k leaves room.
DEFAULT_CTX = 8192
MIN_CTX = 2048  # below this a conversation with its system prompt is trimmed every few turns

# Memory bandwidths (bytes/s) when the machine does not say: peak figures.
CPU_PEAK_BANDWIDTH = 51.2e9  # dual-channel DDR4-3200, a typical school desktop or laptop
GPU_PEAK_BANDWIDTH = 360e9  # RTX 3060 class
# Share of peak bandwidth llama.cpp's decoding reaches. CPU: Mixtral Q4_K_M decodes at 3-5
# tokens/s on dual-channel DDR4 (about 7 GB read per token). GPU: a 7B Q4_0 (3.6 GB) decodes at
# about 150 tokens/s on an RTX 4090 (1008 GB/s). bench/roofline.py measures this machine's figure.
CPU_DECODE_EFFICIENCY = 0.55
GPU_DECODE_EFFICIENCY = 0.55
# Fixed costs bandwidth does not show: kernel launches and expert routing per layer on a GPU,
# and a synchronised hand-over of activations each time a token crosses between CPU and GPU.
GPU_LAYER_OVERHEAD_S = 100e-6
CROSSING_OVERHEAD_S = 50e-6
# Compute roof: a decoded token costs two FLOPs per active weight. A CPU thread of llama.cpp's
# quantised mat-vec does about this many (18-20 measured by bench/roofline.py on a shared 2-core
# VM); llama-cpp-python decodes on half the logical CPUs. Big models on a CPU are memory-bound
# with a few threads, small ones compute-bound. GPUs are taken as memory-bound.
CPU_FLOPS_PER_THREAD = 20e9
TYPICAL_CONTEXT_TOKENS = 1024  # KV cache read per generated token, mid-conversation
# Slots when the teacher does not say: on the project's 2-core machine 8 sequences decoded
# together give 4x the tokens/s of one (bench/RESULTS.md, batching), and 16 only 4.6x while
# each student's own reply gets slower still; a GPU gains more, but a class rarely asks more
# than 8 questions in the same few seconds.
MAX_AUTO_PARALLEL = 8

KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}  # ggml block sizes
AUTO_KV_TYPES = ("f16", "q8_0")

MoeOffload = Literal["auto", "layers", "experts-cpu"]


@dataclass
class OffloadPlan:
    n_gpu_layers: int
    n_ctx: int
    kv_type: str
    flash_attn: bool  # llama.cpp quantises the V cache only with flash attention on
    experts_on_cpu: bool
    cpu_expert_layers: int  # layers (the first ones) whose routed experts stay in RAM
    n_layers: int
    fits: bool
    expected_tokens_per_s: float
    ram_bytes: int  # what the model takes of RAM (weights in RAM, KV, compute buffers)
    vram_bytes: int
    ram_budget: int
    vram_budget: int
    placement: Literal["cpu", "layers", "experts-cpu"]
    reason: str  # one line for the start-up log and the teacher's model panel
    compared: dict[str, float] = field(default_factory=dict)  # placement -> est. tokens/s, when both fit
    n_parallel: int = 1  # slots: conversations decoded together, each with its own n_ctx of KV cache
    # seconds per generated token by resource (cpu_memory, cpu_compute, gpu_memory, fixed); the CPU's
    # time is the larger of its two, the rest add up (what a measured speed is checked against)
    seconds_per_token: dict[str, float] = field(default_factory=dict)

    @property
    def override_patterns(self) -> list[str]:
        from .tensor_overrides import expert_patterns

        return expert_patterns(self.cpu_expert_layers, self.n_layers) if self.experts_on_cpu else []


@dataclass(frozen=True)
class _Placement:
    kind: Literal["cpu", "layers", "experts-cpu"]
    n_gpu_layers: int
    cpu_expert_layers: int
    ram_bytes: int
    vram_bytes: int
    tokens_per_s: float
    slots: int = 1
    seconds: dict[str, float] = field(default_factory=dict)


def plan_offload(shape: ModelShape, machine: Machine, settings: Any = None, *,
                 n_gpu_layers: Literal["auto"] | int | None = None, n_ctx: int | None = None,
                 kv_type: str | None = None, moe_offload: MoeOffload | None = None,
                 parallel: int | None = None) -> OffloadPlan:
    """The plan for ``shape`` on ``machine``. ``settings`` (a ``Settings`` or anything with the
    same attributes) supplies defaults; keyword arguments win over it. Explicit values are
    kept as given; "auto"/None ones are chosen."""
    n_gpu_layers = _pick(n_gpu_layers, settings, "n_gpu_layers", "auto")
    n_ctx = _pick(n_ctx, settings, "n_ctx", None)
    kv_type = _pick(kv_type, settings, "kv_type", "auto")
    moe_offload = _pick(moe_offload, settings, "moe_offload", "auto")
    parallel = _pick(parallel, settings, "parallel", None)
    slots = max(1, int(parallel)) if parallel else 1
    if kv_type != "auto" and kv_type not in KV_BYTES_PER_ELEMENT:
        raise ValueError(f"kv_type must be auto or one of {', '.join(KV_BYTES_PER_ELEMENT)}, got {kv_type!r}")

    ram_budget = max(0, min(int(machine.total_ram * (1 - RAM_RESERVE_FRACTION)) - RAM_RESERVE_BYTES,
                            machine.available_ram))
    gpus = machine.usable_gpus
    vram_budget = sum(max(0, g.free_vram - VRAM_RESERVE_BYTES) for g in gpus)
    model = _Model(shape, machine)

    preferred = min(DEFAULT_CTX, shape.context_length)
    contexts = [n_ctx] if n_ctx else _context_ladder(preferred)
    kv_types = list(AUTO_KV_TYPES) if kv_type == "auto" else [kv_type]
    for ctx in contexts:
        for kv in kv_types:
            candidates = _candidates(model, ctx, kv, n_gpu_layers, moe_offload, vram_budget > 0, slots)
            fitting = [p for p in candidates if p.ram_bytes <= ram_budget and p.vram_bytes <= vram_budget]
            if fitting:
                best = max(fitting, key=lambda p: p.tokens_per_s)  # ties: the earlier (simpler) one
                compared = _compare(fitting)
                if not parallel:
                    best = _most_slots(model, best, ctx, kv, ram_budget, vram_budget)
                return _plan(shape, machine, best, ctx, kv, True, ram_budget, vram_budget,
                             _reason_fits(shape, machine, best, ctx, kv, preferred, kv_type, moe_offload, n_gpu_layers,
                                          compared, ram_budget, vram_budget), compared)

    # Nothing fits: report the smallest configuration tried, with as much as possible on the GPU.
    ctx, kv = contexts[-1], kv_types[-1]
    candidates = _candidates(model, ctx, kv, n_gpu_layers, moe_offload, vram_budget > 0, slots)
    on_gpu = [p for p in candidates if p.vram_bytes <= vram_budget] or candidates
    least = min(on_gpu, key=lambda p: p.ram_bytes + p.vram_bytes)
    need = least.ram_bytes + least.vram_bytes
    have = ram_budget + vram_budget
    memory = "RAM + VRAM" if vram_budget else "RAM"
    with_slots = f" for {slots} parallel slots" if slots > 1 else ""
    reason = (f"{shape.label} does not fit this machine: even with context {ctx} and a {kv} KV cache{with_slots} it needs "
              f"{need / GIB:.1f} GiB of {memory} and {have / GIB:.1f} GiB is usable; choose a smaller quant "
              f"(python app.py --list-models shows which fit) or a machine with more memory")
    return _plan(shape, machine, least, ctx, kv, False, ram_budget, vram_budget, reason, {})


def kv_cache_bytes(shape: ModelShape, n_ctx: int, kv_type: str = "f16", flash_attn: bool | None = None) -> int:
    """K and V for ``n_ctx`` tokens in every layer: 2 * n_layers * n_ctx * n_head_kv * head_dim *
    bytes per element. llama.cpp quantises V only with flash attention (which the planner turns
    on with a quantised cache: ``flash_attn=None``); without it V stays f16."""
    return round(shape.n_layers * n_ctx * _kv_bytes_per_token_layer(shape, kv_type, flash_attn))


def compute_buffer_bytes(shape: ModelShape, n_ctx: int, flash_attn: bool) -> int:
    """llama.cpp's compute buffer for one micro-batch. Its graph allocator reuses memory between
    operations, so the largest tensor decides: the logits, or without flash attention the
    attention scores of all heads; plus the attention mask. Checked against the sizes llama.cpp
    reports for SmolLM2 at 512, 2048 and 8192 tokens (tests/test_models_gguf_info.py)."""
    logits = shape.n_vocab * N_UBATCH * 4
    scores = 0 if flash_attn else n_ctx * N_UBATCH * 4 * shape.n_head
    mask = n_ctx * N_UBATCH * (2 if flash_attn else 4)
    return max(logits, scores) + mask + COMPUTE_SLACK_BYTES


def _kv_bytes_per_token_layer(shape: ModelShape, kv_type: str, flash_attn: bool | None = None) -> float:
    if flash_attn is None:
        flash_attn = kv_type != "f16"
    width = shape.n_head_kv * shape.head_dim
    v_type = kv_type if flash_attn else "f16"
    return width * (KV_BYTES_PER_ELEMENT[kv_type] + KV_BYTES_PER_ELEMENT[v_type])


def _pick(value: Any, settings: Any, name: str, default: Any) -> Any:
    if value is not None:
        return value
    from_settings = getattr(settings, name, None) if settings is not None else None
    return default if from_settings is None else from_settings


def _most_slots(model: "_Model", one: _Placement, ctx: int, kv: str, ram_budget: int, vram_budget: int) -> _Placement:
    """``one`` (planned for one slot) with as many slots as the memory left over holds."""
    for slots in range(MAX_AUTO_PARALLEL, 1, -1):
        more = model.place(one.kind, ctx, kv, one.n_gpu_layers, one.cpu_expert_layers, slots)
        if more.ram_bytes <= ram_budget and more.vram_bytes <= vram_budget:
            return more
    return one


def _context_ladder(preferred: int) -> list[int]:
    ladder = [preferred]
    while ladder[-1] // 2 >= MIN_CTX:
        ladder.append(ladder[-1] // 2)
    return ladder


class _Model:
    """Byte arithmetic for one shape on one machine."""

    def __init__(self, shape: ModelShape, machine: Machine) -> None:
        self.s = shape
        self.n = shape.n_layers
        scale = machine.speed_scale
        self.cpu_bw = (machine.memory_bandwidth or CPU_PEAK_BANDWIDTH) * CPU_DECODE_EFFICIENCY * scale.cpu_memory
        gpus = machine.usable_gpus
        slowest = min((g.bandwidth or GPU_PEAK_BANDWIDTH for g in gpus), default=GPU_PEAK_BANDWIDTH)
        self.gpu_bw = slowest * GPU_DECODE_EFFICIENCY * scale.gpu_memory
        self.cpu_flops = max(1, machine.cpu_count // 2) * CPU_FLOPS_PER_THREAD * scale.cpu_compute

    def place(self, kind: Literal["cpu", "layers", "experts-cpu"], ctx: int, kv: str, n_gpu_layers: int,
              cpu_expert_layers: int, slots: int = 1) -> _Placement:
        """Memory and speed of one placement; each of ``slots`` sequences has ``ctx`` cells of KV
        cache (the speed is one sequence's: it reads its own KV cache, not the others')."""
        s, n = self.s, self.n
        flash_attn = kv != "f16"
        kv_layer = _kv_bytes_per_token_layer(s, kv, flash_attn)
        kv_read = kv_layer * min(ctx, TYPICAL_CONTEXT_TOKENS)
        share = s.active_expert_share
        gpu_layers = min(max(n_gpu_layers, 0), n)
        first_gpu = n - gpu_layers
        output_on_gpu = n_gpu_layers > n
        ram = float(s.embedding_bytes + compute_buffer_bytes(s, ctx, flash_attn))
        vram = float(compute_buffer_bytes(s, ctx, flash_attn) if n_gpu_layers > 0 else 0)
        cpu_read = gpu_read = cpu_params = 0.0
        expert_params = s.layer_expert_params or (0,) * n
        other_params = s.layer_other_params or (0,) * n
        crossings = 2 * min(cpu_expert_layers, gpu_layers) + (1 if 0 < gpu_layers < n else 0)
        for i in range(n):
            expert, other = s.layer_expert_bytes[i], s.layer_other_bytes[i]
            if i < first_gpu:
                ram += expert + other + kv_layer * ctx * slots
                cpu_read += other + share * expert + kv_read
                cpu_params += other_params[i] + share * expert_params[i]
                continue
            vram += other + kv_layer * ctx * slots
            gpu_read += other + kv_read
            if i < cpu_expert_layers:
                ram += expert
                cpu_read += share * expert
                cpu_params += share * expert_params[i]
            else:
                vram += expert
                gpu_read += share * expert
        if output_on_gpu:
            vram += s.output_bytes
            gpu_read += s.output_bytes
        else:
            ram += s.output_bytes
            cpu_read += s.output_bytes
            cpu_params += s.output_params
        terms = {"cpu_memory": cpu_read / self.cpu_bw, "cpu_compute": 2 * cpu_params / self.cpu_flops,
                 "gpu_memory": gpu_read / self.gpu_bw,
                 "fixed": gpu_layers * GPU_LAYER_OVERHEAD_S + crossings * CROSSING_OVERHEAD_S}
        seconds = max(terms["cpu_memory"], terms["cpu_compute"]) + terms["gpu_memory"] + terms["fixed"]
        return _Placement(kind, n_gpu_layers, cpu_expert_layers, int(ram), int(vram), 1 / seconds if seconds else 0.0,
                          slots, terms)


def _candidates(model: _Model, ctx: int, kv: str, n_gpu_layers: Any, moe_offload: str,
                has_gpu: bool, slots: int = 1) -> list[_Placement]:
    n = model.n
    moe = model.s.is_moe
    if isinstance(n_gpu_layers, int):  # the teacher's number: place exactly that
        if not has_gpu:  # what llama.cpp does with it where it cannot offload
            return [model.place("cpu", ctx, kv, 0, 0, slots)]
        k = n + 1 if n_gpu_layers < 0 or n_gpu_layers > n else n_gpu_layers
        experts = n if (moe and moe_offload == "experts-cpu" and k > 0) else 0
        kind = "experts-cpu" if experts else ("layers" if k > 0 else "cpu")
        return [model.place(kind, ctx, kv, k, experts, slots)]
    out = [model.place("cpu", ctx, kv, 0, 0, slots)]
    if not has_gpu:
        return out
    if moe_offload != "experts-cpu" or not moe:
        out += [model.place("layers", ctx, kv, k, 0, slots) for k in range(1, n + 2)]
    if moe and moe_offload != "layers":
        out += [model.place("experts-cpu", ctx, kv, n + 1, m, slots) for m in range(n, 0, -1)]
    return out


def _compare(fitting: list[_Placement]) -> dict[str, float]:
    """Best estimate of each placement family that fits, for the one-line reason."""
    best: dict[str, float] = {}
    for p in fitting:
        best[p.kind] = max(best.get(p.kind, 0.0), p.tokens_per_s)
    return best


def _plan(shape: ModelShape, machine: Machine, p: _Placement, ctx: int, kv: str, fits: bool, ram_budget: int,
          vram_budget: int, reason: str, compared: dict[str, float]) -> OffloadPlan:
    return OffloadPlan(
        n_gpu_layers=p.n_gpu_layers, n_ctx=ctx, kv_type=kv, flash_attn=kv != "f16",
        experts_on_cpu=p.kind == "experts-cpu", cpu_expert_layers=p.cpu_expert_layers if p.kind == "experts-cpu" else 0,
        n_layers=shape.n_layers, fits=fits, expected_tokens_per_s=round(p.tokens_per_s, 1), ram_bytes=p.ram_bytes,
        vram_bytes=p.vram_bytes, ram_budget=ram_budget, vram_budget=vram_budget, placement=p.kind, reason=reason,
        compared={k: round(v, 1) for k, v in compared.items()}, n_parallel=p.slots, seconds_per_token=dict(p.seconds))


def _reason_fits(shape: ModelShape, machine: Machine, p: _Placement, ctx: int, kv: str, preferred: int,
                 kv_setting: str, moe_offload: str, n_gpu_layers: Any, compared: dict[str, float],
                 ram_budget: int, vram_budget: int) -> str:
    n = shape.n_layers
    ram = f"{p.ram_bytes / GIB:.1f} of {ram_budget / GIB:.1f} GiB usable RAM"
    vram = f"{p.vram_bytes / GIB:.1f} of {vram_budget / GIB:.1f} GiB usable VRAM"
    if p.kind == "cpu":
        where = f"CPU only ({ram})"
        if machine.gpus and not machine.gpu_offload_supported:
            where += ("; a GPU is present but this llama-cpp-python was built without GPU support "
                      "(reinstall it with CMAKE_ARGS=-DGGML_CUDA=on)")
    elif p.kind == "layers":
        where = f"{p.n_gpu_layers} of {n} layers on the GPU ({vram}), the rest on the CPU ({ram})"
        if p.n_gpu_layers > n:
            where = f"all {n} layers on the GPU ({vram})"
        elif "experts-cpu" in compared:
            where += (f"; whole layers beat keeping experts in RAM here ({compared['layers']:.1f} vs "
                      f"{compared['experts-cpu']:.1f} tokens/s)")
    else:
        m = p.cpu_expert_layers
        experts = "all experts" if m >= n else f"the experts of {m} of {n} layers"
        where = (f"attention and shared weights on the GPU, {experts} in RAM ({vram}, {ram})")
        if "layers" in compared:
            where += f"; faster than whole layers on the GPU ({compared['experts-cpu']:.1f} vs {compared['layers']:.1f} tokens/s)"
    notes = []
    if ctx < preferred:
        notes.append(f"context reduced from {preferred} to {ctx} to fit")
    if kv_setting == "auto" and kv != "f16":
        notes.append(f"KV cache {kv} with flash attention to fit")
    if moe_offload == "experts-cpu" and not shape.is_moe:
        notes.append("not a mixture of experts, so experts-cpu does not apply")
    if isinstance(n_gpu_layers, int) and n_gpu_layers != 0 and p.kind == "cpu":
        notes.append(f"--n-gpu-layers {n_gpu_layers} ignored: no GPU llama.cpp can use")
    tail = f"; {'; '.join(notes)}" if notes else ""
    slots = f"{p.slots} parallel slots" if p.slots > 1 else "1 slot (one reply at a time)"
    return f"{where}; context {ctx}, KV cache {kv}, {slots}; about {p.tokens_per_s:.1f} tokens/s each{tail}"


# The README table ------------------------------------------------------------------------
def table_machines() -> list[Machine]:
    """Typical school machines: an 8-core (16-thread) CPU, desktops with 32 GB of RAM; GPU
    bandwidths are the cards' specs."""
    from .machine import Gpu

    def box(name: str, ram_gb: int, gpu_gb: int = 0, gpu_bw: float | None = None, gpu_name: str = "") -> Machine:
        gpus = [Gpu(gpu_name, gpu_gb * GIB, gpu_gb * GIB, gpu_bw)] if gpu_gb else []
        return Machine(total_ram=ram_gb * GIB, available_ram=ram_gb * GIB, cpu_count=16, gpus=gpus,
                       gpu_offload_supported=bool(gpus), name=name)

    return [
        box("Laptop, CPU only, 16 GB RAM", 16),
        box("Laptop, CPU only, 32 GB RAM", 32),
        box("Laptop/desktop, CPU only, 64 GB RAM", 64),
        box("Desktop, 8 GB GPU (RTX 4060 class), 32 GB RAM", 32, 8, 272e9, "RTX 4060"),
        box("Desktop, 12 GB GPU (RTX 3060 class), 32 GB RAM", 32, 12, 360e9, "RTX 3060 12GB"),
        box("Desktop, 24 GB GPU (RTX 3090 class), 32 GB RAM", 32, 24, 936e9, "RTX 3090"),
        box("Workstation, 48 GB GPU (RTX A6000 class), 64 GB RAM", 64, 48, 768e9, "RTX A6000"),
        box("Workstation, 80 GB GPU (A100 80GB class), 128 GB RAM", 128, 80, 2039e9, "A100 80GB"),
    ]


def _cell(plan: OffloadPlan) -> str:
    if not plan.fits:
        return "does not fit"
    where = {"cpu": "CPU", "layers": f"{min(plan.n_gpu_layers, plan.n_layers)} layers GPU",
             "experts-cpu": f"experts of {plan.cpu_expert_layers} layers CPU"}[plan.placement]
    if plan.placement == "layers" and plan.n_gpu_layers > plan.n_layers:
        where = "all GPU"
    kv = "" if plan.kv_type == "f16" else f", KV {plan.kv_type}"
    slots = f", {plan.n_parallel} slots" if plan.n_parallel > 1 else ""
    return f"~{plan.expected_tokens_per_s:.0f} tok/s ({where}, ctx {plan.n_ctx}{kv}{slots})"


def offload_table() -> str:
    from .gguf_info import MIXTRAL_8X7B_FILE_SIZES, mixtral_8x7b_shape

    quants = list(MIXTRAL_8X7B_FILE_SIZES)
    shapes = {q: mixtral_8x7b_shape(q) for q in quants}
    lines = [
        "| Machine | " + " | ".join(f"{q} ({MIXTRAL_8X7B_FILE_SIZES[q] / 1e9:.1f} GB)" for q in quants) + " |",
        "|---|" + "---|" * len(quants),
    ]
    details = ["| Machine | Quant | Plan (the line printed at start-up) |", "|---|---|---|"]
    for machine in table_machines():
        plans = {q: plan_offload(shapes[q], machine) for q in quants}
        lines.append(f"| {machine.name} | " + " | ".join(_cell(plans[q]) for q in quants) + " |")
        details += [f"| {machine.name} | {q} | {plans[q].reason} |" for q in quants]
    header = (
        "Mixtral-8x7B-Instruct-v0.1 (TheBloke's GGUF quants) on typical school machines (8-core CPU), as planned\n"
        "by `python -m tutor_app.runtime.offload --table` with `--n-gpu-layers auto` (default context 8192).\n"
        "Speeds are estimates of decoding: bytes read per token over memory bandwidth "
        f"({CPU_PEAK_BANDWIDTH / 1e9:.1f} GB/s dual-channel\nDDR4, the GPU's rated bandwidth; "
        f"{CPU_DECODE_EFFICIENCY:.0%} of either reached) or CPU compute where slower\n(2 FLOPs per active weight at "
        f"{CPU_FLOPS_PER_THREAD / 1e9:.0f} GFLOP/s per thread, 8 threads), plus "
        f"{GPU_LAYER_OVERHEAD_S * 1e6:.0f} µs per GPU layer and {CROSSING_OVERHEAD_S * 1e6:.0f} µs per CPU-GPU "
        "hand-over (constants in `tutor_app/runtime/offload.py`).\n"
        "\"experts of N layers CPU\" is llama.cpp's `--n-cpu-moe N`: attention and shared weights of every layer "
        "on the\nGPU, the routed experts of N layers in RAM.\n"
    )
    return header + "\n" + "\n".join(lines) + "\n\n<details><summary>Each plan in full</summary>\n\n" + \
        "\n".join(details) + "\n\n</details>\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor_app.runtime.offload",
                                     description="Offload plans: the Mixtral table, or a GGUF file on this machine.")
    parser.add_argument("--table", action="store_true", help="print the Markdown table of Mixtral quants x machines")
    parser.add_argument("model", nargs="?", help="a GGUF file to plan on this machine")
    args = parser.parse_args(argv)
    if args.table:
        print(offload_table())
        return 0
    if args.model:
        from .gguf_info import read_model_shape
        from .machine import probe_machine

        print(plan_offload(read_model_shape(args.model), probe_machine()).reason)
        return 0
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
