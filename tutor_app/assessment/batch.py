"""Grade a class set against a rubric, for the Grading page and ``python app.py grade RUBRIC INPUT``.

Resumable by construction: every grade is committed to SQLite the moment it exists, keyed by
(rubric, student, text) and the rubric's version. Running the same command again after an
interruption, a crash or a failed submission skips what is already graded and grades the
rest; an edited text or an edited rubric is graded again. The teacher view passes a progress
callback; the command line draws a terminal bar.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from ..curriculum.schema import Rubric
from .export import ExportRow
from .grader import Grader, GradingError, NoModel
from .inputs import SubmissionInput
from .review import build_row
from .store import AssessmentStore, rubric_hash

ProgressCallback = Callable[[int, int, str], None]  # (done, total, student just finished)


@dataclass
class BatchReport:
    rubric_id: str
    batch_id: int
    items: list[ExportRow] = field(default_factory=list)
    elapsed_s: float = 0.0
    stopped: str | None = None  # why the batch stopped early (no model), if it did

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def failed(self) -> list[ExportRow]:
        return [item for item in self.items if item.status in ("failed", "not graded")]

    def summary(self) -> str:
        parts = [f"{self.count('graded')} graded", f"{self.count('already graded')} already graded (skipped)"]
        for status in ("empty", "failed", "not graded"):
            if self.count(status):
                parts.append(f"{self.count(status)} {status}")
        return ", ".join(parts) + f" in {self.elapsed_s:.1f} s"


class _Progress:
    """tqdm's bar (tqdm ships with huggingface_hub); a line per submission if it is missing."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        self.enabled = enabled
        self.total = total
        self.done = 0
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="submission", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def advance(self, label: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(label[:40], refresh=False)
            self.bar.update(1)
        elif self.enabled:
            print(f"[{self.done}/{self.total}] {label}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class BatchGrader:
    def __init__(self, astore: AssessmentStore, grader: Grader) -> None:
        self.astore = astore
        self.grader = grader

    def run(self, rubric: Rubric, inputs: list[SubmissionInput], *, source: str, progress: bool = False,
            on_progress: ProgressCallback | None = None) -> BatchReport:
        started = time.perf_counter()
        version = rubric_hash(rubric)
        batch_id = self.astore.create_batch(rubric_id=rubric.id, source=source,
                                            model_name=self.grader.model.info.name)
        report = BatchReport(rubric_id=rubric.id, batch_id=batch_id)
        submission_ids: list[int | None] = []
        bar = _Progress(len(inputs), progress)
        try:
            for item in inputs:
                row, submission_id = self._one(rubric, version, batch_id, item, report)
                report.items.append(row)
                submission_ids.append(submission_id)
                bar.advance(f"{item.student}: {row.status}")
                if on_progress is not None:
                    on_progress(len(report.items), len(inputs), item.student)
        finally:
            bar.close()
            report.elapsed_s = time.perf_counter() - started
        self.astore.finish_batch(batch_id=batch_id)
        self._attach_rows(rubric, version, report, submission_ids)
        return report

    def _one(self, rubric: Rubric, version: str, batch_id: int, item: SubmissionInput,
             report: BatchReport) -> tuple[ExportRow, int | None]:
        if not item.text.strip():
            return ExportRow(item.student, item.source, "empty", error="the submission is empty"), None
        if report.stopped:
            return ExportRow(item.student, item.source, "not graded", error=report.stopped), None
        submission = self.astore.ensure_submission(rubric_id=rubric.id, student=item.student, text=item.text,
                                                   batch_id=batch_id, source_file=item.source_file,
                                                   source_row=item.source_row)
        if self.astore.find_grade(submission_id=submission.id, rubric_hash=version) is not None:
            return ExportRow(item.student, item.source, "already graded"), submission.id
        try:
            grading = self.grader.grade(rubric, submission.text)
        except NoModel as exc:
            report.stopped = str(exc)
            return ExportRow(item.student, item.source, "not graded", error=str(exc)), None
        except GradingError as exc:
            return ExportRow(item.student, item.source, "failed", error=str(exc)), None
        self.astore.save_grade(submission_id=submission.id, rubric_hash=version, grading=grading)
        return ExportRow(item.student, item.source, "graded"), submission.id

    def _attach_rows(self, rubric: Rubric, version: str, report: BatchReport,
                     submission_ids: list[int | None]) -> None:
        """Fill each graded item with its grade in force (teacher overrides applied), for the export."""
        views = self.astore.teacher_views(rubric_id=rubric.id)
        for index, submission_id in enumerate(submission_ids):
            if submission_id is None:
                continue
            submission = self.astore.get_submission(submission_id=submission_id)
            grade = self.astore.find_grade(submission_id=submission_id, rubric_hash=version)
            item = report.items[index]
            report.items[index] = ExportRow(item.student, item.source, item.status,
                                            row=build_row(rubric, submission, grade, views))
