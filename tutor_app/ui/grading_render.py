"""HTML and tables for the teacher's grading pages, from plain data (no Gradio, no database).

Everything a student wrote, and everything the model wrote about it, is escaped here: a
submission is the one text on these pages that nobody on the school's side has written.
"""

from __future__ import annotations

import html

import pandas as pd

from ..assessment.agreement import AgreementReport
from ..assessment.batch import BatchReport
from ..assessment.export import ExportRow
from ..assessment.review import ReviewCriterion, ReviewRow
from ..curriculum.schema import Rubric


def number(value: float | None) -> str:
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def rubric_summary_html(rubric: Rubric | None) -> str:
    """The rubric at a glance: its task and each criterion's weight and score range."""
    if rubric is None:
        return "<div class=\"empty-note\">No rubric yet: add a file with <code>kind: rubric</code> under curricula/.</div>"
    items = []
    for c in rubric.criteria:
        scores = sorted({level.score for level in c.levels})
        weight = f" · weight {number(c.weight)}" if c.weight != 1 else ""
        items.append(f"<li><b>{html.escape(c.name)}</b> <span class=\"muted\">{scores[0]}–{scores[-1]}{weight}</span></li>")
    task = f"<div class=\"rubric-task\">{html.escape(rubric.task)}</div>" if rubric.task else ""
    return (f"<div class=\"rubric-card\"><div class=\"rubric-title\">{html.escape(rubric.title)}</div>{task}"
            f"<ul class=\"rubric-criteria\">{''.join(items)}</ul></div>")


# batch grading ---------------------------------------------------------------------------
def batch_summary_markdown(report: BatchReport) -> str:
    total = len(report.items)
    lines = [f"**{total} submission{'s' if total != 1 else ''}**: {report.summary()}."]
    if report.count("already graded"):
        lines.append("Submissions graded before were kept and skipped; grade the same upload again to finish one "
                     "that was cut short.")
    if report.stopped:
        lines.append(f"<div class=\"feedback verdict-incorrect\">\n\nStopped: {html.escape(report.stopped)}\n\n</div>")
    return "\n\n".join(lines)


def batch_frame(rubric: Rubric, items: list[ExportRow]) -> pd.DataFrame:
    names = [c.name for c in rubric.criteria]
    columns = ["Student", "Status", "Total", *names, "Note"]
    rows = []
    for item in items:
        row = item.row if item.row is not None and item.row.graded else None
        scores = {c.criterion_id: c.score for c in row.criteria} if row else {}
        total = f"{number(row.total)} / {number(row.max_total)}" if row else ""
        rows.append([item.student, item.status, total,
                     *[("" if scores.get(c.id) is None else scores[c.id]) for c in rubric.criteria], item.error])
    frame = pd.DataFrame(rows, columns=columns)
    return frame if any(item.error for item in items) else frame.drop(columns="Note")


# review ------------------------------------------------------------------------------------
def checked_by(row: ReviewRow) -> str:
    if not row.graded:
        return "waiting for the model"
    mine = sum(1 for c in row.criteria if c.by == "teacher")
    stale = " (older rubric)" if row.stale else ""
    return (f"you ({mine} of {len(row.criteria)})" if mine else "model") + stale


def grades_frame(rubric: Rubric, rows: list[ReviewRow]) -> pd.DataFrame:
    columns = ["Student", "Total", *[c.name for c in rubric.criteria], "Checked by"]
    data = []
    for row in rows:
        scores = {c.criterion_id: c.score for c in row.criteria}
        total = f"{number(row.total)} / {number(row.max_total)}" if row.total is not None else "–"
        data.append([row.student, total, *[("–" if scores.get(c.id) is None else scores[c.id])
                                           for c in rubric.criteria], checked_by(row)])
    return pd.DataFrame(data, columns=columns)


def submission_label(row: ReviewRow) -> str:
    total = f"{number(row.total)} / {number(row.max_total)}" if row.total is not None else "not graded yet"
    return f"{row.student} · {total}" + (f" · {row.source}" if row.source else "")


def review_summary_markdown(rows: list[ReviewRow]) -> str:
    if not rows:
        return "No submissions for this rubric yet. Grade a class set on the **Grading** page, or wait for answers to open steps."
    graded = sum(1 for r in rows if r.graded)
    checked = sum(1 for r in rows if any(c.by == "teacher" for c in r.criteria))
    waiting = len(rows) - graded
    parts = [f"**{len(rows)} submissions**", f"{graded} graded by the model", f"{checked} checked by you"]
    if waiting:
        parts.append(f"**{waiting} waiting** (press *Grade the waiting ones*)")
    return " · ".join(parts)


def submission_html(row: ReviewRow | None) -> str:
    if row is None:
        return "<div class=\"empty-note\">Choose a submission to read it next to its grade.</div>"
    paragraphs = [p for p in row.text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    source = f"<span class=\"muted\">{html.escape(row.source)}</span>" if row.source else ""
    words = len(row.text.split())
    return (f"<div class=\"submission-card\"><div class=\"submission-head\"><b>{html.escape(row.student)}</b>"
            f"{source}<span class=\"muted\">{words} words</span></div>"
            f"<div class=\"submission-text\">{body}</div></div>")


def _criterion_html(c: ReviewCriterion) -> str:
    top = max(c.levels) if c.levels else 0
    score = "–" if c.score is None else c.score
    if c.by == "teacher":
        who = "<span class=\"badge badge-teacher\">you</span>"
        if c.model_score is not None and c.model_score != c.score:
            who += f" <span class=\"muted\">model said {c.model_score}</span>"
    elif c.by == "model":
        who = "<span class=\"badge\">model</span>"
    else:
        who = "<span class=\"badge\">not graded</span>"
    flag = ("<div class=\"quote-flag\">The model's quote is not in the text: check this one.</div>"
            if c.by == "model" and not c.quote_verified else "")
    comment = f"<div class=\"criterion-comment\">{html.escape(c.comment)}</div>" if c.comment else ""
    step = f"<div class=\"criterion-next\">Next: {html.escape(c.next_step)}</div>" if c.next_step else ""
    return (f"<div class=\"criterion-grade by-{c.by or 'none'}\"><div class=\"criterion-line\">"
            f"<b>{html.escape(c.name)}</b><span class=\"score-pill\">{score} / {top}</span>{who}</div>"
            f"{comment}{step}{flag}</div>")


def grade_html(row: ReviewRow | None) -> str:
    if row is None:
        return ""
    if not row.graded and not any(c.by for c in row.criteria):
        return ("<div class=\"grade-card\"><div class=\"empty-note\">Not graded yet: the model was busy when this "
                "was handed in. Press <b>Grade the waiting ones</b>, or give your own scores below.</div></div>")
    total = f"{number(row.total)} / {number(row.max_total)}" if row.total is not None else "–"
    model = f"model total {number(row.model_total)}" if row.model_total is not None else ""
    stale = " · graded with an older version of the rubric" if row.stale else ""
    if row.confirmed_by and row.confirmed_at:
        stale += f" · model's grade confirmed {row.confirmed_at.astimezone():%d %b %H:%M}"
    steps = "".join(f"<li>{html.escape(s)}</li>" for s in row.next_steps)
    next_steps = f"<div class=\"next-steps\"><b>Next steps</b><ul>{steps}</ul></div>" if steps else ""
    return (f"<div class=\"grade-card\"><div class=\"grade-head\"><span class=\"grade-total\">{total}</span>"
            f"<span class=\"muted\">{html.escape(model)}{stale}</span></div>"
            f"{''.join(_criterion_html(c) for c in row.criteria)}{next_steps}</div>")


# agreement ---------------------------------------------------------------------------------
AGREEMENT_COLUMNS = ["Criterion", "Graded by both", "Exact", "Adjacent", "QWK"]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def agreement_frame(report: AgreementReport) -> pd.DataFrame:
    rows = [[c.name, c.n, _pct(c.exact), _pct(c.adjacent), "–" if c.kappa is None else f"{c.kappa:.2f}"]
            for c in report.criteria]
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def agreement_note(report: AgreementReport) -> str:
    if not any(c.n for c in report.criteria):
        return ("No scores of yours to compare with yet: override a score above, or import your own grades as a CSV "
                "(columns student, criterion, score, comment).")
    note = ("**QWK** (quadratic weighted kappa): 1 is perfect agreement, 0 what chance gives; above 0.6 is usually "
            "read as good agreement. **Exact**: the same level; **adjacent**: at most one level apart. "
            "A dash means undefined (too few scores, or everything in one level).")
    if report.skipped:
        note += f" {report.skipped} of your scores have no model grade to compare with."
    return note
