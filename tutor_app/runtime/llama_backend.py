"""The llama.cpp backend: one GGUF model, loaded once, serving many calls at once.

Concurrent calls from different sessions decode together, each on its own sequence of one
batched context (``engine.BatchEngine``, ``n_parallel`` slots); a call joins the running batch
as soon as a slot is free. This class is the protocol side: it renders the prompt from the
GGUF's own chat template (so the exact prompt tokens are known and successive turns of a
conversation share a token prefix), fits it to the context, and streams the engine's text back
to the calling thread. Per-session KV reuse, with states saved to ``kv_cache.SessionStateCache``
when a slot changes hands, lives in ``slots``; ``GenerationStats.evaluated_tokens`` counts the
prompt tokens really evaluated, the proof that it works.

Decisions (``generate_json``) run under a grammar built from the pydantic model's JSON schema,
so enums and string lengths are enforced while sampling, and the result is validated again.

A LoRA adapter (the school's fine-tune) is applied after loading and can be switched while the
app runs (``set_adapter``, see ``lora.py``); ``info.adapter`` names the version in use, and the
app stores it with every output.
"""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Sequence

from llama_cpp.llama_grammar import LlamaGrammar
from pydantic import ValidationError

from .chat_template import chat_formatter, render_prompt
from .context import fit_to_context
from .cpu_features import ExtraBuffers, apply_extra_buffers
from .engine import PREFILL_BUDGET, BatchEngine
from .generation import Generation
from .grammar import GrammarCache
from .kv_cache import SessionStateCache
from .loaded_model import KV_TYPES, LoadedModel
from .protocol import GenerationStats, Message, ModelError, ModelInfo, Priority, StatsCallback, T, combined, report_stats
from .sampling import Sampling

JSON_SUFFIX = "#json"  # decisions of a session keep their own KV state apart from its chat
_POLL_S = 0.05  # how often a waiting caller looks at its cancel event
_END_WAIT_S = 30.0  # how long a caller that stopped reading waits for the engine to let go


class LlamaCppBackend:
    def __init__(self, model_path: str | Path, *, n_ctx: int = 4096, n_gpu_layers: int = 0,
                 n_threads: int | None = None, n_batch: int = 512, flash_attn: bool = False,
                 kv_type: str = "f16", lora_path: str | Path | None = None, name: str | None = None,
                 offload_plan: str = "", state_cache: SessionStateCache | None = None,
                 sampling: Sampling = Sampling(), seed: int = 1234,
                 around_load: Callable[[], ContextManager] | None = None, verbose: bool = False,
                 extra_buffers: ExtraBuffers = "auto", n_parallel: int = 1,
                 prefill_budget: int = PREFILL_BUDGET) -> None:
        """``n_ctx`` is each conversation's context; the context holds ``n_parallel`` of them.
        ``around_load`` is entered while the model loads: the planner uses it to set model
        parameters llama.cpp's defaults lack (tensor buffer overrides for experts on CPU)."""
        self.path = Path(model_path)
        self.sampling = sampling
        self.flash_attn = flash_attn
        self.kv_type = kv_type if kv_type in KV_TYPES else "f16"
        n_parallel = max(1, min(int(n_parallel), n_batch))
        buffers = apply_extra_buffers(extra_buffers)  # AMX repacking crashes some CPUs: see cpu_features
        self._model = LoadedModel(self.path, n_ctx=n_ctx, n_parallel=n_parallel, n_gpu_layers=n_gpu_layers,
                                  n_threads=n_threads, n_batch=n_batch, flash_attn=flash_attn, kv_type=self.kv_type,
                                  lora_path=lora_path, around_load=around_load, verbose=verbose)
        self._formatter = chat_formatter(self._model.chat_template, bos_token=self._model.bos_text,
                                         eos_token=self._model.eos_text)
        self._states = state_cache
        self._grammars = GrammarCache()
        self._engine = BatchEngine(self._model, states=state_cache, sampling=sampling, seed=seed,
                                   prefill_budget=prefill_budget)
        self._closed = threading.Lock()
        self._last_stats: GenerationStats | None = None
        # Fitting a conversation into n_ctx counts every message each turn; earlier ones repeat.
        self._count_cached = functools.lru_cache(maxsize=4096)(self._count_uncached)
        self._info = ModelInfo(
            name=name or self.path.stem, backend="llama.cpp", path=str(self.path), n_ctx=self._model.n_ctx_seq,
            offload_plan=offload_plan,
            detail={"cpu_extra_buffers": buffers.why, "n_gpu_layers": n_gpu_layers, "threads": self._model.n_threads,
                    "kv_type": self.kv_type, "flash_attn": flash_attn, "lora": str(lora_path) if lora_path else None,
                    "chat_template": "gguf" if self._model.chat_template else "chatml",
                    "parallel": self._model.n_parallel, "kv_shift": self._model.can_shift},
            adapter=self._model.lora.active.version if self._model.lora.active else None)

    # protocol ---------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        self._info.detail["busy_slots"] = self._engine.busy_slots()
        if self._states is not None:
            s = self._states.stats()
            self._info.detail["kv_states"] = {"in_ram": s.sessions_in_ram, "on_disk": s.sessions_on_disk,
                                              "ram_mb": round(s.ram_bytes / 2**20, 1),
                                              "disk_mb": round(s.disk_bytes / 2**20, 1)}
        return self._info

    @property
    def last_stats(self) -> GenerationStats | None:
        """The usage of the call that ended last (per-call figures come through ``on_stats``)."""
        return self._last_stats

    @property
    def n_ctx(self) -> int:
        return self._info.n_ctx

    @property
    def n_parallel(self) -> int:
        return self._model.n_parallel

    def count_tokens(self, text: str) -> int:
        return self._count_cached(text) if text else 0

    def _count_uncached(self, text: str) -> int:
        return len(self._model.tokenize(text, special=False))

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        started = time.perf_counter()
        tokens, max_tokens = self.prompt_tokens(messages, max_tokens)
        yield from self._generate(tokens, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                  session_key=session_key, cancel=cancel, grammar=None, started=started,
                                  on_stats=on_stats, priority=priority)

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        grammar = self._grammars.for_schema(schema)
        key = session_key + JSON_SUFFIX if session_key else None
        problem = ""
        parts: list[GenerationStats] = []
        try:
            # A second try gets more room (the usual failure is running out of tokens mid-object)
            # and a little randomness, so it does not repeat the first attempt token for token.
            for attempt_tokens, attempt_temp in ((max_tokens, temperature), (max_tokens * 2, max(temperature, 0.3))):
                started = time.perf_counter()
                tokens, budget = self.prompt_tokens(messages, attempt_tokens)
                text = "".join(self._generate(tokens, max_tokens=budget, temperature=attempt_temp, stop=(),
                                              session_key=key, cancel=None, grammar=grammar, started=started,
                                              on_stats=parts.append, priority=priority))
                try:
                    return schema.model_validate_json(text)
                except ValidationError as exc:
                    problem = f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}"
            raise ModelError(f"the model's answer did not fit {schema.__name__} twice ({problem})")
        finally:
            report_stats(on_stats, combined(parts))

    def set_adapter(self, path: str | Path | None) -> ModelInfo:
        """Apply the LoRA adapter at ``path`` (None: the base model alone) between calls: the
        engine lets the calls it is decoding finish under the old adapter, switches, and only
        then admits the next. The KV cache and every saved session state were computed under the
        old adapter, so they go; each session's next turn evaluates its prompt afresh."""
        lora = self._model.lora

        def switch() -> ModelInfo:
            adapter = lora.load(path) if path is not None else None
            lora.apply(adapter)
            self._engine.forget_sequences()
            if self._states is not None:
                self._states.clear()
            self._info.adapter = adapter.version if adapter else None
            self._info.detail["lora"] = str(adapter.path) if adapter else None
            return self._info

        return self._engine.between_calls(switch)

    def close(self) -> None:
        if not self._closed.acquire(blocking=False):
            return
        self._engine.close()
        if self._states is not None:
            self._states.close()
        self._model.close()

    # prompt -----------------------------------------------------------------------------
    def render_prompt(self, messages: Sequence[Message]) -> str:
        return render_prompt(self._formatter, messages)

    def prompt_tokens(self, messages: Sequence[Message], max_tokens: int) -> tuple[list[int], int]:
        """Exact prompt tokens and the reply budget, with the conversation cut to fit ``n_ctx``.
        The cut estimates each message's template overhead; if the estimate was short, retry with
        a larger one, and as a last resort keep the prompt's tail (never fail)."""
        n_ctx = self.n_ctx
        max_tokens = max(1, min(max_tokens, n_ctx // 2))
        overhead = 8
        for _ in range(4):
            fitted = fit_to_context(messages, n_ctx=n_ctx, max_tokens=max_tokens, count_tokens=self.count_tokens,
                                    per_message_tokens=overhead)
            tokens = self._tokenize_prompt(self.render_prompt(fitted.messages))
            if len(tokens) + fitted.max_tokens <= n_ctx:
                return tokens, fitted.max_tokens
            overhead *= 2
        reply = max(1, min(fitted.max_tokens, n_ctx // 4))
        return tokens[-(n_ctx - reply):], reply

    def _tokenize_prompt(self, prompt: str) -> list[int]:
        # The template writes BOS itself when the model wants one (as llama_cpp's chat handlers do).
        return self._model.tokenize(prompt, special=True)

    # generation -------------------------------------------------------------------------
    def _generate(self, tokens: list[int], *, max_tokens: int, temperature: float, stop: Sequence[str],
                  session_key: str | None, cancel: threading.Event | None, grammar: LlamaGrammar | None,
                  started: float, on_stats: StatsCallback | None = None,
                  priority: Priority = "interactive") -> Iterator[str]:
        """Hand one generation to the engine and yield its text as it comes. Stopping early (the
        caller's ``cancel``, or closing this iterator) frees the slot at the engine's next step."""
        generation = Generation(tokens, max_tokens=max_tokens, temperature=temperature, stop=tuple(stop),
                                session_key=session_key, grammar=grammar, priority=priority, started=started)
        if cancel is not None and cancel.is_set():
            generation.finish()
            self._last_stats = generation.stats
            report_stats(on_stats, generation.stats)
            return
        self._engine.submit(generation)
        try:
            while True:  # without a cancel event there is nothing to look at while waiting: block
                item = generation.next_piece(_POLL_S if cancel is not None else None)
                if item is None:
                    if cancel is not None and cancel.is_set():
                        break
                    continue
                kind, value = item
                if kind == "error":
                    raise value
                if kind == "end":
                    break
                yield value
                if cancel is not None and cancel.is_set():
                    break
        finally:
            if not generation.done.is_set():
                generation.cancel()
                self._engine.wake()
                generation.done.wait(_END_WAIT_S)
            self._last_stats = generation.stats
            report_stats(on_stats, generation.stats)
