"""The teacher's transcript viewer: pick a session or a conversation, read it in order, and
judge what the model said in it (``curation_panel.py``).

A tutoring session shows its attempts, hints and chat; a conversation shows the student's
messages with their corrections, the character's replies, level changes and goals met
(``conversation_transcript.py``). Both are in one list, most recently active first.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..bootstrap import Services
from .api import FAST
from .auth import SignIn
from .conversation_transcript import CONVERSATION_PREFIX, conversation_label, conversation_transcript_markdown
from .curation_panel import create_curation_panel
from .errors import page_handler
from .render import hint_label
from .teacher_guard import require_teacher
from .theme import LATEX_DELIMITERS, VERDICT_LABELS


@dataclass
class TranscriptPanel:
    session: gr.Dropdown
    refresh: gr.Button
    transcript: gr.Markdown
    snapshot: Callable  # (actor) -> values for ``outputs``

    @property
    def outputs(self) -> list:
        return [self.session]


def session_label(s) -> str:
    """What the teacher picks a session by: titles, not ids (the ids when the unit lost them)."""
    problem = s.place.problem_title or s.problem_id
    state = "done" if s.done else f"on {(s.place.step_label or s.step_id or '–').split(':')[0]}"
    when = s.updated_at.astimezone().strftime("%d %b %H:%M")
    return (f"{s.student} · {s.unit_title or s.curriculum_id} / {problem} · {state} · {s.attempts} answers, "
            f"{s.hints} hints · {when}")


def transcript_markdown(t) -> str:
    s = t.session
    lines = [f"### {html.escape(s.student)} — {html.escape(s.unit_title or s.curriculum_id)} / "
             f"{html.escape(s.place.problem_title or s.problem_id)}",
             f"{'Solved' if s.done else 'In progress'} · started {s.started_at.astimezone():%d %b %Y %H:%M} · "
             f"variant seed {t.seed}", ""]
    if t.statement:
        lines += [f"<div class=\"problem-card\">\n\n{t.statement}\n\n</div>", ""]
    step = None
    for e in t.entries:
        if e.step_id and e.step_id != step:
            step = e.step_id
            label = t.step_labels.get(step)
            lines += [f"**{html.escape(label[:1].upper() + label[1:])}**" if label else f"**Step `{html.escape(step)}`**",
                      ""]
        when = e.at.astimezone().strftime("%H:%M:%S")
        if e.kind == "attempt":
            label = VERDICT_LABELS.get(e.verdict or "", e.verdict or "")
            named = html.escape(e.misconception) if e.misconception else f"`{html.escape(e.misconception_id or '')}`"
            extra = f" · misconception: {named}" if e.misconception_id else ""
            target = " (sub-question)" if e.scaffold else ""
            block = [f"<div class=\"feedback verdict-{e.verdict}\">", "",
                     f"<small>{when}</small> **{label}**{target}{extra} — answered <code>{html.escape(e.text)}</code>"]
            if e.feedback:
                block += ["", e.feedback]
            lines += block + ["", "</div>", ""]
        elif e.kind == "hint":
            label = hint_label(e.level or 0, e.bottom_out, e.scaffold)
            lines += [f"<div class=\"hint{' bottom-out' if e.bottom_out else ''}\">", "",
                      f"<small>{when}</small> <span class=\"hint-kicker\">{label}</span>", "", e.text, "", "</div>", ""]
        else:
            who = "Student" if e.kind == "student" else "Tutor"
            text = html.escape(e.text) if e.kind == "student" else e.text
            lines += [f"<small>{when}</small> **{who}:** {text}", ""]
    if not t.entries:
        lines.append("<div class=\"empty-note\">Nothing happened in this session yet.</div>")
    return "\n".join(lines)


def transcript_choices(dashboard, actor) -> list[tuple[str, str]]:
    """Tutoring sessions and conversations together, most recently active first."""
    items = [(s.updated_at, session_label(s), s.session_id) for s in dashboard.sessions(actor)]
    items += [(c.updated_at, conversation_label(c), CONVERSATION_PREFIX + c.session_id)
              for c in dashboard.conversations(actor)]
    items.sort(key=lambda item: item[0], reverse=True)
    return [(label, value) for _, label, value in items]


def transcript_for(dashboard, actor, choice: str | None) -> str:
    if not choice:
        return ""
    if choice.startswith(CONVERSATION_PREFIX):
        return conversation_transcript_markdown(
            dashboard.conversation_transcript(actor, choice.removeprefix(CONVERSATION_PREFIX)))
    return transcript_markdown(dashboard.transcript(actor, choice))


def create_transcript_panel(services: Services, signin: SignIn) -> TranscriptPanel:
    dashboard = services.dashboard
    with gr.Row(elem_classes="toolbar"):
        session = gr.Dropdown([], label="Session or conversation", scale=5, min_width=260, elem_id="transcript-session",
                              info="Most recently active first")
        refresh = gr.Button("Refresh list", scale=0, min_width=130, elem_id="transcript-refresh")
    transcript = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_id="transcript")
    create_curation_panel(services, signin, session)

    def snapshot(actor):
        return gr.Dropdown(choices=transcript_choices(dashboard, actor), value=None)

    @page_handler("listing sessions")
    def on_refresh(request: gr.Request):
        return snapshot(require_teacher(signin, request))

    @page_handler("reading a transcript")
    def on_pick(choice: str | None, request: gr.Request):
        return transcript_for(dashboard, require_teacher(signin, request), choice)

    refresh.click(on_refresh, None, [session], **FAST)
    session.change(on_pick, [session], [transcript], **FAST)
    return TranscriptPanel(session, refresh, transcript, snapshot)
