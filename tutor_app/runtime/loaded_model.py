"""One GGUF model and its batched llama.cpp context, loaded once for the process.

``Llama(...)`` from llama-cpp-python makes a context for one sequence; batching needs a context
with ``n_seq_max`` sequences (one per slot), so the model and context are built here from
llama-cpp-python's thin wrappers (``_internals.LlamaModel`` / ``LlamaContext``) with the same
parameters ``Llama`` would use. Model parameters come from ``llama_model_default_params`` (which
``cpu_features.apply_extra_buffers`` wraps to keep weights off AMX buffers) and the model class
is looked up when loading, so the planner's tensor overrides (``around_load``) still apply.

The KV cache is not unified: each sequence owns ``n_ctx`` cells, so one long conversation can
never push another out of the context, and the planner sizes memory per slot.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from pathlib import Path
from typing import Callable, ContextManager

import llama_cpp
import llama_cpp._internals as internals
from llama_cpp._logger import set_verbose
from llama_cpp._utils import suppress_stdout_stderr

from .lora import LoraAdapters

KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}
_backend_ready = threading.Lock()
_backend_initialised = False


class LoadedModel:
    """Weights, vocabulary and the batched context. Only the engine thread decodes with ``ctx``;
    tokenising and detokenising only read the vocabulary and may run in any thread."""

    def __init__(self, path: Path, *, n_ctx: int, n_parallel: int, n_gpu_layers: int, n_threads: int | None,
                 n_batch: int, flash_attn: bool, kv_type: str, lora_path: str | Path | None,
                 around_load: Callable[[], ContextManager] | None, verbose: bool) -> None:
        _init_backend(verbose)
        self.path = Path(path)
        self.n_parallel = max(1, int(n_parallel))
        self.n_threads = n_threads or max(multiprocessing.cpu_count() // 2, 1)
        # Batched decoding runs every step with the batch thread count, so it is the decode
        # thread count here too (llama.cpp's own default: n_threads_batch = n_threads). More
        # threads than free cores make ggml's spinning thread barriers stall on a busy machine.
        self.n_threads_batch = self.n_threads
        self._stack = contextlib.ExitStack()
        try:
            self._load(n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_batch=n_batch, flash_attn=flash_attn,
                       kv_type=kv_type, lora_path=lora_path, around_load=around_load, verbose=verbose)
        except BaseException:
            self._stack.close()
            raise

    def _load(self, *, n_ctx: int, n_gpu_layers: int, n_batch: int, flash_attn: bool, kv_type: str,
              lora_path: str | Path | None, around_load, verbose: bool) -> None:
        params = internals.LlamaModel.default_params()  # the wrapped default: extra buffers as chosen
        params.n_gpu_layers = 0x7FFFFFFF if n_gpu_layers < 0 else n_gpu_layers
        # Adapters are applied to the context, never merged into the weights (lora.py), so the
        # weights stay memory-mapped with or without one.
        params.load_mode = llama_cpp.LLAMA_LOAD_MODE_MMAP
        with (around_load() if around_load is not None else contextlib.nullcontext()):
            self.model = internals.LlamaModel(path_model=str(self.path), params=params, verbose=verbose)
        self._stack.callback(self.model.close)
        n_ctx = min(n_ctx, self.model.n_ctx_train()) if n_ctx > 0 else self.model.n_ctx_train()
        type_k = KV_TYPES.get(kv_type, llama_cpp.GGML_TYPE_F16)
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx * self.n_parallel
        cparams.n_seq_max = self.n_parallel
        cparams.kv_unified = False
        cparams.n_batch = cparams.n_ubatch = min(n_batch, cparams.n_ctx)
        cparams.n_threads = self.n_threads
        cparams.n_threads_batch = self.n_threads_batch
        cparams.flash_attn_type = (llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                                   else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        cparams.type_k = type_k
        # llama.cpp quantises the V cache only with flash attention; K alone works everywhere.
        cparams.type_v = type_k if flash_attn else llama_cpp.GGML_TYPE_F16
        cparams.no_perf = True
        with suppress_stdout_stderr(disable=verbose):
            self.context = internals.LlamaContext(model=self.model, params=cparams, verbose=verbose)
        self._stack.callback(self.context.close)
        self.ctx = self.context.ctx
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.n_batch = int(llama_cpp.llama_n_batch(self.ctx))
        self.n_ctx_seq = int(llama_cpp.llama_n_ctx_seq(self.ctx))
        self.can_shift = bool(self.memory is not None and llama_cpp.llama_memory_can_shift(self.memory))
        self.lora = LoraAdapters(self.model.model, self.ctx)
        if lora_path:
            self.lora.apply(self.lora.load(lora_path))
        self.metadata = self.model.metadata()
        self.eos_text = self.piece(self.model.token_eos(), special=True).decode("utf-8", errors="ignore")
        self.bos_text = self.piece(self.model.token_bos(), special=True).decode("utf-8", errors="ignore")

    # vocabulary --------------------------------------------------------------------------
    def tokenize(self, text: str, *, special: bool) -> list[int]:
        return self.model.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def piece(self, token: int, *, special: bool = False) -> bytes:
        return self.model.detokenize([token], special=special) if token >= 0 else b""

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.model.vocab, token))

    @property
    def chat_template(self) -> str | None:
        return self.metadata.get("tokenizer.chat_template") or None

    def close(self) -> None:
        self._stack.close()


def _init_backend(verbose: bool) -> None:
    global _backend_initialised
    set_verbose(verbose)
    with _backend_ready:
        if not _backend_initialised:
            with suppress_stdout_stderr(disable=verbose):
                llama_cpp.llama_backend_init()
            _backend_initialised = True
