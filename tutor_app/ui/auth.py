"""Who is on the other end of a request: the bridge from Gradio's sign-in to an ``Actor``.

Gradio's ``auth=`` callable only answers yes or no and later hands handlers the name that was
typed (``request.username``). The roster decides the real identity (a teacher, or which
student, spelled as the roster spells it), so the ``Actor`` found at sign-in is kept here by
that typed name; handlers ask ``actor_for(request)`` and never trust a name from the page.
Without sign-in (loopback only, no ``--require-login``) everyone is the local user.
"""

from __future__ import annotations

import threading

import gradio as gr

from ..service.actor import LOCAL_ACTOR, Actor
from ..service.errors import Forbidden


class SignIn:
    def __init__(self, authenticator, *, required: bool) -> None:
        """``authenticator`` has ``authenticate(username, secret) -> Actor | None`` (the roster)."""
        self._authenticator = authenticator
        self.required = required
        self._signed_in: dict[str, Actor] = {}
        self._lock = threading.Lock()

    def check(self, username: str, secret: str) -> bool:
        """The ``auth=`` callable given to ``launch``."""
        actor = self._authenticator.authenticate(username, secret)
        if actor is None:
            return False
        with self._lock:
            self._signed_in[username] = actor
        return True

    def actor_for(self, request: gr.Request | None) -> Actor:
        if not self.required:
            return LOCAL_ACTOR
        username = getattr(request, "username", None) if request is not None else None
        with self._lock:
            actor = self._signed_in.get(username) if username else None
        if actor is None:
            raise Forbidden("Please sign in first.")
        return actor

    def display_name(self, actor: Actor) -> str:
        if actor.role == "student":
            return actor.student or "student"
        return "Teacher" if actor.role == "teacher" else "Local user"
