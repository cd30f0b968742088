"""The teacher's pages: class overview, mastery parameters fitted from the class, session
transcripts, curricula, model, exports, and rubric grading, review and practice worksheets
(each page its own ``*_panel`` module).

Only the teacher role gets here (the tab is hidden from students and every handler checks the
role again). The data comes from the dashboard service; this module only lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..bootstrap import Services
from .api import FAST
from .auth import SignIn
from .class_overview import ClassOverview, create_class_overview
from .curricula_panel import CurriculaPanel, create_curricula_panel, curricula_snapshot
from .errors import page_handler
from .exports_panel import create_exports_panel
from .grading_panel import create_grading_panel
from .mastery_fit_panel import create_mastery_fit_panel
from .model_panel import ModelPanel, create_model_panel, panel_snapshot
from .practice_panel import create_practice_panel
from .review_panel import create_review_panel, snapshot as review_snapshot
from .teacher_guard import require_teacher
from .transcript_panel import TranscriptPanel, create_transcript_panel
from .trends_panel import create_trends_panel


@dataclass
class TeacherView:
    overview: ClassOverview
    transcripts: TranscriptPanel
    curricula: CurriculaPanel
    model: ModelPanel
    open_class: Callable  # handler filling ``overview.outputs``; the app runs it when the teacher tab opens


def create_teacher_view(services: Services, signin: SignIn) -> TeacherView:
    with gr.Tabs(elem_id="teacher-tabs"):
        with gr.Tab("Class", id="class", elem_id="teacher-class-tab") as class_tab:
            overview = create_class_overview(services, signin)
            trends = create_trends_panel(services, signin)
        with gr.Tab("Mastery", id="mastery", elem_id="teacher-mastery-tab") as mastery_tab:
            mastery = create_mastery_fit_panel(services, signin)
        with gr.Tab("Transcripts", id="transcripts", elem_id="teacher-transcripts-tab") as transcripts_tab:
            transcripts = create_transcript_panel(services, signin)
        with gr.Tab("Curricula", id="curricula", elem_id="teacher-curricula-tab") as curricula_tab:
            curricula = create_curricula_panel(services, signin)
        with gr.Tab("Model", id="model", elem_id="teacher-model-tab") as model_tab:
            model = create_model_panel(services, signin)
        with gr.Tab("Exports", id="exports", elem_id="teacher-exports-tab"):
            create_exports_panel(services, signin)
        with gr.Tab("Grading", id="grading", elem_id="teacher-grading-tab") as grading_tab:
            grading = create_grading_panel(services, signin)
        with gr.Tab("Review", id="review", elem_id="teacher-review-tab") as review_tab:
            review = create_review_panel(services, signin)
        with gr.Tab("Worksheets", id="worksheets", elem_id="teacher-practice-tab") as practice_tab:
            practice = create_practice_panel(services, signin)

    @page_handler("reading the class overview")
    def open_class(unit_id: str | None, request: gr.Request):
        return overview.snapshot(require_teacher(signin, request), unit_id)

    @page_handler("fitting the class's mastery parameters")
    def open_mastery(unit_id: str | None, request: gr.Request):
        return mastery.snapshot(require_teacher(signin, request), unit_id)

    @page_handler("listing sessions")
    def open_transcripts(request: gr.Request):
        return transcripts.snapshot(require_teacher(signin, request))

    @page_handler("listing the curricula")
    def open_curricula(request: gr.Request):
        require_teacher(signin, request)
        return curricula_snapshot(services.library)

    @page_handler("reading the model panel")
    def open_model(request: gr.Request):
        require_teacher(signin, request)
        return panel_snapshot(services)

    @page_handler("opening the grading page")
    def open_grading(rubric_id: str | None, request: gr.Request):
        return grading.snapshot(require_teacher(signin, request), rubric_id)

    @page_handler("opening the review page")
    def open_review(rubric_id: str | None, submission_id: str | None, request: gr.Request):
        return review.components(review_snapshot(services, require_teacher(signin, request), rubric_id,
                                                 submission_id))

    @page_handler("opening the worksheets page")
    def open_practice(unit_id: str | None, problem_id: str | None, request: gr.Request):
        return practice.snapshot(require_teacher(signin, request), unit_id, problem_id)

    # Each page fills itself when opened, so a teacher always sees the current state.
    class_tab.select(open_class, [overview.unit], overview.outputs, **FAST)
    class_tab.select(trends.open, None, trends.outputs, **FAST)
    mastery_tab.select(open_mastery, [mastery.unit], mastery.outputs, **FAST)
    transcripts_tab.select(open_transcripts, None, transcripts.outputs, **FAST)
    curricula_tab.select(open_curricula, None, curricula.outputs, **FAST)
    model_tab.select(open_model, None, model.outputs, **FAST)
    model_tab.select(model.open_adapters, None, model.adapters.outputs, **FAST)
    grading_tab.select(open_grading, [grading.rubric], grading.outputs, **FAST)
    review_tab.select(open_review, [review.rubric, review.submission], review.outputs, **FAST)
    practice_tab.select(open_practice, [practice.unit, practice.problem], practice.outputs, **FAST)
    view = TeacherView(overview, transcripts, curricula, model, open_class)
    return view
