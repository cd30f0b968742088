"""Who is on the other end of a request: the bridge from a sign-in to an ``Actor``, for as long
as that sign-in holds.

The sign-in page (``signin_gate.py``) checks the name and secret with the auth service and, when
they are right, hands Gradio a token (its cookie) for the name as the roster spells it; Gradio
then gives handlers that name (``request.username``). The roster decides the real identity, so the
``Actor`` found at sign-in is kept here; handlers ask ``actor_for(request)`` and never trust a
name from the page. Gradio's tokens never expire by themselves, so a sign-in is checked again
on every request, by the gate (each token) and here (each name): it ends after ``max_age_s``, or
as soon as the PIN or password it was made with changes (a new PIN, a student taken off the
roster), and the request is refused with a message that says to sign in again.

Without sign-in (loopback only, no ``--require-login``) everyone is the local user, and the
Teacher tab opens only after the teacher password is typed on the page (``unlock_teacher``): a
computer in a classroom is shared, even when nothing else can reach the app.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, MutableMapping, Protocol

import gradio as gr

from ..service.actor import LOCAL_ACTOR, Actor
from ..service.auth import LOCAL_ADDRESS, SignInResult
from ..service.errors import Forbidden
from ..service.roster import name_key

SCHOOL_DAY_S = 8 * 3600.0
ENDED = ("Your sign-in has ended (sign-ins last a school day, and end when your PIN changes). "
         "Reload the page and sign in again.")
LOCKED = "Only the teacher can see this page: type the teacher password on the Teacher tab to open it."


class Authenticator(Protocol):
    """What the sign-in needs of the auth service (``service.auth.Auth``)."""

    def screen(self, username: object, secret: object, *, address: str = LOCAL_ADDRESS) -> SignInResult | None: ...

    def verify(self, username: str, secret: str, *, address: str = LOCAL_ADDRESS) -> SignInResult: ...

    def still_valid(self, actor: Actor, credential: str | None) -> bool: ...


@dataclass(frozen=True)
class Held:
    """One sign-in: who, with which credential (the hash), since when (``clock`` time)."""

    username: str
    actor: Actor
    credential: str | None
    since: float


class SignIn:
    def __init__(self, authenticator: Authenticator, *, required: bool, max_age_s: float = SCHOOL_DAY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._auth = authenticator
        self.required = required
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, Held] = {}  # Gradio's token -> the sign-in it stands for
        self._users: dict[str, Held] = {}  # key of the name Gradio hands handlers -> its latest sign-in
        self._unlocked: dict[str, Held] = {}  # no sign-in: a page's session -> the teacher's unlock
        self._gradio_tokens: MutableMapping[str, str] | None = None  # Gradio's own table, to revoke from

    # signing in ------------------------------------------------------------------------
    def screen(self, username: object, secret: object, address: str) -> SignInResult | None:
        """The cheap checks before a secret is hashed (on the event loop); None: go on to ``verify``."""
        return self._auth.screen(username, secret, address=address)

    def verify(self, username: str, secret: str, address: str) -> SignInResult:
        """The ~70 ms check of the secret; the gate runs it in a worker thread."""
        return self._auth.verify(username, secret, address=address)

    def start(self, result: SignInResult, gradio_tokens: MutableMapping[str, str]) -> str:
        """Open a sign-in for a verified ``result``: a new token, entered in Gradio's table under
        the name as the roster spells it. Returns the token for the cookie."""
        actor = result.actor
        assert actor is not None
        username = actor.student if actor.role == "student" else actor.role
        held = Held(username=username, actor=actor, credential=result.credential, since=self._clock())
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._gradio_tokens = gradio_tokens
            self._forget_ended()
            self._tokens[token] = held
            self._users[name_key(username)] = held
        gradio_tokens[token] = username
        return token

    def check(self, username: str, secret: str, address: str = LOCAL_ADDRESS) -> bool:
        """Sign in without a browser (tests, scripts): True when the name and secret are right,
        and from then on requests carrying that name act as the roster's person."""
        result = self.screen(username, secret, address) or self.verify(username, secret, address)
        if result.actor is None:
            return False
        self.start(result, {})
        return True

    # every request ---------------------------------------------------------------------
    def token_holds(self, token: str | None) -> bool:
        """Whether the sign-in behind a Gradio token still holds; an ended one is forgotten here and
        taken out of Gradio's table, so Gradio refuses the request as not signed in."""
        if not token:
            return False
        with self._lock:
            held = self._tokens.get(token)
        if held is not None and self._holds(held):
            return True
        with self._lock:
            self._tokens.pop(token, None)
            if self._gradio_tokens is not None:
                self._gradio_tokens.pop(token, None)
        return False

    def actor_for(self, request: gr.Request | None) -> Actor:
        if not self.required:
            return LOCAL_ACTOR
        username = getattr(request, "username", None) if request is not None else None
        with self._lock:
            held = self._users.get(name_key(username)) if isinstance(username, str) else None
        if held is None:
            raise Forbidden("Please sign in first.")
        if not self._holds(held):
            self.end(username)
            raise Forbidden(ENDED)
        return held.actor

    def end(self, username: str) -> None:
        """End every sign-in of ``username`` now."""
        with self._lock:
            self._users.pop(name_key(username), None)
            for token in [t for t, h in self._tokens.items() if name_key(h.username) == name_key(username)]:
                self._tokens.pop(token, None)
                if self._gradio_tokens is not None:
                    self._gradio_tokens.pop(token, None)

    def _holds(self, held: Held) -> bool:
        return self._clock() - held.since < self.max_age_s and self._auth.still_valid(held.actor, held.credential)

    def _forget_ended(self) -> None:
        """Drop sign-ins past their age (called with the lock held), so the tables stay as small
        as the number of people signed in today."""
        cutoff = self._clock() - self.max_age_s
        for table in (self._tokens, self._users, self._unlocked):
            for key in [k for k, h in table.items() if h.since <= cutoff]:
                del table[key]

    # the teacher tab without sign-in ---------------------------------------------------
    def unlock_teacher(self, request: gr.Request | None, secret: str, address: str = LOCAL_ADDRESS) -> str | None:
        """Open the Teacher tab in this page (no-sign-in mode) with the teacher password: None when
        it opened, else what to tell the person. Wrong passwords count like wrong sign-ins."""
        page = getattr(request, "session_hash", None)
        if not page:
            return "Reload the page, then type the teacher password again."
        result = self.screen("teacher", secret, address) or self.verify("teacher", secret, address)
        if result.actor is None:  # too many tries is said as such; a wrong one is not a "name and PIN"
            return result.refusal if result.retry_after_s else "That is not the teacher password."
        with self._lock:
            self._forget_ended()
            self._unlocked[page] = Held("teacher", result.actor, result.credential, self._clock())
        return None

    def lock_teacher(self, request: gr.Request | None) -> None:
        with self._lock:
            self._unlocked.pop(getattr(request, "session_hash", None) or "", None)

    def teacher_unlocked(self, request: gr.Request | None) -> bool:
        page = getattr(request, "session_hash", None)
        with self._lock:
            held = self._unlocked.get(page) if page else None
        if held is None:
            return False
        if self._holds(held):
            return True
        self.lock_teacher(request)
        return False

    def teacher_for(self, request: gr.Request | None) -> Actor:
        """The caller, when they may see the teacher's pages: the signed-in teacher, or the local
        user once this page was unlocked with the teacher password."""
        actor = self.actor_for(request)
        if actor.role == "local" and self.teacher_unlocked(request):
            return actor
        if actor.role != "teacher":
            raise Forbidden(LOCKED if actor.role == "local" else "Only the teacher can see this page.")
        return actor

    def display_name(self, actor: Actor) -> str:
        if actor.role == "student":
            return actor.student or "student"
        return "Teacher" if actor.role == "teacher" else "Local user"
