"""Tokenize text exactly as the runtime does, without loading the weights.

Training has to feed the model the very token ids inference will send. transformers builds
its own tokenizer from a GGUF's vocabulary, and it does not always split text as llama.cpp
does (seen with SmolLM2: a space before "⅔" is a token of its own in llama.cpp and part of the
next token in transformers). So training tokenizes with llama.cpp's vocabulary-only load of the
same GGUF: the same call ``LlamaCppBackend`` makes on a prompt, at the cost of reading the
vocabulary (no weights, a second or so even for Mixtral).
"""

from __future__ import annotations

from pathlib import Path

from .cpu_features import apply_extra_buffers


class GgufVocab:
    def __init__(self, path: str | Path) -> None:
        from llama_cpp import Llama

        apply_extra_buffers()  # loads as every model in this process loads (no AMX buffers where they crash)
        self.path = Path(path)
        self._llm = Llama(str(self.path), vocab_only=True, verbose=False)

    def tokenize(self, text: str) -> list[int]:
        """Text with the chat template's special tokens in it -> ids (``LlamaCppBackend._tokenize_prompt``)."""
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def count_tokens(self, text: str) -> int:
        """What ``LlamaCppBackend.count_tokens`` says of ``text`` (no special tokens), e.g. to fit a prompt."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0

    def close(self) -> None:
        self._llm.close()
