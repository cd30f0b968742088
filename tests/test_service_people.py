"""The people tables' store: students by name and the teacher's password hash, on real SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tutor_app.service.people import PeopleStore
from tutor_app.storage.database import Database


@pytest.fixture(params=["memory", "file"])
def db(request, tmp_path) -> Database:
    db = Database("sqlite://" if request.param == "memory" else f"sqlite:///{tmp_path / 'tutor.sqlite3'}")
    yield db
    db.close()


def test_teacher_password_hash_is_replaced_not_duplicated(db):
    store = PeopleStore(db)
    assert store.teacher_password_hash() is None
    store.set_teacher_password_hash(password_hash="h1")
    store.set_teacher_password_hash(password_hash="h2")
    assert store.teacher_password_hash() == "h2"
    with db.session() as session:
        assert session.scalar(sa.text("select count(*) from teacher_accounts")) == 1
