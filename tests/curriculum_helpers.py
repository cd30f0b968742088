"""A small valid unit and helpers for the curriculum tests: each test breaks one thing in it and
checks that the error names the file, the line where the broken text is, and the field path."""

from __future__ import annotations

from pathlib import Path

from tutor_app.curriculum.errors import CurriculumError, shown_file
from tutor_app.curriculum.library import CurriculumLibrary

UNIT = """\
id: algebra
title: Algebra
subject: math
skills:
  - id: solving
    name: Solving equations
misconceptions:
  - id: added-instead
    description: Adds instead of subtracting
problems:
  - id: two-step
    statement: 'Solve $\\frac{1}{2} \\cdot 4x + 3 = 11$'
    steps:
      - id: isolate
        prompt: Subtract 3 from both sides.
        answer: 2x = 8
        check: equation
        skills: [solving]
        hints:
          - Which operation undoes + 3?
          - {scaffold: 'What is 11 - 3?', answer: "8", check: numeric}
          - 2x = 8
        misconceptions:
          - id: added-instead
            answers: [2x = 14]
            feedback: You added 3 instead of subtracting it.
      - id: solve
        prompt: Now find x.
        answer: x = 4
        check: equation
        skills: [solving]
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in text"
    return hits[occurrence - 1]


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(folder: Path) -> CurriculumLibrary:
    library = CurriculumLibrary(folder)
    library.reload()
    return library


def broken(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} not in the unit"
    return text.replace(old, new, 1)


def assert_error(errors: list[CurriculumError], file: Path, line: int | None, path: str, words: str) -> CurriculumError:
    """One error at exactly this file, line and field path whose message contains ``words``;
    its text has the compiler form ``file:line: path: message``."""
    matching = [e for e in errors if e.file == file and e.path == path and words in e.message]
    assert matching, f"no error at {path!r} containing {words!r}; got:\n" + "\n".join(map(str, errors))
    error = matching[0]
    assert error.line == line, f"{error} (expected line {line})"
    where = shown_file(file) + (f":{line}" if line is not None else "")
    assert str(error) == (f"{where}: {path}: {error.message}" if path else f"{where}: {error.message}")
    return error
