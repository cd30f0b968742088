"""Guessing at the sign-in door is slowed down without locking the right person out.

A PIN has a million values, so wrong guesses must cost the guesser; but a lockout per name alone
lets anyone lock the teacher out by typing five wrong passwords a minute. And every check of a
secret costs ~70 ms of CPU (scrypt), so a flood of guesses is also a way to slow the server for
the class. Three limits, decided before any secret is checked:

- **per client address**: a bucket of ``ADDRESS_BURST`` tries, refilled at ``ADDRESS_PER_MINUTE``
  a minute (a try that succeeds is given back). An address that empties it is told to wait, and
  nothing is checked, so a flood costs the server almost nothing;
- **per name and address**: ``MAX_FAILURES`` wrong secrets lock that name *from that address*
  for ``LOCKOUT_S``; the same name from another computer is not affected;
- **per name, across addresses** (slower): once a name has had ``NAME_ALARM`` failures within
  ``NAME_WINDOW_S``, every address that has failed on it is refused until the window has
  passed. An address that has not failed on the name is still checked, so the right secret from
  the teacher's own computer always gets in, while each new computer an attacker brings gets
  one try.

All counters live in memory, in caches with a size limit and a time to live each: a flood of
made-up names or addresses evicts old entries instead of growing the process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from cachetools import TTLCache

MAX_FAILURES = 5
LOCKOUT_S = 60.0
NAME_ALARM = 20
NAME_WINDOW_S = 600.0
ADDRESS_BURST = 30  # a class behind one address signs in at once
ADDRESS_PER_MINUTE = 30
MAX_ENTRIES = 10_000  # per counter: about 2 MB at most, whoever sends what


@dataclass(frozen=True)
class Refusal:
    """Why a try was not even checked, for the person; ``retry_after_s`` for the HTTP header."""

    message: str
    retry_after_s: int


@dataclass
class _Pair:
    failures: int = 0  # in the current round; a round ends with a lockout
    locked_until: float = 0.0


@dataclass
class _Bucket:
    tokens: float
    at: float


class SignInThrottle:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs: TTLCache = TTLCache(max_entries, NAME_WINDOW_S, timer=clock)  # (name, address) -> _Pair
        self._names: TTLCache = TTLCache(max_entries, NAME_WINDOW_S, timer=clock)  # name -> failures
        self._addresses: TTLCache = TTLCache(max_entries, 2 * 60.0 * ADDRESS_BURST / ADDRESS_PER_MINUTE,
                                             timer=clock)  # address -> _Bucket

    def admit(self, key: str, address: str) -> Refusal | None:
        """Before checking a secret for the name ``key`` from ``address``: None to go ahead (one try
        is taken from the address's bucket), or why not."""
        with self._lock:
            now = self._clock()
            pair = self._pairs.get((key, address))
            if pair is not None and now < pair.locked_until:
                return Refusal("Too many wrong tries for this name from this computer. Wait a minute, then "
                               "try again; if you forgot your PIN, ask your teacher for a new one.",
                               _seconds(pair.locked_until - now))
            if pair is not None and self._names.get(key, 0) >= NAME_ALARM:
                return Refusal("Too many wrong tries for this name. This computer must wait before trying it "
                               "again; ask your teacher if you forgot your PIN.", int(NAME_WINDOW_S))
            bucket = self._bucket(address, now)
            if bucket.tokens < 1:
                return Refusal("Too many sign-in attempts from this computer. Wait a little, then try again.",
                               _seconds((1 - bucket.tokens) * 60.0 / ADDRESS_PER_MINUTE))
            bucket.tokens -= 1
            self._addresses[address] = bucket
            return None

    def record(self, key: str, address: str, *, success: bool) -> None:
        """After a secret was checked for an admitted try."""
        with self._lock:
            now = self._clock()
            if success:
                self._pairs.pop((key, address), None)
                bucket = self._bucket(address, now)
                bucket.tokens = min(ADDRESS_BURST, bucket.tokens + 1)
                self._addresses[address] = bucket
                return
            pair = self._pairs.get((key, address)) or _Pair()
            if pair.failures >= MAX_FAILURES:
                pair = _Pair()  # a lockout that ran out starts a new round
            pair.failures += 1
            if pair.failures >= MAX_FAILURES:
                pair.locked_until = now + LOCKOUT_S
            self._pairs[(key, address)] = pair  # (re)set: the entry lives NAME_WINDOW_S from now
            self._names[key] = self._names.get(key, 0) + 1

    def sizes(self) -> dict[str, int]:
        """How many entries each counter holds (bounded by ``max_entries``)."""
        with self._lock:
            return {"pairs": len(self._pairs), "names": len(self._names), "addresses": len(self._addresses)}

    def _bucket(self, address: str, now: float) -> _Bucket:
        bucket = self._addresses.get(address) or _Bucket(ADDRESS_BURST, now)
        bucket.tokens = min(ADDRESS_BURST, bucket.tokens + (now - bucket.at) * ADDRESS_PER_MINUTE / 60.0)
        bucket.at = now
        return bucket


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))
