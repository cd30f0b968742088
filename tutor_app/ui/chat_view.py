"""The tutor chat beside the step: the student's turn shows at once, then the reply streams.

One model serves the whole class, so a reply may have to wait its turn. While it waits, the
reply bubble says how many students are ahead and which model is running, instead of a silent
spinner. The waiting happens inside the model queue (``services.model``), so the service call
runs in a helper thread and this generator reports on it until the first words arrive.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import gradio as gr

from ..bootstrap import Services
from ..dialogue.phrases import phrase
from ..runtime.protocol import ModelError, ServedModel
from ..service.errors import TutorError
from .api import MODEL_GROUP, PAGE
from .auth import SignIn
from .errors import GENERIC_MESSAGE
from .theme import LATEX_DELIMITERS

log = logging.getLogger("tutor_app.ui")

POLL_S = 0.5
NO_SESSION = "Start a problem first; then ask me anything about the step you are on."

_DONE = object()


@dataclass
class ChatView:
    chatbot: gr.Chatbot
    message: gr.Textbox
    send: gr.Button
    model_line: gr.Markdown


def model_line(model: ServedModel) -> str:
    info = model.info
    if not info.available:
        return "<span class=\"model-line off\">Tutor chat off: no model loaded</span>"
    return f"<span class=\"model-line\">Tutor model: <b>{info.name}</b> · {info.backend}</span>"


def waiting_text(ahead: int, model_name: str) -> str:
    if ahead <= 0:
        return f"*Thinking… ({model_name})*"
    students = "student" if ahead == 1 else "students"
    return f"*Waiting for the tutor: {ahead} {students} ahead of you ({model_name}).*"


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
    who is ahead; later the line also holds whoever came after, so the estimate only ever goes
    down: it follows the line as it shortens and ignores newcomers behind."""

    def __init__(self, model: ServedModel) -> None:
        self._model = model
        self._places = max(1, int(model.parallel))
        self.ahead = max(0, self._count() - self._places + 1)

    def _count(self) -> int:
        return max(0, int(self._model.waiting()))

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


def create_chat_view(services: Services, signin: SignIn, view_state: gr.State, *, model_concurrency: int) -> ChatView:
    tutor = services.tutor
    model = services.model

    with gr.Column(elem_classes="chat-card"):
        chatbot = gr.Chatbot(
            value=[], label="Ask the tutor", show_label=True, height=380, min_height=240,
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

    def add_turn(text: str, history: list[dict]):
        text = (text or "").strip()
        if not text:
            return history, ""
        return history + [{"role": "user", "content": text}], ""

    def stream_reply(view, history: list[dict], request: gr.Request):
        if not history or history[-1]["role"] != "user":
            return  # nothing new was asked (an empty message)
        question = message_text(history[-1])
        base = list(history)

        def say(text: str) -> list[dict]:
            return base + [{"role": "assistant", "content": text}]

        if view is None:
            yield say(NO_SESSION)
            return
        unit = services.library.units.get(view.curriculum_id)
        language = unit.language if unit is not None else "en"
        if not model.info.available:
            # Said here rather than by the service, so a model that is off leaves no chat turns behind.
            yield say(phrase("model_unavailable", language))
            return
        name = model.info.name
        try:
            actor = signin.actor_for(request)
            place = PlaceInLine(model)  # before this question joins the line
            chunks = tutor.ask_tutor(actor, view.session_id, question)
            reply = ""
            yield say(waiting_text(place.ahead, name))
            for kind, item in pump_with_status(chunks, lambda: waiting_text(place.now(), name)):
                if kind == "status":
                    if not reply:
                        yield say(item)
                    continue
                reply = item
                yield say(reply)
            if not reply:
                yield say(phrase("model_failed", language))
        except TutorError as exc:
            yield say(str(exc))
        except ModelError:  # the dialogue words model trouble itself; this is the last line of defence
            log.warning("tutor model failed during a chat reply", exc_info=True)
            yield say(phrase("model_failed", language))
        except Exception:
            log.exception("unexpected error in the tutor chat")
            yield say(GENERIC_MESSAGE)

    for trigger in (send.click, message.submit):
        trigger(add_turn, [message, chatbot], [chatbot, message], queue=False, **PAGE).then(
            stream_reply, [view_state, chatbot], [chatbot],
            concurrency_limit=model_concurrency, concurrency_id=MODEL_GROUP, show_progress="hidden", **PAGE,
        )
    return ChatView(chatbot, message, send, line)
