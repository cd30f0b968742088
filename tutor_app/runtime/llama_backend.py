"""The in-process backend: one GGUF model loaded once through llama-cpp-python, for the process.

Why the low-level path rather than ``create_chat_completion``:
- the prompt is rendered here from the GGUF's own chat template, so the exact prompt tokens
  are known and successive turns of a conversation share a token prefix;
- the prompt is evaluated here in batches, which lets ``cancel`` interrupt a long prompt and
  lets us *count* the tokens really evaluated (``GenerationStats.evaluated_tokens``);
- each session's KV state is saved when another session needs the context and restored on
  that session's next turn (``kv_cache.SessionStateCache``), so a turn evaluates only what is
  new even when a whole class takes turns with one model.

Decisions (``generate_json``) run under a grammar built from the pydantic model's JSON schema,
so enums and string lengths are enforced while sampling, and the result is validated again.

A LoRA adapter (the school's fine-tune) is applied after loading and can be switched while the
app runs (``set_adapter``, see ``lora.py``); ``info.adapter`` names the version in use, and the
app stores it with every output.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import functools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Sequence

import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf
from pydantic import ValidationError

from .context import fit_to_context
from .cpu_features import ExtraBuffers, apply_extra_buffers
from .kv_cache import SavedState, SessionStateCache, common_prefix_length
from .lora import LoraAdapters
from .protocol import GenerationStats, Message, ModelError, ModelInfo, Priority, StatsCallback, T, combined, report_stats

# Used when a GGUF carries no chat template: ChatML is what most small instruct models expect.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}
JSON_SUFFIX = "#json"  # decisions of a session keep their own KV state apart from its chat


@dataclass(frozen=True)
class Sampling:
    """Sampler settings besides temperature (llama.cpp's defaults; ``repeat_penalty`` is a little
    above 1 because small models loop)."""

    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.1


class _CountingLlama(Llama):
    """``Llama`` that counts every token it evaluates: the proof that KV reuse works."""

    evaluated_total = 0

    def eval(self, tokens: Sequence[int]) -> None:
        super().eval(tokens)
        self.evaluated_total += len(tokens)


class LlamaCppBackend:
    def __init__(self, model_path: str | Path, *, n_ctx: int = 4096, n_gpu_layers: int = 0,
                 n_threads: int | None = None, n_batch: int = 512, flash_attn: bool = False,
                 kv_type: str = "f16", lora_path: str | Path | None = None, name: str | None = None,
                 offload_plan: str = "", state_cache: SessionStateCache | None = None,
                 sampling: Sampling = Sampling(), seed: int = 1234,
                 around_load: Callable[[], ContextManager] | None = None, verbose: bool = False,
                 extra_buffers: ExtraBuffers = "auto") -> None:
        """``around_load`` is entered while the model loads: the planner uses it to set model
        parameters ``Llama(...)`` does not expose (tensor buffer overrides for experts on CPU)."""
        self.path = Path(model_path)
        self.sampling = sampling
        self.flash_attn = flash_attn
        self.kv_type = kv_type if kv_type in KV_TYPES else "f16"
        type_k = KV_TYPES[self.kv_type]
        # llama.cpp quantises the V cache only with flash attention; K alone works everywhere.
        type_v = type_k if flash_attn else llama_cpp.GGML_TYPE_F16
        buffers = apply_extra_buffers(extra_buffers)  # AMX repacking crashes some CPUs: see cpu_features
        with (around_load() if around_load is not None else contextlib.nullcontext()):
            self._llm = _CountingLlama(
                str(self.path), n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=n_threads, n_batch=n_batch,
                flash_attn=flash_attn, type_k=type_k, type_v=type_v, seed=seed, verbose=verbose)
        self._lora = LoraAdapters(self._llm.model, self._llm.ctx)
        if lora_path:
            try:
                self._lora.apply(self._lora.load(lora_path))
            except Exception:
                self._llm.close()
                raise
        self._vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        self._formatter = self._chat_formatter()
        self._states = state_cache
        self._lock = threading.Lock()  # not RLock: a stream may be resumed from another thread
        self._owner: str | None = None  # session whose conversation the context holds
        self._owner_saved = True
        self._stats: GenerationStats | None = None
        self._grammars: dict[str, LlamaGrammar] = {}
        # Fitting a conversation into n_ctx counts every message each turn; earlier ones repeat.
        self._count_cached = functools.lru_cache(maxsize=4096)(self._count_uncached)
        self._info = ModelInfo(
            name=name or self.path.stem, backend="llama.cpp", path=str(self.path), n_ctx=self._llm.n_ctx(),
            offload_plan=offload_plan,
            detail={"cpu_extra_buffers": buffers.why, "n_gpu_layers": n_gpu_layers, "threads": self._llm.n_threads, "kv_type": self.kv_type,
                    "flash_attn": flash_attn, "lora": str(lora_path) if lora_path else None,
                    "chat_template": "gguf" if self._llm.metadata.get("tokenizer.chat_template") else "chatml"},
            adapter=self._lora.active.version if self._lora.active else None)

    # protocol ---------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        if self._states is not None:
            s = self._states.stats()
            self._info.detail["kv_states"] = {"in_ram": s.sessions_in_ram, "on_disk": s.sessions_on_disk,
                                              "ram_mb": round(s.ram_bytes / 2**20, 1),
                                              "disk_mb": round(s.disk_bytes / 2**20, 1)}
        return self._info

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._stats

    @property
    def n_ctx(self) -> int:
        return self._info.n_ctx

    def count_tokens(self, text: str) -> int:
        return self._count_cached(text) if text else 0

    def _count_uncached(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        started = time.perf_counter()
        tokens, max_tokens = self.prompt_tokens(messages, max_tokens)
        with self._locked():
            yield from self._generate(tokens, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                      session_key=session_key, cancel=cancel, grammar=None, started=started,
                                      on_stats=on_stats)

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        grammar = self._grammar_for(schema)
        key = session_key + JSON_SUFFIX if session_key else None
        problem = ""
        parts: list[GenerationStats] = []
        try:
            # A second try gets more room (the usual failure is running out of tokens mid-object)
            # and a little randomness, so it does not repeat the first attempt token for token.
            for attempt_tokens, attempt_temp in ((max_tokens, temperature), (max_tokens * 2, max(temperature, 0.3))):
                started = time.perf_counter()
                tokens, budget = self.prompt_tokens(messages, attempt_tokens)
                with self._locked():
                    text = "".join(self._generate(tokens, max_tokens=budget, temperature=attempt_temp, stop=(),
                                                  session_key=key, cancel=None, grammar=grammar, started=started,
                                                  on_stats=parts.append))
                try:
                    return schema.model_validate_json(text)
                except ValidationError as exc:
                    problem = f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}"
            raise ModelError(f"the model's answer did not fit {schema.__name__} twice ({problem})")
        finally:
            report_stats(on_stats, combined(parts))

    def set_adapter(self, path: str | Path | None) -> ModelInfo:
        """Apply the LoRA adapter at ``path`` (None: the base model alone) between two calls.
        The KV cache and every saved session state were computed under the old adapter, so they
        go; the next turn of each session evaluates its prompt afresh."""
        with self._locked():
            adapter = self._lora.load(path) if path is not None else None
            self._lora.apply(adapter)
            self._llm.reset()
            memory = llama_cpp.llama_get_memory(self._llm.ctx)
            if memory is not None:
                llama_cpp.llama_memory_clear(memory, True)
            if self._states is not None:
                self._states.clear()
            self._owner, self._owner_saved = None, True
            self._info.adapter = adapter.version if adapter else None
            self._info.detail["lora"] = str(adapter.path) if adapter else None
            return self._info

    def close(self) -> None:
        with self._lock:
            if self._states is not None:
                self._states.close()
            self._llm.close()

    # prompt -----------------------------------------------------------------------------
    def render_prompt(self, messages: Sequence[Message]) -> str:
        """The prompt text from the GGUF's chat template. Templates that refuse a system role or
        non-alternating turns (Mixtral's) get the same conversation folded into user turns."""
        msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
        try:
            return self._formatter(messages=msgs).prompt
        except Exception as first:  # jinja2 errors and the template's own raise_exception
            try:
                return self._formatter(messages=_alternating(msgs)).prompt
            except Exception:
                raise ModelError(f"the model's chat template cannot render this conversation: {first}") from first

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
        return self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def _chat_formatter(self) -> Jinja2ChatFormatter:
        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE

        def text(token: int) -> str:
            return llm.detokenize([token], special=True).decode("utf-8", errors="ignore") if token >= 0 else ""

        return Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()), bos_token=text(llm.token_bos()),
                                   add_generation_prompt=True)

    def _grammar_for(self, schema: type[T]) -> LlamaGrammar:
        key = json.dumps(schema.model_json_schema(), sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            try:
                grammar = LlamaGrammar.from_string(schema_grammar(schema.model_json_schema()), verbose=False)
            except Exception as exc:
                raise ModelError(f"cannot build a grammar for {schema.__name__}: {exc}") from exc
            self._grammars[key] = grammar
        return grammar

    # generation -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        self._lock.acquire()
        try:
            yield
        finally:
            self._lock.release()

    def _generate(self, tokens: list[int], *, max_tokens: int, temperature: float, stop: Sequence[str],
                  session_key: str | None, cancel: threading.Event | None, grammar: LlamaGrammar | None,
                  started: float, on_stats: StatsCallback | None = None) -> Iterator[str]:
        llm = self._llm
        evaluated_before = llm.evaluated_total
        stats = GenerationStats(prompt_tokens=len(tokens))
        self._stats = stats
        completion = 0
        try:
            self._switch_to(session_key, tokens)
            if not self._prefill(tokens, cancel):
                return
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stops = _StopScanner(stop)
            leading = True
            generator = llm.generate(tokens, temp=temperature, top_k=self.sampling.top_k, top_p=self.sampling.top_p,
                                     min_p=self.sampling.min_p, repeat_penalty=self.sampling.repeat_penalty,
                                     grammar=grammar)
            try:
                for token in generator:
                    if completion == 0:
                        stats.time_to_first_token_s = time.perf_counter() - started
                        stats.evaluated_tokens = llm.evaluated_total - evaluated_before
                    if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                        break
                    completion += 1
                    text = decoder.decode(llm.detokenize([token]))
                    if leading:
                        text = text.lstrip()
                        leading = not text
                    emit, hit = stops.feed(text)
                    if emit:
                        yield emit
                    if hit or completion >= max_tokens or llm.n_tokens + 1 >= self.n_ctx:
                        break
                    if cancel is not None and cancel.is_set():
                        break
                tail = stops.feed(decoder.decode(b"", final=True))[0] + stops.flush()
                if tail and not (cancel is not None and cancel.is_set()):
                    yield tail
            finally:
                generator.close()
        except (RuntimeError, ValueError, OSError) as exc:  # llama_decode failures, a full KV cache
            self._llm.reset()  # what the context holds is unknown now: start the next call afresh
            session_key = None
            raise ModelError(f"llama.cpp failed while generating: {exc}") from exc
        finally:
            if completion == 0:
                stats.evaluated_tokens = llm.evaluated_total - evaluated_before
                stats.time_to_first_token_s = time.perf_counter() - started
            stats.completion_tokens = completion
            stats.total_s = time.perf_counter() - started
            self._owner, self._owner_saved = session_key, False
            report_stats(on_stats, stats)

    def _prefill(self, tokens: list[int], cancel: threading.Event | None) -> bool:
        """Evaluate all but the last prompt token, reusing the longest prefix already in the
        context. ``Llama.generate`` then finds that prefix and evaluates only the last token
        itself. Batches are evaluated one by one so that ``cancel`` stops a long prompt."""
        llm = self._llm
        keep = min(common_prefix_length(llm.input_ids[:llm.n_tokens], tokens), len(tokens) - 1)
        if keep < llm.n_tokens:
            memory = llama_cpp.llama_get_memory(llm.ctx)
            if keep <= 0 or memory is None or not llama_cpp.llama_memory_seq_rm(memory, 0, keep, -1):
                llm.reset()
                keep = 0
            llm.n_tokens = keep
        for start in range(keep, len(tokens) - 1, llm.n_batch):
            if cancel is not None and cancel.is_set():
                return False
            llm.eval(tokens[start:min(start + llm.n_batch, len(tokens) - 1)])
        return not (cancel is not None and cancel.is_set())

    # sessions ---------------------------------------------------------------------------
    def _switch_to(self, session_key: str | None, tokens: list[int]) -> None:
        """Make the context hold the best start for this prompt: save the conversation it holds
        if that belongs to another session, and restore this session's saved state when it
        shares more of the prompt than the context does now."""
        if self._states is None:
            return
        if self._owner is not None and self._owner != session_key and not self._owner_saved:
            self._save(self._owner)
        if session_key is None or session_key == self._owner:
            return
        saved = self._states.tokens(session_key)
        if saved is None:
            return
        current = common_prefix_length(self._llm.input_ids[:self._llm.n_tokens], tokens)
        if common_prefix_length(saved, tokens) > current:
            state = self._states.get(session_key)
            if state is not None:
                self._restore(state)

    def _save(self, key: str) -> None:
        llm = self._llm
        self._owner_saved = True
        if llm.n_tokens == 0:
            return
        size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(llm.ctx, buffer, size, 0)
        if written <= 0:
            return
        self._states.put(key, SavedState(llm.input_ids[:llm.n_tokens].copy(), ctypes.string_at(buffer, written)))

    def _restore(self, state: SavedState) -> None:
        llm = self._llm
        llm.reset()
        data = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        if llama_cpp.llama_state_seq_set_data(llm.ctx, data, len(state.data), 0) != len(state.data):
            memory = llama_cpp.llama_get_memory(llm.ctx)
            if memory is not None:
                llama_cpp.llama_memory_clear(memory, True)
            return  # the prompt is evaluated from scratch instead
        n = len(state.tokens)
        llm.input_ids[:n] = state.tokens
        llm.n_tokens = n


def schema_grammar(schema: dict) -> str:
    """GBNF for a JSON schema, as ``LlamaGrammar.from_json_schema`` builds it, with two fixes:
    llama-cpp-python's string character rule admits raw control characters (a newline inside
    a string), which no JSON parser accepts (llama.cpp's own converter excludes them); and it
    ignores integer bounds, so a small range (a rubric's 0-4 points) becomes an enum."""
    gbnf = json_schema_to_gbnf(json.dumps(_bounded_integers_as_enums(schema)))
    return gbnf.replace('char ::= [^"\\\\]', 'char ::= [^"\\\\\\x7F\\x00-\\x1F]')


MAX_ENUM_RANGE = 256


def _bounded_integers_as_enums(node):
    if isinstance(node, list):
        return [_bounded_integers_as_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _bounded_integers_as_enums(value) for key, value in node.items()}
    if out.get("type") == "integer" and "enum" not in out:
        low = out.get("minimum", out["exclusiveMinimum"] + 1 if "exclusiveMinimum" in out else None)
        high = out.get("maximum", out["exclusiveMaximum"] - 1 if "exclusiveMaximum" in out else None)
        if low is not None and high is not None and 0 <= high - low < MAX_ENUM_RANGE:
            for key in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                out.pop(key, None)
            out["enum"] = list(range(int(low), int(high) + 1))
    return out


class _StopScanner:
    """Find stop strings in streamed text, holding back only what could still start one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self.stops:
            return text, False
        self.pending += text
        hits = [i for i in (self.pending.find(s) for s in self.stops) if i >= 0]
        if hits:
            emit, self.pending = self.pending[:min(hits)], ""
            return emit, True
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.pending)), 0, -1):
                if self.pending.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        emit = self.pending[:len(self.pending) - hold]
        self.pending = self.pending[len(self.pending) - hold:]
        return emit, False

    def flush(self) -> str:
        rest, self.pending = self.pending, ""
        return rest


def _alternating(messages: list[dict]) -> list[dict]:
    """The conversation as strictly alternating user/assistant turns starting with the user:
    system text goes in front of the first user message, neighbours with one role merge."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns: list[dict] = []
    for m in messages:
        if m["role"] == "system":
            continue
        if turns and turns[-1]["role"] == m["role"]:
            turns[-1]["content"] += "\n\n" + m["content"]
        elif turns or m["role"] == "user":
            turns.append({"role": m["role"], "content": m["content"]})
    if not turns:
        turns = [{"role": "user", "content": ""}]
    if system:
        turns[0]["content"] = system + ("\n\n" + turns[0]["content"] if turns[0]["content"] else "")
    return turns
