"""The stable JSON API: ``/start_session``, ``/submit_answer``, ``/request_hint``, ``/ask_tutor``,
``/session_state``, ``/grade_submission``, callable with ``gradio_client``.

Each endpoint is a thin edge over the same ``TutorService`` call the page makes: it works out
who is calling from the request (never from an argument), checks that the arguments are text,
and returns the shape as a JSON dict. Ownership is the service's to enforce, on every call.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from ..bootstrap import Services
from ..service.errors import TutorError
from .auth import SignIn
from .errors import guard_stream, user_errors

MODEL_GROUP = "model"  # concurrency group of every event that waits on the language model
# The page's own events are not part of the API: hidden from gradio_client (the handlers still
# check who is calling, since a hidden endpoint can be called by hand). FAST ones never wait.
PAGE = {"api_visibility": "private"}
FAST = {"concurrency_limit": None, "api_visibility": "private"}
# A page event that waits on the model joins its group; None keeps the group's own bound.
MODEL_PAGE = {"concurrency_limit": None, "concurrency_id": MODEL_GROUP, "api_visibility": "private"}


def text_arg(value: Any, name: str) -> str:
    """API callers send any JSON. A wrong type is named here; what the text must say (not
    empty, a known id) is the service's to check, with its own clear messages."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TutorError(f"'{name}' must be text, got {type(value).__name__}.")
    return value


def register_api(services: Services, signin: SignIn, *, model_concurrency: int) -> None:
    """Add the endpoints to the Blocks being built (call inside ``with gr.Blocks()``)."""
    tutor = services.tutor

    def start_session(student: str, curriculum_id: str, problem_id: str = "",
                      request: gr.Request = None) -> dict:
        """Start (or resume) a problem for a student. An empty problem_id lets the mastery model choose."""
        with user_errors("starting a session"):
            actor = signin.actor_for(request)
            result = tutor.start_session(actor, text_arg(student, "student"), text_arg(curriculum_id, "curriculum_id"),
                                         text_arg(problem_id, "problem_id"))
            return result.model_dump(mode="json")

    def submit_answer(session_id: str, answer: str, request: gr.Request = None) -> dict:
        """Check an answer to the current step (or to the open scaffold question)."""
        with user_errors("checking an answer"):
            actor = signin.actor_for(request)
            result = tutor.submit_answer(actor, text_arg(session_id, "session_id"), text_arg(answer, "answer"))
            return result.model_dump(mode="json")

    def request_hint(session_id: str, request: gr.Request = None) -> dict:
        """The next hint on the current step's ladder."""
        with user_errors("giving a hint"):
            actor = signin.actor_for(request)
            return tutor.request_hint(actor, text_arg(session_id, "session_id")).model_dump(mode="json")

    def ask_tutor(session_id: str, message: str, request: gr.Request = None) -> Iterator[str]:
        """Ask the tutor; the reply streams (each message is the reply so far)."""
        with user_errors("asking the tutor"):
            actor = signin.actor_for(request)
            replies = tutor.ask_tutor(actor, text_arg(session_id, "session_id"), text_arg(message, "message"))
        yield from guard_stream("streaming a tutor reply", replies)

    def session_state(session_id: str, request: gr.Request = None) -> dict:
        """Where a session stands: current step, attempts, hints used, mastery."""
        with user_errors("reading a session"):
            actor = signin.actor_for(request)
            return tutor.session_state(actor, text_arg(session_id, "session_id")).model_dump(mode="json")

    def grade_submission(rubric_id: str, text: str, request: gr.Request = None) -> dict:
        """Grade a text against a rubric: a score and comment per criterion, the total, next steps."""
        with user_errors("grading a submission"):
            actor = signin.actor_for(request)
            result = services.assessment.grade_submission(actor, text_arg(rubric_id, "rubric_id"),
                                                          text_arg(text, "text"))
            return result.model_dump(mode="json")

    fast = dict(concurrency_limit=None)
    gr.api(start_session, api_name="start_session", **fast)
    # Checking is deterministic; a wrong answer no bug rule knows may wait for the model's
    # classification inside the service, but a correct one must never queue behind chat replies.
    gr.api(submit_answer, api_name="submit_answer", **fast)
    gr.api(request_hint, api_name="request_hint", **fast)
    gr.api(ask_tutor, api_name="ask_tutor", concurrency_limit=model_concurrency, concurrency_id=MODEL_GROUP)
    gr.api(session_state, api_name="session_state", **fast)
    gr.api(grade_submission, api_name="grade_submission", concurrency_limit=model_concurrency,
           concurrency_id=MODEL_GROUP)


def register_conversation_api(services: Services, signin: SignIn, *, model_concurrency: int) -> None:
    """Conversation practice: ``/start_conversation``, ``/conversation_say``, ``/translate_message``,
    ``/conversation_state``. Same rules as above: who calls comes from the request, and the
    language service checks ownership on every call."""
    language = services.language

    def start_conversation(student: str, curriculum_id: str, new: bool = False, request: gr.Request = None) -> dict:
        """Continue the student's conversation in a unit, or start one (new=true: always a fresh one)."""
        with user_errors("starting a conversation"):
            if not isinstance(new, bool):
                raise TutorError("'new' must be true or false.")
            actor = signin.actor_for(request)
            state = language.start_conversation(actor, text_arg(student, "student"),
                                                text_arg(curriculum_id, "curriculum_id"), new=new)
            return state.model_dump(mode="json")

    def conversation_say(session_id: str, message: str, request: gr.Request = None) -> dict:
        """Send a message: its correction, goals and level, then the character's complete reply."""
        with user_errors("sending a conversation message"):
            actor = signin.actor_for(request)
            return language.say(actor, text_arg(session_id, "session_id"),
                                text_arg(message, "message")).model_dump(mode="json")

    def translate_message(session_id: str, turn_id: int, request: gr.Request = None) -> dict:
        """One of the character's messages in the student's language, with a short explanation."""
        with user_errors("translating a message"):
            if isinstance(turn_id, bool) or not isinstance(turn_id, int):
                raise TutorError("'turn_id' must be a whole number (a turn_id from conversation_state).")
            actor = signin.actor_for(request)
            return language.translate(actor, text_arg(session_id, "session_id"), turn_id).model_dump(mode="json")

    def conversation_state(session_id: str, request: gr.Request = None) -> dict:
        """The scene, the level now, the goals met and every turn with its correction."""
        with user_errors("reading a conversation"):
            actor = signin.actor_for(request)
            return language.state(actor, text_arg(session_id, "session_id")).model_dump(mode="json")

    model = dict(concurrency_limit=model_concurrency, concurrency_id=MODEL_GROUP)
    gr.api(start_conversation, api_name="start_conversation", concurrency_limit=None)
    gr.api(conversation_say, api_name="conversation_say", **model)
    gr.api(translate_message, api_name="translate_message", **model)
    gr.api(conversation_state, api_name="conversation_state", concurrency_limit=None)
