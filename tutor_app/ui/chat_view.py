"""The tutor chat beside the step: the student's question is stored and shown at once, then the reply streams.

Every question is stored the moment it is sent (``TutorService.store_question``), before any
reply: a second question sent while the first reply streams is kept, shown, and answered
after the first, in order. The reply event answers every stored question of the session that
has no reply yet, one after the other, and draws the chat from what is stored (refreshed as it
streams), so a question added meanwhile never disappears from the page.

One model serves the whole class, so a reply may have to wait its turn. While it waits, the
reply bubble says how many students are ahead, instead of a silent spinner; the student's own
background work (a diagnosis of their last answer) is not counted as a student ahead. The
waiting happens inside the model queue (``services.model``), so the service call runs in a
helper thread and this generator reports on it until the first words arrive. Bubbles never
name the model's file; the line under the chat names the model, and says plainly when it is a
small demo model or when the teacher has turned the chat off for the unit.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import gradio as gr

from ..bootstrap import Services
from ..dialogue.phrases import phrase
from ..runtime.demo import is_demo_model, shown_model_name
from ..runtime.protocol import ModelError, ServedModel
from ..service.errors import TutorError
from .api import MODEL_GROUP, PAGE
from .auth import SignIn
from .errors import GENERIC_MESSAGE
from .theme import LATEX_DELIMITERS

log = logging.getLogger("tutor_app.ui")

POLL_S = 0.5
REFRESH_S = 0.5  # how often a streaming reply re-reads the stored chat (a question sent meanwhile)
NO_SESSION = "Start a problem first; then ask me anything about the step you are on."
DEMO_NOTICE = ("**A small demo model is running.** Its chat replies can be wrong, even about whether an answer is "
               "right. Trust the **Check** button, the hints and your teacher; use the chat for ideas only.")

_DONE = object()


@dataclass
class ChatView:
    chatbot: gr.Chatbot
    message: gr.Textbox
    send: gr.Button
    model_line: gr.Markdown
    notice: gr.Markdown


def model_line(model: ServedModel, *, allowed: bool = True) -> str:
    """The line under the chat: which model answers, or why none does (``allowed`` False: the
    teacher turned the model off for this unit)."""
    info = model.info
    if not info.available:
        return "<span class=\"model-line off\">Tutor chat off: no model loaded</span>"
    if not allowed:
        return "<span class=\"model-line off\">Tutor chat off for this unit: your teacher turned it off</span>"
    demo = " · small demo model" if is_demo_model(info) else ""
    return f"<span class=\"model-line\">Tutor model: <b>{html.escape(shown_model_name(info))}</b>{demo}</span>"


def demo_notice(model: ServedModel) -> str:
    """The plain notice for students while a small demo model runs; empty otherwise."""
    return f"<div class=\"demo-notice\">\n\n{DEMO_NOTICE}\n\n</div>" if is_demo_model(model.info) else ""


def waiting_text(ahead: int) -> str:
    if ahead <= 0:
        return "*Thinking…*"
    students = "student" if ahead == 1 else "students"
    return f"*Waiting for the tutor: {ahead} {students} ahead of you.*"


def message_text(message: dict) -> str:
    """The text of a chat message as the Chatbot hands it back (a string, or a list of parts)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


class PlaceInLine:
    """How many students are ahead of this one for the model, from the queue's length alone.

    ``waiting()`` counts every call holding or waiting for one of the model's ``parallel``
    places. Asked before this student's call joins, the calls beyond the free places are exactly
    who is ahead, less this student's own background calls (``own``: a diagnosis of their last
    answer is not another student); later the line also holds whoever came after, so the
    estimate only ever goes down: it follows the line as it shortens and ignores newcomers
    behind."""

    def __init__(self, model: ServedModel, own: Callable[[], int] = lambda: 0) -> None:
        self._model = model
        self._own = own
        self._places = max(1, int(model.parallel))
        self.ahead = max(0, self._count() - self._places + 1)

    def _count(self) -> int:
        return max(0, int(self._model.waiting()) - max(0, int(self._own())))

    def now(self) -> int:
        self.ahead = min(self.ahead, max(0, self._count() - self._places))
        return self.ahead


def pump_with_status(chunks: Iterator[str], status: Callable[[], str], *, poll_s: float = POLL_S) -> Iterator[tuple[str, str]]:
    """Yield ("status", text) while ``chunks`` has produced nothing for ``poll_s``, and
    ("text", chunk) for each chunk. ``chunks`` runs in a helper thread so that waiting for the
    model does not stop the status from updating. If the consumer goes away, the helper closes
    ``chunks`` at the next chunk so the model stops generating for nobody."""
    box: queue.Queue = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                box.put(("text", chunk))
        except BaseException as exc:  # handed to the consumer, which decides what the person sees
            box.put(("error", exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            box.put(("done", _DONE))

    worker = threading.Thread(target=run, name="tutor-reply", daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, item = box.get(timeout=poll_s)
            except queue.Empty:
                yield "status", status()
                continue
            if kind == "done":
                return
            if kind == "error":
                raise item
            yield "text", item
    finally:
        stop.set()


def chat_messages(messages, *, partial: tuple[int, str] | None = None) -> list[dict]:
    """Stored messages (conversation order) as the Chatbot shows them; ``partial``: (question id,
    the reply so far) drawn right after its question."""
    shown = []
    for m in messages:
        shown.append({"role": "user" if m.role == "student" else "assistant", "content": m.content})
        if partial is not None and m.id == partial[0]:
            shown.append({"role": "assistant", "content": partial[1]})
    return shown


def create_chat_view(services: Services, signin: SignIn, view_state: gr.State, *, model_concurrency: int) -> ChatView:
    tutor = services.tutor
    model = services.model

    with gr.Column(elem_classes="chat-card"):
        notice = gr.Markdown(demo_notice(model), elem_id="demo-notice", visible=is_demo_model(model.info))
        # A title of our own above the chat: the Chatbot's floating label covered the text scrolled under it.
        gr.Markdown("**Ask the tutor**", elem_classes="chat-title", elem_id="chat-title")
        chatbot = gr.Chatbot(
            value=[], label="Ask the tutor", show_label=False, height=380, min_height=240,
            latex_delimiters=LATEX_DELIMITERS, elem_id="tutor-chat", feedback_options=None,
            buttons=[], layout="bubble", autoscroll=True,
            placeholder="Stuck? Ask a question in your own words. The tutor won't give away the answer, "
                        "but it will help you find it.",
        )
        with gr.Row(equal_height=True, elem_classes="chat-row"):
            message = gr.Textbox(show_label=False, placeholder="Ask about this step…", scale=5, min_width=160,
                                 elem_id="chat-input", container=False)
            send = gr.Button("Send", variant="secondary", scale=1, min_width=80, elem_id="chat-send")
        line = gr.Markdown(model_line(model), elem_id="model-line")

    def language_of(view) -> str:
        unit = services.library.units.get(view.curriculum_id) if view is not None else None
        return unit.language if unit is not None else "en"

    def add_turn(view, text: str, history: list[dict], request: gr.Request):
        """Show the question at once and, with a model to answer it, store it before anything else."""
        text = (text or "").strip()
        if not text:
            return history, ""
        asked = history + [{"role": "user", "content": text}]
        if view is None:
            return asked + [{"role": "assistant", "content": NO_SESSION}], ""
        if not model.info.available:
            # Said here rather than by the service, so a model that is off leaves no chat turns behind.
            return asked + [{"role": "assistant", "content": phrase("model_unavailable", language_of(view))}], ""
        try:
            tutor.store_question(signin.actor_for(request), view.session_id, text)
        except TutorError as exc:
            return asked + [{"role": "assistant", "content": str(exc)}], ""
        except Exception:
            log.exception("storing a chat question failed")
            return asked + [{"role": "assistant", "content": GENERIC_MESSAGE}], ""
        return asked, ""

    def stream_reply(view, history: list[dict], request: gr.Request):
        """Answer every stored question without a reply, oldest first, drawing the chat from the store."""
        if view is None or not model.info.available:
            return
        language = language_of(view)
        try:
            actor = signin.actor_for(request)
            tried: set[int] = set()  # a question the model could not answer waits for the next question's turn
            while True:
                waiting = [q for q in tutor.unanswered_questions(actor, view.session_id) if q.id not in tried]
                if not waiting:
                    return
                tried.add(waiting[0].id)
                yield from _stream_one(actor, view.session_id, waiting[0], language)
        except TutorError as exc:
            yield history + [{"role": "assistant", "content": str(exc)}]
        except Exception:
            log.exception("unexpected error in the tutor chat")
            yield history + [{"role": "assistant", "content": GENERIC_MESSAGE}]

    def _stream_one(actor, session_id: str, question, language: str):
        stored = tutor.history(actor, session_id).messages
        refreshed = time.monotonic()

        def draw(text: str) -> list[dict]:
            nonlocal stored, refreshed
            if time.monotonic() - refreshed > REFRESH_S:
                stored, refreshed = tutor.history(actor, session_id).messages, time.monotonic()
            return chat_messages(stored, partial=(question.id, text))

        place = PlaceInLine(model, own=lambda: tutor.background_jobs(session_id))  # before this question joins
        reply = ""
        try:
            chunks = tutor.answer_question(actor, session_id, question.id)
            yield draw(waiting_text(place.ahead))
            for kind, item in pump_with_status(chunks, lambda: waiting_text(place.now())):
                if kind == "status":
                    if not reply:
                        yield draw(item)
                    continue
                reply = item
                yield draw(reply)
        except ModelError:  # the dialogue words model trouble itself; this is the last line of defence
            log.warning("tutor model failed during a chat reply", exc_info=True)
        if not reply:
            # nothing was said: the question stays (it is answered with the next one), with a word why
            yield chat_messages(tutor.history(actor, session_id).messages) + \
                [{"role": "assistant", "content": phrase("model_failed", language)}]
            return
        yield chat_messages(tutor.history(actor, session_id).messages)

    for trigger in (send.click, message.submit):
        trigger(add_turn, [view_state, message, chatbot], [chatbot, message], queue=False, **PAGE).then(
            stream_reply, [view_state, chatbot], [chatbot],
            concurrency_limit=model_concurrency, concurrency_id=MODEL_GROUP, show_progress="hidden", **PAGE,
        )
    return ChatView(chatbot, message, send, line, notice)
