"""Per-key locks for the services, so two requests about one session run one after the other.

A double click sends two answers at once; two browser tabs ask for the same reply. Each request
must see what the other left, so the services hold a lock per session (or per student) around
reading, deciding and writing. A fixed set of stripes, picked by the key's hash, stands in for
one lock per key: memory stays constant however many sessions a school runs, and two keys that
share a stripe only wait for each other's short work. Never hold one across a streamed reply,
or unrelated students would queue behind it.
"""

from __future__ import annotations

import threading

STRIPES = 64


class StripedLocks:
    def __init__(self, stripes: int = STRIPES) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def __call__(self, key: str) -> threading.Lock:
        """The lock for ``key``; the same key always gets the same lock in this process."""
        return self._locks[hash(key) % len(self._locks)]
