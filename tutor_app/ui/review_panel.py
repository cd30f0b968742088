"""The teacher's review of grades: each text next to its grade, and the teacher's corrections.

A correction is stored as the teacher's override, apart from the model's grade (see
``assessment/models.py``): the page shows the grade in force, says whose each score is, and
the pairs feed the agreement report below it. Only what the teacher actually changed is
stored; saving the model's own score again records nothing, so agreement is not inflated by
a teacher who only fixed a comment.

The handlers are plain functions over (services, actor, what the page shows) that return the
panel's changes by name (``updates.py``); ``create_review_panel`` builds and wires.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from ..assessment.batch import ProgressCallback
from ..assessment.review import ReviewRow
from ..bootstrap import Services
from ..service.actor import Actor
from ..service.errors import TutorError
from .agreement_panel import AgreementPanel, agreement, create_agreement_panel
from .api import FAST, MODEL_PAGE
from .auth import SignIn
from .errors import page_handler
from .grading_render import grade_html, grades_frame, review_summary_markdown, submission_html, submission_label
from .teacher_guard import require_teacher
from .updates import Updates, components


@dataclass
class ReviewPanel:
    rubric: gr.Dropdown
    summary: gr.Markdown
    table: gr.Dataframe
    submission: gr.Dropdown
    text: gr.HTML
    grade: gr.HTML
    criterion: gr.Dropdown
    score: gr.Radio
    comment: gr.Textbox
    save: gr.Button
    agreement: AgreementPanel
    downloads: gr.File

    @property
    def outputs(self) -> list:
        return [self.rubric, *self.list_outputs]

    @property
    def list_outputs(self) -> list:
        return [self.summary, self.table, self.submission, *self.detail_outputs, *self.agreement.outputs]

    @property
    def detail_outputs(self) -> list:
        return [self.text, self.grade, self.criterion, self.score, self.comment]

    @property
    def agreement_table(self) -> gr.Dataframe:
        return self.agreement.table

    @property
    def agreement_note(self) -> gr.Markdown:
        return self.agreement.note

    def components(self, updates: Updates) -> dict[gr.components.Component, Any]:
        return components(self, updates)


def find_row(rows: list[ReviewRow], submission_id: str | int | None) -> ReviewRow | None:
    try:
        wanted = int(submission_id) if submission_id not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return next((r for r in rows if r.submission_id == wanted), None)


def save_change(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None,
                criterion_id: str | None, score: str | int | None, comment: str | None) -> ReviewRow:
    """Store what the teacher changed on one criterion (score, comment or both)."""
    if not rubric_id or not submission_id:
        raise TutorError("Choose a submission first.")
    if not criterion_id:
        raise TutorError("Choose the criterion to change.")
    row = find_row(services.assessment.list_grades(actor, rubric_id), submission_id)
    if row is None:
        raise TutorError("That submission is not in the list any more; press Refresh.")
    current = next((c for c in row.criteria if c.criterion_id == criterion_id), None)
    if current is None:
        raise TutorError(f"This rubric has no criterion {criterion_id!r}; press Refresh.")
    new_score = int(score) if score not in (None, "") else None
    new_comment = (comment or "").strip()
    score_changed = new_score is not None and new_score != current.score
    comment_changed = bool(new_comment) and new_comment != current.comment.strip()
    if not (score_changed or comment_changed):
        raise TutorError("Nothing to save: choose another score or edit the comment first.")
    return services.assessment.override(actor, row.submission_id, criterion_id,
                                        score=new_score if score_changed else None,
                                        comment=new_comment if comment_changed else None, rubric_id=rubric_id)


def criterion_values(row: ReviewRow | None, criterion_id: str | None = None) -> Updates:
    """The change form for one criterion of ``row``."""
    if row is None or not row.criteria:
        return {"criterion": gr.Dropdown(choices=[], value=None), "score": gr.Radio(choices=[], value=None),
                "comment": gr.Textbox(value="")}
    chosen = next((c for c in row.criteria if c.criterion_id == criterion_id), row.criteria[0])
    return {"criterion": gr.Dropdown(choices=[(c.name, c.criterion_id) for c in row.criteria],
                                     value=chosen.criterion_id),
            "score": gr.Radio(choices=[str(level) for level in chosen.levels],
                              value=None if chosen.score is None else str(chosen.score)),
            "comment": gr.Textbox(value=chosen.comment)}


def detail(row: ReviewRow | None, criterion_id: str | None = None) -> Updates:
    """One submission next to its grade, with the change form."""
    return {"text": submission_html(row), "grade": grade_html(row), **criterion_values(row, criterion_id)}


def listing(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None,
            criterion_id: str | None = None) -> Updates:
    """The summary, the table, the picker, the chosen submission and the agreement report."""
    if not rubric_id:
        return {"summary": review_summary_markdown([]), "table": None,
                "submission": gr.Dropdown(choices=[], value=None), **detail(None), **agreement(services, actor, None)}
    assessment = services.assessment
    rows = assessment.list_grades(actor, rubric_id)
    row = find_row(rows, submission_id) or (rows[0] if rows else None)
    return {"summary": review_summary_markdown(rows),
            "table": grades_frame(assessment.rubric_for_review(rubric_id), rows),
            "submission": gr.Dropdown(choices=[(submission_label(r), str(r.submission_id)) for r in rows],
                                      value=str(row.submission_id) if row else None),
            **detail(row, criterion_id), **agreement(services, actor, rubric_id)}


def snapshot(services: Services, actor: Actor, shown: str | None, submission_id: str | None = None) -> Updates:
    """The whole page as it opens: the rubrics to review (keeping the one shown), then its listing."""
    choices = [(title, rid) for rid, title in services.assessment.review_rubrics(actor)]
    ids = [rid for _, rid in choices]
    value = shown if shown in ids else (ids[0] if ids else None)
    return {"rubric": gr.Dropdown(choices=choices, value=value),
            **listing(services, actor, value, submission_id if value == shown else None)}


def pick_submission(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None) -> Updates:
    return detail(find_row(services.assessment.list_grades(actor, rubric_id), submission_id) if rubric_id else None)


def pick_criterion(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None,
                   criterion_id: str | None) -> Updates:
    row = find_row(services.assessment.list_grades(actor, rubric_id), submission_id) if rubric_id else None
    form = criterion_values(row, criterion_id)
    return {"score": form["score"], "comment": form["comment"]}


def save_grade(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None,
               criterion_id: str | None, score: str | int | None, comment: str | None) -> Updates:
    saved = save_change(services, actor, rubric_id, submission_id, criterion_id, score, comment)
    gr.Info(f"Saved your grade for {saved.student}.", title="Saved", duration=3)
    return listing(services, actor, rubric_id, submission_id, criterion_id)


def confirm_grade(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None) -> Updates:
    """The model's grade is right as it stands: say so without changing it (the training export
    learns from confirmed grades, and the dashboard counts how often the model needed correcting)."""
    if not rubric_id or not submission_id:
        raise TutorError("Choose a submission first.")
    row = find_row(services.assessment.list_grades(actor, rubric_id), submission_id)
    if row is None:
        raise TutorError("That submission is not in the list any more; press Refresh.")
    confirmed = services.assessment.confirm(actor, row.submission_id, rubric_id=rubric_id)
    gr.Info(f"Confirmed the model's grade for {confirmed.student}.", title="Confirmed", duration=3)
    return listing(services, actor, rubric_id, submission_id)


def grade_waiting(services: Services, actor: Actor, rubric_id: str | None, submission_id: str | None, *,
                  on_progress: ProgressCallback | None = None) -> Updates:
    """Grade what has no grade yet (open steps answered while the model was busy, cut-short batches)."""
    if not rubric_id:
        raise TutorError("Choose a rubric first.")
    rows = services.assessment.grade_waiting(actor, rubric_id, on_progress=on_progress)
    graded = sum(1 for r in rows if r.status == "graded")
    problems = [r for r in rows if r.status != "graded"]
    if not rows:
        gr.Info("Nothing is waiting: every submission has a grade.", title="Up to date", duration=4)
    elif problems:
        gr.Warning(f"{graded} graded; {len(problems)} not graded: {problems[0].error}", title="Not all graded")
    else:
        gr.Info(f"{graded} graded.", title="Done", duration=4)
    return listing(services, actor, rubric_id, submission_id)


def export_grades(services: Services, actor: Actor, rubric_id: str | None) -> Updates:
    """The grades in force as CSV and JSON, to download."""
    if not rubric_id:
        raise TutorError("Choose a rubric first.")
    folder = Path(tempfile.mkdtemp(prefix="tutor-grades-"))
    stem = f"grades-{rubric_id}-{datetime.now():%Y%m%d-%H%M}"
    files = [str(services.assessment.export(actor, rubric_id, folder / f"{stem}.{ext}")) for ext in ("csv", "json")]
    return {"downloads": gr.File(value=files, visible=True)}


def create_review_panel(services: Services, signin: SignIn) -> ReviewPanel:
    with gr.Row(elem_classes="toolbar"):
        rubric = gr.Dropdown([], label="Rubric", scale=4, min_width=260, elem_id="review-rubric")
        refresh = gr.Button("Refresh", scale=0, min_width=110, elem_id="review-refresh")
        waiting = gr.Button("Grade the waiting ones", scale=0, min_width=270, elem_id="review-grade-waiting")
        export = gr.Button("Download grades", scale=0, min_width=190, elem_id="review-export")
    summary = gr.Markdown("", min_height=40, elem_id="review-summary")  # the progress bar shows here
    table = gr.Dataframe(headers=["Student", "Total", "Checked by"], label="Grades in force", interactive=False,
                         wrap=True, max_height=300, elem_id="review-table")
    downloads = gr.File(label="Grades in force (CSV, JSON)", file_count="multiple", interactive=False,
                        visible=False, elem_id="review-downloads")
    with gr.Row(equal_height=False, elem_classes="review-row"):
        with gr.Column(scale=1, min_width=320):
            submission = gr.Dropdown([], label="Submission", elem_id="review-submission")
            text = gr.HTML(submission_html(None), elem_id="review-text")
            gr.Markdown("#### Change a grade", elem_classes="section-title")
            with gr.Group(elem_id="review-change"):
                with gr.Row(equal_height=True):
                    criterion = gr.Dropdown([], label="Criterion", scale=1, min_width=150, elem_id="review-criterion")
                    score = gr.Radio([], label="Your score", scale=1, min_width=150, elem_id="review-score")
                comment = gr.Textbox(label="Comment for the student", lines=2, elem_id="review-comment")
            with gr.Row():
                save = gr.Button("Save my grade", variant="primary", elem_id="review-save")
                confirm = gr.Button("The model's grade is right", elem_id="review-confirm")
        with gr.Column(scale=1, min_width=320):
            grade = gr.HTML("", elem_id="review-grade")
    agreement_panel = create_agreement_panel(services, signin, rubric)
    panel = ReviewPanel(rubric, summary, table, submission, text, grade, criterion, score, comment, save,
                        agreement_panel, downloads)

    @page_handler("listing grades")
    def on_list(rubric_id: str | None, submission_id: str | None, request: gr.Request):
        return panel.components(listing(services, require_teacher(signin, request), rubric_id, submission_id))

    @page_handler("showing a grade")
    def on_pick(rubric_id: str | None, submission_id: str | None, request: gr.Request):
        return panel.components(pick_submission(services, require_teacher(signin, request), rubric_id,
                                                submission_id))

    @page_handler("choosing a criterion")
    def on_criterion(rubric_id: str | None, submission_id: str | None, criterion_id: str | None,
                     request: gr.Request):
        return panel.components(pick_criterion(services, require_teacher(signin, request), rubric_id,
                                               submission_id, criterion_id))

    @page_handler("saving the teacher's grade")
    def on_save(rubric_id, submission_id, criterion_id, score, comment, request: gr.Request):
        return panel.components(save_grade(services, require_teacher(signin, request), rubric_id, submission_id,
                                           criterion_id, score, comment))

    @page_handler("confirming the model's grade")
    def on_confirm(rubric_id, submission_id, request: gr.Request):
        return panel.components(confirm_grade(services, require_teacher(signin, request), rubric_id, submission_id))

    @page_handler("grading the waiting submissions")
    def on_waiting(rubric_id, submission_id, request: gr.Request, progress=gr.Progress()):
        actor = require_teacher(signin, request)
        return panel.components(grade_waiting(services, actor, rubric_id, submission_id,
                                              on_progress=lambda done, total, student: progress(
                                                  (done, total), desc=f"Graded {student}", unit="submissions")))

    @page_handler("exporting grades")
    def on_export(rubric_id: str | None, request: gr.Request):
        return panel.components(export_grades(services, require_teacher(signin, request), rubric_id))

    list_outputs = panel.list_outputs
    rubric.input(on_list, [rubric, submission], list_outputs, **FAST)
    refresh.click(on_list, [rubric, submission], list_outputs, **FAST)
    submission.input(on_pick, [rubric, submission], panel.detail_outputs, **FAST)
    criterion.input(on_criterion, [rubric, submission, criterion], [score, comment], **FAST)
    save.click(on_save, [rubric, submission, criterion, score, comment], list_outputs, **FAST)
    confirm.click(on_confirm, [rubric, submission], list_outputs, **FAST)
    waiting.click(on_waiting, [rubric, submission], list_outputs, show_progress_on=[summary], **MODEL_PAGE)
    export.click(on_export, [rubric], [downloads], **FAST)
    agreement_panel.imported.then(on_list, [rubric, submission], list_outputs, **FAST)
    return panel
