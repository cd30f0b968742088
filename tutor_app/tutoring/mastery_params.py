"""The class's own BKT parameters: what a teacher adopted from a fit, over the unit file's values.

A unit file's ``bkt:`` values are the teacher's defaults and stay untouched in the YAML. When a
teacher adopts fitted values (the dashboard's mastery page, or ``python app.py fit-mastery
--adopt``), a row is appended here; the newest row per unit and skill is what the live update
uses (``adopted``), and every row stays as the history. Returning a skill to the file's values
is a row too (``source`` "file", no new values), so the history also shows who undid what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..curriculum.schema import BKTParams
from ..storage.base import utcnow
from ..storage.database import Database
from .models import MasteryParamsChange

PARAMS = ("p_init", "p_transit", "p_guess", "p_slip")


@dataclass(frozen=True)
class ParamsChange:
    """One change to write: ``after`` None returns the skill to the unit file's values."""

    skill_id: str
    before: BKTParams
    after: BKTParams | None
    students: int | None = None
    observations: int | None = None


@dataclass(frozen=True)
class ParamsHistoryRecord:
    id: int
    curriculum_id: str
    skill_id: str
    source: str  # "fit": adopted from a fit; "file": back to the unit file's values
    before: BKTParams
    after: BKTParams | None
    students: int | None
    observations: int | None
    changed_by: str
    at: datetime


class MasteryParamsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def adopted(self, *, curriculum_id: str) -> dict[str, BKTParams]:
        """Skill id -> the parameters adopted for the class, for skills whose newest change is an
        adoption (not a return to the file's values)."""
        newest = (sa.select(MasteryParamsChange.skill_id, sa.func.max(MasteryParamsChange.id).label("id"))
                  .where(MasteryParamsChange.curriculum_id == curriculum_id)
                  .group_by(MasteryParamsChange.skill_id).subquery())
        query = sa.select(MasteryParamsChange).join(newest, MasteryParamsChange.id == newest.c.id)
        with self.db.session() as session:
            return {row.skill_id: _params(row, "") for (row,) in session.execute(query) if row.source == "fit"}

    def record(self, *, curriculum_id: str, changes: Iterable[ParamsChange], changed_by: str) -> list[ParamsHistoryRecord]:
        """Append the changes, in one transaction; returns them as stored."""
        now = utcnow()
        with self.db.session() as session:
            rows = []
            for change in changes:
                after = change.after.model_dump() if change.after is not None else dict.fromkeys(PARAMS)
                row = MasteryParamsChange(
                    curriculum_id=curriculum_id, skill_id=change.skill_id,
                    source="fit" if change.after is not None else "file", **after,
                    **{f"old_{name}": value for name, value in change.before.model_dump().items()},
                    students=change.students, observations=change.observations, changed_by=changed_by[:120],
                    created_at=now)
                session.add(row)
                rows.append(row)
            session.flush()
            return [_record(row) for row in rows]

    def history(self, *, curriculum_id: str | None = None) -> list[ParamsHistoryRecord]:
        """Every change, newest first."""
        query = sa.select(MasteryParamsChange).order_by(MasteryParamsChange.id.desc())
        if curriculum_id is not None:
            query = query.where(MasteryParamsChange.curriculum_id == curriculum_id)
        with self.db.session() as session:
            return [_record(row) for (row,) in session.execute(query)]


def _params(row: MasteryParamsChange, prefix: str) -> BKTParams:
    return BKTParams(**{name: getattr(row, prefix + name) for name in PARAMS})


def _record(row: MasteryParamsChange) -> ParamsHistoryRecord:
    return ParamsHistoryRecord(id=row.id, curriculum_id=row.curriculum_id, skill_id=row.skill_id, source=row.source,
                               before=_params(row, "old_"), after=_params(row, "") if row.source == "fit" else None,
                               students=row.students, observations=row.observations, changed_by=row.changed_by,
                               at=row.created_at)
