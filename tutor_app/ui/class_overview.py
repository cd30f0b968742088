"""The teacher's class overview for one unit: mastery per student and skill, the most
frequent misconceptions per step, and who is stuck right now."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import gradio as gr
import pandas as pd

from ..bootstrap import Services
from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .student_view import unit_choices
from .teacher_guard import require_teacher
from .teacher_render import heatmap_html


@dataclass
class ClassOverview:
    unit: gr.Dropdown
    refresh: gr.Button
    heatmap: gr.HTML
    misconceptions: gr.BarPlot
    stuck: gr.HTML
    snapshot: Callable  # (actor, unit_id) -> values for ``outputs``

    @property
    def outputs(self) -> list:
        return [self.heatmap, self.misconceptions, self.stuck]


def misconception_frame(rows) -> pd.DataFrame:
    """One bar per (misconception, step), labelled so the teacher can tell steps apart."""
    data = [{"misconception": _short(r.description or r.misconception_id), "where": f"{r.problem_id} · {r.step_id}",
             "count": r.count}
            for r in rows]
    return pd.DataFrame(data, columns=["misconception", "where", "count"])


def _short(text: str, limit: int = 32) -> str:
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
                     f"{html.escape(s.problem_id)} · {html.escape(s.step_id)} · {when}</div>"
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
            misconceptions = gr.BarPlot(None, x="misconception", y="count", color="where", x_title=" ",
                                        color_title="step",
                                        y_title="times seen", height=300, x_label_angle=-15, show_label=False,
                                        label="Misconceptions", elem_id="misconception-chart", sort="-y")
        with gr.Column(scale=1, min_width=320):
            gr.Markdown("### Who is stuck", elem_classes="section-title")
            stuck = gr.HTML(elem_id="stuck-students")

    def snapshot(actor, unit_id: str | None):
        if not unit_id:
            return heatmap_html({}, [], threshold=1.0), None, stuck_html([])
        table = dashboard.class_mastery(actor, unit_id)
        heat = heatmap_html({s.student: s.mastery for s in table.students},
                            [(k.id, k.name) for k in table.skills], threshold=table.threshold)
        if unit_id in services.library.conversations and not table.skills:
            heat = CONVERSATION_NOTE
        counts = dashboard.misconceptions(actor, unit_id, limit=12)
        return heat, misconception_frame(counts), stuck_html(dashboard.stuck_students(actor, unit_id))

    @page_handler("reading the class overview")
    def on_refresh(unit_id: str | None, request: gr.Request):
        return snapshot(require_teacher(signin, request), unit_id)

    outputs = [heatmap, misconceptions, stuck]
    refresh.click(on_refresh, [unit], outputs, **FAST)
    unit.change(on_refresh, [unit], outputs, **FAST)
    return ClassOverview(unit, refresh, heatmap, misconceptions, stuck, snapshot)
