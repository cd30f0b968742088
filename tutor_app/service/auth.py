"""Sign-in: turns a typed name and secret into an ``Actor``, or refuses, and says later whether
that sign-in still holds.

The name ``teacher`` signs in with the teacher's password (hashed in the database, set on
first run); any other name must be on the roster (``roster.py``) with its PIN. The roster
file is re-read when the teacher changes it, so a new student can sign in without a restart.
Guessing is slowed down per client address and per name (``throttle.py``): the cheap checks
(``screen``) come before the ~70 ms scrypt check (``verify``), so the web app can refuse a flood
on its event loop and check the rest in a worker thread.

A sign-in holds only while its credential does: ``credential(actor)`` is the hash it was made
with, and a regenerated PIN, a student removed from the roster or a changed teacher password
ends every sign-in made with the old one at its next request (``still_valid``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..storage.database import Database
from .actor import Actor
from .errors import Forbidden, TutorError
from .passwords import hash_secret, new_password, verify_secret
from .people import PeopleStore
from .roster import MAX_NAME_LENGTH, TEACHER_USERNAME, RosterEntry, RosterError, add_students, load_roster, name_key
from .throttle import MAX_FAILURES, Refusal, SignInThrottle

__all__ = ["Auth", "MAX_FAILURES", "SignInResult"]

MIN_PASSWORD_LENGTH = 8
MAX_SECRET_LENGTH = 200
LOCAL_ADDRESS = "local"  # callers that have no client address (the command line, tests)
WRONG = ("That name and PIN do not match. Type your name as your teacher wrote it, and your 6-digit PIN "
         "(teacher: type teacher and your password).")


@dataclass(frozen=True)
class SignInResult:
    """``actor`` when the secret was right; otherwise ``refusal`` for the person, and
    ``retry_after_s`` when the try was not even checked (too many tries)."""

    actor: Actor | None = None
    credential: str | None = None  # the hash the sign-in was made with (``still_valid``)
    refusal: str | None = None
    retry_after_s: int = 0


class Auth:
    def __init__(self, db: Database, roster_file: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.people = PeopleStore(db)
        self.roster_file = Path(roster_file)
        self._clock = clock
        self._lock = threading.Lock()
        self._roster: dict[str, RosterEntry] = {}
        self._roster_stamp: tuple[int, int, int] | None = None
        self.throttle = SignInThrottle(clock=clock)
        self.roster_problem: str | None = None  # shown to the teacher when the file is broken

    # students ------------------------------------------------------------------------
    def roster(self) -> list[str]:
        """The names students sign in with, as the roster spells them."""
        return [e.name for e in self._current_roster().values()]

    def add_students(self, names: list[str]) -> dict[str, str]:
        """Give each named student a new PIN (adding those not on the roster yet): name -> PIN, to
        be shown once. Only the PINs' hashes are written; all names are checked first."""
        return add_students(self.roster_file, names)

    def _current_roster(self) -> dict[str, RosterEntry]:
        try:
            stat = self.roster_file.stat()
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)  # a rewrite is a new inode
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._roster_stamp:
                try:
                    entries = load_roster(self.roster_file)
                    self._roster = {name_key(e.name): e for e in entries}
                    self.roster_problem = None
                except RosterError as exc:
                    # Keep the last good roster: a typo while editing must not lock the class out.
                    self.roster_problem = str(exc)
                self._roster_stamp = stamp
            return self._roster

    # teacher -------------------------------------------------------------------------
    def has_teacher_password(self) -> bool:
        return self.people.teacher_password_hash(username=TEACHER_USERNAME) is not None

    def set_teacher_password(self, password: str, *, current: str | None = None) -> None:
        """Set the teacher's password. Once one is set, changing it needs the current one."""
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise TutorError(f"The teacher password must have at least {MIN_PASSWORD_LENGTH} characters.")
        if len(password) > MAX_SECRET_LENGTH:
            raise TutorError(f"The teacher password must have at most {MAX_SECRET_LENGTH} characters.")
        existing = self.people.teacher_password_hash(username=TEACHER_USERNAME)
        if existing is not None and not verify_secret(current or "", existing):
            raise Forbidden("The current teacher password is wrong, so the password was not changed.")
        self.people.set_teacher_password_hash(username=TEACHER_USERNAME, password_hash=hash_secret(password))

    def first_run_teacher_password(self) -> str | None:
        """On the first run with sign-in, make a teacher password and return it to be shown once;
        None when one is already set. A district's app processes may all start at once on a new
        database: under the database's lock on the name, one makes it and the others find it
        made (``Database.key_locked``), so none fails and the one shown is the one that works."""
        with self.people.db.key_locked("teacher-password"):
            if self.has_teacher_password():
                return None
            password = new_password()
            self.set_teacher_password(password)
            return password

    # sign-in -------------------------------------------------------------------------
    def authenticate(self, username: str, secret: str, *, address: str = LOCAL_ADDRESS) -> Actor | None:
        """The whole sign-in in one call (the command line and tests): ``screen`` then ``verify``."""
        return self.sign_in(username, secret, address=address).actor

    def sign_in(self, username: str, secret: str, *, address: str = LOCAL_ADDRESS) -> SignInResult:
        refused = self.screen(username, secret, address=address)
        return refused if refused is not None else self.verify(username, secret, address=address)

    def screen(self, username: object, secret: object, *, address: str = LOCAL_ADDRESS) -> SignInResult | None:
        """The cheap checks, before any hashing: the shape of what was typed, the lockouts and the
        address's rate. None when the secret should be checked (``verify``); a try is counted."""
        if not isinstance(username, str) or not isinstance(secret, str):
            return SignInResult(refusal="Type your name and your PIN.")
        if len(username) > 4 * MAX_NAME_LENGTH or len(name_key(username)) > MAX_NAME_LENGTH:
            return SignInResult(refusal=f"A name has at most {MAX_NAME_LENGTH} characters.")
        if len(secret) > MAX_SECRET_LENGTH:
            return SignInResult(refusal=f"A PIN or password has at most {MAX_SECRET_LENGTH} characters.")
        key = name_key(username)
        if not key or not secret:
            return SignInResult(refusal="Type your name and your PIN.")
        refusal: Refusal | None = self.throttle.admit(key, address)
        if refusal is not None:
            return SignInResult(refusal=refusal.message, retry_after_s=refusal.retry_after_s)
        return None

    def verify(self, username: str, secret: str, *, address: str = LOCAL_ADDRESS) -> SignInResult:
        """The slow check of a try that ``screen`` let through, and its count."""
        key = name_key(username)
        if key == TEACHER_USERNAME:
            stored = self.people.teacher_password_hash(username=TEACHER_USERNAME)
            ok = verify_secret(secret, stored)
            actor = Actor(role="teacher") if ok else None
        else:
            entry = self._current_roster().get(key)
            stored = entry.pin_hash if entry else None
            ok = verify_secret(secret.strip(), stored)
            actor = Actor(role="student", student=entry.name) if ok and entry else None
        self.throttle.record(key, address, success=actor is not None)
        if actor is None:
            return SignInResult(refusal=WRONG)
        return SignInResult(actor=actor, credential=stored)

    def credential(self, actor: Actor) -> str | None:
        """The hash that signs ``actor`` in now: the roster's PIN hash or the teacher's password
        hash; None when there is none (removed from the roster)."""
        if actor.role == "teacher":
            return self.people.teacher_password_hash(username=TEACHER_USERNAME)
        if actor.role == "student" and actor.student:
            entry = self._current_roster().get(name_key(actor.student))
            return entry.pin_hash if entry is not None else None
        return None

    def still_valid(self, actor: Actor, credential: str | None) -> bool:
        """Whether a sign-in made with ``credential`` still holds (the PIN or password is unchanged)."""
        return credential is not None and self.credential(actor) == credential
