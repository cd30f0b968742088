"""The teacher's switch for the model: per unit, or for the whole class, the tutor chat and
model grading (and every other model extra) are off, stored in the database.

A small demo model (the shipped SmolLM2-135M) proves the plumbing, not the pedagogy: it tells a
student that a right answer "is incorrect". A teacher who sees that turns the model off, and
the students keep everything that needs no model: checking, hints, bug rules (math, open-step
phrases and language rules), mastery. What the switch covers, everywhere it is read:

- the tutor chat and the character's replies say the model is off for this unit;
- open answers wait for the teacher instead of being graded by the model;
- misconception classification and the model's corrections of language messages are skipped
  (the unit's language rules still correct);
- translations are not offered.

``model_allowed(unit_id)`` is the one question the services ask: False when the whole class is
switched off or this unit is. The setting is kept per unit id (the whole class under ``""``),
with who changed it and when, so the teacher's pages can show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base, UTCDateTime, utcnow
from ..storage.database import Database
from .actor import Actor
from .errors import Forbidden

WHOLE_CLASS = ""  # the key of the class-wide switch


class ModelSwitch(Base):
    """One switch: the whole class (``curriculum_id`` empty) or one unit."""

    __tablename__ = "model_switches"

    curriculum_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    model_off: Mapped[bool] = mapped_column(default=False)
    changed_by: Mapped[str] = mapped_column(sa.String(80), default="teacher")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class SwitchState:
    curriculum_id: str  # "" for the whole class
    model_off: bool
    changed_by: str
    updated_at: datetime | None


class ModelSwitches:
    """Reads and writes the switches; every service shares one instance (``bootstrap``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def model_allowed(self, curriculum_id: str | None) -> bool:
        """Whether the model may be used for work in this unit (and the class is not switched off)."""
        keys = [WHOLE_CLASS] + ([curriculum_id] if curriculum_id else [])
        with self.db.session() as session:
            off = session.scalars(sa.select(ModelSwitch.model_off).where(ModelSwitch.curriculum_id.in_(keys)))
            return not any(off)

    def states(self) -> dict[str, SwitchState]:
        """Every stored switch by unit id (``""``: the whole class)."""
        with self.db.session() as session:
            return {row.curriculum_id: SwitchState(row.curriculum_id, row.model_off, row.changed_by, row.updated_at)
                    for row in session.scalars(sa.select(ModelSwitch))}

    def set_model_off(self, actor: Actor, curriculum_id: str | None, off: bool) -> SwitchState:
        """Turn the model off (``off``) or on again for a unit, or for the class (``None`` or "")."""
        if not actor.is_teacher:
            raise Forbidden("Only the teacher can turn the tutor model on or off.")
        key = curriculum_id or WHOLE_CLASS
        with self.db.session() as session:
            row = session.get(ModelSwitch, key)
            if row is None:
                row = ModelSwitch(curriculum_id=key)
                session.add(row)
            row.model_off = bool(off)
            row.changed_by = actor.role
            row.updated_at = utcnow()
            session.flush()
            return SwitchState(row.curriculum_id, row.model_off, row.changed_by, row.updated_at)
