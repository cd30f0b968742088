"""Batch grading: reading class sets, resuming after an interruption, exports, the command."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tutor_app.assessment.batch import BatchGrader
from tutor_app.assessment.export import write_results
from tutor_app.assessment.grader import Grader
from tutor_app.assessment.inputs import InputProblem, read_submissions
from tutor_app.assessment.store import AssessmentStore
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime import loading
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelError
from tutor_app.settings import Settings
from tutor_app.storage.database import Database

from assessment_support import (CALLS_PER_SUBMISSION, CLASS, SAMPLES, ParallelModel, enqueue_grading, inputs, json_calls,
                                sample_rubric, small_rubric)
from cli_support import run_app


@pytest.fixture
def astore():
    db = Database("sqlite://")
    yield AssessmentStore(db)
    db.close()


# reading inputs ----------------------------------------------------------------------------
def test_csv_columns_are_found_by_their_usual_names(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('\ufeffStudent Name;Response\nAna;"Line one,\nline two"\nBen;Short\n;\n', encoding="utf-8")
    rows = read_submissions(path)
    assert [(r.student, r.text, r.source_row) for r in rows] == [("Ana", "Line one,\nline two", 2), ("Ben", "Short", 4)]


@pytest.mark.parametrize("content, message", [
    ("", "the CSV is empty"),
    ("student,text\n", "header but no submissions"),
    ("name,grade\nAna,3\n", "cannot find a text column in the header (name, grade)"),
    ("essay\nhello\n", "cannot find a student column"),
    ("student,text\n,some text\n", "class.csv:2: the row has a text but no student name"),
])
def test_unusable_csvs_are_explained(tmp_path, content, message):
    path = tmp_path / "class.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_submissions(path)


def test_a_folder_gives_one_submission_per_text_file(tmp_path):
    shutil.copytree(SAMPLES / "submissions", tmp_path / "class")
    rows = read_submissions(tmp_path / "class")
    assert len(rows) == 10 and rows[0].student == "Amara" and rows[0].text.startswith("No, the metal spoon")
    with pytest.raises(InputProblem, match="no .txt files"):
        read_submissions(tmp_path)
    with pytest.raises(InputProblem, match="input not found"):
        read_submissions(tmp_path / "missing.csv")


def test_the_sample_csv_and_folder_hold_the_same_class():
    from_csv = {r.student: r.text.strip() for r in read_submissions(SAMPLES / "submissions.csv")}
    from_folder = {r.student: r.text.strip() for r in read_submissions(SAMPLES / "submissions")}
    assert from_csv == from_folder and len(from_csv) == 10


# resuming ---------------------------------------------------------------------------------
def test_a_second_run_skips_what_is_already_graded(astore, scripted_model):
    grader = Grader(scripted_model, PromptLibrary())
    enqueue_grading(scripted_model, 3 * CALLS_PER_SUBMISSION)
    first = BatchGrader(astore, grader).run(small_rubric(), CLASS, source="class.csv")
    assert [i.status for i in first.items] == ["graded"] * 3
    assert len(json_calls(scripted_model)) == 9

    second = BatchGrader(astore, grader).run(small_rubric(), CLASS, source="class.csv")
    assert [i.status for i in second.items] == ["already graded"] * 3
    assert len(json_calls(scripted_model)) == 9  # not one more model call
    assert [i.row.total for i in second.items] == [8, 8, 8]  # the stored grades are exported again


def test_an_interrupted_run_resumes_where_it_failed(astore, scripted_model):
    grader = Grader(scripted_model, PromptLibrary())
    enqueue_grading(scripted_model, CALLS_PER_SUBMISSION)  # only Ana's grade is scripted: Ben's call fails

    def crash(_m, _s):
        raise ModelError("the model stopped")

    scripted_model.enqueue_json(crash)
    enqueue_grading(scripted_model, CALLS_PER_SUBMISSION)  # Cy
    first = BatchGrader(astore, grader).run(small_rubric(), CLASS, source="class.csv")
    assert [i.status for i in first.items] == ["graded", "failed", "graded"]
    assert "the model stopped" in first.items[1].error
    before = len(json_calls(scripted_model))

    enqueue_grading(scripted_model, CALLS_PER_SUBMISSION)
    second = BatchGrader(astore, grader).run(small_rubric(), CLASS, source="class.csv")
    assert [i.status for i in second.items] == ["already graded", "graded", "already graded"]
    assert len(json_calls(scripted_model)) - before == CALLS_PER_SUBMISSION  # only Ben was graded


def test_an_edited_text_or_rubric_is_graded_again(astore, scripted_model):
    grader = Grader(scripted_model, PromptLibrary())
    enqueue_grading(scripted_model, 3 * CALLS_PER_SUBMISSION)
    BatchGrader(astore, grader).run(small_rubric(), CLASS, source="class.csv")

    edited = inputs(("Ana", "The tilt of the axis.\r\n"), ("Ben", "Tilt, not distance."), ("Cy", "Axis tilt."))
    enqueue_grading(scripted_model, CALLS_PER_SUBMISSION)
    report = BatchGrader(astore, grader).run(small_rubric(), edited, source="class.csv")
    # Line endings and trailing space are not an edit; Ben's new text is.
    assert [i.status for i in report.items] == ["already graded", "graded", "already graded"]

    changed = small_rubric().model_copy(update={"task": "Explain the seasons."})
    enqueue_grading(scripted_model, 3 * CALLS_PER_SUBMISSION)
    report = BatchGrader(astore, grader).run(changed, edited, source="class.csv")
    assert [i.status for i in report.items] == ["graded"] * 3


def test_no_model_stops_the_batch_instead_of_failing_each(astore):
    from tutor_app.runtime.unavailable import UnavailableBackend

    grader = Grader(UnavailableBackend("no GGUF file in models/"), PromptLibrary())
    report = BatchGrader(astore, grader).run(small_rubric(), CLASS + inputs(("Dee", "  ")), source="x")
    assert [i.status for i in report.items] == ["not graded", "not graded", "not graded", "empty"]
    assert "no GGUF file" in report.stopped


# exports ----------------------------------------------------------------------------------
def test_csv_and_json_exports(astore, scripted_model, tmp_path):
    grader = Grader(scripted_model, PromptLibrary())
    enqueue_grading(scripted_model, 3 * CALLS_PER_SUBMISSION, lambda name, _t, allowed: min(allowed))
    danger = inputs(("Ana", "=HYPERLINK(\"http://x\")"), ("Ben", "Tilt."), ("Cy", "Axis."))
    report = BatchGrader(astore, grader).run(small_rubric(), danger + inputs(("Dee", "")), source="class.csv")

    out = write_results(small_rubric(), report.items, tmp_path / "results.csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["student"] for r in rows] == ["Ana", "Ben", "Cy", "Dee"]
    assert rows[1]["status"] == "graded" and rows[1]["total"] == "0" and rows[1]["max_total"] == "8"
    assert rows[1]["accuracy"] == "0" and rows[1]["accuracy_by"] == "model"
    assert rows[1]["accuracy_comment"] == 'The student writes "Tilt.".'
    assert rows[3]["status"] == "empty" and rows[3]["total"] == ""

    out = write_results(small_rubric(), report.items, tmp_path / "results.json")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["rubric_id"] == "short-answer"
    first = data["submissions"][0]
    assert first["criteria"][0] == {"id": "accuracy", "score": 0, "by": "model",
                                    "comment": 'The student writes "=HYPERLINK("http://x")".',
                                    "next_step": "Improve your accuracy.", "model_score": 0,
                                    "model_comment": 'The student writes "=HYPERLINK("http://x")".',
                                    "quote_verified": True, "teacher_score": None, "teacher_comment": None}
    assert not list(tmp_path.glob("*.partial"))


def test_spreadsheet_formulas_in_exports_are_defused(astore, scripted_model, tmp_path):
    from tutor_app.assessment.export import _cell

    assert _cell("=1+1") == "'=1+1" and _cell("@SUM(A1)") == "'@SUM(A1)" and _cell("-2+3") == "'-2+3"
    assert _cell("- a list item") == "- a list item" and _cell("plain") == "plain" and _cell(3) == 3


# the command ------------------------------------------------------------------------------
@pytest.fixture
def cli_settings(tmp_path):
    curricula = tmp_path / "curricula" / "rubrics"
    curricula.mkdir(parents=True)
    shutil.copy(SAMPLES.parent / "curricula" / "rubrics" / "explain-your-reasoning.yaml", curricula)
    return Settings(curricula=tmp_path / "curricula", data_dir=tmp_path / "data",
                    db_url=f"sqlite:///{tmp_path / 'data' / 'grades.sqlite3'}")


def grade_command(rubric: str, input: Path, out: Path | None, settings: Settings) -> int:
    return run_app(settings, "grade", rubric, str(input), *(["--out", str(out)] if out else []))


def test_grade_command_grades_resumes_and_exports(cli_settings, tmp_path, monkeypatch, capsys):
    model = ScriptedBackend()
    monkeypatch.setattr(loading, "load_backend", lambda settings, **_: model)
    calls_per = len(sample_rubric().criteria) + 1
    enqueue_grading(model, 10 * calls_per)
    out = tmp_path / "results.csv"
    assert grade_command("explain-your-reasoning", SAMPLES / "submissions.csv", out, cli_settings) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "10 graded, 0 already graded (skipped)" in captured.err
    with out.open(encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == 10

    model.calls.clear()  # a rerun (after an interruption, say) asks the model nothing
    assert grade_command("explain-your-reasoning", SAMPLES / "submissions.csv", None, cli_settings) == 0
    assert model.calls == []
    assert "0 graded, 10 already graded" in capsys.readouterr().err
    assert (cli_settings.data_dir / "grades" / "explain-your-reasoning-submissions.csv").is_file()


def test_grade_command_takes_a_rubric_file(cli_settings, tmp_path, monkeypatch, capsys):
    model = ScriptedBackend()
    monkeypatch.setattr(loading, "load_backend", lambda settings, **_: model)
    enqueue_grading(model, len(sample_rubric().criteria) + 1)
    (tmp_path / "one").mkdir()
    shutil.copy(SAMPLES / "submissions" / "Dev.txt", tmp_path / "one")
    rubric_file = SAMPLES.parent / "curricula" / "rubrics" / "explain-your-reasoning.yaml"
    assert grade_command(str(rubric_file), tmp_path / "one", tmp_path / "r.json", cli_settings) == 0
    assert json.loads((tmp_path / "r.json").read_text())["submissions"][0]["student"] == "Dev"


def empty_file(path):
    path.write_text("")
    return path


@pytest.mark.parametrize("rubric, make_input, message", [
    ("explain-your-reasoning", lambda p: p / "missing.csv", "input not found"),
    ("no-such-rubric", lambda p: SAMPLES / "submissions.csv", "unknown rubric 'no-such-rubric' (known rubric ids: "
                                                                  "explain-your-reasoning"),
    ("rubrics/none.yaml", lambda p: SAMPLES / "submissions.csv", "rubric file not found"),
    ("explain-your-reasoning", lambda p: empty_file(p / "empty.csv"), "the CSV is empty"),
])
def test_grade_command_explains_bad_input(cli_settings, tmp_path, monkeypatch, capsys, rubric, make_input, message):
    monkeypatch.setattr(loading, "load_backend", lambda settings, **_: ScriptedBackend())  # asked nothing
    assert grade_command(rubric, make_input(tmp_path), None, cli_settings) == 1
    assert message in capsys.readouterr().err


def test_grade_command_without_a_model(cli_settings, capsys):
    settings = cli_settings.model_copy(update={"backend": "none"})
    assert grade_command("explain-your-reasoning", SAMPLES / "submissions.csv", None, settings) == 1
    assert "error: no model to grade with: The model is switched off" in capsys.readouterr().err


# concurrency ------------------------------------------------------------------------------
def tilt_wins(_criterion: str, text: str, allowed: list[int]) -> int:
    return max(allowed) if "tilt" in text.lower() else min(allowed)


def test_a_class_set_is_graded_concurrently_at_batch_priority_without_mixing_texts_up(astore):
    model = ParallelModel(parallel=4)
    class_set = inputs(*[(f"S{i}", "The tilt of the axis." if i % 2 else f"The sun is closer, says {i}.")
                         for i in range(8)])
    enqueue_grading(model, 8 * CALLS_PER_SUBMISSION, tilt_wins)
    done: list[int] = []
    report = BatchGrader(astore, Grader(model, PromptLibrary())).run(
        small_rubric(), class_set, source="class.csv", on_progress=lambda n, total, student: done.append(n))
    assert [i.student for i in report.items] == [f"S{i}" for i in range(8)]  # the input's order
    assert [i.status for i in report.items] == ["graded"] * 8
    assert [i.row.total for i in report.items] == [0, 8] * 4  # each text got its own grade
    assert model.most > 1 and set(model.priorities) == {"batch"}  # (the queue, not the grader, caps them)
    assert done == list(range(1, 9))


def test_one_submissions_criteria_are_asked_together():
    model = ParallelModel(parallel=4, delay_s=0.1)
    enqueue_grading(model, CALLS_PER_SUBMISSION)
    grading = Grader(model, PromptLibrary()).grade(small_rubric(), "The tilt of the axis.")
    assert [g.criterion_id for g in grading.criteria] == ["accuracy", "clarity"]
    assert model.most == 2  # both criteria at once, then the summary
    assert set(model.priorities) == {"interactive"}  # a student's open answer is not batch work
