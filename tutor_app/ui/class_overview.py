"""The teacher's class overview for one unit: mastery per student and skill, the most
frequent misconceptions per step, and who is stuck right now.

Places are named by titles ("Two-step equation, step 1: Subtract 3 ...") rather than ids; the
misconception chart is drawn here as HTML bars (``bar_chart`` says why not a ``BarPlot``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..bootstrap import Services
from .api import FAST
from .auth import SignIn
from .bar_chart import svg_bar
from .errors import page_handler
from .student_view import unit_choices
from .teacher_guard import require_teacher
from .teacher_render import heatmap_html


@dataclass
class ClassOverview:
    unit: gr.Dropdown
    refresh: gr.Button
    heatmap: gr.HTML
    misconceptions: gr.HTML
    stuck: gr.HTML
    snapshot: Callable  # (actor, unit_id) -> values for ``outputs``

    @property
    def outputs(self) -> list:
        return [self.heatmap, self.misconceptions, self.stuck]


LABEL_CHARS = 60  # a misconception's description on its bar; the whole of it is the tooltip


def where(place, problem_id: str, step_id: str) -> str:
    """"Two-step equation · step 1: Subtract 3 ..." from the titles the dashboard found; the ids
    for a problem or step the unit no longer has."""
    problem = place.problem_title or problem_id
    step = place.step_label or step_id
    return f"{problem} · {step}" if step else problem


def misconception_chart_html(rows) -> str:
    """One bar per (misconception, step), longest first (the dashboard's order), each with its
    count and where it happened, so the teacher can tell steps apart without a colour legend."""
    if not rows:
        return "<div class=\"empty-note\">No misconceptions seen in this unit yet.</div>"
    most = max(r.count for r in rows)
    items = []
    for r in rows:
        text = r.description or r.misconception_id
        label = _short(text, LABEL_CHARS)
        place = where(r.place, r.problem_id, r.step_id)
        times = f"{r.count} time{'s' if r.count != 1 else ''}, {r.students} student{'s' if r.students != 1 else ''}"
        bar = svg_bar(r.count / most, label=f"{text}: {times}", css_class="misconception-bar")
        items.append(f"<li class=\"misconception-row\" data-misconception=\"{html.escape(r.misconception_id)}\" "
                     f"data-count=\"{r.count}\"><div class=\"misconception-label\" title=\"{html.escape(text)}\">"
                     f"{html.escape(label)}</div><div class=\"misconception-where\">{html.escape(place)}</div>"
                     f"<div class=\"misconception-bar-row\">{bar}<span class=\"misconception-count\">{times}</span>"
                     f"</div></li>")
    return f"<ul class=\"misconception-chart\">{''.join(items)}</ul>"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stuck_html(rows) -> str:
    """One line per stuck student, those still on the step first (the dashboard orders them):
    a list rather than a table, so it reads on a phone too."""
    if not rows:
        return "<div class=\"empty-note\">Nobody is stuck right now.</div>"
    items = []
    for s in rows:
        now = ("<span class=\"badge badge-now\">still on it</span>" if s.still_on_step
               else "<span class=\"badge\">moved on</span>")
        when = s.last_at.astimezone().strftime("%d %b %H:%M")
        items.append(f"<li><b>{html.escape(s.student)}</b> {now}<div class=\"stuck-where\">"
                     f"{html.escape(where(s.place, s.problem_id, s.step_id))} · {when}</div>"
                     f"<div class=\"stuck-why\">{html.escape(s.reason)}</div></li>")
    return f"<ul class=\"stuck-list\">{''.join(items)}</ul>"


CONVERSATION_NOTE = ("<div class=\"empty-note\">A conversation unit has no skills to master: the errors in its "
                     "students' messages are counted under <b>Most frequent misconceptions</b>, by the level they "
                     "were practising at.</div>")


def overview_choices(library) -> list[tuple[str, str]]:
    """Problem units, then conversation units: the teacher follows both on this page."""
    conversations = sorted(((f"{u.title} (conversation)", uid) for uid, u in library.conversations.items()),
                           key=lambda c: c[0].lower())
    return unit_choices(library) + conversations


def create_class_overview(services: Services, signin: SignIn) -> ClassOverview:
    dashboard = services.dashboard
    units = overview_choices(services.library)
    with gr.Row(elem_classes="toolbar"):
        unit = gr.Dropdown(units, value=units[0][1] if units else None, label="Unit", scale=3, min_width=260,
                           elem_id="overview-unit")
        refresh = gr.Button("Refresh", scale=0, min_width=120, elem_id="overview-refresh")
    gr.Markdown("### Mastery by student and skill", elem_classes="section-title")
    heatmap = gr.HTML(elem_id="mastery-heatmap")
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            gr.Markdown("### Most frequent misconceptions", elem_classes="section-title")
            misconceptions = gr.HTML(elem_id="misconception-chart")
        with gr.Column(scale=1, min_width=320):
            gr.Markdown("### Who is stuck", elem_classes="section-title")
            stuck = gr.HTML(elem_id="stuck-students")

    def snapshot(actor, unit_id: str | None):
        if not unit_id:
            return heatmap_html({}, [], threshold=1.0), misconception_chart_html([]), stuck_html([])
        table = dashboard.class_mastery(actor, unit_id)
        heat = heatmap_html({s.student: s.mastery for s in table.students},
                            [(k.id, k.name) for k in table.skills], threshold=table.threshold)
        if unit_id in services.library.conversations and not table.skills:
            heat = CONVERSATION_NOTE
        counts = dashboard.misconceptions(actor, unit_id, limit=12)
        return heat, misconception_chart_html(counts), stuck_html(dashboard.stuck_students(actor, unit_id))

    @page_handler("reading the class overview")
    def on_refresh(unit_id: str | None, request: gr.Request):
        return snapshot(require_teacher(signin, request), unit_id)

    outputs = [heatmap, misconceptions, stuck]
    refresh.click(on_refresh, [unit], outputs, **FAST)
    unit.change(on_refresh, [unit], outputs, **FAST)
    return ClassOverview(unit, refresh, heatmap, misconceptions, stuck, snapshot)
