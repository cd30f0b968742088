"""The teacher's curricula page: what is loaded, what is broken in which file, and Reload.

Problem units and conversation units are listed alike (one file, one unit, its errors under
its file name); the table says which kind each is and what it holds.

Reload asks the library to read the folder again; the library keeps the last good version of
a unit whose file now fails, so a typo made mid-lesson never takes a unit away from students.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from ..bootstrap import Services
from ..curriculum.schema import ConversationUnit
from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .teacher_guard import require_teacher
from .teacher_render import load_report_markdown, shown_path

UNIT_COLUMNS = ["unit", "title", "kind", "subject", "language", "contents", "skills", "file"]


@dataclass
class CurriculaPanel:
    report: gr.Markdown
    units: gr.Dataframe
    reload: gr.Button

    @property
    def outputs(self) -> list:
        return [self.report, self.units]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _unit_row(unit) -> list:
    """kind, subject, language, contents: what the file holds, in a teacher's words."""
    if isinstance(unit, ConversationUnit):
        contents = " · ".join([_plural(len(unit.goals), "goal"), _plural(len(unit.vocabulary), "word"),
                               _plural(len(unit.misconceptions), "usual error")])
        return [f"conversation · {unit.level}", unit.subject, f"{unit.language} → {unit.target_language}", contents]
    return ["problems", unit.subject, unit.language, _plural(len(unit.problems), "problem")]


def units_frame(library) -> pd.DataFrame:
    """Loaded units, problem units first, then conversation units; a unit whose file now fails
    is still listed (its last good version is what students get), and says so."""
    files = getattr(library, "files", {}) or {}
    root = getattr(library, "root", None)
    broken = {Path(str(getattr(e, "file", ""))).resolve() for e in library.errors}
    loaded = sorted(library.units.items()) + sorted((getattr(library, "conversations", None) or {}).items())
    rows = []
    for uid, unit in loaded:
        file = shown_path(files[uid], root) if uid in files else ""
        if uid in files and Path(files[uid]).resolve() in broken:
            file += " (edit has errors: last good version in use)"
        rows.append([uid, unit.title, *_unit_row(unit), len(unit.skills), file])
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)


def curricula_snapshot(library) -> tuple[str, pd.DataFrame]:
    """Values for ``CurriculaPanel.outputs``."""
    report = load_report_markdown(library.units, list(library.errors), getattr(library, "root", None),
                                  conversations=getattr(library, "conversations", None))
    return report, units_frame(library)


def create_curricula_panel(services: Services, signin: SignIn) -> CurriculaPanel:
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
