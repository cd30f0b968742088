"""Curation under a transcript: the teacher's judgement of each tutor reply, diagnosis and correction.

The transcript picked above lists what the model produced in it (``CurationService``); picking
one shows it with the judgement in force and the form for it: good / bad / the reply it should
have been for a tutor reply; confirm or correct (to another misconception of the unit, or
none) for a diagnosis; approve or reject for a language correction. Saving stores the judgement
beside the output; the student's transcript never changes. These judgements are what
``python app.py export-training`` learns from.

Handlers are plain functions over (services, actor, what the page shows) returning changes by
name (``updates.py``); ``create_curation_panel`` builds and wires.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..bootstrap import Services
from ..curation.service import CurationItem
from ..service.actor import Actor
from ..service.errors import TutorError
from .api import FAST
from .auth import SignIn
from .conversation_transcript import CONVERSATION_PREFIX
from .errors import page_handler
from .teacher_guard import require_teacher
from .updates import Updates, components

VERDICT_LABELS = {"good": "Good", "bad": "Bad", "rewritten": "Write the reply it should have given",
                  "confirmed": "Confirm", "corrected": "Correct it", "approved": "Approve", "rejected": "Reject"}
KIND_LABELS = {"reply": "Tutor reply", "diagnosis": "Diagnosis", "correction": "Correction"}
SHOWN_CHARS = 60


@dataclass
class CurationPanel:
    item: gr.Dropdown
    detail: gr.Markdown
    verdict: gr.Radio
    text: gr.Textbox
    misconception: gr.Dropdown
    save: gr.Button

    @property
    def outputs(self) -> list:
        return [self.item, self.detail, self.verdict, self.text, self.misconception]

    def components(self, updates: Updates) -> dict[gr.components.Component, Any]:
        return components(self, updates)


def curation_items(services: Services, actor: Actor, transcript: str | None) -> list[CurationItem]:
    if not transcript:
        return []
    if transcript.startswith(CONVERSATION_PREFIX):
        return services.curation.conversation_items(actor, transcript.removeprefix(CONVERSATION_PREFIX))
    return services.curation.session_items(actor, transcript)


def item_value(item: CurationItem) -> str:
    return f"{item.kind}:{item.id}"  # attempts, messages and turns are numbered apart


def item_label(item: CurationItem) -> str:
    text = " ".join(item.text.split())
    text = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"
    state = VERDICT_LABELS[item.judgement.verdict].lower() if item.judgement else "not reviewed"
    return f"{item.at.astimezone():%H:%M:%S} · {KIND_LABELS[item.kind]} · {state} · {text}"


def judgement_markdown(item: CurationItem | None) -> str:
    if item is None:
        return "<div class=\"empty-note\">Nothing in this transcript for you to judge.</div>"
    lines = [f"**{KIND_LABELS[item.kind]}** ({html.escape(item.detail)})"
             + (f" · by {html.escape(item.model)}" if item.model else ""), "",
             f"> {html.escape(' '.join(item.text.split()))}", ""]
    j = item.judgement
    if j is None:
        lines.append("Not reviewed yet.")
    else:
        lines.append(f"Your judgement: **{VERDICT_LABELS[j.verdict]}** ({j.at.astimezone():%d %b %H:%M})")
        if j.better_reply:
            lines += ["", f"The reply it should have been: {html.escape(j.better_reply)}"]
        if j.misconception_id and j.verdict == "corrected":
            lines += ["", f"Misconception: `{html.escape(j.misconception_id)}`"]
        if j.feedback:
            lines += ["", f"Feedback: {html.escape(j.feedback)}"]
    return "\n".join(lines)


def form(item: CurationItem | None) -> Updates:
    """The judgement form for ``item``, filled with the judgement in force."""
    if item is None:
        return {"detail": judgement_markdown(None), "verdict": gr.Radio(choices=[], value=None),
                "text": gr.Textbox(value="", visible=False), "misconception": gr.Dropdown(choices=[], visible=False)}
    j = item.judgement
    text_label = {"reply": "The reply the tutor should have given",
                  "diagnosis": "The feedback the student should have read (optional)"}.get(item.kind)
    text = (j.better_reply or j.feedback or "") if j else ""
    label = (j.misconception_id if j and j.verdict == "corrected" else item.diagnosed) or "none"
    return {"detail": judgement_markdown(item),
            "verdict": gr.Radio(choices=[(VERDICT_LABELS[v], v) for v in item.verdicts], value=j.verdict if j else None),
            "text": gr.Textbox(value=text, label=text_label or "", visible=text_label is not None),
            "misconception": gr.Dropdown(choices=list(item.misconceptions), value=label if item.misconceptions else None,
                                         visible=item.kind == "diagnosis")}


def listing(services: Services, actor: Actor, transcript: str | None, picked: str | None = None) -> Updates:
    """The items of the transcript, the one picked (else the first not reviewed) and its form."""
    items = curation_items(services, actor, transcript)
    chosen = next((i for i in items if item_value(i) == picked), None) or \
        next((i for i in items if i.judgement is None), items[0] if items else None)
    return {"item": gr.Dropdown(choices=[(item_label(i), item_value(i)) for i in items],
                                value=item_value(chosen) if chosen else None), **form(chosen)}


def pick(services: Services, actor: Actor, transcript: str | None, picked: str | None) -> Updates:
    items = curation_items(services, actor, transcript)
    return form(next((i for i in items if item_value(i) == picked), None))


def save(services: Services, actor: Actor, transcript: str | None, picked: str | None, verdict: str | None,
         text: str | None, misconception: str | None) -> Updates:
    """Store the teacher's judgement of the picked item; the list and form show it at once."""
    if not picked or ":" not in picked:
        raise TutorError("Choose what to judge first.")
    if not verdict:
        raise TutorError("Choose your judgement first.")
    kind, item_id = picked.split(":", 1)
    curation = services.curation
    if kind == "reply":
        curation.judge_reply(actor, item_id, verdict, text)
    elif kind == "diagnosis":
        curation.judge_diagnosis(actor, item_id, verdict, misconception, text)
    else:
        curation.judge_correction(actor, item_id, verdict)
    gr.Info("Saved your judgement.", title="Saved", duration=3)
    return listing(services, actor, transcript, picked)


def create_curation_panel(services: Services, signin: SignIn, transcript: gr.Dropdown) -> CurationPanel:
    gr.Markdown("### Judge what the model said", elem_classes="section-title")
    gr.Markdown("Mark tutor replies good or bad, or write the reply you wanted; confirm or correct diagnoses and "
                "language corrections. The student's transcript stays as it was; `python app.py export-training` "
                "learns only from what you approved or corrected.", elem_classes="howto")
    with gr.Group(elem_id="curation"):
        item = gr.Dropdown([], label="Reply, diagnosis or correction", elem_id="curation-item")
        detail = gr.Markdown(judgement_markdown(None), elem_id="curation-detail")
        with gr.Row(equal_height=True):
            verdict = gr.Radio([], label="Your judgement", scale=2, elem_id="curation-verdict")
            misconception = gr.Dropdown([], label="Misconception", visible=False, scale=1,
                                        elem_id="curation-misconception")
        text = gr.Textbox(label="", lines=2, visible=False, elem_id="curation-text")
        save_button = gr.Button("Save my judgement", variant="primary", elem_id="curation-save")
    panel = CurationPanel(item, detail, verdict, text, misconception, save_button)

    @page_handler("listing what to judge")
    def on_transcript(choice: str | None, request: gr.Request):
        return panel.components(listing(services, require_teacher(signin, request), choice))

    @page_handler("showing a judgement")
    def on_pick(choice: str | None, picked: str | None, request: gr.Request):
        return panel.components(pick(services, require_teacher(signin, request), choice, picked))

    @page_handler("saving a judgement")
    def on_save(choice, picked, verdict_value, text_value, misconception_value, request: gr.Request):
        return panel.components(save(services, require_teacher(signin, request), choice, picked, verdict_value,
                                     text_value, misconception_value))

    transcript.change(on_transcript, [transcript], panel.outputs, **FAST)
    item.input(on_pick, [transcript, item], panel.outputs[1:], **FAST)
    save_button.click(on_save, [transcript, item, verdict, text, misconception], panel.outputs, **FAST)
    return panel
