"""How the next token of one sequence is chosen: a llama.cpp sampler chain per sequence.

Samplers hold state (the repeat-penalty window, a grammar's parse position), so every sequence
in the batch gets its own chain, built when its call takes a slot and freed when it leaves. The
chain is the one ``Llama.generate`` builds (penalties, grammar, then greedy at temperature 0 or
top-k/typical/top-p/min-p/temperature/dist), so replies read as they did before batching.
"""

from __future__ import annotations

from dataclasses import dataclass

import llama_cpp
import llama_cpp._internals as internals
from llama_cpp.llama_grammar import LlamaGrammar

PENALTY_LAST_N = 64  # llama-cpp-python's last_n_tokens_size


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
        if grammar is not None:
            chain.add_grammar(model, grammar)
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

    def sample(self, ctx: llama_cpp.llama_context_p, row: int) -> int:
        """Sample (and accept) the next token from the logits of row ``row`` of the last decode."""
        return llama_cpp.llama_sampler_sample(self._chain.sampler, ctx, row)

    def close(self) -> None:
        self._chain.close()
