"""The database handle every area's store uses: SQLite as the app opens it, and clear errors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tutor_app.storage.database import Database, DatabaseError


def test_file_database_uses_wal_and_foreign_keys(tmp_path):
    store = Database(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'tutor.sqlite3'}")  # parent folders are created
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_bad_url_is_a_clear_error(tmp_path):
    with pytest.raises(DatabaseError, match="not a valid SQLAlchemy URL"):
        Database("not a url")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((DatabaseError, OSError)):
        Database(f"sqlite:///{blocker / 'tutor.sqlite3'}")  # the parent "folder" is a file


def test_a_database_that_cannot_store_says_why_and_a_wrong_statement_stays_a_bug(tmp_path):
    from tutor_app.service.models import Student
    from tutor_app.storage.database import StorageUnavailable

    path = tmp_path / "school.sqlite3"
    Database(f"sqlite:///{path}").close()
    assert (path.stat().st_mode & 0o077) == 0  # created owner-only
    read_only = Database(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StorageUnavailable, match="the database is read-only"):
        with read_only.session() as session:
            session.add(Student(name="Ana"))
    health = read_only.health
    assert not health.ok and health.failures == 1 and "read-only" in health.cause
    with pytest.raises(sa.exc.OperationalError):  # not a storage failure: raised as it is, for the log
        with read_only.session() as session:
            session.execute(sa.text("SELEKT 1"))
    assert read_only.health.failures == 1
    read_only.close()


def test_a_postgresql_database_that_cannot_store_says_why_and_recovers_without_a_restart(postgres_url):
    """A district's server turned read-only (a failover, a full disk's safety switch): the write
    fails with the cause in plain words and nothing half-stored; once it is writable again the
    same handle stores, no restart."""
    from tutor_app.service.models import Student
    from tutor_app.storage.database import StorageUnavailable

    db = Database(postgres_url)
    server, name = postgres_url.rsplit("/", 1)
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    db.engine.dispose()  # the setting reaches new connections
    with pytest.raises(StorageUnavailable, match="the database is read-only"):
        with db.session() as session:
            session.add(Student(name="Ana"))
    assert not db.health.ok and "read-only" in db.health.cause
    with admin.connect() as connection:
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
    admin.dispose()
    with db.session() as session:
        session.add(Student(name="Ana"))
    assert db.health.ok and db.health.recovered_at is not None
    with db.session() as session:
        assert session.scalars(sa.select(Student.name)).all() == ["Ana"]
    db.close()


def test_an_unreachable_postgresql_server_is_a_clear_error_without_the_password():
    from postgres_support import free_port

    with pytest.raises(DatabaseError, match="cannot open the database") as caught:
        Database(f"postgresql+psycopg://tutor:s3cret@127.0.0.1:{free_port()}/school")
    assert "s3cret" not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_a_lock_on_a_name_holds_off_another_process_until_its_work_is_committed(postgres_url):
    """``key_locked`` on PostgreSQL: a second engine (another app process) asking for the same
    name waits until the first block has ended, then reads what it committed; another name does
    not wait. The block's writes are one transaction, committed when it ends, and a row lock
    taken inside joins it."""
    import threading

    from tutor_app.service.models import Student

    first, second = Database(postgres_url), Database(postgres_url)
    inside, release, entered = threading.Event(), threading.Event(), {}

    def hold():
        with first.key_locked("student:Ana"):
            with first.session() as session:
                session.add(Student(name="Ana"))
            with first.row_locked(Student, 1), first.session() as session:  # nested: the same transaction
                assert session.scalar(sa.select(Student.name)) == "Ana"
            inside.set()
            release.wait(30)

    def enter(key):
        with second.key_locked(key), second.session() as session:
            entered[key] = session.scalars(sa.select(Student.name)).all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(30)
    enter("student:Ben")  # another name: in at once, and Ana's row is not committed yet
    assert entered == {"student:Ben": []}
    waiter = threading.Thread(target=enter, args=("student:Ana",))
    waiter.start()
    waiter.join(1.0)
    assert waiter.is_alive() and "student:Ana" not in entered  # held off while the first block runs
    release.set()
    holder.join(30)
    waiter.join(30)
    assert entered["student:Ana"] == ["Ana"]  # in after it, reading what it committed
    first.close()
    second.close()


def test_a_lock_on_a_name_is_the_same_lock_in_every_process():
    """Two processes must agree on the number PostgreSQL locks for a name; Python's own string
    hash is salted per process, so it would not be."""
    import os
    import subprocess
    import sys

    from tutor_app.storage.advisory import advisory_lock_id

    code = "from tutor_app.storage.advisory import advisory_lock_id; print(advisory_lock_id('student:Ana'))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert seen == {str(advisory_lock_id("student:Ana"))}
    assert advisory_lock_id("student:Ana") != advisory_lock_id("student:Ben")
    assert -2**63 <= advisory_lock_id("student:Ana") < 2**63


def test_a_lock_on_a_name_adds_nothing_on_sqlite(tmp_path):
    """One app process serves a SQLite file and its in-process locks order the work: the block's
    writes commit one by one, as without it, and another connection reads them at once."""
    from tutor_app.service.models import Student

    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    db, reader = Database(url), Database(url)
    with db.key_locked("student:Ana"):
        with db.session() as session:
            session.add(Student(name="Ana"))
        with reader.session() as session:
            assert session.scalars(sa.select(Student.name)).all() == ["Ana"]
    db.close()
    reader.close()
