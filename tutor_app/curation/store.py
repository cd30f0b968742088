"""Queries over the curation tables: write a teacher's judgement, read the ones in force.

Like every store: keyword arguments, one short transaction per call, frozen records out. A
judgement is appended, never updated; the newest per item is the one in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, TypeVar

import sqlalchemy as sa

from ..storage.database import Database
from .models import CorrectionReview, DiagnosisReview, ReplyReview


@dataclass(frozen=True)
class Judgement:
    """A teacher's judgement of one model output, as in force."""

    item_id: int  # the tutor message, attempt or conversation turn judged
    verdict: str
    teacher: str
    at: datetime
    better_reply: str | None = None  # a rewritten tutor reply
    misconception_id: str | None = None  # a diagnosis as the teacher labels it
    feedback: str | None = None  # the feedback the student should have read (a corrected diagnosis)


Row = TypeVar("Row", ReplyReview, DiagnosisReview, CorrectionReview)


class CurationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # writing ---------------------------------------------------------------------------
    def add_reply_review(self, *, message_id: int, verdict: str, teacher: str,
                         better_reply: str | None = None) -> Judgement:
        return self._add(ReplyReview(message_id=message_id, verdict=verdict, better_reply=better_reply,
                                     teacher=teacher))

    def add_diagnosis_review(self, *, attempt_id: int, verdict: str, teacher: str, misconception_id: str | None,
                             feedback: str | None = None) -> Judgement:
        return self._add(DiagnosisReview(attempt_id=attempt_id, verdict=verdict, misconception_id=misconception_id,
                                         feedback=feedback, teacher=teacher))

    def add_correction_review(self, *, turn_id: int, verdict: str, teacher: str) -> Judgement:
        return self._add(CorrectionReview(turn_id=turn_id, verdict=verdict, teacher=teacher))

    def _add(self, row) -> Judgement:
        with self.db.session() as session:
            session.add(row)
            session.flush()
            return _judgement(row)

    # reading ---------------------------------------------------------------------------
    def reply_reviews(self, message_ids: Iterable[int] | None = None) -> dict[int, Judgement]:
        """The judgement in force per tutor message (of ``message_ids``, or every one)."""
        return self._in_force(ReplyReview, ReplyReview.message_id, message_ids)

    def diagnosis_reviews(self, attempt_ids: Iterable[int] | None = None) -> dict[int, Judgement]:
        return self._in_force(DiagnosisReview, DiagnosisReview.attempt_id, attempt_ids)

    def correction_reviews(self, turn_ids: Iterable[int] | None = None) -> dict[int, Judgement]:
        return self._in_force(CorrectionReview, CorrectionReview.turn_id, turn_ids)

    def _in_force(self, table: type[Row], key, ids: Iterable[int] | None) -> dict[int, Judgement]:
        query = sa.select(table).order_by(table.created_at, table.id)
        if ids is not None:
            query = query.where(key.in_(list(ids)))
        with self.db.session() as session:
            return {_judgement(row).item_id: _judgement(row) for row in session.scalars(query)}

    def counts(self) -> dict[tuple[str, str], int]:
        """(kind, verdict) -> how many items have that judgement in force: what the dashboard shows."""
        found: dict[tuple[str, str], int] = {}
        for kind, judged in (("reply", self.reply_reviews()), ("diagnosis", self.diagnosis_reviews()),
                             ("correction", self.correction_reviews())):
            for judgement in judged.values():
                found[(kind, judgement.verdict)] = found.get((kind, judgement.verdict), 0) + 1
        return found


def _judgement(row) -> Judgement:
    if isinstance(row, ReplyReview):
        return Judgement(row.message_id, row.verdict, row.teacher, row.created_at, better_reply=row.better_reply)
    if isinstance(row, DiagnosisReview):
        return Judgement(row.attempt_id, row.verdict, row.teacher, row.created_at,
                         misconception_id=row.misconception_id, feedback=row.feedback)
    return Judgement(row.turn_id, row.verdict, row.teacher, row.created_at)
