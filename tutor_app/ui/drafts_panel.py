"""New problems drafted by the model for a unit, checked, and left in ``drafts/`` for the teacher.

The page shows what each draft became: the ones that passed the curriculum validator and the
checkers (to read and copy into the unit by hand), and the rejected ones with their reasons.
Nothing here writes into the curricula: a model's problem reaches students only after a
teacher has read it.
"""

from __future__ import annotations

import html

import gradio as gr

from ..bootstrap import Services
from ..practice.quiz_drafts import MAX_DRAFTS, DraftReport
from ..service.errors import TutorError
from .api import MODEL_PAGE
from .auth import SignIn
from .downloads import downloadable
from .errors import page_handler
from .teacher_guard import require_teacher
from .theme import LATEX_DELIMITERS


def _safe(text: str) -> str:
    """Model text in Markdown: no markup of its own, math kept for the page to render."""
    return html.escape(" ".join(str(text).split()), quote=False)


def draft_report_markdown(report: DraftReport) -> str:
    accepted, rejected = len(report.accepted), len(report.rejected)
    where = f" Written to `{report.path}`." if report.path else ""
    lines = [f"**{accepted} draft{'s' if accepted != 1 else ''} passed the checks, {rejected} rejected.**{where} "
             "Read them there and copy the good ones into the unit's file; students see none of them until you do.", ""]
    for problem in report.accepted:
        steps = "\n".join(f"{n}. {_safe(step.prompt)} — answer <code>{html.escape(step.answer or '')}</code> "
                          f"<span class=\"muted\">({step.check})</span>" for n, step in enumerate(problem.steps, start=1))
        lines += ["<div class=\"draft draft-ok\">", "",
                  f"**{_safe(problem.title or problem.id)}** <span class=\"badge\">passed</span> "
                  f"<span class=\"muted\">{problem.id} · difficulty {problem.difficulty}</span>", "",
                  _safe(problem.statement), "", steps, "", "</div>", ""]
    for draft in report.rejected:
        reasons = "\n".join(f"- {_safe(reason)}" for reason in draft.reasons)
        title = f": {_safe(draft.title)}" if draft.title else ""
        lines += ["<div class=\"draft draft-rejected\">", "",
                  f"**Draft {draft.number}{title}** <span class=\"badge badge-now\">rejected</span>", "",
                  reasons, "", "</div>", ""]
    return "\n".join(lines)


def create_drafts_panel(services: Services, signin: SignIn, unit: gr.Dropdown) -> None:
    gr.Markdown("### Draft new problems with the model", elem_classes="section-title")
    with gr.Row(elem_classes="toolbar"):
        gr.Markdown("The model writes problems for the unit chosen above, for its skills and misconceptions. Each "
                    "draft is checked like a teacher's problem and written to the drafts folder, never into the "
                    "curricula.", elem_classes="howto")
        count = gr.Slider(1, MAX_DRAFTS, value=3, step=1, label="Drafts", scale=1, min_width=160,
                          elem_id="drafts-count")
        draft = gr.Button("Draft problems", variant="secondary", scale=0, min_width=200, elem_id="drafts-make")
    report = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_id="drafts-report")
    file = gr.File(label="Drafts file (YAML)", interactive=False, visible=False, elem_id="drafts-file")

    @page_handler("drafting problems")
    def on_draft(unit_id: str | None, how_many, request: gr.Request):
        actor = require_teacher(signin, request)
        if not unit_id:
            raise TutorError("Choose a unit first.")
        result = services.practice.draft_quiz(actor, unit_id, int(how_many or 1))
        files = downloadable(result.path)[0] if result.path else None
        return draft_report_markdown(result), gr.File(value=files, visible=True)

    draft.click(on_draft, [unit, count], [report, file], **MODEL_PAGE)
