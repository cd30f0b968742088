"""Who gets the next free place at the model: the order shared by the app's queue and the engine.

A model serves a few calls at once (the slots of a batched llama.cpp context, or the parallel
requests a model server takes). When more calls wait than there are places, the order decides
what a student feels:
- a student's call (``interactive``) goes before batch work (grading a class set, drafting);
- within one kind, sessions take turns: the session whose last call started longest ago goes
  first, then arrival order. So no session waits behind more than one call of any other session
  of its kind, however many calls that other session queued (a teacher's batch of 120 grading
  calls does not starve a second teacher's batch, and a student who asks twice does not get
  ahead of one who asked once);
- batch work never takes the last places: ``batch_places`` leaves some for students, so a
  student arriving while a class set is being graded starts at once instead of waiting for a
  grading call to finish.

``FairLine`` is plain data (no threads, no clock): the queue and the engine each hold one under
their own lock, and the tests drive it directly.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, TypeVar

from .protocol import Priority

Item = TypeVar("Item", bound=Hashable)

PRIORITY_RANK = {"interactive": 0, "batch": 1}
REMEMBERED_SESSIONS = 10_000  # when each session was last served; older ones count as never served


def batch_places(places: int) -> int:
    """How many of ``places`` batch work may hold at once: all but a quarter (rounded down), so a
    student finds a free place while a class set is graded on 4 or more places."""
    return max(1, places - places // 4)


@dataclass(frozen=True)
class _Waiting(Generic[Item]):
    item: Item
    session: str
    rank: int
    arrival: int


class FairLine(Generic[Item]):
    """Calls waiting for a place, in the order they will get one (see the module's docstring).
    Calls without a session each count as a session of their own: among themselves they go in
    arrival order."""

    def __init__(self) -> None:
        self._waiting: dict[Item, _Waiting[Item]] = {}
        self._arrivals = itertools.count()
        self._ticks = itertools.count(1)
        self._served: OrderedDict[str, int] = OrderedDict()  # session -> tick of its last start

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, item: Item) -> bool:
        return item in self._waiting

    def add(self, item: Item, *, session: str | None, priority: Priority) -> None:
        arrival = next(self._arrivals)
        key = session if session is not None else f"\0call-{arrival}"
        self._waiting[item] = _Waiting(item, key, PRIORITY_RANK.get(priority, 1), arrival)

    def remove(self, item: Item) -> bool:
        return self._waiting.pop(item, None) is not None

    def ordered(self) -> list[Item]:
        """Every waiting item, the next to be served first: within each priority, sessions in
        turn (the one served longest ago first), each session's calls in arrival order."""
        served = dict(self._served)
        tick = 0
        out: list[Item] = []
        for rank in sorted({w.rank for w in self._waiting.values()}):
            by_session: dict[str, list[_Waiting[Item]]] = {}
            for waiting in sorted((w for w in self._waiting.values() if w.rank == rank), key=lambda w: w.arrival):
                by_session.setdefault(waiting.session, []).append(waiting)
            turn = sorted(by_session, key=lambda s: (served.get(s, 0), by_session[s][0].arrival))
            for round_ in range(max(len(calls) for calls in by_session.values())):
                for session in turn:
                    if round_ < len(by_session[session]):
                        out.append(by_session[session][round_].item)
            for session in turn:  # a lower priority's order sees these sessions as just served
                tick += 1
                served[session] = max(served.values(), default=0) + tick
        return out

    def pop(self, allowed: Callable[[Item], bool] | None = None) -> Item | None:
        """Take the first item in order that ``allowed`` accepts (all, by default) and count its
        session as served now; None when there is none."""
        for item in self.ordered():
            if allowed is None or allowed(item):
                waiting = self._waiting.pop(item)
                self._served[waiting.session] = next(self._ticks)
                self._served.move_to_end(waiting.session)
                while len(self._served) > REMEMBERED_SESSIONS:
                    self._served.popitem(last=False)
                return item
        return None
