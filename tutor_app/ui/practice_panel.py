"""The teacher's practice page: printable worksheets of a parametric problem, and model drafts.

A worksheet is what ``python app.py --worksheet UNIT PROBLEM --count N`` writes: N distinct
versions whose answers the live checkers accept, the same ones for the same seed. The preview
shows the copies and the answer key side by side; the downloads are the Markdown, the
printable HTML (both with the key on its own last page) and the key alone. "One version per
student" (``student_sheets_panel.py``) fills the same preview and downloads with a page per
student of the roster (or of the names typed), then the key by name. Drafting new problems
lives in ``drafts_panel.py`` on the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..bootstrap import Services
from ..practice.service import SavedWorksheet
from ..practice.worksheet import split_answer_key
from ..service.actor import Actor
from ..service.errors import TutorError
from .api import FAST, PAGE
from .auth import SignIn
from .downloads import downloadable
from .drafts_panel import create_drafts_panel
from .errors import page_handler
from .student_sheets_panel import (StudentSheetsRow, create_student_sheets_row, make_student_sheets, roster_hint,
                                   student_sheets_note)
from .student_view import unit_choices
from .teacher_guard import require_teacher
from .theme import LATEX_DELIMITERS

HOWTO = ("Pick a problem written with `params:` and how many versions you need: each version has its own numbers, "
         "and every answer in the key has been checked by the same checker the tutor uses. The same seed always "
         "gives the same sheet; change the seed for a new set. **One version per student** gives every student "
         "their own version on a page with their name, and the key by name.")
MAX_VERSIONS = 40
EMPTY_PREVIEW = "<div class=\"empty-note\">The worksheet appears here.</div>"


@dataclass
class PracticePanel:
    unit: gr.Dropdown
    problem: gr.Dropdown
    count: gr.Slider
    seed: gr.Number
    make: gr.Button
    note: gr.Markdown
    sheet: gr.Markdown
    key: gr.Markdown
    downloads: gr.File
    students: StudentSheetsRow
    snapshot: Callable  # (actor, unit shown, problem shown) -> values for ``outputs``

    @property
    def outputs(self) -> list:
        return [self.unit, self.problem, self.students.names]


def problem_choices(services: Services, unit_id: str | None) -> list[tuple[str, str]]:
    if not unit_id or unit_id not in services.library.units:
        return []
    return [(title, pid) for pid, title in services.practice.parametric_problems(unit_id)]


def default_unit(services: Services, shown: str | None = None) -> str | None:
    """The unit shown if it is still loaded, else the first one a worksheet can come from (one
    with a problem that has params); drafting works for any unit."""
    units = services.library.units
    if shown in units:
        return shown
    with_params = [uid for _, uid in unit_choices(services.library) if any(p.params for p in units[uid].problems)]
    return with_params[0] if with_params else next(iter(sorted(units)), None)


def make_worksheet(services: Services, actor: Actor, unit_id: str | None, problem_id: str | None, count, seed
                   ) -> SavedWorksheet:
    if not unit_id:
        raise TutorError("Choose a unit first.")
    if not problem_id:
        raise TutorError("Choose a problem with params: (this unit has none that can make versions).")
    try:
        count, seed = int(count), int(seed or 0)
    except (TypeError, ValueError):
        raise TutorError("The number of versions and the seed must be whole numbers.") from None
    return services.practice.worksheet(actor, unit_id, problem_id, count, seed)


def worksheet_note(saved: SavedWorksheet) -> str:
    parts = [f"**{saved.made} version{'s' if saved.made != 1 else ''}** of *{saved.sheet.title}*."]
    if saved.made < saved.requested:
        parts.append(f"Only {saved.made} distinct versions exist, not {saved.requested}.")
    if saved.left_out:
        parts.append(f"{saved.left_out} version(s) were left out because a checker disagreed with their answer.")
    return " ".join(parts)


def shown(note: str, saved: SavedWorksheet) -> tuple:
    """Values for the note, the preview (copies beside the key) and the downloads."""
    copies, answers = split_answer_key(saved.sheet.markdown)
    return note, copies, answers, downloadable(saved.html, saved.markdown, saved.answer_key)


def create_practice_panel(services: Services, signin: SignIn) -> PracticePanel:
    gr.Markdown(HOWTO, elem_classes="howto")
    units = unit_choices(services.library)
    first = default_unit(services)
    first_problems = problem_choices(services, first)
    with gr.Row(elem_classes="toolbar"):
        unit = gr.Dropdown(units, value=first, label="Unit", scale=3, min_width=220, elem_id="practice-unit")
        problem = gr.Dropdown(first_problems, value=first_problems[0][1] if first_problems else None,
                              label="Problem", scale=3, min_width=220, elem_id="practice-problem")
        count = gr.Slider(1, MAX_VERSIONS, value=6, step=1, label="Versions", scale=2, min_width=160,
                          elem_id="practice-count")
        seed = gr.Number(0, precision=0, label="Seed", scale=1, min_width=90, elem_id="practice-seed")
        make = gr.Button("Make worksheet", variant="primary", scale=0, min_width=200, elem_id="practice-make")
    students = create_student_sheets_row(services)
    note = gr.Markdown("", elem_id="practice-note")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            sheet = gr.Markdown(EMPTY_PREVIEW, latex_delimiters=LATEX_DELIMITERS, elem_classes="paper",
                                elem_id="practice-sheet")
        with gr.Column(scale=2, min_width=260):
            key = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_classes="paper answer-key",
                              elem_id="practice-key")
            downloads = gr.File(label="Print or edit (HTML, Markdown, answer key)", file_count="multiple",
                                interactive=False, elem_id="practice-downloads")
    create_drafts_panel(services, signin, unit)

    def snapshot(actor: Actor, shown_unit: str | None, shown_problem: str | None):
        current = unit_choices(services.library)  # the teacher may have reloaded the curricula
        value = default_unit(services, shown_unit)
        problems = problem_choices(services, value)
        keep = shown_problem if shown_problem in [pid for _, pid in problems] else (problems[0][1] if problems else None)
        return (gr.Dropdown(choices=current, value=value), gr.Dropdown(choices=problems, value=keep),
                gr.Textbox(info=roster_hint(services)))  # the roster may have changed since

    @page_handler("listing a unit's problems")
    def on_unit(unit_id: str | None, request: gr.Request):
        require_teacher(signin, request)
        problems = problem_choices(services, unit_id)
        return gr.Dropdown(choices=problems, value=problems[0][1] if problems else None)

    @page_handler("making a worksheet")
    def on_make(unit_id, problem_id, versions, seed_value, request: gr.Request):
        actor = require_teacher(signin, request)
        saved = make_worksheet(services, actor, unit_id, problem_id, versions, seed_value)
        return shown(worksheet_note(saved), saved)

    @page_handler("making one version per student")
    def on_make_students(unit_id, problem_id, seed_value, typed, request: gr.Request):
        actor = require_teacher(signin, request)
        saved = make_student_sheets(services, actor, unit_id, problem_id, typed, seed_value)
        return shown(student_sheets_note(saved), saved)

    unit.input(on_unit, [unit], [problem], **PAGE)
    make.click(on_make, [unit, problem, count, seed], [note, sheet, key, downloads], **FAST)
    students.make.click(on_make_students, [unit, problem, seed, students.names], [note, sheet, key, downloads],
                        **FAST)
    return PracticePanel(unit, problem, count, seed, make, note, sheet, key, downloads, students, snapshot)
