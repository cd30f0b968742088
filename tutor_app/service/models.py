"""The people every area's records hang off: students and the teacher's account.

A student row is made the first time a name does something (starts a problem, a conversation);
tutoring sessions and conversations point at it and go with it when it is deleted (the foreign
keys cascade in the database, so no area needs to know the others' tables). Who may sign in is
the roster file's business (``roster.py``); this table only ties stored work to a name.

The schema is owned by Alembic (``storage/migrations/versions``): a change needs a new revision.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base, UTCDateTime, utcnow


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_students_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeacherAccount(Base):
    __tablename__ = "teacher_accounts"
    __table_args__ = (sa.UniqueConstraint("username", name="uq_teacher_accounts_username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
