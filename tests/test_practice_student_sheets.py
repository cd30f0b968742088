"""One version per student: a page each with the student's name and their own numbers, the key
by name, the same sheets for the same names and seed, and the teacher-only service that saves them."""

from __future__ import annotations

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.curriculum.loader import load_file
from tutor_app.practice.service import MAX_STUDENTS, PracticeService
from tutor_app.practice.student_sheets import STUDENT_BREAK, build_student_sheets
from tutor_app.practice.worksheet import PAGE_BREAK, WorksheetError, split_answer_key
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.service.errors import Forbidden, NotFound, TutorError
from tutor_app.settings import Settings

from assessment_support import REPO

UNIT_FILE = REPO / "curricula" / "math" / "parametric-practice.yaml"
UNIT = load_file(UNIT_FILE).item
PROBLEMS = {p.id: p for p in UNIT.problems}
CLASS = ["Ana", "Ben", "Cy", "Dee"]
TEACHER = Actor(role="teacher")


def pages(markdown: str) -> list[str]:
    students, _ = split_answer_key(markdown)
    return students.split(STUDENT_BREAK)


def test_each_student_gets_a_page_with_their_name_and_their_own_version():
    sheet, assignment = build_student_sheets(UNIT, PROBLEMS["rectangle"], CLASS, seed=3)
    assert list(assignment.by_student) == CLASS and not assignment.shared
    assert len({v.number for v in assignment.by_student.values()}) == 4  # four different versions
    for page, (student, variant) in zip(pages(sheet.markdown), assignment.by_student.items(), strict=True):
        assert f"### {student} · version {variant.number}" in page
        assert variant.problem.statement in page
        assert page.count("Answer: ____") == 2 and f"Answer: {variant.answers[0].answer}" not in page
    _, key = split_answer_key(sheet.markdown)
    for student, variant in assignment.by_student.items():
        area, perimeter = variant.answers
        assert f"- **{student}** (version {variant.number}): a) {area.answer}; b) {perimeter.answer}" in key
    assert "4 students, 4 versions · seed 3" in key


def test_the_same_names_and_seed_give_the_same_sheets():
    first, _ = build_student_sheets(UNIT, PROBLEMS["rectangle"], CLASS, seed=3)
    again, _ = build_student_sheets(UNIT, PROBLEMS["rectangle"], CLASS, seed=3)
    other, _ = build_student_sheets(UNIT, PROBLEMS["rectangle"], CLASS, seed=4)
    assert (first.markdown, first.html) == (again.markdown, again.html)
    assert other.markdown != first.markdown


def test_a_class_larger_than_the_versions_shares_them_and_the_key_says_which():
    students = [f"Student {n}" for n in range(1, 15)]
    _, assignment = build_student_sheets(UNIT, PROBLEMS["discount"], students, seed=0)
    assert assignment.shared and len(assignment.found.variants) == 12  # 4 prices x 3 percentages
    assert assignment.by_student["Student 13"] == assignment.by_student["Student 1"]


def test_the_printable_page_has_a_page_per_student_then_the_key_and_works_offline():
    sheet, assignment = build_student_sheets(UNIT, PROBLEMS["two-step-variant"], ["Zoë <b>& Co</b>", "Ben"], seed=1)
    page = sheet.html
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert page.count('<section class="student-page">') == 2 and "break-before: page" in page
    assert "Name: <b>Zoë &lt;b&gt;&amp; Co&lt;/b&gt;</b>" in page  # a name is text, never markup
    students, key = page.split('<section class="key">')
    zoe = assignment.by_student["Zoë <b>& Co</b>"]
    assert f"<td>Zoë &lt;b&gt;&amp; Co&lt;/b&gt;</td><td>{zoe.number}</td>" in key
    assert f"<i>x</i> = {zoe.values['x']}" in key and f"<i>x</i> = {zoe.values['x']}" not in students
    assert sheet.markdown.count(PAGE_BREAK) == 1  # the key starts after the last student's page


def test_no_students_or_a_problem_without_params_are_refused():
    with pytest.raises(WorksheetError, match="at least one student"):
        build_student_sheets(UNIT, PROBLEMS["rectangle"], [], seed=0)
    plain = next(p for p in load_file(REPO / "curricula" / "math" / "linear-equations.yaml").item.problems)
    with pytest.raises(WorksheetError, match="no params"):
        build_student_sheets(UNIT, plain, CLASS, seed=0)


@pytest.fixture
def practice(tmp_path):
    curricula = tmp_path / "curricula"
    curricula.mkdir()
    (curricula / UNIT_FILE.name).write_text(UNIT_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    library = CurriculumLibrary(curricula)
    library.reload()
    settings = Settings(curricula=curricula, data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                        db_url="sqlite://", backend="fake")
    return PracticeService(settings=settings, library=library, model=ScriptedBackend())


def test_the_service_saves_the_sheets_and_the_key_and_cleans_the_names(practice):
    saved = practice.student_worksheet(TEACHER, "parametric-practice", "rectangle",
                                       ["  Ana ", "ben", "Ana", "Cy\u00a0Lee"], seed=2)
    assert [name for name, _ in saved.students] == ["Ana", "ben", "Cy Lee"]  # Ana once; spaces tidied
    assert len({number for _, number in saved.students}) == 3 and saved.made == 3 and saved.requested == 3
    assert saved.html.name == "parametric-practice-rectangle-per-student-seed2.html"
    assert saved.html.read_text(encoding="utf-8") == saved.sheet.html
    key = saved.answer_key.read_text(encoding="utf-8")
    assert key.startswith("# Practice with your own numbers: Area and perimeter of a rectangle: one version per "
                          "student: answer key") and "- **Cy Lee** (version" in key
    assert "### Ana" not in key


@pytest.mark.parametrize("call, error, message", [
    (lambda p: p.student_worksheet(Actor(role="student", student="Ana"), "parametric-practice", "rectangle",
                                   ["Ana"]), Forbidden, "only a teacher"),
    (lambda p: p.student_worksheet(TEACHER, "parametric-practice", "rectangle", ["  "]), TutorError,
     "Student name: a student name is empty"),
    (lambda p: p.student_worksheet(TEACHER, "parametric-practice", "rectangle", []), TutorError,
     "Name at least one student"),
    (lambda p: p.student_worksheet(TEACHER, "parametric-practice", "rectangle",
                                   [f"S{n}" for n in range(MAX_STUDENTS + 1)]), TutorError, "at most"),
    (lambda p: p.student_worksheet(TEACHER, "parametric-practice", "nope", ["Ana"]), NotFound, "no problem"),
])
def test_mistakes_are_plain_messages(practice, call, error, message):
    with pytest.raises(error, match=message):
        call(practice)
