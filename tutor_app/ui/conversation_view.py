"""The Conversation tab: practise a scene with a character, corrections beside the chat.

The handlers are plain functions over (services, actor, conversation state, inputs) that call
the same ``LanguageService`` functions as the API and return the tab's changes by name
(``updates.py``); ``create_conversation_view`` builds the components and wires events to them.
One message goes through two events, as in the tutor chat: the student's line shows at once
(with "Checking…" in the corrections), then ``respond`` gets the correction (goals and level
update) and streams the character's reply. Clicking one of the character's messages, or
pressing "Translate / explain", shows it in the student's own language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import gradio as gr

from ..bootstrap import Services
from ..language.service import MAX_MESSAGE_CHARS
from ..language.shapes import ConversationState
from ..runtime.protocol import ModelError
from ..service.actor import Actor
from ..service.errors import TutorError
from ..runtime.demo import is_demo_model
from . import conversation_render as render
from .api import FAST, MODEL_GROUP, PAGE
from .auth import SignIn
from .chat_view import PlaceInLine, demo_notice, message_text, pump_with_status, waiting_text
from .errors import GENERIC_MESSAGE, page_handler
from .student_view import student_name
from .updates import Updates, components

log = logging.getLogger("tutor_app.ui")


@dataclass
class ConversationView:
    state: gr.State
    name: gr.Textbox
    unit: gr.Dropdown
    start: gr.Button
    restart: gr.Button
    scenario: gr.HTML
    level: gr.HTML
    goals: gr.HTML
    vocabulary: gr.HTML
    chatbot: gr.Chatbot
    message: gr.Textbox
    send: gr.Button
    translate: gr.Button
    translation: gr.HTML
    corrections: gr.HTML
    wire_page_load: Callable  # (demo, remembered_name) -> None: fill the name and the unit list on load

    @property
    def tab(self) -> list[gr.components.Component]:
        """Everything ``shown`` fills: the whole tab."""
        return [self.state, self.scenario, self.level, self.goals, self.vocabulary, self.chatbot, self.corrections,
                self.message, self.send, self.translate, self.translation]

    def components(self, updates: Updates) -> dict[gr.components.Component, Any]:
        return components(self, updates)


def conversation_choices(library) -> list[tuple[str, str]]:
    return sorted(((u.title, uid) for uid, u in library.conversations.items()), key=lambda c: c[0].lower())


# the handlers ---------------------------------------------------------------------------
def shown(current: ConversationState | None, reason: str = "") -> Updates:
    """The whole tab drawn from one state; the input is open while there is a conversation."""
    working = current is not None
    return {"state": current, "scenario": render.scenario_html(current), "level": render.level_html(current, reason),
            "goals": render.goals_html(current.goals if current else []),
            "vocabulary": render.vocabulary_html(current.vocabulary if current else []),
            "chatbot": render.chat_messages(current), "corrections": render.corrections_html(current),
            "message": gr.Textbox(interactive=working), "send": gr.Button(interactive=working),
            "translate": gr.Button(interactive=working), "translation": render.translation_html(None)}


def begin(services: Services, actor: Actor, typed: str | None, unit_id: str | None, *, new: bool) -> Updates:
    """Continue the student's conversation in the unit, or (``new``) start another."""
    if not unit_id:
        raise TutorError("Please choose a conversation first.")
    student = student_name(actor, typed, saved="your conversation is")
    return shown(services.language.start_conversation(actor, student, unit_id, new=new))


def add_turn(text: str | None, history: list[dict], current: ConversationState | None) -> Updates:
    """Show the line at once and lock the input until the character has answered."""
    text = " ".join((text or "").split())
    if not text or current is None:
        return {"corrections": render.corrections_html(current)}
    return {"chatbot": history + [{"role": "user", "content": text}],
            "message": gr.Textbox(value="", interactive=False), "send": gr.Button(interactive=False),
            "corrections": render.corrections_html(current, pending=text)}


def respond(services: Services, actor: Actor, current: ConversationState | None,
            history: list[dict]) -> Iterator[Updates]:
    """Correct the latest line, then stream the character's answer: the whole tab each time."""
    if current is None or not history or history[-1]["role"] != "user":
        return
    language, model = services.language, services.model
    text = message_text(history[-1])
    base = list(history)
    try:
        result = language.send_message(actor, current.session_id, text)
        current = language.state(actor, current.session_id)
        reason = result.level_reason
        drawn = shown(current, reason)
        drawn.update(message=gr.Textbox(interactive=False), send=gr.Button(interactive=False))  # until the reply ends
        place = PlaceInLine(model)
        reply_chunks = language.stream_reply(actor, current.session_id)
        drawn["chatbot"] = base + [{"role": "assistant", "content": waiting_text(place.ahead)}]
        yield dict(drawn)
        reply = ""
        for kind, item in pump_with_status(reply_chunks, lambda: waiting_text(place.now())):
            if kind == "status" and reply:
                continue
            reply = item if kind == "text" else reply
            drawn["chatbot"] = base + [{"role": "assistant", "content": item}]
            yield dict(drawn)
        final = language.state(actor, current.session_id)
        drawn = shown(final, reason)
        if final.turns and final.turns[-1].role == "student" and reply:
            drawn["chatbot"] = drawn["chatbot"] + [{"role": "assistant", "content": reply}]  # a notice, not a stored line
        yield drawn
    except TutorError as exc:
        gr.Warning(str(exc), title="Please check")
        drawn = shown(current)
        if current is not None and not any(t.role == "student" and t.text == text for t in current.turns[-1:]):
            drawn["message"] = gr.Textbox(value=text, interactive=True)  # give the student their words back
        yield drawn
    except ModelError:
        log.warning("the model failed during a conversation turn", exc_info=True)
        gr.Warning(GENERIC_MESSAGE, title="Sorry")
        yield shown(current)
    except Exception:
        log.exception("unexpected error in a conversation turn")
        gr.Warning(GENERIC_MESSAGE, title="Sorry")
        yield shown(current)


def translate_turn(services: Services, actor: Actor, current: ConversationState | None,
                   turn_id: int | None = None) -> Updates:
    """The character's line ``turn_id`` (or the latest one) in the student's language."""
    if current is None:
        raise TutorError("Start a conversation first.")
    lines = [t for t in current.turns if t.role == "character"]
    if not lines:
        raise TutorError("The character hasn't said anything yet.")
    chosen = next((t for t in lines if t.turn_id == turn_id), lines[-1])
    return {"translation": render.translation_html(services.language.translate(actor, current.session_id,
                                                                               chosen.turn_id))}


def picked_turn(current: ConversationState | None, index: object) -> int | None:
    """The turn id of the character's message a click on the chat picked; None for anything else."""
    if isinstance(index, (list, tuple)):  # a chatbot hands back [row, column] on some versions
        index = index[0] if index else None
    turns = current.turns if current is not None else []
    if not isinstance(index, int) or not 0 <= index < len(turns) or turns[index].role != "character":
        return None
    return turns[index].turn_id


def tab_on_load(services: Services, actor: Actor, name_seen_before: str | None) -> Updates:
    """The name box (hidden for a signed-in student) and the units as loaded now."""
    if actor.role == "student":
        box = gr.Textbox(value=actor.student, interactive=False, visible=False)
    else:
        box = gr.Textbox(interactive=True, visible=True, **({"value": name_seen_before} if name_seen_before else {}))
    choices = conversation_choices(services.library)  # the teacher may have reloaded curricula
    return {"name": box, "unit": gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)}


# the tab --------------------------------------------------------------------------------
def create_conversation_view(services: Services, signin: SignIn, *, model_concurrency: int) -> ConversationView:
    model_events = dict(concurrency_limit=model_concurrency, concurrency_id=MODEL_GROUP, **PAGE)
    state = gr.State(None)
    with gr.Row(elem_classes="setup-row", equal_height=True):
        name = gr.Textbox(label="Your name", placeholder="e.g. Ana", scale=2, min_width=160, elem_id="convo-name")
        units = conversation_choices(services.library)
        unit = gr.Dropdown(units, value=units[0][1] if units else None, label="Conversation", scale=4,
                           min_width=220, elem_id="convo-unit")
        start = gr.Button("Start", variant="primary", scale=1, min_width=110, elem_id="convo-start")
        restart = gr.Button("Start over", variant="secondary", scale=1, min_width=130,
                            elem_id="convo-restart")

    with gr.Row(elem_classes="convo-row"):
        with gr.Column(scale=2, min_width=260, elem_classes="convo-side"):
            scenario = gr.HTML(render.WELCOME, elem_id="convo-scenario")
            level = gr.HTML("", elem_id="convo-level")
            goals = gr.HTML("", elem_id="convo-goals")
            vocabulary = gr.HTML("", elem_id="convo-vocabulary")
        with gr.Column(scale=3, min_width=320, elem_classes="chat-card"):
            gr.Markdown(demo_notice(services.model), elem_id="convo-demo-notice",
                        visible=is_demo_model(services.model.info))
            chatbot = gr.Chatbot(value=[], label="Conversation", show_label=False, height=430, min_height=260,
                                 elem_id="convo-chat", feedback_options=None, buttons=[], layout="bubble",
                                 autoscroll=True,
                                 placeholder="Press Start: the character speaks first. Answer in the language "
                                             "you are learning.")
            with gr.Row(equal_height=True, elem_classes="chat-row"):
                message = gr.Textbox(show_label=False, placeholder="Write your answer…", scale=5, min_width=160,
                                     elem_id="convo-input", container=False, interactive=False,
                                     max_length=MAX_MESSAGE_CHARS)
                send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="convo-send",
                                 interactive=False)
            translate = gr.Button("Translate / explain", variant="secondary", size="md", elem_id="convo-translate",
                                  interactive=False)
            translation = gr.HTML(render.translation_html(None), elem_id="convo-translation")
        with gr.Column(scale=3, min_width=300, elem_classes="corrections-column"):
            gr.Markdown("### Corrections", elem_classes="section-title")
            corrections = gr.HTML(render.corrections_html(None), elem_id="convo-corrections")

    def wire_page_load(demo: gr.Blocks, remembered_name: gr.BrowserState) -> None:
        @page_handler("opening the conversation tab")
        def on_load(name_seen_before: str, request: gr.Request):
            return parts.components(tab_on_load(services, signin.actor_for(request), name_seen_before))

        demo.load(on_load, [remembered_name], [name, unit], queue=False, **PAGE)
        name.change(lambda n: n, [name], [remembered_name], queue=False, **PAGE)

    parts = ConversationView(state=state, name=name, unit=unit, start=start, restart=restart, scenario=scenario,
                             level=level, goals=goals, vocabulary=vocabulary, chatbot=chatbot, message=message,
                             send=send, translate=translate, translation=translation, corrections=corrections,
                             wire_page_load=wire_page_load)
    tab = parts.tab

    @page_handler("starting a conversation")
    def on_start(typed: str, unit_id: str | None, request: gr.Request):
        return parts.components(begin(services, signin.actor_for(request), typed, unit_id, new=False))

    @page_handler("starting a new conversation")
    def on_restart(typed: str, unit_id: str | None, request: gr.Request):
        return parts.components(begin(services, signin.actor_for(request), typed, unit_id, new=True))

    def on_add_turn(text: str, history: list[dict], current: ConversationState | None):
        return parts.components(add_turn(text, history, current))

    def on_respond(current: ConversationState | None, history: list[dict], request: gr.Request):
        try:
            actor = signin.actor_for(request)
        except TutorError as exc:
            gr.Warning(str(exc), title="Please check")
            yield parts.components(shown(current))
            return
        for updates in respond(services, actor, current, history):
            yield parts.components(updates)

    @page_handler("translating a message")
    def on_translate(current: ConversationState | None, request: gr.Request):
        return parts.components(translate_turn(services, signin.actor_for(request), current))

    @page_handler("translating a message")
    def on_pick(current: ConversationState | None, event: gr.SelectData, request: gr.Request):
        turn_id = picked_turn(current, event.index)
        if turn_id is None:
            return gr.skip()
        return parts.components(translate_turn(services, signin.actor_for(request), current, turn_id))

    start.click(on_start, [name, unit], tab, **FAST)
    restart.click(on_restart, [name, unit], tab, **FAST)
    for trigger in (send.click, message.submit):
        trigger(on_add_turn, [message, chatbot, state], [chatbot, message, send, corrections], queue=False,
                **PAGE).then(
            on_respond, [state, chatbot], tab, show_progress="hidden", **model_events)
    translate.click(on_translate, [state], [translation], **model_events)
    chatbot.select(on_pick, [state], [translation], **model_events)

    return parts
