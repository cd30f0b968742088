"""Sign-in: turns a typed name and secret into an ``Actor``, or refuses.

The name ``teacher`` signs in with the teacher's password (hashed in the database, set on
first run); any other name must be on the roster (``roster.py``) with its PIN. The roster
file is re-read when the teacher changes it, so a new student can sign in without a restart.
A 6-digit PIN is guessable by brute force, so repeated failures on a name lock it briefly.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from ..storage.database import Database
from .actor import Actor
from .errors import Forbidden, TutorError
from .passwords import hash_secret, new_password, verify_secret
from .people import PeopleStore
from .roster import TEACHER_USERNAME, RosterEntry, RosterError, add_students, load_roster, name_key

MIN_PASSWORD_LENGTH = 8
MAX_SECRET_LENGTH = 200
MAX_FAILURES = 5
LOCKOUT_S = 60.0


class Auth:
    def __init__(self, db: Database, roster_file: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.people = PeopleStore(db)
        self.roster_file = Path(roster_file)
        self._clock = clock
        self._lock = threading.Lock()
        self._roster: dict[str, RosterEntry] = {}
        self._roster_stamp: tuple[float, int] | None = None
        self._failures: dict[str, tuple[int, float]] = {}  # name key -> (count, locked until)
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
            stamp = (stat.st_mtime, stat.st_size)
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
        None when one is already set."""
        if self.has_teacher_password():
            return None
        password = new_password()
        self.set_teacher_password(password)
        return password

    # sign-in -------------------------------------------------------------------------
    def authenticate(self, username: str, secret: str) -> Actor | None:
        if not isinstance(username, str) or not isinstance(secret, str) or len(secret) > MAX_SECRET_LENGTH:
            return None
        key = name_key(username)
        if not key or self._locked(key):
            return None
        if key == TEACHER_USERNAME:
            ok = verify_secret(secret, self.people.teacher_password_hash(username=TEACHER_USERNAME))
            actor = Actor(role="teacher") if ok else None
        else:
            entry = self._current_roster().get(key)
            ok = verify_secret(secret.strip(), entry.pin_hash if entry else None)
            actor = Actor(role="student", student=entry.name) if ok and entry else None
        self._count(key, success=actor is not None)
        return actor

    def _locked(self, key: str) -> bool:
        with self._lock:
            count, until = self._failures.get(key, (0, 0.0))
            return count >= MAX_FAILURES and self._clock() < until

    def _count(self, key: str, *, success: bool) -> None:
        with self._lock:
            if success:
                self._failures.pop(key, None)
                return
            count, _ = self._failures.get(key, (0, 0.0))
            count = 0 if count >= MAX_FAILURES else count  # a lockout that ran out starts a new round
            self._failures[key] = (count + 1, self._clock() + LOCKOUT_S)
