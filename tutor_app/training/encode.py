"""Examples to token ids and labels: what the model reads, and which of its tokens it learns.

Pure over a ``tokenize`` function (text with special tokens -> ids), so the rules are tested
with a toy tokenizer and the real one is checked against llama.cpp's separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from .chat_render import ChatRenderer, TemplateError
from .examples import ChatExample

IGNORE = -100  # the label PyTorch's cross-entropy skips: context, not something to learn
Tokenize = Callable[[str], list[int]]


@dataclass(frozen=True)
class EncodedExample:
    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


@dataclass
class EncodedSet:
    examples: list[EncodedExample] = field(default_factory=list)
    too_long: int = 0  # left out: longer than max_tokens (cutting would break the template)
    problems: list[str] = field(default_factory=list)  # left out: the template or tokenizer could not place the reply

    @property
    def trained_tokens(self) -> int:
        return sum(e.trained_tokens for e in self.examples)


class EncodeError(ValueError):
    pass


def encode_example(example: ChatExample, renderer: ChatRenderer, tokenize: Tokenize) -> EncodedExample:
    """The conversation up to its last trained reply; labels on the trained replies' tokens.

    A reply's tokens are those after its prompt's tokens, checked to be a prefix of the whole
    conversation's tokens: were they not (a merge across the boundary), the model would learn
    to continue a token sequence inference never sends."""
    messages = example.as_messages()
    turns = [t for t in renderer.assistant_turns(messages) if t.index in example.trained_indexes]
    if not turns:
        raise EncodeError("no trained assistant reply follows a user message")
    ids = tokenize(turns[-1].through)
    labels = [IGNORE] * len(ids)
    for turn in turns:
        prompt, through = tokenize(turn.prompt), tokenize(turn.through)
        start, end = len(prompt), len(through)
        if ids[:start] != prompt or ids[:end] != through:
            raise EncodeError(f"reply {turn.index + 1}: its prompt does not tokenize to a prefix of the conversation")
        labels[start:end] = ids[start:end]
    return EncodedExample(ids, labels)


def encode_examples(examples: Sequence[ChatExample], renderer: ChatRenderer, tokenize: Tokenize,
                    max_tokens: int) -> EncodedSet:
    encoded = EncodedSet()
    for number, example in enumerate(examples, start=1):
        try:
            item = encode_example(example, renderer, tokenize)
        except (EncodeError, TemplateError) as exc:
            encoded.problems.append(f"example {number}: {exc}")
            continue
        if len(item.input_ids) > max_tokens:
            encoded.too_long += 1
            continue
        encoded.examples.append(item)
    return encoded
