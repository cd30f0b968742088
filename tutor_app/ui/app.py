"""The Gradio app: the student's page, the teacher's pages and the JSON API on one ``gr.Blocks``.

``create_app(services)`` only assembles; each part lives in its own ``create_*`` module and
calls the application services. Who sees what is decided per request on page load (the
teacher tab exists for everyone but is shown only to the teacher role), and every teacher
handler checks the role again on the server, since a hidden tab is not a locked door.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import gradio as gr

from ..bootstrap import Services
from ..service.actor import Actor
from ..service.errors import TutorError
from .api import FAST, PAGE, register_api, register_conversation_api
from .auth import SignIn
from .conversation_view import create_conversation_view
from .errors import page_handler
from .student_view import StudentView, create_student_view, page, start_problem, unit_choices
from .teacher_lock import TeacherLock, create_teacher_lock, wire_teacher_lock
from .teacher_view import create_teacher_view
from .text_guard import guard_text_inputs
from .theme import LOGO
from .updates import Updates

log = logging.getLogger("tutor_app.ui")

# How many tutor replies may wait at once inside the model queue. The model queue serialises
# the real work and tells each waiter its place; this only bounds the threads parked there.
MODEL_WAITERS = 16

def header_markdown(actor: Actor, signin: SignIn) -> str:
    if actor.role == "student":
        who = f"Signed in as <b>{signin.display_name(actor)}</b> · <a href=\"/logout\">sign out</a>"
    elif actor.role == "teacher":
        who = "Signed in as <b>teacher</b> · <a href=\"/logout\">sign out</a>"
    else:
        who = "On this computer only · no sign-in"
    return (f"<div class=\"brand\">{LOGO}<h1>Step-by-step tutor</h1>"
            f"<span class=\"tagline\">one step at a time, at your pace</span></div>"
            f"<div class=\"who\">{who}</div>")


# Gradio's copies of uploads and downloads: swept every 15 minutes once an hour old (a grading
# run deletes its own at once), and all of them when the app stops.
DELETE_CACHE = (900, 3600)


def create_app(services: Services, *, clock: Callable[[], float] = time.monotonic) -> gr.Blocks:
    """``clock`` measures how long sign-ins last (tests pass one they move forward)."""
    settings = services.settings
    signin = SignIn(services.auth, required=settings.login_required, max_age_s=settings.sign_in_hours * 3600,
                    clock=clock)
    with gr.Blocks(title="Step-by-step tutor", fill_width=False, delete_cache=DELETE_CACHE) as demo:
        header = gr.Markdown(elem_id="app-header")
        with gr.Tabs(elem_id="main-tabs") as tabs:
            with gr.Tab("Practice", id="practice", elem_id="practice-tab"):
                student = create_student_view(services, signin, model_concurrency=MODEL_WAITERS)
            with gr.Tab("Conversation", id="conversation", elem_id="conversation-tab"):
                conversation = create_conversation_view(services, signin, model_concurrency=MODEL_WAITERS)
            with gr.Tab("Teacher", id="teacher", visible=False, elem_id="teacher-tab") as teacher_tab:
                lock = create_teacher_lock()
                with lock.pages:
                    lock.lock.render()
                    teacher = create_teacher_view(services, signin)
        remembered_name = gr.BrowserState("", storage_key="tutor-student-name")
        register_api(services, signin, model_concurrency=MODEL_WAITERS)
        register_conversation_api(services, signin, model_concurrency=MODEL_WAITERS)
        conversation.wire_page_load(demo, remembered_name)
        _wire_page_load(demo, services, signin, student, header, teacher_tab, lock, remembered_name)
        open_teacher = wire_teacher_lock(lock, signin, teacher)
        teacher_tab.select(open_teacher, [teacher.overview.unit], teacher.overview.outputs, **FAST)
    guard_text_inputs(demo)  # every text input of every event and endpoint, checked once
    demo.tutor_signin = signin  # ``serve`` puts its gate in front of the app
    return demo


def _wire_page_load(demo: gr.Blocks, services: Services, signin: SignIn, student: StudentView, header: gr.Markdown,
                    teacher_tab: gr.Tab, lock: TeacherLock, remembered_name: gr.BrowserState) -> None:
    @page_handler("opening the page")
    def on_load(name_seen_before: str, request: gr.Request):
        actor = signin.actor_for(request)
        return {header: header_markdown(actor, signin), teacher_tab: gr.Tab(visible=actor.is_teacher),
                **lock.on_load(signin, request),
                **student.components(student_page_on_load(services, actor, name_seen_before))}

    demo.load(on_load, [remembered_name],
              [header, student.name, teacher_tab, *lock.outputs, student.unit, student.problem, student.view,
               *student.display,
               student.chat.chatbot], queue=False, **PAGE)
    # Remember a local student's name in this browser, so they come back to their own work.
    student.name.change(lambda n: n, [student.name], [remembered_name], queue=False, **PAGE)


def student_page_on_load(services: Services, actor: Actor, name_seen_before: str | None) -> Updates:
    """The student's page as the page opens: the name box (hidden for a signed-in student), the
    units as loaded now (the teacher may have reloaded curricula since start-up) and the
    student's unfinished problem, if any, resumed with its chat."""
    if actor.role == "student":
        name = gr.Textbox(value=actor.student, interactive=False, visible=False)
        student_name = actor.student or ""
    else:
        # Fill in a remembered name, but never blank out one typed while the page was loading.
        remembered = {"value": name_seen_before} if name_seen_before else {}
        name = gr.Textbox(interactive=True, visible=True, **remembered)
        student_name = name_seen_before or ""
    resumed = _resume(services, actor, student_name)
    view = resumed.get("view")
    units = unit_choices(services.library)
    unit = gr.Dropdown(choices=units, value=view.curriculum_id if view else (units[0][1] if units else None))
    return {"name": name, "unit": unit, **resumed}


def _resume(services: Services, actor: Actor, name: str) -> Updates:
    """The student's unfinished session and its chat, so a returning student carries on where
    they stopped; an empty page when there is none. A session that cannot be resumed (its unit
    was removed) must not stop the page from loading, so that is logged, not raised."""
    empty = {"view": None, **page(services, None), "chatbot": []}
    if not name:
        return empty
    try:
        found = services.tutor.unfinished_session(actor, name)
        if found is None:
            return empty
        return start_problem(services, actor, name, found.curriculum_id, found.problem_id)
    except TutorError as exc:
        log.info("could not resume a session for %r: %s", name, exc)
        return empty
