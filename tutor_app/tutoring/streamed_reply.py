"""A tutor reply is stored while it streams, so that a crash keeps what the student already read.

One row per reply: written at its first words, rewritten with the text so far whenever
``FLUSH_CHARS`` more characters or ``FLUSH_S`` seconds have come since the last write, and once
more at the end with the model's figures and ``complete``. Each write happens before that text is
shown, so when the process dies mid-reply (SIGKILL, a power cut) the transcript lacks at most the
last ``FLUSH_CHARS`` characters the student saw. Writing at every token instead would cost one
transaction per token per student.

If the database fails in the middle, the student still gets the reply (their question was stored
before it started); the failure is on the teacher's page, and the next write tries again.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from ..runtime.protocol import GenerationStats
from ..storage.database import StorageUnavailable
from .store import TutoringStore

log = logging.getLogger(__name__)

FLUSH_CHARS = 80
FLUSH_S = 1.0


class StreamedReply:
    def __init__(self, store: TutoringStore, *, session_id: str, step_id: str | None, model_name: str,
                 adapter: str | None = None, reply_to: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``reply_to``: the stored question this reply answers (questions are answered in order)."""
        self._store = store
        self._session_id = session_id
        self._step_id = step_id
        self._model_name = model_name
        self._reply_to = reply_to
        self._adapter = adapter
        self._clock = clock
        self._message_id: int | None = None
        self._stored = ""  # the text as last written
        self._stored_at = 0.0

    def grew(self, text: str) -> None:
        """Call with the whole reply so far, before showing it."""
        if not text.strip() or text == self._stored:
            return
        due = (self._message_id is None or len(text) - len(self._stored) >= FLUSH_CHARS
               or self._clock() - self._stored_at >= FLUSH_S)
        if due:
            self._write(text, complete=False, stats=None)

    def finish(self, text: str, *, complete: bool, stats: GenerationStats | None,
               guard_rule: str | None = None) -> None:
        """The reply as it ended: all of it, or what was shown when the reader stopped or the model
        failed; ``guard_rule`` when the answer-leak guard cut it."""
        if text.strip():
            self._write(text, complete=complete, stats=stats, guard_rule=guard_rule)

    def _write(self, text: str, *, complete: bool, stats: GenerationStats | None,
               guard_rule: str | None = None) -> None:
        figures = dict(prompt_tokens=stats.prompt_tokens, evaluated_tokens=stats.evaluated_tokens,
                       completion_tokens=stats.completion_tokens, ttft_s=stats.time_to_first_token_s,
                       total_s=stats.total_s) if stats else {}
        try:
            if self._message_id is None:
                self._message_id = self._store.add_message(
                    session_id=self._session_id, role="tutor", content=text, step_id=self._step_id,
                    model_name=self._model_name, complete=complete, reply_to=self._reply_to,
                    adapter=self._adapter, guard_rule=guard_rule, **figures).id
            else:
                self._store.update_message(message_id=self._message_id, content=text, complete=complete,
                                           guard_rule=guard_rule, **figures)
        except StorageUnavailable:
            log.warning("a tutor reply could not be stored yet (%d characters); trying again at the next words",
                        len(text))
            return
        self._stored, self._stored_at = text, self._clock()
