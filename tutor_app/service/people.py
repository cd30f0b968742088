"""Queries over the people tables (``models.py``): students by name and the teacher's password hash.

Like every store: keyword arguments, one short transaction per call, plain values out. Each
area's store calls ``student_row`` inside its own transaction, so a student's first attempt or
first conversation and their row are written together.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..storage.database import Database
from .models import Student, TeacherAccount

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # each with ON CONFLICT DO NOTHING


def student_row(session: Session, name: str, *, create: bool) -> Student | None:
    """The student called ``name``, made now when ``create`` and there is none yet.

    A new student's first two actions may come at once from two tabs (a problem and a
    conversation: other services, other locks) or two app processes: both find no row. The
    insert skips a name that another transaction has just stored (waiting for it to commit),
    and the row is read again, so neither action fails on the unique name."""
    student = session.scalar(sa.select(Student).where(Student.name == name))
    if student is not None or not create:
        return student
    insert = _INSERTS.get(session.get_bind().dialect.name)
    if insert is None:  # a database without INSERT ... ON CONFLICT: the unique name still refuses a twin
        student = Student(name=name)
        session.add(student)
        session.flush()
        return student
    session.execute(insert(Student).values(name=name)
                    .on_conflict_do_nothing(index_elements=[Student.name]))
    return session.scalar(sa.select(Student).where(Student.name == name))


class PeopleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def student_names(self) -> list[str]:
        with self.db.session() as session:
            return list(session.scalars(sa.select(Student.name).order_by(Student.name)))

    def teacher_password_hash(self, *, username: str = "teacher") -> str | None:
        with self.db.session() as session:
            return session.scalar(sa.select(TeacherAccount.password_hash).where(TeacherAccount.username == username))

    def set_teacher_password_hash(self, *, password_hash: str, username: str = "teacher") -> None:
        with self.db.session() as session:
            row = session.scalar(sa.select(TeacherAccount).where(TeacherAccount.username == username))
            if row is None:
                session.add(TeacherAccount(username=username, password_hash=password_hash))
            else:
                row.password_hash = password_hash
