"""The teacher's curricula page: what is loaded, what is broken in which file, and Reload.

Reload asks the library to read the folder again; the library keeps the last good version of
a unit whose file now fails, so a typo made mid-lesson never takes a unit away from students.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .teacher_guard import require_teacher
from .teacher_render import load_report_markdown, shown_path

UNIT_COLUMNS = ["unit", "title", "subject", "language", "problems", "skills", "file"]


@dataclass
class CurriculaPanel:
    report: gr.Markdown
    units: gr.Dataframe
    reload: gr.Button

    @property
    def outputs(self) -> list:
        return [self.report, self.units]


def units_frame(library) -> pd.DataFrame:
    """Loaded units; a unit whose file now fails is still listed (its last good version is what
    students get), and says so."""
    files = getattr(library, "files", {}) or {}
    root = getattr(library, "root", None)
    broken = {Path(str(getattr(e, "file", ""))).resolve() for e in library.errors}
    rows = []
    for uid, unit in sorted(library.units.items()):
        file = shown_path(files[uid], root) if uid in files else ""
        if uid in files and Path(files[uid]).resolve() in broken:
            file += " (edit has errors: last good version in use)"
        rows.append([uid, unit.title, unit.subject, unit.language, len(unit.problems), len(unit.skills), file])
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)


def curricula_snapshot(library) -> tuple[str, pd.DataFrame]:
    """Values for ``CurriculaPanel.outputs``."""
    return load_report_markdown(library.units, list(library.errors), getattr(library, "root", None)), units_frame(library)


def create_curricula_panel(services, signin: SignIn) -> CurriculaPanel:
    library = services.library
    with gr.Row(elem_classes="toolbar"):
        gr.Markdown("Edit the YAML files in the curricula folder, then press **Reload**. A file with a mistake is "
                    "listed below with the line to fix; students keep the last good version meanwhile.")
        reload = gr.Button("Reload curricula", variant="primary", scale=0, min_width=160, elem_id="reload-curricula")
    report = gr.Markdown(elem_id="curricula-report")
    units = gr.Dataframe(headers=UNIT_COLUMNS, label="Loaded units", interactive=False, wrap=True,
                         elem_id="curricula-units")

    @page_handler("reloading the curricula")
    def on_reload(request: gr.Request):
        require_teacher(signin, request)
        library.reload()
        return curricula_snapshot(library)

    reload.click(on_reload, None, [report, units], **FAST)
    return CurriculaPanel(report, units, reload)
