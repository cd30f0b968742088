"""The declarative base shared by every table, so that one metadata (and one Alembic history)
covers tutoring, assessment and language practice."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
