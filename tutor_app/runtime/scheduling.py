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

    def priority_of(self, item: Item) -> Priority:
        return "interactive" if self._waiting[item].rank == 0 else "batch"

    def ordered(self) -> list[Item]:
        """Every waiting item, the next to be served first."""
        return [w.item for w in sorted(self._waiting.values(), key=self._key)]

    def pop(self, allowed: Callable[[Item], bool] | None = None) -> Item | None:
        """Take the first item in order that ``allowed`` accepts (all, by default) and count its
        session as served now; None when there is none."""
        for waiting in sorted(self._waiting.values(), key=self._key):
            if allowed is None or allowed(waiting.item):
                del self._waiting[waiting.item]
                self._served[waiting.session] = next(self._ticks)
                self._served.move_to_end(waiting.session)
                while len(self._served) > REMEMBERED_SESSIONS:
                    self._served.popitem(last=False)
                return waiting.item
        return None

    def _key(self, waiting: _Waiting[Item]) -> tuple[int, int, int]:
        return waiting.rank, self._served.get(waiting.session, 0), waiting.arrival
