"""Render training conversations exactly as the app renders prompts at inference.

A fine-tune that sees its examples in another layout than the one it answers in learns the
wrong thing; the usual cause of "the GGUF behaves differently from the trained model" is a
chat-template mismatch (design/lora.md). So the template is the one the *runtime* uses: the
GGUF's own ``tokenizer.chat_template`` (ChatML when it has none), rendered with the settings of
llama-cpp-python's ``Jinja2ChatFormatter`` (sandboxed Jinja, ``trim_blocks``, ``lstrip_blocks``,
``raise_exception``, the ``{% generation %}`` tag ignored), and with the runtime's fallback for
templates that refuse a system role or non-alternating turns (Mixtral's): the conversation
folded into alternating user/assistant turns. ``tests/test_training_chat.py`` checks the text
and the token ids against ``LlamaCppBackend`` itself.

Which tokens are trained: an assistant turn's tokens are those after the prompt the runtime
would have sent for that turn (the conversation so far plus the generation prompt) up to and
including the end-of-turn token, so the model learns to start where inference starts and to
stop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..runtime.chat_template import CHATML_TEMPLATE
from ..runtime.chat_template import alternating as fold_to_alternating  # the runtime's fallback, the same turns



class TemplateError(ValueError):
    """The chat template cannot render a conversation, or renders a reply that does not follow its prompt."""


class _IgnoreGenerationTags(jinja2.ext.Extension):
    """Hugging Face's ``{% generation %}`` marks assistant text; rendering passes it through."""

    tags = {"generation"}

    def parse(self, parser):
        parser.stream.skip(1)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators=None,
            sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise(message: str):
    raise TemplateError(message)


@dataclass(frozen=True)
class AssistantTurn:
    """One trainable reply: ``prompt`` is what the runtime sends for it, ``through`` the same
    conversation with the reply and its end-of-turn marker (``prompt`` is a prefix of it)."""

    index: int  # position of the reply in the conversation's messages
    prompt: str
    through: str


class ChatRenderer:
    def __init__(self, template: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        self.template = template or CHATML_TEMPLATE
        self.bos_token = bos_token
        self.eos_token = eos_token
        environment = ImmutableSandboxedEnvironment(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True,
                                                    extensions=[_IgnoreGenerationTags, jinja2.ext.loopcontrols])
        environment.filters["tojson"] = _tojson
        try:
            self._compiled = environment.from_string(self.template)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"the chat template does not parse: {exc}") from exc

    @classmethod
    def from_gguf_metadata(cls, metadata: Mapping[str, Any], tokens: Sequence[str]) -> "ChatRenderer":
        """The renderer the runtime builds for a GGUF: its template and its BOS/EOS token texts."""
        def text(key: str) -> str:
            token = metadata.get(key)
            return tokens[int(token)] if token is not None and 0 <= int(token) < len(tokens) else ""

        return cls(metadata.get("tokenizer.chat_template"), bos_token=text("tokenizer.ggml.bos_token_id"),
                   eos_token=text("tokenizer.ggml.eos_token_id"))

    def render(self, messages: Sequence[Mapping[str, str]], *, add_generation_prompt: bool) -> str:
        """The conversation as the model sees it; the runtime's fold to alternating turns when the
        template refuses it as it is."""
        msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
        try:
            return self._render(msgs, add_generation_prompt)
        except Exception as first:
            try:
                return self._render(fold_to_alternating(msgs), add_generation_prompt)
            except Exception:
                raise TemplateError(f"the chat template cannot render this conversation: {first}") from first

    def assistant_turns(self, messages: Sequence[Mapping[str, str]]) -> list[AssistantTurn]:
        """Every assistant message after the first user message, with its prompt and its end."""
        turns = []
        for index, message in enumerate(messages):
            if message["role"] != "assistant" or not any(m["role"] == "user" for m in messages[:index]):
                continue
            prompt = self.render(messages[:index], add_generation_prompt=True)
            through = self.render(messages[:index + 1], add_generation_prompt=False).rstrip()
            if not through.startswith(prompt) or len(through) == len(prompt):
                raise TemplateError(f"the chat template does not write reply {index + 1} after the prompt for it, "
                                    "so the reply's tokens cannot be told apart")
            turns.append(AssistantTurn(index=index, prompt=prompt, through=through))
        return turns

    def _render(self, messages: list[dict], add_generation_prompt: bool) -> str:
        return self._compiled.render(messages=messages, bos_token=self.bos_token, eos_token=self.eos_token,
                                     add_generation_prompt=add_generation_prompt, raise_exception=_raise,
                                     strftime_now=lambda f: datetime.now().strftime(f))
