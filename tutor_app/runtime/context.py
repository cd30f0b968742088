"""Keep a conversation inside the model's context window, deterministically and without failing.

A tutoring session grows turn by turn until prompt + reply no longer fit in ``n_ctx``. Then the
oldest turns are dropped: the system message(s) and the latest turns stay, and a one-line note
tells the model that earlier turns were left out.

Dropping is *stable*: the cut is decided by replaying the conversation's history of prompts,
cutting to about half the room whenever a prompt overflowed. So once turns were dropped, the
next turns keep the same cut (and therefore the same prompt prefix, whose KV state the backend
reuses) until the window fills again, instead of re-cutting, and re-evaluating everything, on
every turn. Token counts come from a ``count_tokens`` callable, so this is a pure function that
tests drive with any counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from .protocol import Message

OMITTED_NOTE = "(Earlier turns of this conversation were left out to fit the model's memory.)"
ELLIPSIS = " … "


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[Message]
    max_tokens: int  # may be lower than asked when even the latest turn leaves too little room
    dropped_messages: int = 0
    truncated: bool = False  # a message's text had to be shortened (a single huge turn)


def fit_to_context(messages: Sequence[Message], *, n_ctx: int, max_tokens: int,
                   count_tokens: Callable[[str], int], per_message_tokens: int = 8,
                   min_reply_tokens: int = 32, keep_fraction: float = 0.5) -> FittedPrompt:
    """Return ``messages`` cut so that prompt + ``max_tokens`` fits in ``n_ctx``.

    ``per_message_tokens`` is what the chat template adds around each message (role markers).
    """
    msgs: list[Message] = [{"role": m["role"], "content": m["content"]} for m in messages]
    n_lead = 0
    while n_lead < len(msgs) and msgs[n_lead]["role"] == "system":
        n_lead += 1
    lead, rest = msgs[:n_lead], msgs[n_lead:]

    def cost(message: Message) -> int:
        return count_tokens(message["content"]) + per_message_tokens

    costs = [cost(m) for m in rest]
    lead_cost = sum(cost(m) for m in lead)
    note: Message = {"role": "system", "content": OMITTED_NOTE}
    note_cost = cost(note)
    room = n_ctx - max_tokens

    def prompt_cost(cut: int, end: int) -> int:
        return lead_cost + (note_cost if cut > 0 else 0) + sum(costs[cut:end])

    cut = _stable_cut(rest, prompt_cost, room, keep_fraction)
    kept = lead + ([note] if cut > 0 else []) + rest[cut:]
    total = prompt_cost(cut, len(rest))
    if total + max_tokens <= n_ctx:
        return FittedPrompt(kept, max_tokens, dropped_messages=cut)

    # Even the latest turn leaves too little room: give the reply less, down to a floor.
    floor = max(1, min(min_reply_tokens, max_tokens))
    reply = max(floor, n_ctx - total)
    if total + reply <= n_ctx:
        return FittedPrompt(kept, reply, dropped_messages=cut)

    # A single turn (or the system message) is larger than the window: shorten the longest texts.
    kept, total = _shorten(kept, n_ctx - floor, cost)
    return FittedPrompt(kept, max(1, min(floor, n_ctx - total)), dropped_messages=cut, truncated=True)


def _stable_cut(rest: list[Message], prompt_cost: Callable[[int, int], int], room: int,
                keep_fraction: float) -> int:
    """Replay the prompts this conversation has sent (each ended with a student message) and
    return where the kept part starts now. Cuts fall only before a user message so the kept
    part starts a turn, and never past the latest message."""
    turn_starts = [i for i, m in enumerate(rest) if m["role"] == "user"]
    checkpoints = [i + 1 for i in turn_starts] + [len(rest)]
    cut = 0
    for end in checkpoints:
        if end == 0 or prompt_cost(cut, end) <= room:
            continue
        options = [c for c in turn_starts if cut < c <= end - 1] or ([end - 1] if end - 1 > cut else [])
        if not options:
            continue
        target = room * keep_fraction
        fitting = [c for c in options if prompt_cost(c, end) <= target]
        cut = fitting[0] if fitting else options[-1]
    return cut


def _shorten(kept: list[Message], room: int, cost: Callable[[Message], int]) -> tuple[list[Message], int]:
    """Cut the middle out of the longest messages until the prompt fits in ``room`` tokens.
    The middle goes because a message's start (instructions) and end (the question) matter most."""
    kept = [dict(m) for m in kept]  # type: ignore[misc]
    for _ in range(4 * len(kept) + 8):
        costs = [cost(m) for m in kept]
        total = sum(costs)
        if total <= room:
            return kept, total
        i = max(range(len(kept)), key=lambda k: (len(kept[k]["content"]), -k))
        text = kept[i]["content"]
        if len(text) <= 2 * len(ELLIPSIS):
            if len(text) == 0:
                break
            kept[i]["content"] = ""
            continue
        excess = total - room
        share = max(0.0, 1.0 - (excess + 2) / max(costs[i], 1))
        keep_chars = min(int(len(text) * share), len(text) - len(ELLIPSIS) - 1)
        keep_chars = max(keep_chars, 0)
        head = (keep_chars + 1) // 2
        tail = keep_chars - head
        kept[i]["content"] = text[:head] + ELLIPSIS + (text[len(text) - tail:] if tail else "")
    return kept, sum(cost(m) for m in kept)
