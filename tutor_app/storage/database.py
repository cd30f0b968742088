"""The one handle on the school's database: an engine, short transactions, the schema at head.

Every area's store (tutoring, assessment, language, people) takes a ``Database`` and opens its
own short transactions on it (``session()``), the shape of llm's ``LogStore``; no area's store
knows another's tables. Every write commits before the store method returns: when an attempt is
added, the student's answer is on disk, whatever happens to the reply after that.

``Database(url)`` accepts any SQLAlchemy URL. SQLite gets foreign keys on every connection and
WAL journaling on files (readers keep reading while a student's answer is written). An
in-memory ``sqlite://`` database lives on one shared connection, so calls on it are serialised.
A SQLite file is created owner-only (``private.py``); its ``-wal`` and ``-shm`` follow its mode.

Several app processes may share one PostgreSQL database (a district behind a load balancer).
The in-process locks that keep a session's read-decide-write in order do not reach another
process, so ``row_locked`` holds the row's lock (``SELECT ... FOR UPDATE``) in one transaction
that every ``session()`` of the same thread joins until the block ends: the other process's
block waits, then reads what this one committed. A find-or-create (start a problem unless the
student has it open) has no row to lock yet (the student may be new), so ``key_locked`` holds
a PostgreSQL advisory lock on a name instead (``pg_advisory_xact_lock``, released when the
transaction ends), in the same held transaction: the second process reads the first one's new
row, and does not make a second (``advisory.py``). Either lock taken inside a held block
joins its transaction. The schema's migration on start takes such a lock too, so that the
district's processes may all start at once on a new database (``migrate.py``). SQLite is one
file that one app process serves; there the in-process locks suffice and both add nothing
(short, separate transactions as before).

A full disk, a read-only file or a database server that went away is not a bug: the transaction
raises ``StorageUnavailable`` (nothing of it was written) with the cause in plain words, the
failure is kept in ``health`` for the teacher's page and the log, and the connections are thrown
away, so that the first request after the disk is fixed opens fresh ones and works: no restart.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from . import migrate
from .advisory import lock_name
from .base import utcnow
from .private import private_sqlite_file

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database cannot be used (bad URL, unwritable file, failed migration)."""


class StorageUnavailable(DatabaseError):
    """The database cannot store (or read) anything just now; ``cause`` says why in plain words.
    Nothing of the failed transaction was kept; the same request later works once it is fixed."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass(frozen=True)
class StorageHealth:
    """What the teacher's page shows about the database: whether writes work now, and the last
    failure (kept after recovery, so a problem in the night is still seen in the morning)."""

    ok: bool = True
    cause: str | None = None
    failed_at: datetime | None = None
    failures: int = 0  # failed transactions in the current (or last) run of failures
    recovered_at: datetime | None = None


# SQLite's primary result codes that mean "the storage", not "the statement": plain words for each.
_SQLITE_CAUSES = {
    3: "the operating system refused access to the database file",
    5: "the database is locked by another program",
    6: "the database is locked by another program",
    8: "the database is read-only",
    10: "the disk could not be read or written",
    11: "the database file is damaged",
    13: "the disk is full",
    14: "the database file cannot be opened",
    26: "the database file is not a database",
}
_POSTGRES_CAUSES = {"53100": "the database server's disk is full", "25006": "the database is read-only",
                    "53": "the database server is out of resources", "08": "the database server cannot be reached",
                    "57": "the database server was shut down"}


def storage_failure(exc: BaseException) -> str | None:
    """The cause, in plain words, when ``exc`` means the storage cannot be used; None for anything
    else (a wrong statement is a bug and must surface as one)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        cause = _SQLITE_CAUSES.get(code & 0xFF)
        return f"{cause} ({orig})" if cause else None
    state = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    for prefix in (state, state[:2]):
        if prefix and prefix in _POSTGRES_CAUSES:
            return f"{_POSTGRES_CAUSES[prefix]} ({str(orig).strip()})"
    if exc.connection_invalidated:
        return f"the connection to the database was lost ({str(orig).strip()})"
    return None


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
        if not parsed.query.get("uri"):  # a URI filename (file:...?mode=ro) is opened as the caller says
            private_sqlite_file(Path(parsed.database).expanduser().resolve())
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
        self._health = StorageHealth()
        self._health_lock = threading.Lock()
        self._held = threading.local()  # the row-locked transaction this thread is inside, if any
        event.listen(self._sessions, "after_flush", _note_write)
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

    @property
    def health(self) -> StorageHealth:
        with self._health_lock:
            return self._health

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that commits on success. For read-only reports too, so that the
        in-memory database's single connection is never used by two threads. Raises
        ``StorageUnavailable`` when the storage fails (see the module notes)."""
        held = getattr(self._held, "session", None)
        if held is not None:  # part of the enclosing row-locked transaction, committed when it ends
            yield held
            return
        wrote = False
        try:
            with self._guard(), self._sessions() as session:
                with session.begin():
                    yield session
                wrote = session.info.pop("wrote", False)
        except sa.exc.DBAPIError as exc:
            cause = storage_failure(exc)
            if cause is None:
                raise
            self._failed(cause)
            raise StorageUnavailable(cause) from exc
        if wrote:
            self._stored()

    @contextmanager
    def row_locked(self, entity: Any, key: Any) -> Iterator[None]:
        """Hold the lock on ``entity``'s row ``key`` (a mapped class and its primary key) until the
        block ends, across processes; the block's ``session()`` calls share its one transaction,
        which commits when the block ends (see the module notes). Nothing to lock on SQLite, or
        when the row does not exist (the block finds that out itself)."""
        (column,) = sa.inspect(entity).primary_key

        def lock(session: Session) -> None:
            session.execute(sa.select(column).where(column == key).with_for_update())

        with self._holding(None if self.engine.dialect.name == "sqlite" else lock):
            yield

    @contextmanager
    def key_locked(self, key: str) -> Iterator[None]:
        """Hold a lock on the name ``key`` until the block ends, across processes, in the same kind
        of held transaction as ``row_locked``: for a find-or-create whose row may not exist yet
        (see the module notes). PostgreSQL's transaction-level advisory lock; nothing on SQLite
        (one app process: the caller's in-process lock suffices). Other databases have no
        transaction-level named lock that SQLAlchemy speaks for them (MySQL's ``GET_LOCK``
        outlives the transaction), and the app supports SQLite and PostgreSQL only, so there the
        block runs unlocked in short transactions, as on SQLite."""
        postgresql = self.engine.dialect.name == "postgresql"
        with self._holding((lambda session: lock_name(session, key)) if postgresql else None):
            yield

    @contextmanager
    def _holding(self, lock: Callable[[Session], None] | None) -> Iterator[None]:
        """Take ``lock`` in this thread's held transaction, opening one that lasts until the block
        ends when there is none; with no ``lock`` (a database that needs none) change nothing."""
        if lock is None:
            yield
            return
        held = getattr(self._held, "session", None)
        if held is not None:  # nested: the lock joins the enclosing transaction, released with it
            lock(held)
            yield
            return
        with self.session() as session:
            lock(session)
            self._held.session = session
            try:
                yield
            finally:
                self._held.session = None

    def _failed(self, cause: str) -> None:
        with self._health_lock:
            first = self._health.ok
            self._health = StorageHealth(ok=False, cause=cause, failed_at=utcnow(),
                                         failures=1 if first else self._health.failures + 1)
        if first:
            log.error("the database cannot store anything: %s. Students are told their work was not saved; "
                      "it works again as soon as this is fixed, without a restart.", cause)
        if not is_in_memory(self.engine):
            self.engine.dispose()  # the next transaction opens fresh connections that see the fixed disk

    def _stored(self) -> None:
        with self._health_lock:
            if self._health.ok:
                return
            self._health = replace(self._health, ok=True, recovered_at=utcnow())
            failures, cause = self._health.failures, self._health.cause
        log.warning("the database stores again, after %d failed transaction(s): %s", failures, cause)


def _note_write(session: Session, _flush_context) -> None:
    session.info["wrote"] = True
