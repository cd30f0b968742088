"""Calls from a district's app processes at the same instant, on the ``databases`` fixture
(conftest.py): two engines on one PostgreSQL database, or the school's one SQLite process."""

from __future__ import annotations

import threading


def at_once(calls) -> list:
    """Run the calls in threads released together; their results in order (a raised error is
    re-raised here, so the test names it)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def services_on(databases, make):
    """One service per caller: two on two engines, or the one process's one service twice."""
    made = {id(db): make(db) for db in databases}
    return [made[id(db)] for db in databases]
