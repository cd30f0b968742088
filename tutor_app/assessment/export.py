"""Write grades as CSV (one row per submission, opens in any spreadsheet) or JSON (nested).

Scores are the ones in force (a teacher's override beats the model) and ``<criterion>_by``
says whose each one is. Cells that a spreadsheet would run as a formula (a student's text
starting with ``=``) are prefixed with an apostrophe: exports get opened in Excel.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ..curriculum.schema import Rubric
from .review import ReviewRow


@dataclass(frozen=True)
class ExportRow:
    student: str
    source: str
    status: str  # graded | already graded | failed | empty
    row: ReviewRow | None = None
    error: str = ""


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r") or (
            isinstance(value, str) and value[:1] == "-" and value[1:2] not in (" ", "")):
        return "'" + value
    return value


def _number(value: float | None) -> object:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else value


def csv_columns(rubric: Rubric) -> list[str]:
    columns = ["student", "source", "status", "total", "max_total"]
    for criterion in rubric.criteria:
        columns += [criterion.id, f"{criterion.id}_by", f"{criterion.id}_comment", f"{criterion.id}_next_step"]
    return columns + ["next_steps", "unverified_quotes", "error", "submission_id"]


def csv_record(rubric: Rubric, item: ExportRow) -> dict[str, object]:
    record: dict[str, object] = {"student": item.student, "source": item.source, "status": item.status,
                                 "error": item.error}
    row = item.row
    if row is not None and row.graded:
        record.update(total=_number(row.total), max_total=_number(row.max_total), submission_id=row.submission_id,
                      next_steps=" | ".join(row.next_steps),
                      unverified_quotes=" ".join(c.criterion_id for c in row.criteria
                                                 if c.by == "model" and not c.quote_verified))
        for c in row.criteria:
            record.update({c.criterion_id: "" if c.score is None else c.score, f"{c.criterion_id}_by": c.by,
                           f"{c.criterion_id}_comment": c.comment, f"{c.criterion_id}_next_step": c.next_step})
    return {key: _cell(value) for key, value in record.items()}


def json_record(item: ExportRow) -> dict[str, object]:
    record: dict[str, object] = {"student": item.student, "source": item.source, "status": item.status}
    if item.error:
        record["error"] = item.error
    row = item.row
    if row is not None and row.graded:
        record.update(submission_id=row.submission_id, total=row.total, max_total=row.max_total,
                      model_total=row.model_total, model=row.model_name, stale=row.stale,
                      next_steps=list(row.next_steps),
                      criteria=[{"id": c.criterion_id, "score": c.score, "by": c.by, "comment": c.comment,
                                 "next_step": c.next_step, "model_score": c.model_score,
                                 "model_comment": c.model_comment, "quote_verified": c.quote_verified,
                                 "teacher_score": c.teacher_score, "teacher_comment": c.teacher_comment}
                                for c in row.criteria])
    return record


def write_results(rubric: Rubric, items: list[ExportRow], out: Path) -> Path:
    """CSV unless ``out`` ends in ``.json``. Written to a temporary name first, then moved, so an
    interrupted export never leaves half a file where the last good one was."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if out.suffix.lower() == ".json":
        payload = {"rubric_id": rubric.id, "rubric_title": rubric.title,
                   "submissions": [json_record(item) for item in items]}
        partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        with partial.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel then reads UTF-8
            writer = csv.DictWriter(handle, fieldnames=csv_columns(rubric), extrasaction="ignore")
            writer.writeheader()
            for item in items:
                writer.writerow(csv_record(rubric, item))
    partial.replace(out)
    return out
