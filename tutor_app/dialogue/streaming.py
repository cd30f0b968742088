"""A model's streamed reply as plain chunks, stopped the moment nobody reads it any more.

The tutor chat and the conversation character both stream, and both must stop the model
when the student leaves (``cancel``) or the reader closes the stream early (a leak cut, a
retry): otherwise the one model of the school keeps writing for nobody while others wait.
"""

from __future__ import annotations

import threading
from typing import Iterator, Sequence

from ..runtime.protocol import Message, ModelBackend, StatsCallback


def model_chunks(model: ModelBackend, messages: Sequence[Message], *, max_tokens: int, temperature: float,
                 stop: Sequence[str], session_key: str | None,
                 cancel: threading.Event | None = None, on_stats: StatsCallback | None = None) -> Iterator[str]:
    """The non-empty chunks of the reply; ends quietly once ``cancel`` is set. Model errors
    reach the reader. Closing the iterator stops the model. ``on_stats`` gets this reply's usage."""
    stop_model = threading.Event()
    stream = None
    try:
        stream = model.stream_chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                   session_key=session_key, cancel=stop_model, on_stats=on_stats)
        for chunk in stream:
            if cancel is not None and cancel.is_set():
                return
            if chunk:
                yield chunk
    finally:
        stop_model.set()
        close = getattr(stream, "close", None)
        if callable(close):
            close()
