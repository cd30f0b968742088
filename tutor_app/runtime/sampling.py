"""How the next token of one sequence is chosen: a llama.cpp sampler chain per sequence.

Samplers hold state (the repeat-penalty window, a grammar's parse position), so every sequence
in the batch gets its own chain, built when its call takes a slot and freed when it leaves. The
chain is the one ``Llama.generate`` builds (penalties, then greedy at temperature 0 or
top-k/typical/top-p/min-p/temperature/dist), so replies read as they did before batching.

A JSON decision's grammar is its own sampler, used the way llama.cpp's common sampler does:
the chain picks a token first and the grammar only checks that one token; only when the grammar
rejects it is the grammar applied to the whole vocabulary and the token picked again. Applying a
grammar to 49k candidates costs several times a small model's decode step, and the model's own
choice is usually valid, so a batch of grading calls spends its time decoding, not filtering.
At temperature 0 the result is the same token either way (the best valid token).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import llama_cpp
import llama_cpp._internals as internals
import numpy as np
from llama_cpp.llama_grammar import LlamaGrammar

PENALTY_LAST_N = 64  # llama-cpp-python's last_n_tokens_size
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


@dataclass(frozen=True)
class Sampling:
    """Sampler settings besides temperature (llama.cpp's defaults; ``repeat_penalty`` is a little
    above 1 because small models loop)."""

    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.1


class SamplerChain:
    """One sequence's sampler chain; ``sample`` picks from the logits of batch row ``row``."""

    def __init__(self, model: internals.LlamaModel, sampling: Sampling, *, temperature: float, seed: int,
                 grammar: LlamaGrammar | None = None) -> None:
        chain = internals.LlamaSampler()
        chain.add_penalties(n_vocab=model.n_vocab(), penalty_last_n=PENALTY_LAST_N,
                            penalty_repeat=sampling.repeat_penalty, penalty_freq=0.0, penalty_present=0.0)
        if temperature <= 0.0:
            chain.add_greedy()
        else:
            chain.add_top_k(sampling.top_k)
            chain.add_typical(1.0, 1)
            chain.add_top_p(sampling.top_p, 1)
            chain.add_min_p(sampling.min_p, 1)
            chain.add_temp(temperature)
            chain.add_dist(seed)
        self._chain = chain
        self._grammar = None
        if grammar is not None:
            self._grammar = llama_cpp.llama_sampler_init_grammar(
                model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
            if not self._grammar:
                chain.close()
                raise ValueError("llama.cpp cannot parse the grammar")
            self._vocab = model.n_vocab()
            self._ids = np.arange(self._vocab, dtype=np.int32)
            self._candidates = np.zeros(self._vocab, dtype=_TOKEN_DATA)
            self._one = np.zeros(1, dtype=_TOKEN_DATA)

    def sample(self, ctx: llama_cpp.llama_context_p, row: int) -> int:
        """Sample (and accept) the next token from the logits of row ``row`` of the last decode."""
        if self._grammar is None:
            return llama_cpp.llama_sampler_sample(self._chain.sampler, ctx, row)
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, row), shape=(self._vocab,))
        token = self._pick(logits, with_grammar=False)
        self._one[0] = (token, 0.0, 0.0)
        llama_cpp.llama_sampler_apply(self._grammar, self._array(self._one))
        if not np.isfinite(self._one[0]["logit"]):  # the grammar rejects the model's choice: pick among valid ones
            token = self._pick(logits, with_grammar=True)
        llama_cpp.llama_sampler_accept(self._grammar, token)
        llama_cpp.llama_sampler_accept(self._chain.sampler, token)
        return token

    def _pick(self, logits: np.ndarray, *, with_grammar: bool) -> int:
        candidates = self._candidates
        candidates["id"] = self._ids  # the chain may have sorted or cut the array last time
        candidates["logit"] = logits
        candidates["p"] = 0.0
        array = self._array(candidates)
        if with_grammar:
            llama_cpp.llama_sampler_apply(self._grammar, array)
        llama_cpp.llama_sampler_apply(self._chain.sampler, array)
        return int(array.contents.data[array.contents.selected].id)

    @staticmethod
    def _array(data: np.ndarray) -> ctypes.pointer:
        return ctypes.pointer(llama_cpp.llama_token_data_array(
            data=data.ctypes.data_as(llama_cpp.llama_token_data_p), size=len(data), selected=-1, sorted=False))

    def close(self) -> None:
        if self._grammar is not None:
            llama_cpp.llama_sampler_free(self._grammar)
            self._grammar = None
        self._chain.close()
