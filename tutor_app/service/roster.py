"""The class roster: who may sign in as a student, with a hashed PIN each.

It is a YAML file in the data folder (``data/roster.yaml``, owner-only like the database), so
the teacher can read, remove or rename entries by hand, and it is never in the project folder,
where git would commit the class list. Earlier versions kept it beside ``curricula/``;
``move_legacy_roster`` moves such a file once, on start. PINs are never written down:
``python app.py roster NAME...`` prints each new PIN once and stores only its scrypt hash.
Running it again for a name gives that student a new PIN.

Names are matched as people type them: without capitals, accents or extra spaces ("zoe  muller"
signs in as Zoë Müller). So two roster names that differ only in those ways could not be told
apart at sign-in, and the roster refuses the second one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..settings import Settings
from ..storage.private import private_file
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
    return Path(settings.data_dir).resolve() / "roster.yaml"


def legacy_roster_path(settings: Settings) -> Path:
    """Where versions before the data folder kept it: beside ``curricula/``, in the project folder."""
    return Path(settings.curricula).resolve().parent / "roster.yaml"


def move_legacy_roster(settings: Settings) -> str | None:
    """Move a roster from its old place into the data folder (once: afterwards the old file is
    gone). Returns a note for the start-up output, or None when there was nothing to do."""
    old, new = legacy_roster_path(settings), roster_path(settings)
    if not old.is_file() or old == new:
        return None
    if new.exists():
        return f"Note: {old} is an old copy of the roster and is not used (the roster is {new}); delete it."
    new.parent.mkdir(parents=True, exist_ok=True)
    private_file(new)
    shutil.copyfile(old, new)
    old.unlink()
    return (f"Moved the roster from {old} to {new}: the data folder is private to this account, "
            "and the project folder could be committed to git or shared.")


def name_key(name: str) -> str:
    """How a typed name is matched: without case, accents or extra spacing ("zoe muller" is
    Zoë Müller). Letters that are not an accented form of another (ø, ł) stay as they are."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFKC", bare).split()).casefold()


def spelling_key(name: str) -> str:
    """The same name as written, case and spacing aside: "ada" is Ada, "Zoe" is not Zoë."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _refuse_lookalike(name: str, other: str) -> None:
    problem = _same_key_problem(name, other)
    if problem:
        raise RosterError(problem)


def _same_key_problem(name: str, other: str) -> str | None:
    """Why ``name`` cannot join a roster that has ``other`` with the same key, or None when the
    two are one name (the same student)."""
    if spelling_key(name) == spelling_key(other):
        return None
    return (f"{name!r} cannot be told apart from {other!r} at sign-in (names match without capitals and "
            f"accents); to give {other!r} a new PIN type it as the roster spells it, and to add another "
            "student add something that tells the two apart, such as an initial")


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
    seen: dict[str, str] = {}  # key -> the name listed with it
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
            other = seen[name_key(name)]
            problem = _same_key_problem(name, other) or f"{name!r} is listed twice"
            raise RosterError(f"{path}: students[{i}].name: {problem}")
        seen[name_key(name)] = name
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
    first: dict[str, str] = {}
    for name, key in zip(cleaned, keys):
        _refuse_lookalike(name, first.setdefault(key, name))
    duplicates = sorted({n for n, k in zip(cleaned, keys) if keys.count(k) > 1})
    if duplicates:
        raise RosterError(f"named more than once: {', '.join(duplicates)}")
    entries = load_roster(path)
    index = {name_key(e.name): i for i, e in enumerate(entries)}
    for name, key in zip(cleaned, keys):
        if key in index:
            _refuse_lookalike(name, entries[index[key]].name)
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
