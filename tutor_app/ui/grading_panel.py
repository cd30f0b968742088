"""The teacher's batch grading page: a rubric, a class set of texts, a progress bar, downloads.

The same run as ``python app.py --grade RUBRIC INPUT --out results.csv``: ``AssessmentService``
grades and stores each submission the moment it is graded, so uploading the same files again
after an interruption (a closed tab, a restart) skips what is done and grades the rest.

Students' texts do not linger in temporary folders: the upload (at most ``--upload-mb``, 20 MB
by default) and the run's working copy are deleted as soon as the run has read them, and the
run's result files once the page has taken its own copy of them for the download.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import gradio as gr

from ..assessment.batch import BatchReport, ProgressCallback
from ..assessment.inputs import InputProblem
from ..assessment.uploads import gather_uploads
from ..bootstrap import Services
from ..service.actor import Actor
from ..service.errors import TutorError
from .api import FAST, MODEL_PAGE
from .auth import SignIn
from .downloads import discard_uploads
from .errors import page_handler
from .grading_render import batch_frame, batch_summary_markdown, rubric_summary_html
from .teacher_guard import require_teacher

HOWTO = ("Upload one **CSV** with a student column and a text column (e.g. `student,text`), or one **.txt** file "
         "per student (the file name is the student's name), or a **zip** of either. Each criterion is graded on "
         "its own; results appear below and on the **Review** page. Grading the same files again skips what is "
         "already graded, so an interrupted run simply continues.")


RUN_PREFIX = "tutor-grading-"


@dataclass
class GradingRun:
    report: BatchReport
    files: list[Path]  # the results as CSV and JSON
    folder: Path  # the run's own folder (the results): removed once the page has copied them


@dataclass
class GradingPanel:
    rubric: gr.Dropdown
    rubric_info: gr.HTML
    uploads: gr.File
    grade: gr.Button
    status: gr.Markdown
    results: gr.Dataframe
    downloads: gr.File
    snapshot: Callable  # (actor, rubric shown) -> values for ``outputs``

    @property
    def outputs(self) -> list:
        return [self.rubric, self.rubric_info]


def rubric_choices(services: Services) -> list[tuple[str, str]]:
    return [(title, rid) for rid, title in services.assessment.rubrics()]


def grade_uploads(services: Services, actor: Actor, rubric_id: str | None, uploads: list | None, *,
                  on_progress: ProgressCallback | None = None) -> GradingRun:
    """Grade what was uploaded and write this run's results next to a copy of the upload."""
    if not rubric_id:
        raise TutorError("Choose a rubric first.")
    if not uploads:
        raise TutorError("Upload the submissions first: a CSV, .txt files or a zip.")
    assessment = services.assessment
    paths = [Path(str(u)) for u in uploads]
    if not all(p.is_file() for p in paths):
        raise TutorError("The uploaded files were deleted after the last grading run. Upload them again.")
    work = Path(tempfile.mkdtemp(prefix=RUN_PREFIX))
    try:
        source = gather_uploads(paths, work)
        report = assessment.grade_file(actor, rubric_id, source, on_progress=on_progress)
    except InputProblem as exc:
        remove_run_folder(work)
        raise TutorError(str(exc)) from None
    except BaseException:
        remove_run_folder(work)
        raise
    finally:
        discard_uploads(paths)  # read, or refused: either way not kept
    _remove(source)  # the working copy of the texts; the grades are in the database
    stem = f"grades-{rubric_id}-{datetime.now():%Y%m%d-%H%M}"
    files = [assessment.export_batch(actor, report, work / f"{stem}.{ext}") for ext in ("csv", "json")]
    return GradingRun(report=report, files=files, folder=work)


def remove_run_folder(folder: str | Path | None) -> None:
    """A grading run's folder, once its results were handed to the page (only ever such a folder)."""
    if folder and Path(folder).name.startswith(RUN_PREFIX) and Path(folder).parent == Path(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def create_grading_panel(services: Services, signin: SignIn) -> GradingPanel:
    assessment = services.assessment
    gr.Markdown(HOWTO, elem_classes="howto")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            choices = rubric_choices(services)
            rubric = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Rubric",
                                 elem_id="grading-rubric")
            rubric_info = gr.HTML(rubric_summary_html(assessment.rubric(choices[0][1]) if choices else None),
                                  elem_id="grading-rubric-info")
        with gr.Column(scale=3, min_width=300):
            uploads = gr.File(file_count="multiple", file_types=[".csv", ".tsv", ".txt", ".zip"],
                              label="Submissions (CSV, .txt files or a zip)", height=150, elem_id="grading-files")
            grade = gr.Button("Grade", variant="primary", elem_id="grading-start")
    status = gr.Markdown("", min_height=60, elem_id="grading-status")  # the progress bar shows here
    results = gr.Dataframe(headers=["Student", "Status", "Total"], label="Results", interactive=False, wrap=True,
                           elem_id="grading-results")
    downloads = gr.File(label="Download the results (CSV, JSON)", file_count="multiple", interactive=False,
                        elem_id="grading-downloads")

    def snapshot(actor: Actor, shown: str | None):
        current = rubric_choices(services)  # the teacher may have reloaded the curricula
        ids = [rid for _, rid in current]
        value = shown if shown in ids else (ids[0] if ids else None)
        return (gr.Dropdown(choices=current, value=value),
                rubric_summary_html(assessment.rubric(value) if value else None))

    @page_handler("showing a rubric")
    def on_rubric(rubric_id: str | None, request: gr.Request):
        require_teacher(signin, request)
        return rubric_summary_html(assessment.rubric(rubric_id) if rubric_id else None)

    @page_handler("grading a class set")
    def on_grade(rubric_id: str | None, files: list | None, request: gr.Request, progress=gr.Progress()):
        actor = require_teacher(signin, request)
        progress(0, desc="Reading the submissions")

        def advance(done: int, total: int, student: str) -> None:
            progress((done, total), desc=f"Graded {student}", unit="submissions")

        run = grade_uploads(services, actor, rubric_id, files, on_progress=advance)
        rubric_obj = assessment.rubric(run.report.rubric_id)
        return (batch_summary_markdown(run.report), batch_frame(rubric_obj, run.report.items),
                [str(f) for f in run.files], None, str(run.folder))

    run_folder = gr.State(None)
    rubric.change(on_rubric, [rubric], [rubric_info], **FAST)
    grade.click(on_grade, [rubric, uploads], [status, results, downloads, uploads, run_folder],
                show_progress_on=[status], **MODEL_PAGE).then(remove_run_folder, [run_folder], None, **FAST)
    return GradingPanel(rubric, rubric_info, uploads, grade, status, results, downloads, snapshot)
