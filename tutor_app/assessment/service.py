"""Rubric grading as the application offers it: to the API, the teacher view and open steps.

Every entry point takes the ``Actor`` making the call and raises the service's plain-language
errors (``TutorError``, ``NotFound``, ``Forbidden``), like ``TutorService``. Grading a text is
open to anyone who may use the app (a student checking a draft, the ``/grade_submission``
API); reviewing, overriding and the agreement report are for teachers.

What anyone may send is bounded, since the model is shared by the class: a text longer than its
rubric's ``max_chars`` is refused before anything is stored or asked, and one grading may use
the model for at most ``time_limit_s`` (``time_limit.py``). A teacher's class set is graded
without the rubric's length limit (up to ``MAX_SUBMISSION_CHARS``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..curriculum.library import CurriculumLibrary
from ..curriculum.schema import MAX_RUBRIC_CHARS, Rubric, Step
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend
from ..service.actor import Actor
from ..service.errors import Forbidden, NotFound, TutorError
from ..storage.database import Database
from .agreement import AgreementReport, agreement_report
from .batch import BatchGrader, BatchReport, ProgressCallback, grade_concurrently
from .export import ExportRow, write_results
from .grader import Grader, GraderConfig, Grading, GradingError
from .inputs import InputProblem, SubmissionInput, read_submissions
from .review import (ImportReport, ReviewError, ReviewRow, confirm_grade, edit_comment, import_teacher_grades,
                     list_grades, override_score, review_row)
from .rubrics import RubricProblem, resolve_rubric, rubric_for_step
from .shapes import GradedCriterion, GradeResult
from .store import AssessmentStore, rubric_hash
from .time_limit import within

log = logging.getLogger(__name__)

MAX_SUBMISSION_CHARS = MAX_RUBRIC_CHARS
API_STUDENT = "(api)"
GRADE_TIME_LIMIT_S = 120.0


@dataclass(frozen=True)
class GradedAnswer:
    """A submission that has just been graded by the teacher, or by the model from the Review
    page: what a listener (the tutoring service, for open steps) needs to bring it to the student."""

    student: str
    source: str  # "unit/problem/step" for an open step's answer
    text: str
    rubric: Rubric
    result: GradeResult  # the grade in force
    by: str  # "model" or "teacher"


GradeListener = Callable[[GradedAnswer], None]


class AssessmentService:
    def __init__(self, *, db: Database, library: CurriculumLibrary, model: ModelBackend,
                 prompts: PromptLibrary | None = None,
                 config: GraderConfig = GraderConfig(), time_limit_s: float | None = GRADE_TIME_LIMIT_S) -> None:
        self.library = library
        self.model = model
        self.astore = AssessmentStore(db)
        self.grader = Grader(model, prompts or PromptLibrary(), config)
        self.time_limit_s = time_limit_s
        self._listeners: list[GradeListener] = []

    def on_graded(self, listener: GradeListener) -> None:
        """Call ``listener`` whenever a stored submission gets a grade from the Review page (the
        model grading answers that waited, or the teacher's own score). Grading here cannot
        import the features above it; the tutoring service listens to move open steps on."""
        self._listeners.append(listener)

    def _announce(self, event: GradedAnswer) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # the grade is stored; a listener's failure must not undo the teacher's work
                log.warning("a listener failed on the grade of %s's answer (%s)", event.student, event.source,
                            exc_info=True)

    # rubrics ------------------------------------------------------------------------------
    def rubrics(self) -> list[tuple[str, str]]:
        """(id, title) of every rubric in the curricula, for the teacher's picker."""
        return sorted((rid, r.title) for rid, r in self.library.rubrics.items())

    def rubric(self, rubric_id: str) -> Rubric:
        try:
            return resolve_rubric(rubric_id, self.library)
        except RubricProblem as exc:
            raise NotFound(str(exc)) from None

    # grading -----------------------------------------------------------------------------
    def grade_submission(self, actor: Actor, rubric_id: str, text: str) -> GradeResult:
        """``/grade_submission``: grade one text. The grade is stored (a student's own text under
        their name), and the same text graded again returns the stored grade."""
        rubric = self._library_rubric(rubric_id)
        return self._grade(rubric, text, student=actor.student or API_STUDENT, source="api").to_result()

    def grade_open_step(self, actor: Actor, unit_id: str, problem_id: str, step_id: str, text: str,
                        *, student: str | None = None, step: Step | None = None) -> GradeResult:
        """Grade an answer to an ``open`` step with the step's rubric (inline or by id). ``step``
        is the step as the student saw it (their variant's numbers), so that the grader is shown
        the task the student answered, not the unit's template with its ``{a}`` placeholders."""
        student = self._open_step_student(actor, student)
        rubric, task = self._open_step_rubric(unit_id, problem_id, step_id, step=step)
        return self._grade(rubric, text, student=student, source=open_step_source(unit_id, problem_id, step_id),
                           task=task).to_result()

    def save_open_answer(self, actor: Actor, unit_id: str, problem_id: str, step_id: str, text: str,
                         *, student: str | None = None) -> int:
        """Keep an open step's answer for grading without grading it now (the model was busy),
        so it waits in the teacher's review list; returns the submission id. Saving the same
        answer again, or grading it afterwards, finds this submission."""
        student = self._open_step_student(actor, student)
        rubric, _task = self._open_step_rubric(unit_id, problem_id, step_id)
        _check_text(text)
        return self.astore.ensure_submission(rubric_id=rubric.id, student=student, text=text,
                                             source_file=open_step_source(unit_id, problem_id, step_id)).id

    def _open_step_student(self, actor: Actor, student: str | None) -> str:
        student = student or actor.student or API_STUDENT
        if not actor.may_access_student(student):
            raise Forbidden("you may only submit your own answers")
        return student

    def _open_step_rubric(self, unit_id: str, problem_id: str, step_id: str, *, step: Step | None = None
                          ) -> tuple[Rubric, str]:
        try:
            unit = self.library.get_unit(unit_id)
        except KeyError as exc:
            raise NotFound(exc.args[0] if exc.args else f"unknown unit {unit_id!r}") from None
        problem = next((p for p in unit.problems if p.id == problem_id), None)
        if problem is None:
            raise NotFound(f"unit {unit_id!r} has no problem {problem_id!r}")
        template = next((s for s in problem.steps if s.id == step_id), None)
        if template is None:
            raise NotFound(f"problem {problem_id!r} has no step {step_id!r}")
        try:
            return rubric_for_step(step if step is not None else template, self.library, where=f"{unit_id}/{problem_id}")
        except RubricProblem as exc:
            raise TutorError(str(exc)) from None

    def _library_rubric(self, rubric_id: str) -> Rubric:
        rubric = self.library.rubrics.get(rubric_id) if rubric_id else None
        if rubric is None:
            known = ", ".join(sorted(self.library.rubrics)) or "none"
            raise NotFound(f"unknown rubric {rubric_id!r} (known rubric ids: {known})")
        return rubric

    def _grade(self, rubric: Rubric, text: str, *, student: str, source: str, task: str | None = None) -> Grading:
        """One text from anyone: bounded by the rubric's length and by the time limit."""
        _check_text(text)
        if len(text) > rubric.max_chars:
            raise TutorError(f"the text has {len(text):,} characters; rubric '{rubric.id}' grades texts of at most "
                             f"{rubric.max_chars:,} (its max_chars). Shorten it and send it again")
        submission = self.astore.ensure_submission(rubric_id=rubric.id, student=student, text=text,
                                                   source_file=source)
        version = rubric_hash(rubric)
        stored = self.astore.find_grade(submission_id=submission.id, rubric_hash=version)
        if stored is not None:
            return _grading_from_record(rubric, stored)
        grader = replace(self.grader, model=within(self.model, self.time_limit_s))
        try:
            grading = grader.grade(rubric, submission.text, task=task)
        except GradingError as exc:
            raise TutorError(str(exc)) from None
        self.astore.save_grade(submission_id=submission.id, rubric_hash=version, grading=grading)
        return grading

    def grade_file(self, actor: Actor, rubric_id: str, path: Path, *,
                   on_progress: ProgressCallback | None = None) -> BatchReport:
        """Grade an uploaded CSV or folder of .txt files; resumable like the command line.
        Sources and messages name the files from the upload's folder on (``class.csv:4``,
        ``essays/Ana.txt``), not the temporary folder an upload lands in."""
        self._teacher(actor)
        rubric = self._library_rubric(rubric_id)
        base = str(Path(path).parent) + os.sep
        try:
            inputs = read_submissions(Path(path))
        except InputProblem as exc:
            raise TutorError(str(exc).replace(base, "")) from None
        inputs = [replace(item, source_file=item.source_file.removeprefix(base)) for item in inputs]
        return self.grade_batch(actor, rubric, inputs, source=Path(path).name, on_progress=on_progress)

    def grade_batch(self, actor: Actor, rubric: Rubric, inputs: list[SubmissionInput], *, source: str,
                    progress: bool = False, on_progress: ProgressCallback | None = None) -> BatchReport:
        """Grade a class set, resumably: what is graded under this version of the rubric is skipped.
        The Grading page reports through ``on_progress``; ``python app.py grade`` draws a bar on
        the terminal (``progress``)."""
        self._teacher(actor)
        return BatchGrader(self.astore, self.grader).run(rubric, inputs, source=source, progress=progress,
                                                         on_progress=on_progress)

    def grade_waiting(self, actor: Actor, rubric_id: str, *,
                      on_progress: ProgressCallback | None = None) -> list[ExportRow]:
        """Grade every stored submission of the rubric that has no grade under its current
        version: open-step answers saved while the model was busy, or a batch cut short. An
        open step's answer is graded with the step's prompt as its task, as it would have been
        at once. Stops at the first submission when no model is available."""
        self._teacher(actor)
        rubric = self._stored_rubric(rubric_id)
        version = rubric_hash(rubric)
        waiting = [s for s in self.astore.submissions(rubric_id=rubric.id)
                   if self.astore.find_grade(submission_id=s.id, rubric_hash=version) is None]
        tasks = {submission.id: self._task_for(rubric, submission.source_file or "") for submission in waiting}
        rows: dict[int, ExportRow] = {}
        outcomes = grade_concurrently(self.grader, rubric, waiting, text=lambda submission: submission.text,
                                      task=lambda submission: tasks[submission.id])
        for done, (submission, outcome) in enumerate(outcomes, start=1):
            if outcome.grading is not None:
                self.astore.save_grade(submission_id=submission.id, rubric_hash=version, grading=outcome.grading)
                self._announce(GradedAnswer(submission.student, submission.source_file or "", submission.text, rubric,
                                            outcome.grading.to_result(), "model"))
            rows[submission.id] = ExportRow(submission.student, submission.source_file or "", outcome.status,
                                            error=outcome.error)
            if on_progress is not None:
                on_progress(done, len(waiting), submission.student)
        return [rows[submission.id] for submission in waiting]

    def _task_for(self, rubric: Rubric, source: str) -> str | None:
        """The task an open step's answer was written for (its source names the step), else None."""
        parts = source.split("/")
        if len(parts) != 3:
            return None
        try:
            step_rubric, task = self._open_step_rubric(*parts)
        except TutorError:
            return None
        return task if step_rubric.id == rubric.id else None

    # teacher review ------------------------------------------------------------------------
    def review_rubrics(self, actor: Actor) -> list[tuple[str, str]]:
        """(id, title) of every rubric a teacher can review: the rubric files, and the inline
        rubrics of open steps once a student has answered one."""
        self._teacher(actor)
        found = dict(self.rubrics())
        for rubric_id in self.astore.rubric_ids():
            if rubric_id not in found:
                try:
                    found[rubric_id] = self._stored_rubric(rubric_id).title
                except NotFound:
                    continue  # its unit was removed: the grades stay in the database
        return sorted(found.items())

    def rubric_for_review(self, rubric_id: str) -> Rubric:
        """A rubric file's rubric or an open step's inline one, by id (``NotFound`` otherwise)."""
        return self._stored_rubric(rubric_id)

    def list_grades(self, actor: Actor, rubric_id: str) -> list[ReviewRow]:
        self._teacher(actor)
        return list_grades(self.astore, self._stored_rubric(rubric_id))

    def override(self, actor: Actor, submission_id: int, criterion_id: str, *, score: int | None = None,
                 comment: str | None = None, rubric_id: str, teacher: str | None = None) -> ReviewRow:
        """Set the teacher's score and/or comment for one criterion; returns the updated row."""
        self._teacher(actor)
        rubric = self._stored_rubric(rubric_id)
        who = teacher or actor.role
        try:
            if score is not None:
                override_score(self.astore, rubric, submission_id=submission_id, criterion_id=criterion_id,
                               score=score, teacher=who, comment=comment)
            elif comment is not None:
                edit_comment(self.astore, rubric, submission_id=submission_id, criterion_id=criterion_id,
                             comment=comment, teacher=who)
            else:
                raise ReviewError("give a score or a comment to change")
            row = review_row(self.astore, rubric, submission_id)
        except ReviewError as exc:
            raise TutorError(str(exc)) from None
        if row.total is not None and score is not None:
            self._announce(GradedAnswer(row.student, row.source, row.text, rubric, _in_force(rubric, row), "teacher"))
        return row

    def confirm(self, actor: Actor, submission_id: int, *, rubric_id: str, teacher: str | None = None) -> ReviewRow:
        """Confirm the model's grade of a submission without changing it; returns the updated row."""
        self._teacher(actor)
        rubric = self._stored_rubric(rubric_id)
        try:
            return confirm_grade(self.astore, rubric, submission_id=int(submission_id), teacher=teacher or actor.role)
        except (ReviewError, ValueError) as exc:
            raise TutorError(str(exc)) from None

    def task_for(self, rubric: Rubric, source: str) -> str | None:
        """The task a stored submission was graded with: an open step's prompt, else the rubric's own (None)."""
        return self._task_for(rubric, source)

    def import_teacher_grades(self, actor: Actor, rubric_id: str, path: Path,
                              teacher: str | None = None) -> ImportReport:
        self._teacher(actor)
        try:
            return import_teacher_grades(self.astore, self._stored_rubric(rubric_id), Path(path),
                                         teacher=teacher or actor.role)
        except ReviewError as exc:
            raise TutorError(str(exc)) from None

    def agreement(self, actor: Actor, rubric_id: str) -> AgreementReport:
        self._teacher(actor)
        return agreement_report(self.astore, self._stored_rubric(rubric_id))

    def export(self, actor: Actor, rubric_id: str, out: Path) -> Path:
        """Every graded submission for the rubric, grades in force, as CSV or JSON (by extension)."""
        self._teacher(actor)
        rubric = self._stored_rubric(rubric_id)
        rows = [ExportRow(r.student, r.source, "graded" if r.graded else "not graded", row=r)
                for r in list_grades(self.astore, rubric)]
        return write_results(rubric, rows, Path(out))

    def export_batch(self, actor: Actor, report: BatchReport, out: Path, *, rubric: Rubric | None = None) -> Path:
        """One batch's rows, as the Grading page and ``grade --out`` write them (CSV or JSON by
        extension). ``rubric``: the one graded with, when it is a file outside the curricula."""
        self._teacher(actor)
        return write_results(rubric or self._library_rubric(report.rubric_id), report.items, Path(out))

    # helpers -------------------------------------------------------------------------------
    def _stored_rubric(self, rubric_id: str) -> Rubric:
        """A rubric file's rubric, or a rubric written inline under an open step (its grades are
        reviewed like any other)."""
        if rubric_id in self.library.rubrics:
            return self.library.rubrics[rubric_id]
        for unit in self.library.units.values():
            for problem in unit.problems:
                for step in problem.steps:
                    if isinstance(step.rubric, Rubric) and step.rubric.id == rubric_id:
                        return step.rubric
        return self._library_rubric(rubric_id)  # raises NotFound naming the known ids

    @staticmethod
    def _teacher(actor: Actor) -> None:
        if not actor.is_teacher:
            raise Forbidden("only a teacher may review grades")


def open_step_source(unit_id: str, problem_id: str, step_id: str) -> str:
    """Where an open step's answer came from, as stored with it (``unit/problem/step``)."""
    return f"{unit_id}/{problem_id}/{step_id}"


def _check_text(text: object) -> None:
    if not isinstance(text, str) or not text.strip():
        raise TutorError("the text to grade is empty")
    if len(text) > MAX_SUBMISSION_CHARS:
        raise TutorError(f"the text has {len(text):,} characters; at most {MAX_SUBMISSION_CHARS:,} can be graded")


def _in_force(rubric: Rubric, row: ReviewRow) -> GradeResult:
    """A review row's grade in force (the teacher's scores and comments where set) as a result."""
    return GradeResult(rubric_id=rubric.id, total=row.total or 0.0, max_total=row.max_total,
                       criteria=[GradedCriterion(id=c.criterion_id, score=c.score or 0, comment=c.comment)
                                 for c in row.criteria],
                       next_steps=list(row.next_steps))


def _grading_from_record(rubric: Rubric, record) -> Grading:
    return Grading(rubric_id=rubric.id, next_steps=list(record.next_steps), total=record.total,
                   max_total=record.max_total, parts=record.parts, model_name=record.model_name,
                   adapter=record.adapter, calls=0,
                   summary_from_model=record.summary_from_model, criteria=list(record.criteria))
