"""One writer for each conversation's reply, also across a district's app processes.

A student's message and the character's reply are two requests. A second request for the same
reply (a second tab, a retried API call, the load balancer sending the retry to another app
process) must be refused while the first is written, or the conversation gets two answers to
one message. The claim lives in the conversation's row (``reply_claim``), taken by one
conditional UPDATE, so it holds across processes without a transaction left open while the
model writes (a model reply can wait minutes in the line; an open transaction holds a database
connection all that time).

A process that dies while writing cannot give its claim back, so a claim is only good while
its holder renews it: one thread per process renews all of its claims every ``KEEP_EVERY_S``,
and a claim not renewed for ``STALE_AFTER_S`` may be taken by the next request. The renewal is
separate from the reply's tokens because a reply waiting for a free place in the model's line
produces none.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import timedelta

from ..storage.base import utcnow
from .store import ConversationStore

log = logging.getLogger(__name__)

KEEP_EVERY_S = 20.0
STALE_AFTER_S = 90.0  # several missed renewals: the holder is gone, not slow


class ReplyClaims:
    def __init__(self, store: ConversationStore, *, keep_every_s: float = KEEP_EVERY_S,
                 stale_after_s: float = STALE_AFTER_S) -> None:
        self.store = store
        self.keep_every_s = keep_every_s
        self.stale_after_s = stale_after_s
        self._held: dict[str, str] = {}  # conversation id -> this process's token
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._keeper: threading.Thread | None = None

    def take(self, session_id: str) -> str | None:
        """This request's token for writing the reply, or None while someone else writes it."""
        token = secrets.token_hex(16)
        stale_before = utcnow() - timedelta(seconds=self.stale_after_s)
        if not self.store.claim_reply(session_id=session_id, token=token, stale_before=stale_before):
            return None
        with self._lock:
            self._held[session_id] = token
            if self._keeper is None and not self._closed.is_set():
                self._keeper = threading.Thread(target=self._keep, name="reply-claims", daemon=True)
                self._keeper.start()
        return token

    def give_back(self, session_id: str, token: str) -> None:
        with self._lock:
            if self._held.get(session_id) == token:
                del self._held[session_id]
        try:
            self.store.release_reply(session_id=session_id, token=token)
        except Exception:  # the reply is stored; the claim goes stale and the next request takes it
            log.warning("could not give back the reply claim of a conversation", exc_info=True)

    def held(self) -> dict[str, str]:
        with self._lock:
            return dict(self._held)

    def close(self) -> None:
        self._closed.set()
        keeper = self._keeper
        if keeper is not None:
            keeper.join(timeout=5)

    def _keep(self) -> None:
        while not self._closed.wait(self.keep_every_s):
            held = self.held()
            if not held:
                continue
            try:
                self.store.keep_claims(claims=held)
            except Exception:  # the database is down: retried next round, before the claims go stale
                log.warning("could not renew %d reply claim(s)", len(held), exc_info=True)
