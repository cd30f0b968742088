"""How far the model agrees with the teacher: import the teacher's own grades, read the report.

A teacher who graded a class on paper uploads those grades (``student, criterion, score,
comment``, like ``samples/teacher_grades.csv``); they are stored as the teacher's overrides,
apart from the model's grades, and the report compares the two per criterion (QWK, exact and
adjacent agreement; ``assessment/agreement.py`` says how).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ..bootstrap import Services
from ..service.actor import Actor
from ..service.errors import TutorError
from .api import FAST
from .auth import SignIn
from .downloads import discard_uploads
from .errors import page_handler
from .grading_render import AGREEMENT_COLUMNS, agreement_frame, agreement_note
from .teacher_guard import require_teacher
from .updates import Updates

MAX_PROBLEMS_SHOWN = 8


@dataclass
class AgreementPanel:
    upload: gr.File
    import_button: gr.Button
    import_report: gr.Markdown
    table: gr.Dataframe
    note: gr.Markdown
    imported: object  # the import event, for the review list to refresh after it

    @property
    def outputs(self) -> list:
        return [self.table, self.note]


def agreement(services: Services, actor: Actor, rubric_id: str | None) -> Updates:
    """The report per criterion for the rubric shown (nothing while none is chosen)."""
    if not rubric_id:
        return {"agreement_table": None, "agreement_note": ""}
    report = services.assessment.agreement(actor, rubric_id)
    return {"agreement_table": agreement_frame(report), "agreement_note": agreement_note(report)}


def import_grades(services: Services, actor: Actor, rubric_id: str | None, path: str | None) -> Updates:
    """Store the teacher's own grades from a CSV as their overrides; the report, and the report again."""
    if not rubric_id:
        raise TutorError("Choose a rubric first.")
    if not path:
        raise TutorError("Upload the CSV of your grades first.")
    if not Path(path).is_file():
        raise TutorError("The uploaded CSV was deleted after it was imported. Upload it again.")
    try:
        result = services.assessment.import_teacher_grades(actor, rubric_id, Path(path))
    finally:
        discard_uploads([Path(path)])
    folder = str(Path(path).parent) + os.sep  # name the file as the teacher knows it, not its upload folder
    return {"agreement_import_report": import_report_markdown(result.stored,
                                                              [p.replace(folder, "") for p in result.problems]),
            **agreement(services, actor, rubric_id)}


def import_report_markdown(stored: int, problems: list[str]) -> str:
    lines = [f"**{stored} score{'s' if stored != 1 else ''} imported** as your grades."]
    if problems:
        shown = "".join(f"<li>{html.escape(p)}</li>" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = f"<li>... and {len(problems) - MAX_PROBLEMS_SHOWN} more</li>" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        lines.append(f"{len(problems)} row(s) left out:<ul class=\"problems\">{shown}{more}</ul>")
    return "\n\n".join(lines)


def create_agreement_panel(services: Services, signin: SignIn, rubric: gr.Dropdown) -> AgreementPanel:
    gr.Markdown("### Agreement between the model and you", elem_classes="section-title")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            table = gr.Dataframe(headers=AGREEMENT_COLUMNS, label="Agreement per criterion", interactive=False,
                                 elem_id="agreement-table")
            note = gr.Markdown("", elem_classes="howto", elem_id="agreement-note")
        with gr.Column(scale=2, min_width=280):
            upload = gr.File(label="Your own grades (CSV: student, criterion, score, comment)", file_types=[".csv"],
                             height=120, elem_id="teacher-grades-file")
            import_button = gr.Button("Import my grades", variant="secondary", elem_id="teacher-grades-import")
            import_report = gr.Markdown("", elem_id="teacher-grades-report")

    panel_names = {"agreement_table": table, "agreement_note": note, "agreement_import_report": import_report}

    @page_handler("importing the teacher's grades")
    def on_import(rubric_id: str | None, path: str | None, request: gr.Request):
        updates = import_grades(services, require_teacher(signin, request), rubric_id, path)
        return {panel_names[name]: value for name, value in updates.items()}

    imported = import_button.click(on_import, [rubric, upload], [import_report, table, note], **FAST)
    return AgreementPanel(upload, import_button, import_report, table, note, imported)
