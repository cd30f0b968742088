"""The model in class, on the teacher's Class page: a trend per model version, and the teacher's judgements.

Week by week and per model version (the model and the LoRA adapter that produced the outputs):
guard interventions per 100 tutor replies, the share of reviewed model grades whose score the
teacher changed, and the share of the model's diagnoses the teacher agreed with
(``dashboard/trends.py``). After switching adapters, a regression shows here within the week.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr
import pandas as pd

from ..bootstrap import Services
from ..dashboard.trends import TrendRow
from ..service.actor import Actor
from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .teacher_guard import require_teacher
from .updates import Updates, components

TREND_COLUMNS = ["week of", "model version", "tutor replies", "guard stepped in (per 100)",
                 "grade scores checked", "changed by you", "diagnoses checked", "you agreed"]
JUDGEMENT_WORDS = {"reply": "tutor replies", "diagnosis": "diagnoses", "correction": "language corrections"}


@dataclass
class TrendsPanel:
    table: gr.Dataframe
    judgements: gr.Markdown
    open: Callable  # handler filling ``outputs``; the Class tab runs it when it opens

    @property
    def outputs(self) -> list:
        return [self.table, self.judgements]

    def components(self, updates: Updates) -> dict[gr.components.Component, Any]:
        return components(self, updates)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def trends_frame(rows: list[TrendRow]) -> pd.DataFrame:
    data = [[f"{r.week:%d %b %Y}", r.model + (f" + {r.adapter}" if r.adapter else ""), r.replies,
             "–" if r.guard_per_100 is None else f"{r.guard_per_100:.1f}", r.grade_criteria_reviewed,
             _share(r.override_rate), r.diagnoses_reviewed, _share(r.diagnosis_agreement)] for r in rows]
    return pd.DataFrame(data, columns=TREND_COLUMNS)


def judgements_markdown(counts: dict[tuple[str, str], int]) -> str:
    if not counts:
        return ("You have not judged anything the model said yet: the Transcripts page has a form under each "
                "transcript, and the Review page confirms grades.")
    parts = []
    for kind, words in JUDGEMENT_WORDS.items():
        verdicts = sorted((v, n) for (k, v), n in counts.items() if k == kind)
        if verdicts:
            parts.append(f"{words}: " + ", ".join(f"{n} {v}" for v, n in verdicts))
    return "**Your judgements** (what `export-training` learns from): " + "; ".join(parts) + "."


def snapshot(services: Services, actor: Actor) -> Updates:
    return {"table": trends_frame(services.dashboard.model_trends(actor)),
            "judgements": judgements_markdown(services.dashboard.curation_counts(actor))}


def create_trends_panel(services: Services, signin: SignIn) -> TrendsPanel:
    gr.Markdown("### The model in class, by version", elem_classes="section-title")
    gr.Markdown("Per week and model version (model + adapter): how often the answer-leak guard had to cut a "
                "reply, how often you changed a model grade you checked, and how often you agreed with a model "
                "diagnosis you judged. After switching adapters, compare the weeks.", elem_classes="howto")
    table = gr.Dataframe(headers=TREND_COLUMNS, interactive=False, wrap=True, elem_id="model-trends")
    judgements = gr.Markdown(elem_id="curation-counts")
    refresh = gr.Button("Refresh", scale=0, min_width=120, elem_id="model-trends-refresh")

    @page_handler("reading the model trends")
    def on_open(request: gr.Request):
        return panel.components(snapshot(services, require_teacher(signin, request)))

    panel = TrendsPanel(table, judgements, on_open)
    refresh.click(on_open, None, panel.outputs, **FAST)
    return panel
