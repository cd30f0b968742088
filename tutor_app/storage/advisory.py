"""PostgreSQL advisory locks on names, for work that several app processes of a district may
start at once on one database: migrating a new database's schema, a student's first session.

The lock is transaction-level (``pg_advisory_xact_lock``): it is released when the transaction
that took it commits or rolls back, so a process that dies never leaves it held. PostgreSQL
locks numbers, not names: each name maps to a signed 64-bit BLAKE2b digest, the same in every
process (Python's ``hash()`` of a string is salted per process, so two processes would lock
different numbers and never wait for each other).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


def advisory_lock_id(name: str) -> int:
    """PostgreSQL's advisory lock number for ``name``, the same in every process."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def lock_name(executor: Connection | Session, name: str) -> None:
    """Wait for, then hold, the lock on ``name`` until ``executor``'s transaction ends (PostgreSQL only)."""
    executor.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_lock_id(name))))
