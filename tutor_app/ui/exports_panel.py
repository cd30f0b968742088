"""The teacher's exports: attempts and mastery as CSV files to download.

Each click writes a fresh file into its own temporary folder (the dashboard service writes the
CSV; this only names the file and hands it to the browser), so two teachers never download each
other's half-written export.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import gradio as gr

from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .student_view import unit_choices
from .teacher_guard import require_teacher

ALL_UNITS = ""


def export_path(kind: str, unit_id: str | None) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    name = f"{kind}-{unit_id or 'all-units'}-{stamp}.csv"
    return Path(tempfile.mkdtemp(prefix="tutor-export-")) / name


def create_exports_panel(services, signin: SignIn) -> None:
    dashboard = services.dashboard
    gr.Markdown("Download what students did, for a spreadsheet or your school's records. "
                "**Attempts**: every answer as typed and how it was judged. **Mastery**: each student's "
                "current estimate per skill; **mastery history**: every change over time.")
    unit = gr.Dropdown([("All units", ALL_UNITS)] + unit_choices(services.library), value=ALL_UNITS,
                       label="Unit", elem_id="export-unit")
    with gr.Row():
        attempts_btn = gr.Button("Attempts CSV", variant="primary", elem_id="export-attempts")
        mastery_btn = gr.Button("Mastery CSV", variant="primary", elem_id="export-mastery")
        history_btn = gr.Button("Mastery history CSV", variant="secondary", elem_id="export-history")
    files = gr.File(label="Your download", interactive=False, elem_id="export-file")

    def make(kind: str):
        @page_handler(f"exporting {kind}")
        def handler(unit_id: str | None, request: gr.Request):
            actor = require_teacher(signin, request)
            path = export_path(kind, unit_id)
            if kind == "attempts":
                dashboard.attempts_csv(actor, unit_id or None, path=path)
            else:
                dashboard.mastery_csv(actor, unit_id or None, history=kind == "mastery-history", path=path)
            return str(path)
        return handler

    attempts_btn.click(make("attempts"), [unit], [files], **FAST)
    mastery_btn.click(make("mastery"), [unit], [files], **FAST)
    history_btn.click(make("mastery-history"), [unit], [files], **FAST)
