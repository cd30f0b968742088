"""Generated practice as the teacher view and the command line offer it: worksheets (for the
class, or one version per student) and model-drafted problems.

The Worksheets page and ``python app.py worksheet`` / ``draft`` call these same methods; errors
come back as the service's plain-language ``TutorError``/``NotFound``/``Forbidden``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..curriculum.library import CurriculumLibrary
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend
from ..service.actor import Actor
from ..service.errors import Forbidden, NotFound, TutorError
from ..service.roster import RosterError, clean_name, name_key
from ..settings import Settings
from .quiz_drafts import DraftError, DraftReport, draft_problems, drafts_dir, write_drafts
from .student_sheets import build_student_sheets
from .worksheet import Worksheet, WorksheetError, build_worksheet, split_answer_key, write_worksheet

MAX_STUDENTS = 200  # one sheet per student: a year group, not a school


@dataclass(frozen=True)
class SavedWorksheet:
    sheet: Worksheet
    markdown: Path
    html: Path
    answer_key: Path
    made: int  # versions on the sheet: fewer than requested when no more distinct ones exist
    requested: int
    left_out: int  # versions whose answers failed the checks
    students: tuple[tuple[str, int], ...] = ()  # one version per student: (name, version number), in order
    rejected: tuple[tuple[int, str], ...] = ()  # (seed, why) of each version left out
    exhausted: bool = False  # fewer distinct versions exist than were asked for


class PracticeService:
    def __init__(self, *, settings: Settings, library: CurriculumLibrary, model: ModelBackend,
                 prompts: PromptLibrary | None = None) -> None:
        self.settings = settings
        self.library = library
        self.model = model
        self.prompts = prompts or PromptLibrary()

    def parametric_problems(self, unit_id: str) -> list[tuple[str, str]]:
        """(problem id, title) of the unit's problems that can make versions."""
        unit = self._unit(unit_id)
        return [(p.id, p.title or p.id) for p in unit.problems if p.params]

    def worksheet(self, actor: Actor, unit_id: str, problem_id: str, count: int, seed: int = 0) -> SavedWorksheet:
        """Build and save a worksheet (Markdown, HTML, and the answer key on its own)."""
        self._teacher(actor)
        unit = self._unit(unit_id)
        problem = self._problem(unit, problem_id)
        try:
            sheet, found = build_worksheet(unit, problem, count, seed)
        except WorksheetError as exc:
            raise TutorError(str(exc)) from None
        md, page, key = self._save(sheet, f"{unit.id}-{problem.id}-seed{seed}")
        return SavedWorksheet(sheet=sheet, markdown=md, html=page, answer_key=key, made=len(found.variants),
                              requested=count, left_out=len(found.rejected), rejected=tuple(found.rejected),
                              exhausted=found.exhausted)

    def student_worksheet(self, actor: Actor, unit_id: str, problem_id: str, students: list[str],
                          seed: int = 0) -> SavedWorksheet:
        """A page per student, each with their own version and their name on it, then the key by name."""
        self._teacher(actor)
        unit = self._unit(unit_id)
        problem = self._problem(unit, problem_id)
        names = class_list(students)
        try:
            sheet, assignment = build_student_sheets(unit, problem, names, seed)
        except WorksheetError as exc:
            raise TutorError(str(exc)) from None
        md, page, key = self._save(sheet, f"{unit.id}-{problem.id}-per-student-seed{seed}")
        return SavedWorksheet(sheet=sheet, markdown=md, html=page, answer_key=key,
                              made=len(assignment.found.variants), requested=len(names),
                              left_out=len(assignment.found.rejected),
                              students=tuple((name, v.number) for name, v in assignment.by_student.items()))

    def _save(self, sheet: Worksheet, stem: str) -> tuple[Path, Path, Path]:
        """The Markdown, the printable HTML and the answer key alone, in the data folder."""
        md, page = write_worksheet(sheet, self.settings.data_dir / "worksheets", stem)
        key = md.with_name(f"{stem}-answer-key.md")
        key.write_text(f"# {sheet.title}: answer key\n\n" + split_answer_key(sheet.markdown)[1]
                       .removeprefix("## Answer key").lstrip(), encoding="utf-8")
        return md, page, key


    def draft_quiz(self, actor: Actor, unit_id: str, count: int) -> DraftReport:
        """Have the model draft problems for the unit; the checked ones go to the drafts folder."""
        self._teacher(actor)
        unit = self._unit(unit_id)
        try:
            report = draft_problems(model=self.model, prompts=self.prompts, unit=unit, count=count,
                                    rubric_ids=set(self.library.rubrics))
            write_drafts(report, unit, drafts_dir(self.settings), model_name=self.model.info.name,
                         unit_file=self.library.files.get(unit_id))
        except DraftError as exc:
            raise TutorError(str(exc)) from None
        return report

    def _unit(self, unit_id: str):
        try:
            return self.library.get_unit(unit_id)
        except KeyError as exc:
            raise NotFound(exc.args[0] if exc.args else f"unknown unit {unit_id!r}") from None

    @staticmethod
    def _problem(unit, problem_id: str):
        problem = next((p for p in unit.problems if p.id == problem_id), None)
        if problem is None:
            parametric = ", ".join(p.id for p in unit.problems if p.params) or "none"
            raise NotFound(f"unit {unit.id!r} has no problem {problem_id!r} (its parametric problems: {parametric})")
        return problem

    @staticmethod
    def _teacher(actor: Actor) -> None:
        if not actor.is_teacher:
            raise Forbidden("only a teacher may make worksheets and drafts")


def class_list(names: list[str]) -> list[str]:
    """The students to make sheets for, cleaned like roster names; a name given twice gets one page."""
    seen: set[str] = set()
    cleaned = []
    for name in names:
        try:
            name = clean_name(name)
        except RosterError as exc:
            raise TutorError(f"Student name: {exc}.") from None
        if name_key(name) not in seen:
            seen.add(name_key(name))
            cleaned.append(name)
    if not cleaned:
        raise TutorError("Name at least one student: type the names, or add students to the roster "
                         "(python app.py --generate-roster NAME...).")
    if len(cleaned) > MAX_STUDENTS:
        raise TutorError(f"That is {len(cleaned)} students; make sheets for at most {MAX_STUDENTS} at a time.")
    return cleaned
