"""Grade a class set against a rubric, for the Grading page and ``python app.py grade RUBRIC INPUT``.

Resumable by construction: every grade is committed to SQLite the moment it exists, keyed by
(rubric, student, text) and the rubric's version. Running the same command again after an
interruption, a crash or a failed submission skips what is already graded and grades the
rest; an edited text or an edited rubric is graded again. The teacher view passes a progress
callback; the command line draws a terminal bar.

Submissions are graded concurrently, as many at a time as the model serves (and each one's
criteria concurrently too), at batch priority so students' calls go first. Only the model calls
run in worker threads: the store is read and written in the caller's thread, in the order the
grades come back.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, TypeVar

from ..curriculum.schema import Rubric
from ..runtime.fanout import fan_out_as_completed
from ..runtime.protocol import parallel_calls
from .export import ExportRow
from .grader import Grader, Grading, GradingError, NoModel
from .inputs import SubmissionInput
from .review import build_row
from .store import AssessmentStore, rubric_hash

ProgressCallback = Callable[[int, int, str], None]  # (done, total, student just finished)
Job = TypeVar("Job")


@dataclass(frozen=True)
class Outcome:
    grading: Grading | None
    status: str  # "graded", "failed" or "not graded" (no model: the batch stopped)
    error: str | None = None


def grade_concurrently(grader: Grader, rubric: Rubric, jobs: list[Job], *, text: Callable[[Job], str],
                       task: Callable[[Job], str | None] = lambda _job: None) -> Iterator[tuple[Job, Outcome]]:
    """Grade ``jobs`` at batch priority, as many at a time as the model serves, and hand back
    each one's outcome as it comes (in the caller's thread, which stores it). Once the model
    turns out to be missing, the jobs not yet started are "not graded" without a call."""
    stopped: list[str] = []

    def grade(job: Job) -> Grading | None:
        return None if stopped else grader.grade(rubric, text(job), task=task(job), priority="batch")

    for job, grading, error in fan_out_as_completed(grade, jobs, width=parallel_calls(grader.model)):
        if isinstance(error, NoModel) and not stopped:
            stopped.append(str(error))
        if grading is None and stopped:
            yield job, Outcome(None, "not graded", stopped[0])
        elif isinstance(error, GradingError):
            yield job, Outcome(None, "failed", str(error))
        elif error is not None:
            raise error
        else:
            yield job, Outcome(grading, "graded")




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
        rows: list[ExportRow | None] = [None] * len(inputs)
        submission_ids: list[int | None] = [None] * len(inputs)
        bar = _Progress(len(inputs), progress)

        def finished(index: int, row: ExportRow, submission_id: int | None) -> None:
            rows[index], submission_ids[index] = row, submission_id
            done = sum(1 for r in rows if r is not None)
            bar.advance(f"{inputs[index].student}: {row.status}")
            if on_progress is not None:
                on_progress(done, len(inputs), inputs[index].student)

        try:
            to_grade = []
            for index, item in enumerate(inputs):
                if not item.text.strip():
                    finished(index, ExportRow(item.student, item.source, "empty", error="the submission is empty"), None)
                    continue
                submission = self.astore.ensure_submission(rubric_id=rubric.id, student=item.student, text=item.text,
                                                           batch_id=batch_id, source_file=item.source_file,
                                                           source_row=item.source_row)
                if self.astore.find_grade(submission_id=submission.id, rubric_hash=version) is not None:
                    finished(index, ExportRow(item.student, item.source, "already graded"), submission.id)
                else:
                    to_grade.append((index, submission))
            for (index, submission), outcome in grade_concurrently(self.grader, rubric, to_grade,
                                                                   text=lambda job: job[1].text):
                item = inputs[index]
                if outcome.grading is None:
                    report.stopped = report.stopped or (outcome.error if outcome.status == "not graded" else None)
                    finished(index, ExportRow(item.student, item.source, outcome.status, error=outcome.error), None)
                    continue
                self.astore.save_grade(submission_id=submission.id, rubric_hash=version, grading=outcome.grading)
                finished(index, ExportRow(item.student, item.source, "graded"), submission.id)
        finally:
            bar.close()
            report.elapsed_s = time.perf_counter() - started
        report.items = [row for row in rows if row is not None]
        self.astore.finish_batch(batch_id=batch_id)
        self._attach_rows(rubric, version, report, [submission_ids[i] for i, r in enumerate(rows) if r is not None])
        return report

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
