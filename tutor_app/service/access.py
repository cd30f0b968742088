"""What a request may name, checked the same way for tutoring and conversation practice: the
student it acts for, the session it acts on, the unit it opens.

A signed-in student only ever acts as themselves; the teacher and the loopback-only local user
may act for any student. Every call that names a session checks that its student is one the
caller may act for, whichever page or API route it came through. A unit that is not loaded is
answered with the ones that are, so a typo in an API call explains itself.
"""

from __future__ import annotations

from typing import Callable, Mapping, Protocol, TypeVar

from .actor import Actor
from .errors import Forbidden, NotFound, TutorError
from .roster import RosterError, clean_name, name_key


class _Owned(Protocol):
    student: str


R = TypeVar("R", bound=_Owned)
U = TypeVar("U")


def acting_student(actor: Actor, student: object, *, refusal: str) -> str:
    """The student name to act for; ``refusal`` is what a student naming someone else is told."""
    if actor.role == "student":
        if not isinstance(student, str) or name_key(student) != name_key(actor.student or ""):
            raise Forbidden(refusal)
        return actor.student
    try:
        return clean_name(student if isinstance(student, str) else "")
    except RosterError as exc:
        raise TutorError(f"Student name: {exc}.") from exc


def owned_record(actor: Actor, session_id: object, find: Callable[[str], R | None], *, kind: str,
                 start_with: str) -> R:
    """The record ``find`` returns for ``session_id``, once the caller may act for its student.
    ``kind`` names it for people ("session", "conversation"); ``start_with`` is the API call
    that makes one."""
    if not isinstance(session_id, str) or not session_id.strip():
        raise TutorError(f"The {kind} id is empty. Start a {kind} first.")
    record = find(session_id.strip())
    if record is None:
        raise NotFound(f"There is no {kind} {session_id.strip()[:40]!r}. Start one with {start_with}.")
    if not actor.may_access_student(record.student):
        raise Forbidden(f"This {kind} belongs to another student.")
    return record


def named_unit(units: Mapping[str, U], curriculum_id: object, *, noun: str, empty: str) -> U:
    """The loaded unit ``curriculum_id`` names; ``noun`` says what kind ("unit", "conversation
    unit"), ``empty`` what to do when none was named."""
    curriculum_id = curriculum_id.strip() if isinstance(curriculum_id, str) else ""
    if not curriculum_id:
        raise TutorError(empty)
    unit = units.get(curriculum_id)
    if unit is None:
        known = sorted(units)
        listing = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
        raise NotFound(f"There is no {noun} {curriculum_id[:80]!r}. {noun.capitalize()}s: {listing or 'none loaded'}.")
    return unit

