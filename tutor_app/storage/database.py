"""The one handle on the school's database: an engine, short transactions, the schema at head.

Every area's store (tutoring, assessment, language, people) takes a ``Database`` and opens its
own short transactions on it (``session()``), the shape of llm's ``LogStore``; no area's store
knows another's tables. Every write commits before the store method returns: when an attempt is
added, the student's answer is on disk, whatever happens to the reply after that.

``Database(url)`` accepts any SQLAlchemy URL. SQLite gets foreign keys on every connection and
WAL journaling on files (readers keep reading while a student's answer is written). An
in-memory ``sqlite://`` database lives on one shared connection, so calls on it are serialised.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from . import migrate


class DatabaseError(RuntimeError):
    """The database cannot be used (bad URL, unwritable file, failed migration)."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseError(f"database URL {url!r} is not a valid SQLAlchemy URL "
                            "(example: sqlite:///data/tutor.sqlite3)") from exc
    kwargs: dict[str, Any] = {"echo": echo}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    in_memory = is_sqlite and parsed.database in (None, "", ":memory:")
    if in_memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif is_sqlite:
        Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
    engine = sa.create_engine(parsed, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
    return engine


def _sqlite_pragmas(*, wal: bool):
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()
    return on_connect


def is_in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


class Database:
    def __init__(self, url: str, *, echo: bool = False, migrate_to: str = "head") -> None:
        """Open the database and bring its schema to ``migrate_to`` (tests pass an older revision)."""
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.RLock() if is_in_memory(self.engine) else None
        try:
            with self._guard():
                migrate.upgrade(self.engine, migrate_to)
        except sa.exc.OperationalError as exc:
            self.engine.dispose()
            raise DatabaseError(f"cannot open the database "
                                f"{self.engine.url.render_as_string(hide_password=True)}: {exc.orig}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def _guard(self):
        return self._lock if self._lock is not None else nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that commits on success. For read-only reports too, so that the
        in-memory database's single connection is never used by two threads."""
        with self._guard(), self._sessions() as session, session.begin():
            yield session
