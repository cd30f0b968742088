"""The teacher's exports: attempts, mastery and conversation practice as CSV files to download.

Each click writes a fresh file into its own temporary folder (the dashboard service writes the
CSV; this only names the file and hands it to the browser), so two teachers never download each
other's half-written export.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import gradio as gr

from ..bootstrap import Services
from .api import FAST
from .auth import SignIn
from .class_overview import overview_choices
from .downloads import fresh_folder
from .errors import page_handler
from .teacher_guard import require_teacher

ALL_UNITS = ""
HOWTO = ("Download what students did, for a spreadsheet or your school's records. **Attempts**: every answer as "
         "typed and how it was judged. **Mastery**: each student's current estimate per skill; **mastery history**: "
         "every change over time. **Conversation turns**: every message and reply of conversation practice, with "
         "its correction; **conversation errors**: one row per error found, with its category.")


def write_export(dashboard, actor, kind: str, unit_id: str | None) -> Path:
    """The CSV of ``kind`` for one unit (or all), in a fresh file of its own."""
    path = export_path(kind, unit_id)
    unit_id = unit_id or None
    if kind == "attempts":
        dashboard.attempts_csv(actor, unit_id, path=path)
    elif kind in ("mastery", "mastery-history"):
        dashboard.mastery_csv(actor, unit_id, history=kind == "mastery-history", path=path)
    elif kind == "conversation-turns":
        dashboard.conversation_turns_csv(actor, unit_id, path=path)
    elif kind == "conversation-errors":
        dashboard.conversation_errors_csv(actor, unit_id, path=path)
    else:
        raise ValueError(f"unknown export {kind!r}")
    return path


def export_path(kind: str, unit_id: str | None) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    name = f"{kind}-{unit_id or 'all-units'}-{stamp}.csv"
    return fresh_folder() / name


def create_exports_panel(services: Services, signin: SignIn) -> None:
    dashboard = services.dashboard
    gr.Markdown(HOWTO)
    unit = gr.Dropdown([("All units", ALL_UNITS)] + overview_choices(services.library), value=ALL_UNITS,
                       label="Unit", elem_id="export-unit")
    with gr.Row():
        attempts_btn = gr.Button("Attempts CSV", variant="primary", elem_id="export-attempts")
        mastery_btn = gr.Button("Mastery CSV", variant="primary", elem_id="export-mastery")
        history_btn = gr.Button("Mastery history CSV", variant="secondary", elem_id="export-history")
    with gr.Row():
        turns_btn = gr.Button("Conversation turns CSV", variant="primary", elem_id="export-conversation-turns")
        errors_btn = gr.Button("Conversation errors CSV", variant="secondary", elem_id="export-conversation-errors")
    files = gr.File(label="Your download", interactive=False, elem_id="export-file")

    def make(kind: str):
        @page_handler(f"exporting {kind}")
        def handler(unit_id: str | None, request: gr.Request):
            return str(write_export(dashboard, require_teacher(signin, request), kind, unit_id))
        return handler

    for button, kind in [(attempts_btn, "attempts"), (mastery_btn, "mastery"), (history_btn, "mastery-history"),
                         (turns_btn, "conversation-turns"), (errors_btn, "conversation-errors")]:
        button.click(make(kind), [unit], [files], **FAST)
