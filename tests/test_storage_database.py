"""The database handle every area's store uses: SQLite as the app opens it, and clear errors."""

from __future__ import annotations

import pytest

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
