"""The log of adapter switches: which adapter version the running model used from when, and who chose it.

Each stored model output names its adapter itself (``adapter`` columns), so the dashboard's
trends need no join here; the log is what the model panel shows ("in use since ... by ..."),
what "switch back" returns to, and what a restarted app applies again (``adapter`` None: the
base model). Append-only. The schema is owned by Alembic; a change needs a new revision.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base, UTCDateTime, utcnow


class AdapterSwitch(Base):
    __tablename__ = "adapter_switches"
    __table_args__ = (sa.Index("ix_adapter_switches_time", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(sa.String(200))
    adapter: Mapped[str | None] = mapped_column(sa.String(200))  # version label; None: back to the base model
    path: Mapped[str | None] = mapped_column(sa.Text)
    teacher: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
