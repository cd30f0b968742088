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
