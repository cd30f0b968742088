"""Continuous batching: one thread owns the llama.cpp context and decodes every slot together.

Callers hand ``Generation``s to ``BatchEngine.submit`` and read their text from the generation's
own channel; nothing but the engine thread touches the context. Each step (as llama-server's
``update_slots`` does):

1. calls whose caller cancelled (or went away) leave, and their slots are free at once;
2. waiting calls take free slots in ``FairLine`` order (students before batch work, sessions
   taking turns), so a call joins the running batch at the next step instead of waiting for
   the others to finish. A slot keeps its last session's KV state; a slot given to another
   session first saves it (``slots.SequenceMemory``). A call whose prompt shares a long prefix
   with a prompt another slot is still reading (the criteria of one submission, sent together)
   waits for that slot to read the shared part, then starts from a copy of it;
3. one batch is built: the token each generating slot sampled last step, then prompt tokens of
   slots still reading their prompt, under a per-step budget shared round-robin (students'
   prompts first), so a long prompt never stalls everyone else's replies for long;
4. the batch is decoded in ``n_batch`` slices. A positive ``llama_decode`` result (no room in
   the KV cache for this slice) halves the slice and retries; a negative one fails the calls
   whose tokens were in the failed slice with ``ModelError`` and clears their sequences (what
   they hold is unknown); the others carry on;
5. after each slice, each slot whose logits it produced samples with its own sampler chain
   (grammar included) and its text goes out through ``ReplyText`` (stop strings end a call).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, TypeVar

import llama_cpp

from .generation import Generation
from .kv_cache import SessionStateCache, common_prefix_length
from .loaded_model import LoadedModel
from .protocol import ModelError
from .reply_text import ReplyText
from .sampling import Sampling, SamplerChain
from .scheduling import FairLine, batch_places
from .slots import MIN_REUSE_CHUNK, SequenceMemory, Slot

log = logging.getLogger(__name__)

R = TypeVar("R")

PREFILL_BUDGET = 128  # prompt tokens per step while other slots are generating (all of n_batch when none are)


@dataclass(frozen=True)
class _Row:
    slot: Slot
    token: int
    pos: int
    logits: bool


class BatchEngine:
    def __init__(self, model: LoadedModel, *, states: SessionStateCache | None, sampling: Sampling, seed: int,
                 prefill_budget: int = PREFILL_BUDGET) -> None:
        self.model = model
        self.sampling = sampling
        self.seed = seed
        self.prefill_budget = max(1, prefill_budget)
        self.memory = SequenceMemory(model, states)
        self.slots = [Slot(seq_id=i) for i in range(model.n_parallel)]
        self._inbox: list[Generation] = []
        self._chores: list[tuple[Callable[[], object], Future]] = []  # work between calls (a LoRA switch)
        self._line: FairLine[Generation] = FairLine()
        self._cond = threading.Condition()
        self._closing = False
        self._round = 0  # rotates which prefilling slot goes first
        self._batch = llama_cpp.llama_batch_init(model.n_batch, 0, 1)
        self._thread = threading.Thread(target=self._run, name="llama-engine", daemon=True)
        self._thread.start()

    # the callers' side ---------------------------------------------------------------
    def submit(self, generation: Generation) -> None:
        with self._cond:
            if self._closing:
                generation.finish(ModelError("the model is shutting down"))
                return
            self._inbox.append(generation)
            self._cond.notify()

    def wake(self) -> None:
        """Look at cancellations now rather than at the next step (an idle engine sleeps)."""
        with self._cond:
            self._cond.notify()

    def between_calls(self, work: Callable[[], R]) -> R:
        """Run ``work`` on the engine thread once no slot is busy, and return its result. The
        calls being decoded finish first; calls that arrive meanwhile wait and start after it.
        Why: a LoRA switch must not change the model under a sequence being decoded."""
        done: Future = Future()
        with self._cond:
            if self._closing:
                raise ModelError("the model is shutting down")
            self._chores.append((work, done))
            self._cond.notify()
        return done.result()

    def forget_sequences(self) -> None:
        """Clear every slot's KV cells (engine thread only, e.g. inside ``between_calls``)."""
        for slot in self.slots:
            self.memory.clear(slot)

    def busy_slots(self) -> int:
        return sum(1 for s in self.slots if s.busy)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()
        llama_cpp.llama_batch_free(self._batch)

    # the engine thread ---------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not self._inbox and not self._chores and not self._has_work():
                    self._cond.wait(timeout=0.5)
                if self._closing:
                    break
                arrived, self._inbox = self._inbox, []
            for generation in arrived:
                self._line.add(generation, session=generation.session_key, priority=generation.priority)
            try:
                self._drop_cancelled()
                if self._chores:
                    if not any(s.busy for s in self.slots):
                        self._do_chores()  # nothing is decoding: the chore has the context to itself
                else:
                    self._admit()
                if any(s.busy for s in self.slots):
                    self._step()
            except Exception as exc:  # a bug here must not leave callers waiting forever
                log.exception("the llama.cpp engine failed a step")
                self._fail_all(ModelError(f"llama.cpp failed while generating: {exc}"))
        self._fail_all(ModelError("the model is shutting down"))
        with self._cond:
            chores, self._chores = self._chores, []
        for _, done in chores:
            done.set_exception(ModelError("the model is shutting down"))

    def _do_chores(self) -> None:
        with self._cond:
            chores, self._chores = self._chores, []
        for work, done in chores:
            try:
                done.set_result(work())
            except BaseException as exc:  # the caller gets it; the engine carries on
                done.set_exception(exc)

    def _has_work(self) -> bool:
        return bool(self._line) or any(s.busy for s in self.slots)

    def _drop_cancelled(self) -> None:
        for generation in [g for g in self._line.ordered() if g.cancelled.is_set()]:
            self._line.remove(generation)
            generation.finish()
        for slot in self.slots:
            if slot.busy and slot.generation.cancelled.is_set():
                self._end(slot, emit_tail=False)

    def _admit(self) -> None:
        places = len(self.slots)
        while self._line:
            free = [s for s in self.slots if not s.busy]
            if not free:
                return
            batch_busy = sum(1 for s in self.slots if s.busy and s.generation.priority == "batch")
            generation = self._line.pop(lambda g: (g.priority != "batch" or batch_busy < batch_places(places))
                                        and not self._prefix_coming(g))
            if generation is None:
                return
            slot = self._choose_slot(generation, free)
            try:
                self._start(slot, generation)
            except Exception as exc:  # this call cannot start (a bad grammar, a state that will not load)
                log.warning("a call could not take slot %d", slot.seq_id, exc_info=True)
                slot.release()
                self.memory.clear(slot)
                generation.finish(ModelError(f"llama.cpp could not start this call: {exc}"))

    def _choose_slot(self, generation: Generation, free: list[Slot]) -> Slot:
        """The free slot that already holds the most of this prompt: the session's own slot first,
        then the longest shared prefix (a system prompt other calls used), then the one idle
        longest (its owner is least likely to come back soon)."""
        prompt, session = generation.tokens, generation.session_key
        own = [s for s in free if session is not None and s.owner == session]
        pool = own or free
        return max(pool, key=lambda s: (common_prefix_length(s.tokens, prompt), s.owner is None, -s.last_used))

    def _prefix_coming(self, generation: Generation) -> bool:
        """Another slot is reading a prompt that shares more of this one than any slot holds:
        starting now would evaluate the shared part twice at once."""
        prompt = generation.tokens
        held = max(common_prefix_length(s.tokens, prompt) for s in self.slots)
        for slot in self.slots:
            if slot.busy and slot.prompt_pos < len(slot.generation.tokens):
                shared = common_prefix_length(slot.generation.tokens, prompt)
                if shared >= held + MIN_REUSE_CHUNK and slot.prompt_pos < shared:
                    return True
        return False

    def _start(self, slot: Slot, generation: Generation) -> None:
        if slot.owner is not None and slot.owner != generation.session_key and not slot.saved:
            self.memory.save(slot)
        if generation.session_key is not None and generation.session_key != slot.owner:
            self.memory.restore_if_better(slot, generation.session_key, generation.tokens)
        donor = max((s for s in self.slots if s is not slot),
                    key=lambda s: common_prefix_length(s.tokens, generation.tokens), default=None)
        if donor is not None and (common_prefix_length(donor.tokens, generation.tokens)
                                  >= common_prefix_length(slot.tokens, generation.tokens) + MIN_REUSE_CHUNK):
            self.memory.copy_from(donor, slot)
        slot.owner, slot.saved = generation.session_key, False
        keep = self.memory.reuse(slot, generation.tokens)
        generation.stats.evaluated_tokens = len(generation.tokens) - keep
        slot.generation = generation
        slot.prompt_pos = keep
        slot.reply = ReplyText(generation.stop)
        slot.sampler = SamplerChain(self.model.model, self.sampling, temperature=generation.temperature,
                                    seed=self.seed, grammar=generation.grammar)

    # one step ------------------------------------------------------------------------
    def _step(self) -> None:
        rows: list[_Row] = []
        for slot in self.slots:
            if slot.busy and slot.generating:
                rows.append(_Row(slot, slot.next_token, len(slot.tokens), True))
                slot.tokens.append(slot.next_token)
        room = self.model.n_batch - len(rows)
        budget = min(room, self.prefill_budget) if rows else room
        for slot in self._prefill_order():
            if budget <= 0:
                break
            generation = slot.generation
            take = min(budget, len(generation.tokens) - slot.prompt_pos)
            for i in range(slot.prompt_pos, slot.prompt_pos + take):
                last = i == len(generation.tokens) - 1
                rows.append(_Row(slot, generation.tokens[i], len(slot.tokens), last))
                slot.tokens.append(generation.tokens[i])
            slot.prompt_pos += take
            budget -= take
        self._round += 1
        self._decode(rows)

    def _prefill_order(self) -> list[Slot]:
        reading = [s for s in self.slots if s.busy and not s.generating and s.prompt_pos < len(s.generation.tokens)]
        if not reading:
            return []
        shift = self._round % len(reading)
        reading = reading[shift:] + reading[:shift]
        return sorted(reading, key=lambda s: s.generation.priority != "interactive")  # stable: students first

    def _decode(self, rows: list[_Row]) -> None:
        start, size = 0, self.model.n_batch
        while start < len(rows):
            piece = rows[start:start + size]
            result = self.decode_rows(piece)
            if result > 0 and size > 1:  # no room for this slice in the KV cache: try a smaller one
                size = max(1, size // 2)
                continue
            if result != 0:
                self._fail_rows(rows[start:], f"llama_decode returned {result}")
                return
            self._sample(piece)
            start += len(piece)
            size = self.model.n_batch

    def decode_rows(self, rows: list[_Row]) -> int:
        """Write ``rows`` into the llama_batch and decode it; llama_decode's result code."""
        batch = self._batch
        for i, row in enumerate(rows):
            batch.token[i] = row.token
            batch.pos[i] = row.pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = row.slot.seq_id
            batch.logits[i] = row.logits
        batch.n_tokens = len(rows)
        return llama_cpp.llama_decode(self.model.ctx, batch)

    def _sample(self, rows: list[_Row]) -> None:
        for index, row in enumerate(rows):
            slot = row.slot
            if not row.logits or not slot.busy:
                continue
            token = slot.sampler.sample(self.model.ctx, index)
            self._take(slot, token)

    def _take(self, slot: Slot, token: int) -> None:
        generation = slot.generation
        stats = generation.stats
        if stats.completion_tokens == 0:
            stats.time_to_first_token_s = time.perf_counter() - generation.started
        if self.model.is_end(token):
            self._end(slot)
            return
        stats.completion_tokens += 1
        text, hit = slot.reply.feed(self.model.piece(token))
        generation.emit(text)
        full = len(slot.tokens) + 1 >= self.model.n_ctx_seq
        if hit:
            self._end(slot, emit_tail=False)
        elif stats.completion_tokens >= generation.max_tokens or full:
            self._end(slot)
        else:
            slot.next_token = token

    def _end(self, slot: Slot, *, emit_tail: bool = True, error: ModelError | None = None) -> None:
        generation = slot.generation
        if emit_tail and error is None and not generation.cancelled.is_set():
            generation.emit(slot.reply.finish())
        slot.release()
        generation.finish(error)

    # failures ------------------------------------------------------------------------
    def _fail_rows(self, rows: list[_Row], why: str) -> None:
        """A slice failed for good: fail every call with tokens in it or after it, and clear
        their sequences, since a failed decode may leave part of a slice in the KV cache."""
        error = ModelError(f"llama.cpp failed while generating: {why}")
        log.warning("decode failed (%s); %d call(s) fail", why, len({id(r.slot) for r in rows}))
        for slot in {id(r.slot): r.slot for r in rows}.values():
            if slot.busy:
                self._end(slot, error=error)
            self.memory.clear(slot)

    def _fail_all(self, error: ModelError) -> None:
        for generation in self._line.ordered():
            self._line.remove(generation)
            generation.finish(error)
        with self._cond:
            arrived, self._inbox = self._inbox, []
        for generation in arrived:
            generation.finish(error)
        for slot in self.slots:
            if slot.busy:
                self._end(slot, error=error)
                self.memory.clear(slot)

