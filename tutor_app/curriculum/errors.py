"""One problem found in a curriculum file, phrased for the teacher who has to fix it.

Every failure while reading the curricula folder becomes a ``CurriculumError`` instead of an
exception escaping to the app: the app keeps serving the valid units and shows these lines on
the teacher's page and in ``python app.py --check``. The line format follows compilers
(``file:line: where: what``) so editors can jump to the spot.
"""

from __future__ import annotations

from pathlib import Path


def shown_file(file: Path) -> str:
    """The file relative to the working directory when it lies below it (shorter, and what the
    teacher typed), otherwise as given."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(file)


def field_path(loc: tuple[object, ...]) -> str:
    """``("problems", 0, "steps", 1, "check")`` -> ``problems[0].steps[1].check``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class CurriculumError(Exception):
    """A problem in one file: where (file, 1-based line or None, field path) and what."""

    def __init__(self, file: Path, line: int | None, path: str, message: str) -> None:
        self.file = Path(file)
        self.line = line
        self.path = path
        self.message = message
        super().__init__(file, line, path, message)

    def __str__(self) -> str:
        where = shown_file(self.file) + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"CurriculumError({str(self.file)!r}, {self.line!r}, {self.path!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CurriculumError):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return (str(self.file), self.line, self.path, self.message)

    def sort_key(self) -> tuple:
        """Errors sort by file, then line, so a teacher reads them top to bottom."""
        return (str(self.file), self.line if self.line is not None else 0, self.path, self.message)
