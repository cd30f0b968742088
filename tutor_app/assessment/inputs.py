"""Read a class set of submissions: a CSV with a student and a text column, or a folder of
``.txt`` files, one per student (the student is the file name without ``.txt``).

Teachers export CSVs from many tools, so the columns are found by their usual names
("Student name", "Response", "essay"...), case and spacing aside. Whatever cannot be read is
reported with the file and line; nothing is guessed silently.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

STUDENT_HEADERS = ("student", "student name", "name", "full name", "learner", "pupil", "author", "student id", "id")
TEXT_HEADERS = ("text", "submission", "response", "answer", "essay", "content", "body", "work", "writing", "paragraph")
MAX_FIELD_CHARS = 5_000_000


class InputProblem(ValueError):
    """The submissions cannot be read; the message names the file (and line) and what to fix."""


@dataclass(frozen=True)
class SubmissionInput:
    student: str
    text: str
    source_file: str
    source_row: int | None = None  # the CSV line, for the teacher to find it again

    @property
    def source(self) -> str:
        return self.source_file + (f":{self.source_row}" if self.source_row else "")


def _header(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def find_columns(headers: list[str], path: Path) -> tuple[str, str]:
    """(student column, text column) among ``headers``, by the first known name that matches."""
    normal = {_header(h): h for h in headers if h is not None}
    student = next((normal[name] for name in STUDENT_HEADERS if name in normal), None)
    text = next((normal[name] for name in TEXT_HEADERS if name in normal), None)
    if student is None or text is None:
        missing = " and ".join(what for what, col in (("a student column", student), ("a text column", text))
                               if col is None)
        raise InputProblem(f"{path}: cannot find {missing} in the header ({', '.join(map(str, headers)) or 'empty'}); "
                           f"name them e.g. 'student' and 'text'")
    return student, text


def delimiter_of(first_line: str) -> str:
    """Spreadsheets in many locales save ``;``-separated "CSV"; the header line tells which."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path) -> list[SubmissionInput]:
    csv.field_size_limit(min(sys.maxsize, MAX_FIELD_CHARS))
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            delimiter = delimiter_of(handle.readline())
            handle.seek(0)
            reader = csv.DictReader(handle, delimiter=delimiter)
            if not reader.fieldnames:
                raise InputProblem(f"{path}: the CSV is empty (expected a header such as 'student,text' and one row "
                                   "per submission)")
            student_col, text_col = find_columns(list(reader.fieldnames), path)
            rows = []
            start = reader.line_num + 1  # where the next row starts (a quoted text may span lines)
            for row in reader:
                line, start = start, reader.line_num + 1
                student = (row.get(student_col) or "").strip()
                text = row.get(text_col) or ""
                if not student and not text.strip():
                    continue  # a blank line at the end of a spreadsheet export
                if not student:
                    raise InputProblem(f"{path}:{line}: the row has a text but no student name")
                rows.append(SubmissionInput(student=student, text=text, source_file=str(path), source_row=line))
    except UnicodeDecodeError as exc:
        raise InputProblem(f"{path}: not UTF-8 text ({exc.reason}); save the CSV as UTF-8") from None
    except csv.Error as exc:
        raise InputProblem(f"{path}: not a readable CSV: {exc}") from None
    if not rows:
        raise InputProblem(f"{path}: the CSV has a header but no submissions")
    return rows


def read_folder(path: Path) -> list[SubmissionInput]:
    files = sorted(p for p in path.glob("*.txt") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputProblem(f"{path}: no .txt files in this folder (one text file per student, named after the student)")
    rows = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputProblem(f"{file}: not UTF-8 text; save it as UTF-8") from None
        rows.append(SubmissionInput(student=file.stem, text=text, source_file=str(file)))
    return rows


def read_submissions(path: Path) -> list[SubmissionInput]:
    path = Path(path)
    if not path.exists():
        raise InputProblem(f"input not found: {path} (give a .csv file or a folder of .txt files)")
    if path.is_dir():
        return read_folder(path)
    if path.suffix.lower() in (".csv", ".tsv") or path.suffix == "":
        return read_csv(path)
    if path.suffix.lower() == ".txt":
        return [SubmissionInput(student=path.stem, text=path.read_text(encoding="utf-8-sig"), source_file=str(path))]
    raise InputProblem(f"{path}: expected a .csv file or a folder of .txt files, not a {path.suffix} file")
