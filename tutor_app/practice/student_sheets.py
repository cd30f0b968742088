"""One version of a parametric problem per student, printed as a page each, then the answer key.

For a test or homework where neighbours should not share answers: every student on the list
gets a distinct version (``variants.assign_versions``), with their name already on their page,
so the sheets can be handed out without sorting. The teacher's answer key lists each student's
answers by name (and version, so students sharing one can be spotted when the class is larger
than the number of distinct versions). The same names in the same order with the same seed
give the same sheets. The page parts are the class worksheet's (``worksheet.py``).
"""

from __future__ import annotations

import html

from ..curriculum.schema import Problem, Unit
from .mathhtml import text_to_html
from .variants import Assignment, VariantError, assign_versions
from .worksheet import (PAGE_BREAK, Worksheet, WorksheetError, answers_html, answers_markdown, html_document,
                        meta_html, sheet_title, steps_html, steps_markdown)

# A new printed page before each student after the first (not PAGE_BREAK, which starts the key).
STUDENT_BREAK = '<div class="next-student" style="page-break-before: always"></div>'

STUDENT_CSS = """
.student-page + .student-page { break-before: page; page-break-before: always; }
.student-page { padding-bottom: 1.5rem; margin-bottom: 1.5rem; border-bottom: 1px dashed #999; }
.student-page h1 { margin-top: 0; }
.fill b { font-weight: 600; }
table.key-table { border-collapse: collapse; width: 100%; }
.key-table th, .key-table td { text-align: left; vertical-align: top; padding: .25rem .6rem .25rem 0;
  border-bottom: 1px solid #ccc; }
@media print { .student-page { border-bottom: none; margin-bottom: 0; } }
"""


def build_student_markdown(unit: Unit, problem: Problem, assignment: Assignment, seed: int) -> str:
    lines = [f"# {sheet_title(unit, problem)}: one version per student", ""]
    for i, (student, variant) in enumerate(assignment.by_student.items()):
        if i:
            lines += [STUDENT_BREAK, ""]
        lines += [f"### {student} · version {variant.number}", "", "Date: ____________", "",
                  variant.problem.statement, ""]
        lines += steps_markdown(variant)
    lines += [PAGE_BREAK, "", "## Answer key", ""]
    for student, variant in assignment.by_student.items():
        lines.append(f"- **{student}** (version {variant.number}): {answers_markdown(variant)}")
    lines += ["", f"<small>{footer_text(unit, problem, assignment, seed)}</small>", ""]
    return "\n".join(lines)


def build_student_html(unit: Unit, problem: Problem, assignment: Assignment, seed: int) -> str:
    title = html.escape(sheet_title(unit, problem))
    pages = []
    for student, variant in assignment.by_student.items():
        pages.append(f"""<section class="student-page">
<h1>{title}</h1>
<p class="meta">{meta_html(unit)} · version {variant.number}</p>
<div class="fill"><span>Name: <b>{html.escape(student)}</b></span><span>Date:</span></div>
<p>{text_to_html(variant.problem.statement)}</p>
{steps_html(variant)}
</section>""")
    rows = "\n".join(f"<tr><td>{html.escape(student)}</td><td>{variant.number}</td>"
                     f"<td>{answers_html(variant)}</td></tr>" for student, variant in assignment.by_student.items())
    body = f"""{chr(10).join(pages)}
<section class="key">
<h2>Answer key</h2>
<table class="key-table">
<thead><tr><th>Student</th><th>Version</th><th>Answers</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</section>"""
    return html_document(unit, f"{sheet_title(unit, problem)}: one version per student", body,
                         html.escape(footer_text(unit, problem, assignment, seed)), css=STUDENT_CSS)


def footer_text(unit: Unit, problem: Problem, assignment: Assignment, seed: int) -> str:
    students = len(assignment.by_student)
    return (f"{unit.id} / {problem.id} · {students} student{'s' if students != 1 else ''}, "
            f"{len(assignment.found.variants)} versions · seed {seed}. The same names and seed print the same sheets.")


def build_student_sheets(unit: Unit, problem: Problem, students: list[str], seed: int
                         ) -> tuple[Worksheet, Assignment]:
    if not students:
        raise WorksheetError("name at least one student")
    try:
        assignment = assign_versions(problem, students, seed)
    except VariantError as exc:
        raise WorksheetError(f"{unit.id}/{problem.id}: {exc}") from None
    sheet = Worksheet(title=f"{sheet_title(unit, problem)}: one version per student",
                      markdown=build_student_markdown(unit, problem, assignment, seed),
                      html=build_student_html(unit, problem, assignment, seed))
    return sheet, assignment
