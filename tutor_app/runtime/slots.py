"""The sequences of the batched context ("slots") and what each one's KV memory holds.

A slot is one ``seq_id`` of the llama.cpp context. It keeps the token ids whose KV entries it
holds, so a new call can reuse what is already there:
- the longest common prefix with the new prompt stays (the system prompt and earlier turns);
- further on, chunks of the old conversation that reappear later in the new prompt are moved
  to their new positions (llama-server's ``--cache-reuse``: ``llama_memory_seq_rm`` the cells
  in between, ``llama_memory_seq_add`` to shift the rest). This is what keeps a long tutoring
  conversation cheap when its oldest turns are dropped from the prompt: the remaining turns'
  KV entries move up instead of being evaluated again.

A new call may also start from another slot's cells: when a busy or idle slot holds a longer
prefix of the prompt (the same submission graded on another criterion, the same system prompt),
its sequence is copied into the new slot (``llama_memory_seq_cp``; across the streams of a
non-unified cache that is a copy of the buffer, milliseconds against seconds of prefill) and
the tail that differs is removed. Only identical tokens are kept, so nothing of another
conversation survives the copy.

A slot remembers whose conversation it holds (``owner``). When another session needs the slot,
the owner's state is first saved to the ``SessionStateCache`` (``llama_state_seq_get_data``),
and the newcomer's saved state, if it has one that helps, is restored into the slot
(``llama_state_seq_set_data`` into this ``seq_id``): each session's state can land in whichever
slot it gets next time.
"""

from __future__ import annotations

import ctypes
import logging
import time
from dataclasses import dataclass, field

import llama_cpp
import numpy as np

from .generation import Generation
from .kv_cache import SavedState, SessionStateCache, common_prefix_length
from .loaded_model import LoadedModel
from .reply_text import ReplyText
from .sampling import SamplerChain

log = logging.getLogger(__name__)

MIN_REUSE_CHUNK = 32  # tokens: a shorter match later in the prompt is not worth a KV shift


@dataclass(eq=False)
class Slot:
    seq_id: int
    tokens: list[int] = field(default_factory=list)  # token ids at positions 0.. of this sequence
    owner: str | None = None  # session whose conversation the slot holds
    saved: bool = True  # the owner's conversation, as held now, is in the state cache (or not worth it)
    last_used: float = 0.0
    # the call being served, while there is one
    generation: Generation | None = None
    sampler: SamplerChain | None = None
    reply: ReplyText | None = None
    prompt_pos: int = 0  # index of the next prompt token to evaluate
    next_token: int | None = None  # sampled, decoded in the next step

    @property
    def busy(self) -> bool:
        return self.generation is not None

    @property
    def generating(self) -> bool:
        return self.next_token is not None

    def release(self) -> None:
        """The call is over; the KV entries stay for the owner's next turn."""
        if self.sampler is not None:
            self.sampler.close()
        self.generation = self.sampler = self.reply = self.next_token = None
        self.prompt_pos = 0
        self.last_used = time.monotonic()


class SequenceMemory:
    """KV operations on the slots of one context: reuse, shift, save, restore, clear."""

    def __init__(self, model: LoadedModel, states: SessionStateCache | None, *,
                 min_reuse_chunk: int = MIN_REUSE_CHUNK) -> None:
        self.model = model
        self.states = states
        self.min_reuse_chunk = min_reuse_chunk

    # whole sequences -------------------------------------------------------------------
    def clear(self, slot: Slot) -> None:
        if self.model.memory is not None:
            llama_cpp.llama_memory_seq_rm(self.model.memory, slot.seq_id, -1, -1)
        slot.tokens = []
        slot.owner, slot.saved = None, True

    def holds_exactly(self, slot: Slot) -> bool:
        """The context's cells for this sequence are positions 0..len(tokens)-1, as the slot thinks."""
        if self.model.memory is None:
            return False
        return llama_cpp.llama_memory_seq_pos_max(self.model.memory, slot.seq_id) + 1 == len(slot.tokens)

    def save(self, slot: Slot) -> None:
        """Put the owner's conversation into the state cache (before the slot goes to someone else)."""
        slot.saved = True
        if self.states is None or slot.owner is None or not slot.tokens:
            return
        if not self.holds_exactly(slot):
            log.warning("slot %d does not hold what it should; its state is not saved", slot.seq_id)
            return
        ctx = self.model.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, slot.seq_id)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, slot.seq_id)
        if written <= 0:
            return
        self.states.put(slot.owner, SavedState(np.asarray(slot.tokens, dtype=np.int32), ctypes.string_at(buffer, written)))

    def restore_if_better(self, slot: Slot, session: str, prompt: list[int]) -> bool:
        """Load ``session``'s saved state into ``slot`` when it shares more of ``prompt`` than
        the slot holds now. The state must be this session's and hold the tokens it says."""
        if self.states is None:
            return False
        saved_tokens = self.states.tokens(session)
        if saved_tokens is None:
            return False
        if common_prefix_length(saved_tokens, prompt) <= common_prefix_length(slot.tokens, prompt):
            return False
        state = self.states.get(session)
        if state is None or not state.belongs_to(session):
            return False
        return self._restore(slot, state)

    def _restore(self, slot: Slot, state: SavedState) -> bool:
        self.clear(slot)
        data = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        if llama_cpp.llama_state_seq_set_data(self.model.ctx, data, len(state.data), slot.seq_id) != len(state.data):
            self.clear(slot)
            return False  # the prompt is evaluated from scratch instead
        slot.tokens = [int(t) for t in state.tokens]
        if not self.holds_exactly(slot):
            self.clear(slot)
            return False
        return True

    def copy_from(self, donor: Slot, slot: Slot) -> None:
        """Make ``slot`` hold what ``donor`` holds (its owner's state was saved already); the
        buffer copy happens at the next decode, before that decode's tokens are placed."""
        llama_cpp.llama_memory_seq_cp(self.model.memory, donor.seq_id, slot.seq_id, -1, -1)
        slot.tokens = list(donor.tokens)

    # reuse within a sequence -----------------------------------------------------------
    def reuse(self, slot: Slot, prompt: list[int]) -> int:
        """Keep what ``slot`` holds of ``prompt`` and remove the rest; return how many prompt
        tokens need no evaluation. At least the last prompt token is always evaluated (its
        logits give the first reply token)."""
        limit = len(prompt) - 1
        held = len(slot.tokens)
        keep = min(common_prefix_length(slot.tokens, prompt), limit)
        if keep < held and self.model.can_shift and self.min_reuse_chunk > 0:
            keep = self._shift_chunks(slot, prompt, keep, limit)
        if keep < held:
            memory = self.model.memory
            if keep <= 0 or memory is None or not llama_cpp.llama_memory_seq_rm(memory, slot.seq_id, keep, -1):
                self.clear(slot)
                return 0
            slot.tokens = list(prompt[:keep])
        return keep

    def _shift_chunks(self, slot: Slot, prompt: list[int], keep: int, limit: int) -> int:
        """Move chunks of the held tokens that reappear further on in ``prompt`` down to their
        new positions (llama-server's cache reuse). Returns how much of ``prompt`` the sequence
        now holds at positions 0..; cells the loop skipped are left at higher positions."""
        memory, seq, cache = self.model.memory, slot.seq_id, slot.tokens
        head_c = head_p = keep
        while head_c < len(cache) and head_p < limit:
            n = 0
            while head_c + n < len(cache) and head_p + n < limit and cache[head_c + n] == prompt[head_p + n]:
                n += 1
            if n < self.min_reuse_chunk:
                head_c += 1
                continue
            if not llama_cpp.llama_memory_seq_rm(memory, seq, head_p, head_c):
                break
            llama_cpp.llama_memory_seq_add(memory, seq, head_c, head_c + n, head_p - head_c)
            head_c += n
            head_p += n
        return head_p
