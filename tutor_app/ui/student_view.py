"""The student's page: choose a unit, work the problem step by step, see feedback and mastery.

The handlers are plain functions over (services, actor, page state, inputs) that call the same
``TutorService`` functions as the API (``start_session``, ``submit_answer``, ``request_hint``,
``session_state``), fold the results into a ``ProblemView`` and return the page's changes by
name (``updates.py``). ``create_student_view`` only builds the components and wires events to them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from ..bootstrap import Services
from ..service.actor import Actor
from ..service.errors import TutorError
from ..tutoring.shapes import StartSessionResult
from . import render, session_history
from .api import FAST, PAGE
from .auth import SignIn
from .chat_view import ChatView, create_chat_view, model_line
from .errors import page_handler
from .mastery_chart import mastery_chart_html, mastery_key_html, mastery_rows, rising
from .problem_view import AnswerForm, ProblemView, apply_answer, apply_hint
from .render import MATHS_KINDS
from .theme import LATEX_DELIMITERS
from .updates import Updates, components

CHOOSE_FOR_ME = ""  # the problem dropdown's "let the tutor choose" value
OPEN_ANSWER_LINES = 5  # an ``open`` step asks for sentences, not a number
POLL_S = 2.0  # how often the page looks for a late diagnosis or grade while one is due
ANSWER_KINDS = {"numeric": "A number", "expression": "An expression", "equation": "An equation"}
OPEN_PLACEHOLDER = "Write your answer in full sentences"


def answer_placeholder(form: AnswerForm) -> str:
    """"An equation, e.g. 3x - 1 = 5": the examples come with the form, picked by the engine so
    that none is the answer of this step or a later one (issue 12)."""
    if form.check == "open":
        return OPEN_PLACEHOLDER
    kind = ANSWER_KINDS.get(form.check)
    if kind is None:
        return "Type your answer"
    return f"{kind}, e.g. {' or '.join(form.examples)}" if form.examples else kind


def answer_label(form: AnswerForm, smaller_question: bool) -> str:
    if smaller_question:
        return "Your answer to the smaller question"
    return "Your answer, in your own words" if form.check == "open" else "Your answer"


@dataclass
class StudentView:
    view: gr.State
    name: gr.Textbox
    unit: gr.Dropdown
    problem: gr.Dropdown
    start: gr.Button
    problem_md: gr.Markdown
    progress_md: gr.Markdown
    step_md: gr.Markdown
    scaffold_md: gr.Markdown
    answer_row: gr.Row
    answer: gr.Textbox
    choice: gr.Radio
    submit: gr.Button
    hint: gr.Button
    feedback_md: gr.Markdown
    hints_md: gr.Markdown
    next_problem: gr.Button
    mastery: gr.HTML
    mastery_legend: gr.HTML
    chat: ChatView
    poll: gr.Timer

    @property
    def model_line(self) -> gr.Markdown:
        return self.chat.model_line

    @property
    def chatbot(self) -> gr.Chatbot:
        return self.chat.chatbot

    @property
    def display(self) -> list[gr.components.Component]:
        """Everything ``page`` fills."""
        return [self.problem_md, self.progress_md, self.step_md, self.scaffold_md, self.feedback_md, self.hints_md,
                self.answer_row, self.answer, self.choice, self.submit, self.hint, self.next_problem, self.mastery,
                self.mastery_legend, self.poll, self.model_line]

    def components(self, updates: Updates) -> dict[gr.components.Component, Any]:
        return components(self, updates)


def unit_choices(library) -> list[tuple[str, str]]:
    return sorted(((f"{u.title}", uid) for uid, u in library.units.items()), key=lambda c: c[0].lower())


def problem_choices(library, unit_id: str | None) -> list[tuple[str, str]]:
    choices = [("Let the tutor choose", CHOOSE_FOR_ME)]
    unit = library.units.get(unit_id) if unit_id else None
    if unit is not None:
        choices += [(p.title or p.id, p.id) for p in unit.problems]
    return choices


# the handlers ---------------------------------------------------------------------------
def page(services: Services, view: ProblemView | None, *, keep_typed_answer: bool = False,
         reached: list[str] | tuple[str, ...] = ()) -> Updates:
    """The problem, its steps, the answer form and the mastery chart, drawn from ``view``. After a
    hint the answer box keeps what the student was typing; ``reached``: skills whose level the
    last action raised, marked as progress on the chart."""
    working = view is not None and not view.problem_done
    skills: dict[str, str] = {}
    if view is not None:
        unit = services.library.units.get(view.curriculum_id)
        skills = {s.id: s.name for s in unit.skills} if unit is not None else {}
    chart = mastery_chart_html(mastery_rows(view.mastery, skills, reached)) if view is not None else ""
    form = view.answer_form if view is not None else AnswerForm()
    picking = form.picks
    smaller = bool(view and view.scaffold_question)
    return {
        "problem_md": render.problem_markdown(view),
        "progress_md": render.progress_markdown(view),
        "step_md": render.step_markdown(view),
        "scaffold_md": render.scaffold_markdown(view),
        "feedback_md": render.feedback_markdown(view),
        "hints_md": render.hints_markdown(view),
        "answer_row": gr.Row(visible=working),
        "answer": gr.Textbox(interactive=working, visible=not picking, label=answer_label(form, smaller),
                             lines=OPEN_ANSWER_LINES if form.check == "open" else 1,
                             elem_classes=["maths-answer"] if form.check in MATHS_KINDS else ["written-answer-box"],
                             placeholder=answer_placeholder(form),
                             **({} if keep_typed_answer else {"value": ""})),
        "choice": gr.Radio(choices=list(form.choices), visible=picking, interactive=working,
                           label="Choose one (smaller question)" if smaller else "Choose one",
                           **({} if keep_typed_answer else {"value": None})),
        "submit": gr.Button(interactive=working),
        "hint": gr.Button(interactive=working),
        "next_problem": gr.Button(visible=bool(view and view.problem_done)),
        "mastery": gr.HTML(value=chart, visible=view is not None),
        "mastery_legend": gr.HTML(value=mastery_key_html() if view is not None else "", visible=view is not None),
        "poll": gr.Timer(active=session_history.still_waiting(services, view)),
        "model_line": model_line(services.model, allowed=services.tutor.model_allowed(view.curriculum_id)
                                 if view is not None else True),
    }


def student_name(actor: Actor, typed: str | None, *, saved: str = "your progress is") -> str:
    """Who the page works for: a signed-in student is who the roster says, whatever was typed."""
    if actor.role == "student":
        return actor.student or ""
    typed = (typed or "").strip()
    if not typed:
        raise TutorError(f"Please type your name first, so {saved} saved under it.")
    return typed


def start_problem(services: Services, actor: Actor, student: str, unit_id: str | None, problem_id: str | None
                  ) -> Updates:
    """Start or resume a problem: the page state, the page and the chat so far."""
    if not unit_id:
        raise TutorError("Please choose a unit first.")
    result = services.tutor.start_session(actor, student, unit_id, problem_id or CHOOSE_FOR_ME)
    mastery = services.tutor.session_state(actor, result.session_id).mastery
    view, chat = session_history.restore(services, actor, result, student=student, mastery=mastery)
    # the Problem list shows the problem on the page (after "Next problem" too, not the one picked before)
    return {"view": view, **page(services, view), "chatbot": chat,
            "problem": gr.Dropdown(choices=problem_choices(services.library, view.curriculum_id),
                                   value=view.problem_id)}


def start(services: Services, actor: Actor, typed_name: str | None, unit_id: str | None,
          problem_id: str | None) -> Updates:
    return start_problem(services, actor, student_name(actor, typed_name), unit_id, problem_id)


def next_problem(services: Services, actor: Actor, view: ProblemView | None, unit_id: str | None) -> Updates:
    """The tutor's choice of the next problem in the unit being worked."""
    if view is None:
        raise TutorError("Start a problem first.")
    return start_problem(services, actor, view.student, view.curriculum_id or unit_id, CHOOSE_FOR_ME)


def check_answer(services: Services, actor: Actor, view: ProblemView | None, text: str | None,
                 picked: str | None) -> Updates:
    if view is None:
        raise TutorError("Start a problem first.")
    picking = view.answer_form.picks
    text = (picked or "") if picking else (text or "").strip()
    if not text:
        raise TutorError("Choose one of the answers first." if picking else "Type an answer first.")
    before = view.mastery
    result = services.tutor.submit_answer(actor, view.session_id, text)
    view = apply_answer(view, text, result)
    view = replace(view, seen=session_history.seen_after(services, actor, view, result))
    return {"view": view, **page(services, view, reached=[c.skill_id for c in rising(before, view.mastery)])}


def late_news(services: Services, actor: Actor, view: ProblemView | None) -> Updates:
    """The poll while a diagnosis or grade is due: the page rebuilt when the stored attempts
    changed (what the student is typing stays), nothing otherwise, and the poll stopped once
    nothing is due any more."""
    if view is None or not session_history.late_news(services, actor, view):
        return {} if session_history.still_waiting(services, view) else {"poll": gr.Timer(active=False)}
    state = services.tutor.session_state(actor, view.session_id)
    result = StartSessionResult(session_id=view.session_id, curriculum_id=view.curriculum_id,
                                problem_id=view.problem_id, statement=view.statement, step_id=state.step_id or "",
                                step_prompt=view.step_prompt)
    fresh, _chat = session_history.restore(services, actor, result, student=view.student, mastery=state.mastery)
    return {"view": fresh, **page(services, fresh, keep_typed_answer=True)}


def give_hint(services: Services, actor: Actor, view: ProblemView | None) -> Updates:
    if view is None:
        raise TutorError("Start a problem first.")
    view = apply_hint(view, services.tutor.request_hint(actor, view.session_id))
    return {"view": view, **page(services, view, keep_typed_answer=True)}


def choose_unit(services: Services, unit_id: str | None) -> Updates:
    return {"problem": gr.Dropdown(choices=problem_choices(services.library, unit_id), value=CHOOSE_FOR_ME)}


# the page -------------------------------------------------------------------------------
def create_student_view(services: Services, signin: SignIn, *, model_concurrency: int) -> StudentView:
    library = services.library

    view_state = gr.State(None)
    with gr.Row(elem_classes="setup-row", equal_height=True):
        name = gr.Textbox(label="Your name", placeholder="e.g. Ana", scale=2, min_width=160, elem_id="student-name")
        units = unit_choices(library)
        unit = gr.Dropdown(units, value=units[0][1] if units else None, label="Unit", scale=3, min_width=200,
                           elem_id="unit-choice")
        problem = gr.Dropdown(problem_choices(library, units[0][1] if units else None), value=CHOOSE_FOR_ME,
                              label="Problem", scale=3, min_width=200, elem_id="problem-choice")
        start_button = gr.Button("Start", variant="primary", scale=1, min_width=110, elem_id="start-button")
    with gr.Row(elem_classes="work-row"):
        with gr.Column(scale=3, min_width=340, elem_classes="problem-column"):
            problem_md = gr.Markdown(render.WELCOME, latex_delimiters=LATEX_DELIMITERS, elem_id="problem-statement")
            progress_md = gr.Markdown("", elem_id="progress", latex_delimiters=LATEX_DELIMITERS)
            step_md = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_id="step-prompt")
            scaffold_md = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_id="scaffold")
            with gr.Row(equal_height=True, elem_classes="answer-row", visible=False, elem_id="answer-row") as answer_row:
                with gr.Column(scale=5, min_width=200):
                    answer = gr.Textbox(label="Your answer", placeholder="Type your answer", interactive=False,
                                        elem_id="answer-box")
                    choice = gr.Radio([], label="Choose one", visible=False, elem_id="answer-choice")
                with gr.Column(scale=2, min_width=170, elem_classes="answer-buttons"):
                    submit = gr.Button("Check", variant="primary", interactive=False, elem_id="submit-button")
                    hint = gr.Button("Hint", variant="secondary", interactive=False, elem_id="hint-button")
            feedback_md = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_id="feedback")
            hints_md = gr.Markdown("", latex_delimiters=LATEX_DELIMITERS, elem_id="hints")
            next_button = gr.Button("Next problem →", variant="primary", visible=False, elem_id="next-problem")
        with gr.Column(scale=2, min_width=300, elem_classes="chat-column"):
            chat = create_chat_view(services, signin, view_state, model_concurrency=model_concurrency)
            # One bar per skill with its level in words, and the levels' key below (``mastery_chart``).
            with gr.Group(elem_id="mastery-card"):
                mastery = gr.HTML("", elem_id="mastery-chart", visible=False)
                mastery_legend = gr.HTML("", elem_id="mastery-legend", visible=False)

    sv = StudentView(view=view_state, name=name, unit=unit, problem=problem, start=start_button,
                     problem_md=problem_md, progress_md=progress_md, step_md=step_md, scaffold_md=scaffold_md,
                     answer_row=answer_row, answer=answer, choice=choice, submit=submit, hint=hint,
                     feedback_md=feedback_md, hints_md=hints_md, next_problem=next_button, mastery=mastery,
                     mastery_legend=mastery_legend, chat=chat, poll=gr.Timer(POLL_S, active=False))

    @page_handler("starting a problem")
    def on_start(typed_name, unit_id, problem_id, request: gr.Request):
        return sv.components(start(services, signin.actor_for(request), typed_name, unit_id, problem_id))

    @page_handler("starting the next problem")
    def on_next(view: ProblemView | None, unit_id, request: gr.Request):
        return sv.components(next_problem(services, signin.actor_for(request), view, unit_id))

    @page_handler("checking an answer")
    def on_submit(view: ProblemView | None, text: str, picked: str | None, request: gr.Request):
        return sv.components(check_answer(services, signin.actor_for(request), view, text, picked))

    @page_handler("giving a hint")
    def on_hint(view: ProblemView | None, request: gr.Request):
        return sv.components(give_hint(services, signin.actor_for(request), view))

    @page_handler("looking for a grade")
    def on_poll(view: ProblemView | None, request: gr.Request):
        return sv.components(late_news(services, signin.actor_for(request), view))

    outputs = [view_state, *sv.display]
    start_button.click(on_start, [name, unit, problem], outputs + [chat.chatbot, problem], **FAST)
    next_button.click(on_next, [view_state, unit], outputs + [chat.chatbot, problem], **FAST)
    # a late diagnosis or grade: a quick read of the stored attempts, never a wait on the model
    sv.poll.tick(on_poll, [view_state], outputs, show_progress="hidden", **FAST)
    submit.click(on_submit, [view_state, answer, choice], outputs, **FAST)
    answer.submit(on_submit, [view_state, answer, choice], outputs, **FAST)
    hint.click(on_hint, [view_state], outputs, **FAST)
    unit.change(lambda unit_id: sv.components(choose_unit(services, unit_id)), [unit], [problem], queue=False, **PAGE)
    return sv
