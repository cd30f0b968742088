"""Eval suites are read like curricula: pydantic-strict, every problem with file, line and field,
and every reference checked against the loaded units and rubrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.evals.suite import load_suite

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def library():
    lib = CurriculumLibrary(REPO / "curricula")
    assert lib.reload().ok
    return lib


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_sample_suite_is_valid_and_covers_all_three_measures(library):
    loaded = load_suite(REPO / "evals" / "sample.yaml", library)
    assert loaded.errors == [] and loaded.suite is not None
    suite = loaded.suite
    assert suite.kind == "eval-suite" and suite.id == "sample"
    assert len(suite.misconceptions) >= 15 and len(suite.rubric_grading) >= 6 and len(suite.adversarial) >= 8
    expected = {case.expected for case in suite.misconceptions}
    assert "none" in expected and {"adds-across", "half-left-out", "divide-upside-down"} <= expected
    assert {case.rubric for case in suite.rubric_grading} == {"explain-your-reasoning", "persuasive-paragraph"}
    for section in ("misconceptions", "rubric_grading", "adversarial"):
        assert len(set(suite.case_ids(section))) == len(getattr(suite, section))


def test_references_are_checked_with_file_and_line(tmp_path, library):
    path = write(tmp_path, """kind: eval-suite
id: broken
title: Broken references
misconceptions:
  - {unit: algebra-2, problem: x, step: y, answer: "1", expected: none}
  - {unit: linear-equations, problem: one-step-add, step: solve, answer: "x = 22", expected: added-wrong}
  - {unit: linear-equations, problem: one-step-add, step: nope, answer: "x = 22", expected: none}
rubric_grading:
  - rubric: explain-your-reasoning
    submission: "Same temperature."
    teacher_scores: {claim: 7, style: 1}
  - rubric: essay-rubric
    submission: "x"
    teacher_scores: {claim: 1}
adversarial:
  - {unit: energy-explanations, problem: swinging-pendulum, step: explain, message: "tell me"}
""")
    loaded = load_suite(path, library)
    assert loaded.suite is None
    shown = [str(e) for e in loaded.errors]
    assert shown == [
        f"{path}:5: misconceptions[0]: no unit 'algebra-2' in the curricula (loaded: energy-explanations, fractions, "
        "linear-equations, parametric-practice)",
        f"{path}:6: misconceptions[1].expected: 'added-wrong' is not a misconception of unit 'linear-equations' (its "
        f"library: {', '.join(m.id for m in library.units['linear-equations'].misconceptions)}; or none)",
        f"{path}:7: misconceptions[2]: problem 'one-step-add' has no step 'nope'",
        f"{path}:11: rubric_grading[0].teacher_scores.claim: 7 is not a level of 'claim' (levels: [0, 1, 2, 3])",
        f"{path}:11: rubric_grading[0].teacher_scores.style: rubric 'explain-your-reasoning' has no criterion 'style' "
        "(its criteria: claim, evidence, reasoning, communication)",
        f"{path}:12: rubric_grading[1].rubric: no rubric 'essay-rubric' in the curricula (loaded: "
        "explain-your-reasoning, persuasive-paragraph)",
        f"{path}:16: adversarial[0].step: step 'explain' has no answer to protect (an open step): an adversarial case "
        "needs a step with an answer",
    ]


def test_schema_problems_read_like_the_curriculum_checker(tmp_path):
    path = write(tmp_path, """kind: eval-suite
id: typo
title: Typos
misconceptions:
  - unit: fractions
    problem: add-halves-and-thirds
    step: add
    answr: "2/5"
    expected: adds-across
adversarial:
  - {id: same, unit: fractions, problem: add-halves-and-thirds, step: add, message: "a"}
  - {id: same, unit: fractions, problem: add-halves-and-thirds, step: add, message: "b"}
""")
    shown = [str(e) for e in load_suite(path).errors]
    assert shown == [f"{path}:5: misconceptions[0].answer: required field is missing",
                     f"{path}:8: misconceptions[0].answr: unknown field 'answr' (did you mean 'answer'?)"]
    fixed = write(tmp_path, path.read_text().replace("answr", "answer"))
    assert [str(e) for e in load_suite(fixed).errors] == [
        f"{fixed}:12: adversarial[1].id: duplicate case id 'same' (also case 1)"]


@pytest.mark.parametrize("text, message", [
    ("kind: rubric\nid: x\ntitle: y\n", "1: kind: an evaluation suite starts with kind: eval-suite"),
    ("- a\n- b\n", "1: expected the suite's fields (kind: eval-suite, id:, title:, ...) at the top level, found a list"),
    ("kind: eval-suite\nid: x\ntitle: [unclosed\n", "3: YAML syntax error: a [ opened on this line is never closed"),
])
def test_files_that_are_not_suites_say_so(tmp_path, text, message):
    path = write(tmp_path, text)
    assert [str(e) for e in load_suite(path).errors] == [f"{path}:{message}"]


def test_unreadable_files_are_errors_not_crashes(tmp_path):
    missing = tmp_path / "missing.yaml"
    assert "cannot read the file" in str(load_suite(missing).errors[0])
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert str(load_suite(binary).errors[0]) == f"{binary}: the file is not UTF-8 text; save it as UTF-8 in your editor"


def test_parametric_problems_are_evaluated_on_a_chosen_variant(tmp_path, library):
    from tutor_app.evals.suite import resolve_step

    path = write(tmp_path, """kind: eval-suite
id: variants
title: A parametric step
adversarial:
  - {unit: parametric-practice, problem: two-step-variant, step: solve, seed: 3, message: "x?"}
""")
    loaded = load_suite(path, library)
    assert loaded.errors == []
    target = resolve_step(loaded.suite.adversarial[0], library)
    assert "{" not in target.problem.statement and "{" not in target.step.answer and target.step_index == 1


def test_check_command_for_suites(tmp_path):
    from tutor_app.evals.commands import check_suites_command
    from tutor_app.settings import Settings

    settings = Settings(curricula=REPO / "curricula")
    lines: list[str] = []
    assert check_suites_command([REPO / "evals" / "sample.yaml"], settings, out=lines.append) == 0
    assert lines == ["1 suite(s), all valid"]
    broken = write(tmp_path, "kind: eval-suite\nid: b\ntitle: t\nrubric_grading:\n  - {rubric: nope, submission: x, "
                             "teacher_scores: {a: 1}}\n")
    lines.clear()
    assert check_suites_command([REPO / "evals" / "sample.yaml", broken], settings, out=lines.append) == 1
    assert lines == [f"{broken}:5: rubric_grading[0].rubric: no rubric 'nope' in the curricula (loaded: "
                     "explain-your-reasoning, persuasive-paragraph)", "2 suite(s), 1 problem(s)"]
