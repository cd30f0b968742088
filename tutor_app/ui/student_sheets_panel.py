"""One version per student, on the teacher's Worksheets page.

The teacher types names, or leaves the box empty for everyone on the class roster (the names
students sign in with, in the roster's order). Each student gets a distinct version of the
chosen problem with their name on their own page; the preview and downloads are the same
components as the class worksheet's (``practice_panel.py`` lays this row out and wires it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import gradio as gr

from ..bootstrap import Services
from ..practice.service import SavedWorksheet
from ..service.actor import Actor
from ..service.errors import TutorError

PLACEHOLDER = "One name per line (or separated by commas). Leave empty for everyone on the roster."


@dataclass
class StudentSheetsRow:
    names: gr.Textbox
    make: gr.Button


def parse_names(text: str | None) -> list[str]:
    """Names one per line; on a single line, separated by commas or semicolons."""
    text = (text or "").strip()
    if not text:
        return []
    parts = text.splitlines() if "\n" in text else re.split(r"[,;]", text)
    return [part.strip() for part in parts if part.strip()]


def roster_hint(services: Services) -> str:
    names = services.auth.roster()
    if not names:
        return "The roster is empty: type the students' names."
    shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    return f"Empty: everyone on the roster ({len(names)} student{'s' if len(names) != 1 else ''}: {shown})."


def make_student_sheets(services: Services, actor: Actor, unit_id: str | None, problem_id: str | None, typed: str | None,
                        seed) -> SavedWorksheet:
    if not unit_id:
        raise TutorError("Choose a unit first.")
    if not problem_id:
        raise TutorError("Choose a problem with params: (this unit has none that can make versions).")
    try:
        seed = int(seed or 0)
    except (TypeError, ValueError):
        raise TutorError("The seed must be a whole number.") from None
    names = parse_names(typed) or services.auth.roster()
    return services.practice.student_worksheet(actor, unit_id, problem_id, names, seed)


def student_sheets_note(saved: SavedWorksheet) -> str:
    students = len(saved.students)
    parts = [f"**One version per student** of *{saved.sheet.title.removesuffix(': one version per student')}*: "
             f"{students} student{'s' if students != 1 else ''}, {saved.made} distinct version"
             f"{'s' if saved.made != 1 else ''}, a page each with their name, then the answer key by name."]
    if saved.made < students:
        parts.append(f"Only {saved.made} distinct versions exist, so some students share one (see the key).")
    if saved.left_out:
        parts.append(f"{saved.left_out} version(s) were left out because a checker disagreed with their answer.")
    return " ".join(parts)


def create_student_sheets_row(services: Services) -> StudentSheetsRow:
    with gr.Row(elem_classes="toolbar", equal_height=True):
        names = gr.Textbox(label="One version per student", placeholder=PLACEHOLDER, lines=2, max_lines=6, scale=5,
                           min_width=260, info=roster_hint(services), elem_id="practice-students")
        make = gr.Button("Make one per student", variant="secondary", scale=0, min_width=200,
                         elem_id="practice-make-students")
    return StudentSheetsRow(names, make)
