"""The Teacher tab's lock on a computer without sign-in: the teacher password opens it, per page.

Without sign-in (loopback only) the app trusts whoever sits at the computer with the student's
page, but a classroom computer is shared: the class's mastery, transcripts and exports must not
be one click away. So the Teacher tab first shows a password box; the right teacher password
opens the teacher's pages in this page only (a reload locks them again, and so does the Lock
button), and every teacher handler checks the same unlock on the server (``SignIn.teacher_for``).
A signed-in teacher never sees the box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..service.auth import LOCAL_ADDRESS
from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .teacher_view import TeacherView

HOWTO = ("**The teacher's pages are locked.** Type the teacher password to open them in this page. "
         "It is the password set when the tutor was first started (`python app.py` asked for it, or printed it).")


@dataclass
class TeacherLock:
    box: gr.Column  # the password box, shown while locked
    pages: gr.Column  # the teacher's pages, shown once unlocked
    password: gr.Textbox
    unlock: gr.Button
    message: gr.Markdown
    lock: gr.Button

    def on_load(self, signin: SignIn, request: gr.Request) -> dict:
        """Visibility as the page opens: locked for the local user, open for a signed-in teacher."""
        actor = signin.actor_for(request)
        open_now = actor.role == "teacher" or (actor.role == "local" and signin.teacher_unlocked(request))
        return {self.box: gr.Column(visible=actor.role == "local" and not open_now),
                self.pages: gr.Column(visible=open_now), self.lock: gr.Button(visible=actor.role == "local")}

    @property
    def outputs(self) -> list:
        return [self.box, self.pages, self.lock]


def create_teacher_lock() -> TeacherLock:
    """The password box and an empty column for the teacher's pages (render them ``with lock.pages:``,
    after ``lock.lock.render()``); call inside the Teacher tab."""
    with gr.Column(visible=False, elem_id="teacher-lock") as box:
        gr.Markdown(HOWTO, elem_classes="howto")
        with gr.Row(equal_height=True):
            password = gr.Textbox(type="password", label="Teacher password", scale=3, max_length=200,
                                  elem_id="teacher-unlock-password")
            unlock = gr.Button("Open the teacher's pages", variant="primary", scale=1, elem_id="teacher-unlock")
        message = gr.Markdown("", elem_id="teacher-unlock-message")
    pages = gr.Column(visible=False, elem_id="teacher-pages")
    lock = gr.Button("Lock the teacher's pages", size="sm", visible=False, elem_id="teacher-lock-button",
                     render=False)
    return TeacherLock(box, pages, password, unlock, message, lock)


def wire_teacher_lock(lock: TeacherLock, signin: SignIn, teacher: TeacherView) -> Callable:
    """Wire the buttons; returns the handler that fills the class overview when the Teacher tab
    opens (silent while the tab is locked: the password box says what to do)."""
    @page_handler("unlocking the teacher's pages")
    def on_unlock(secret: str | None, request: gr.Request):
        address = request.client.host if getattr(request, "client", None) else LOCAL_ADDRESS
        refusal = signin.unlock_teacher(request, secret or "", address)
        if refusal is not None:
            return {lock.message: refusal, lock.password: ""}
        return {lock.message: "", lock.password: "", lock.box: gr.Column(visible=False),
                lock.pages: gr.Column(visible=True)}

    @page_handler("locking the teacher's pages")
    def on_lock(request: gr.Request):
        signin.lock_teacher(request)
        return {lock.box: gr.Column(visible=True), lock.pages: gr.Column(visible=False)}

    @page_handler("opening the teacher's pages")
    def open_if_unlocked(unit_id: str | None, request: gr.Request):
        actor = signin.actor_for(request)
        if actor.role == "local" and not signin.teacher_unlocked(request):
            return gr.skip()
        return teacher.open_class(unit_id, request)

    outputs = [lock.message, lock.password, lock.box, lock.pages]
    for trigger in (lock.unlock.click, lock.password.submit):
        trigger(on_unlock, [lock.password], outputs, **FAST).then(
            open_if_unlocked, [teacher.overview.unit], teacher.overview.outputs, **FAST)
    lock.lock.click(on_lock, None, [lock.box, lock.pages], **FAST)
    return open_if_unlocked
