"""Printable worksheets: the copies, the answer key on its own page, offline HTML, the command."""

from __future__ import annotations

import shutil

import pytest

from tutor_app.curriculum.loader import load_file
from tutor_app.practice.mathhtml import latex_to_html, text_to_html
from tutor_app.practice.worksheet import build_worksheet
from tutor_app.settings import Settings

from assessment_support import REPO
from cli_support import run_app

UNIT_FILE = REPO / "curricula" / "math" / "parametric-practice.yaml"
UNIT = load_file(UNIT_FILE).item
RECTANGLE = next(p for p in UNIT.problems if p.id == "rectangle")
TWO_STEP = next(p for p in UNIT.problems if p.id == "two-step-variant")


def test_markdown_lists_each_copy_then_the_key_on_a_new_page():
    sheet, found = build_worksheet(UNIT, RECTANGLE, 4, seed=5)
    md = sheet.markdown
    assert md.startswith("# Practice with your own numbers: Area and perimeter of a rectangle")
    body, key = md.split('<div style="page-break-before: always"></div>')
    for variant in found.variants:
        assert f"{variant.number}. {variant.problem.statement}" in body
        area, perimeter = variant.answers
        assert f"{variant.number}. a) {area.answer}; b) {perimeter.answer}" in key
        assert f"Answer: {area.answer}" not in body  # the students' pages show no answers
    assert body.count("Answer: ____") == 8 and "## Answer key" in key and "seed 5" in key


def test_html_is_self_contained_printable_and_escaped():
    sheet, found = build_worksheet(UNIT, TWO_STEP, 3, seed=2)
    page = sheet.html
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "http" not in page and "<link" not in page  # prints offline
    assert "@media print" in page and "break-before: page" in page and 'class="key"' in page
    assert page.count('<li><p>Solve for') == 3 and "$" not in page  # math turned into HTML
    first = found.variants[0]
    a, b, c = (first.values[k] for k in ("a", "b", "c"))
    assert f"{a}<i>x</i> + {b} = {c}" in page
    key = page.split('class="key"')[1]
    assert f"b) <span class=\"math\"><i>x</i> = {first.values['x']}</span>" in key


def test_math_conversion():
    assert latex_to_html(r"\frac{3}{4} \cdot x^2") == ('<span class="frac"><span class="num">3</span>'
                                                       '<span class="den">4</span></span> · <i>x</i><sup>2</sup>')
    assert text_to_html(r"Area in $\text{cm}^2$ <b>") == ('Area in <span class="math"><span class="text">cm</span>'
                                                          '<sup>2</sup></span> &lt;b&gt;')
    assert latex_to_html(r"30^\circ") == "30°"
    assert latex_to_html(r"\sqrt{2} \le \unknown") == '√<span class="radicand">2</span> ≤ unknown'
    assert latex_to_html("-2x - 3") == "−2<i>x</i> − 3"


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "curricula").mkdir()
    shutil.copy(UNIT_FILE, tmp_path / "curricula")
    return Settings(curricula=tmp_path / "curricula", data_dir=tmp_path / "data")


def worksheet_command(unit: str, problem: str, count: int, seed: int, settings: Settings) -> int:
    return run_app(settings, "worksheet", unit, problem, "--count", str(count), "--seed", str(seed))


def test_worksheet_command_writes_both_files(settings, capsys):
    assert worksheet_command("parametric-practice", "rectangle", 6, 3, settings) == 0
    md, page = capsys.readouterr().out.split()
    folder = settings.data_dir / "worksheets"
    assert md == str(folder / "parametric-practice-rectangle-seed3.md")
    assert page == str(folder / "parametric-practice-rectangle-seed3.html")
    first = (folder / "parametric-practice-rectangle-seed3.md").read_text()
    assert worksheet_command("parametric-practice", "rectangle", 6, 3, settings) == 0
    assert (folder / "parametric-practice-rectangle-seed3.md").read_text() == first  # same seed, same sheet


@pytest.mark.parametrize("unit, problem, count, message", [
    ("nope", "rectangle", 3, "no curriculum unit 'nope'"),
    ("parametric-practice", "nope", 3, "has no problem 'nope' (its parametric problems: two-step-variant, "
                                       "one-step-fraction-answer, rectangle, discount)"),
    ("parametric-practice", "rectangle", 0, "between 1 and 500"),
])
def test_worksheet_command_explains_mistakes(settings, capsys, unit, problem, count, message):
    assert worksheet_command(unit, problem, count, 0, settings) == 1
    assert message in capsys.readouterr().err


def test_worksheet_command_says_when_fewer_versions_exist(settings, capsys):
    assert worksheet_command("parametric-practice", "discount", 30, 0, settings) == 0
    assert "only 12 distinct versions of 'discount' exist" in capsys.readouterr().err
