"""``python app.py check``: validate the curricula folder the way the app would load it.

Teachers (and CI) run this after editing: one line per problem, in ``file:line: field: what``
form so an editor can jump there, then a summary line; exit 0 only when every file is valid.
"""

from __future__ import annotations

from pathlib import Path

from .errors import shown_file
from .library import CurriculumLibrary


def run_check(curricula_dir: Path) -> int:
    library = CurriculumLibrary(Path(curricula_dir))
    report = library.reload()
    for error in report.errors:
        print(error)
    if report.files == 0 and not report.errors:
        print(f"{shown_file(Path(curricula_dir))}: no curriculum files (*.yaml, *.yml) found")
        return 1
    print(report.summary())
    return 0 if report.ok else 1
