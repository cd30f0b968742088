"""The class roster: who may sign in as a student, with a hashed PIN each.

It is a YAML file next to the curricula folder (``roster.yaml`` beside ``curricula/``, not
inside it, where the curriculum loader would take it for a unit) so the teacher keeps it with
the class's other files and can read, remove or rename entries by hand. PINs are never
written down: ``python app.py roster NAME...`` prints each new PIN once and stores
only its scrypt hash. Running it again for a name gives that student a new PIN.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..settings import Settings
from .passwords import hash_secret, new_pin

TEACHER_USERNAME = "teacher"
MAX_NAME_LENGTH = 80
HEADER = """\
# Students who may sign in to tutor_app. PINs are stored as salted scrypt hashes only.
# Add students (each new PIN is printed once):  python app.py --generate-roster "Ada L." "Alan T."
# Running that again for a name gives the student a new PIN. Delete an entry to remove a student.
"""


class RosterError(ValueError):
    """The roster file or a name given for it is wrong; the message says which and where."""


@dataclass(frozen=True)
class RosterEntry:
    name: str
    pin_hash: str


def roster_path(settings: Settings) -> Path:
    return Path(settings.curricula).resolve().parent / "roster.yaml"


def name_key(name: str) -> str:
    """Names match whatever the case and spacing a student types at sign-in."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def clean_name(name: str) -> str:
    cleaned = " ".join(unicodedata.normalize("NFKC", str(name)).split())
    if not cleaned:
        raise RosterError("a student name is empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise RosterError(f"student name {cleaned[:20]!r}... is longer than {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise RosterError(f"student name {cleaned!r} contains control characters")
    if name_key(cleaned) == TEACHER_USERNAME:
        raise RosterError(f"{cleaned!r} is reserved for the teacher's sign-in; choose another student name")
    return cleaned


def load_roster(path: Path) -> list[RosterEntry]:
    """The roster's entries; an absent file is an empty roster."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise RosterError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from exc
    students = data.get("students", []) if isinstance(data, dict) else None
    if not isinstance(students, list):
        raise RosterError(f"{path}: expected 'students:' followed by a list of entries with 'name' and 'pin_hash'")
    entries: list[RosterEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(students):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(
                item.get("pin_hash"), str):
            raise RosterError(f"{path}: students[{i}]: needs 'name' and 'pin_hash' (run --generate-roster NAME "
                              "to add a student)")
        try:
            name = clean_name(item["name"])
        except RosterError as exc:
            raise RosterError(f"{path}: students[{i}].name: {exc}") from exc
        if name_key(name) in seen:
            raise RosterError(f"{path}: students[{i}].name: {name!r} is listed twice")
        seen.add(name_key(name))
        entries.append(RosterEntry(name=name, pin_hash=item["pin_hash"]))
    return entries


def save_roster(path: Path, entries: list[RosterEntry]) -> None:
    """Write atomically (a crash mid-write must not lose the class) and readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump({"students": [{"name": e.name, "pin_hash": e.pin_hash} for e in entries]},
                          allow_unicode=True, sort_keys=False)
    fd, tmp = tempfile.mkstemp(prefix=".roster-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(HEADER + body)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_students(path: Path, names: list[str]) -> dict[str, str]:
    """Give each named student a new PIN (adding the ones not on the roster); returns name -> PIN.
    All names are checked before anything is written."""
    cleaned = [clean_name(n) for n in names]
    keys = [name_key(n) for n in cleaned]
    duplicates = sorted({n for n, k in zip(cleaned, keys) if keys.count(k) > 1})
    if duplicates:
        raise RosterError(f"named more than once: {', '.join(duplicates)}")
    entries = load_roster(path)
    index = {name_key(e.name): i for i, e in enumerate(entries)}
    pins: dict[str, str] = {}
    for name, key in zip(cleaned, keys):
        pin = new_pin()
        if key in index:
            existing = entries[index[key]]
            entries[index[key]] = RosterEntry(existing.name, hash_secret(pin))
            pins[existing.name] = pin
        else:
            entries.append(RosterEntry(name, hash_secret(pin)))
            index[key] = len(entries) - 1
            pins[name] = pin
    save_roster(path, entries)
    return pins
