"""Fitting earlier chat turns into the model's context window.

Deterministic on purpose: the same history and budget always give the same messages, so a
resumed session sends the model the same prefix and the runtime can reuse its saved KV state.
Older turns go first; a turn is kept whole or not at all (half a question confuses a small
model more than a missing one).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from ..runtime.protocol import Message

_ROLES = {"user": "user", "student": "user", "assistant": "assistant", "tutor": "assistant"}


def clean_history(history: Iterable[Mapping[str, str]]) -> list[Message]:
    """User/assistant turns only, empty ones dropped, runs of one role merged so that the
    turns alternate (some chat templates reject two user turns in a row)."""
    out: list[Message] = []
    for item in history:
        role = _ROLES.get(str(item.get("role", "")).lower())
        content = str(item.get("content") or "").strip()
        if role is None or not content:
            continue
        if out and out[-1]["role"] == role:
            out[-1] = Message(role=role, content=out[-1]["content"] + "\n\n" + content)
        else:
            out.append(Message(role=role, content=content))
    return out


def trim_history(history: Iterable[Mapping[str, str]], *, budget_tokens: int,
                 count_tokens: Callable[[str], int], max_messages: int | None = None,
                 per_message_overhead: int = 4) -> list[Message]:
    """The most recent turns whose tokens fit in ``budget_tokens``, starting with a user turn."""
    turns = clean_history(history)
    if max_messages is not None:
        turns = turns[-max_messages:] if max_messages > 0 else []
    kept: list[Message] = []
    used = 0
    for message in reversed(turns):
        cost = count_tokens(message["content"]) + per_message_overhead
        if used + cost > budget_tokens:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept
