"""A conversation as the exact prompt text the model was trained on: the GGUF's own chat template.

The prompt is rendered here rather than by a server-side chat handler so that the exact prompt
tokens are known: successive turns of a conversation then share a token prefix, which is what
lets the engine reuse a session's KV state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .protocol import Message, ModelError

if TYPE_CHECKING:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

# Used when a GGUF carries no chat template: ChatML is what most small instruct models expect.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def chat_formatter(template: str | None, *, bos_token: str, eos_token: str) -> "Jinja2ChatFormatter":
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # here: training renders with this module too

    return Jinja2ChatFormatter(template=template or CHATML_TEMPLATE, eos_token=eos_token, bos_token=bos_token,
                               add_generation_prompt=True)


def render_prompt(formatter: "Jinja2ChatFormatter", messages: Sequence[Message]) -> str:
    """The prompt text. Templates that refuse a system role or non-alternating turns (Mixtral's)
    get the same conversation folded into user turns."""
    msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
    try:
        return formatter(messages=msgs).prompt
    except Exception as first:  # jinja2 errors and the template's own raise_exception
        try:
            return formatter(messages=alternating(msgs)).prompt
        except Exception:
            raise ModelError(f"the model's chat template cannot render this conversation: {first}") from first


def alternating(messages: list[dict]) -> list[dict]:
    """The conversation as strictly alternating user/assistant turns starting with the user:
    system text goes in front of the first user message, neighbours with one role merge.
    (Training renders its examples with this fallback too, so they match what the model sees.)"""
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
