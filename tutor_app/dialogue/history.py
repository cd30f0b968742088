"""Fitting earlier chat turns into the model's context window.

Deterministic on purpose: the same history and budget always give the same messages, so a
resumed session sends the model the same prefix and the runtime can reuse its saved KV state.
Older turns go first; a turn is kept whole or not at all (half a question confuses a small
model more than a missing one).

Stable on purpose too: a window that slides by one turn each time changes the prompt right
after the system message on every turn, so the backend's saved prefix no longer matches and the
whole history is evaluated again (the tutor chat's time to first token went from 0.9 s to 4 s
from the 8th question on). So the oldest turns are dropped in chunks (half the window at a
time): the kept part starts at the same message turn after turn until the window is full again.
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
                 per_message_overhead: int = 4, drop_chunk: int = 1) -> list[Message]:
    """The most recent turns whose tokens fit in ``budget_tokens`` (at most ``max_messages`` of
    them), starting with a user turn. The turns left out are always a multiple of ``drop_chunk``
    messages (before the first user turn), so with a chunk above 1 the kept part keeps its first
    message while the conversation grows."""
    turns = clean_history(history)
    chunk = max(1, drop_chunk)
    start = 0
    if max_messages is not None:
        if max_messages <= 0:
            return []
        over = len(turns) - max_messages
        start = -(-over // chunk) * chunk if over > 0 else 0
    used = sum(count_tokens(m["content"]) + per_message_overhead for m in turns[start:])
    while start < len(turns) and used > budget_tokens:
        used -= sum(count_tokens(m["content"]) + per_message_overhead for m in turns[start:start + chunk])
        start += chunk
    kept = turns[start:]
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


def with_history(rendered: Iterable[Mapping[str, str]], history: Iterable[Mapping[str, str]], *,
                 count_tokens: Callable[[str], int] | None, n_ctx: int, max_tokens: int, max_messages: int
                 ) -> list[Message]:
    """A rendered prompt's system messages, then the recent ``history`` that fits beside it and
    the reply, then the prompt's own turn. The system part goes first and stays fixed while the
    turns change, and old turns leave in chunks of half the window, so the runtime's saved
    prefix (KV cache) still matches on the next turn."""
    rendered = list(rendered)
    system = [m for m in rendered if m["role"] == "system"]
    turn = [m for m in rendered if m["role"] != "system"]
    count = count_tokens or (lambda text: max(1, len(text) // 4))
    fixed = sum(count(m["content"]) + 4 for m in rendered)
    budget = max(0, n_ctx - max_tokens - fixed - 16)
    earlier = trim_history(history, budget_tokens=budget, count_tokens=count, max_messages=max_messages,
                           drop_chunk=window_chunk(max_messages))
    if earlier and earlier[-1]["role"] == "user":
        earlier = earlier[:-1]  # keep the turns alternating before the prompt's own user turn
    return ([Message(role=m["role"], content=m["content"]) for m in system] + earlier
            + [Message(role=m["role"], content=m["content"]) for m in turn])


def window_chunk(max_messages: int) -> int:
    """How many messages leave the window at a time: half of it, an even number so that the
    kept part still starts with the student's turn."""
    return max(2, max_messages // 4 * 2)
