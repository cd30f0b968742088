"""Tokens in, the text a caller should see out: UTF-8 across token boundaries, stop strings.

The engine feeds each sampled token of a sequence through its ``ReplyText``; what comes out is
safe to show (a stop string and anything after it never is), and ``hit`` tells the engine to end
that sequence at once, which frees its slot for the next call.
"""

from __future__ import annotations

import codecs
from typing import Sequence


class StopScanner:
    """Find stop strings in streamed text, holding back only what could still start one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self.stops:
            return text, False
        self.pending += text
        hits = [i for i in (self.pending.find(s) for s in self.stops) if i >= 0]
        if hits:
            emit, self.pending = self.pending[:min(hits)], ""
            return emit, True
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.pending)), 0, -1):
                if self.pending.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        emit = self.pending[:len(self.pending) - hold]
        self.pending = self.pending[len(self.pending) - hold:]
        return emit, False

    def flush(self) -> str:
        rest, self.pending = self.pending, ""
        return rest


class ReplyText:
    """One reply's text: bytes of tokens decoded incrementally (a character may span tokens),
    leading whitespace dropped, stop strings cut."""

    def __init__(self, stop: Sequence[str]) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = StopScanner(stop)
        self._leading = True

    def feed(self, piece: bytes) -> tuple[str, bool]:
        """(text to show now, whether a stop string was hit)."""
        text = self._decoder.decode(piece)
        if self._leading:
            text = text.lstrip()
            self._leading = not text
        return self._stops.feed(text)

    def finish(self) -> str:
        """What was held back, at the end of a reply that hit no stop string."""
        return self._stops.feed(self._decoder.decode(b"", final=True))[0] + self._stops.flush()
