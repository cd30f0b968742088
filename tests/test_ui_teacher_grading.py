"""The teacher's grading, review and worksheet pages below the browser: the plain functions
their handlers call, on the app's real services (scripted model, SQLite file), and the server-
side teacher check of every handler those pages wire up."""

from __future__ import annotations

import json
import shutil

import pytest

from tutor_app.assessment.agreement import AgreementReport, CriterionAgreement
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.service.errors import TutorError
from tutor_app.ui import drafts_panel, grading_panel, practice_panel, review_panel, student_sheets_panel
from tutor_app.ui.app import create_app
from tutor_app.ui.grading_render import agreement_frame, agreement_note, grade_html, grades_frame, submission_html

from assessment_support import REPO, SAMPLES, enqueue_grading
from ui_harness import add_roster, build_services, handlers_refuse

RUBRIC_ID = "explain-your-reasoning"
TEACHER = Actor(role="teacher")
TEXTS = sorted((SAMPLES / "submissions").glob("*.txt"))
CALLS = 5  # four criteria and the summary


def with_grading_curricula(root):
    curricula = root / "curricula"
    (curricula / "rubrics").mkdir(parents=True)
    shutil.copy(REPO / "curricula" / "rubrics" / f"{RUBRIC_ID}.yaml", curricula / "rubrics")
    shutil.copy(REPO / "curricula" / "math" / "parametric-practice.yaml", curricula)
    shutil.copy(REPO / "curricula" / "science" / "energy-explanations.yaml", curricula)
    return root


@pytest.fixture
def model():
    return ScriptedBackend()


@pytest.fixture
def services(tmp_path, model):
    services = build_services(with_grading_curricula(tmp_path), model)
    assert services.library.errors == []
    yield services
    services.close()


def graded_class(services, model, texts=TEXTS):
    enqueue_grading(model, CALLS * len(texts))
    return grading_panel.grade_uploads(services, TEACHER, RUBRIC_ID, [str(p) for p in texts])


# grading -----------------------------------------------------------------------------------
def test_a_class_set_is_graded_and_an_interrupted_one_resumes(services, model):
    first = graded_class(services, model, TEXTS[:3])
    assert [(i.student, i.status) for i in first.report.items] == [("Amara", "graded"), ("Ben", "graded"),
                                                                   ("Chloe", "graded")]
    enqueue_grading(model, CALLS * 7)
    seen = []
    again = grading_panel.grade_uploads(services, TEACHER, RUBRIC_ID, [str(p) for p in TEXTS],
                                        on_progress=lambda done, total, student: seen.append((done, total)))
    assert again.report.count("already graded") == 3 and again.report.count("graded") == 7
    assert seen[0] == (1, 10) and seen[-1] == (10, 10)
    assert len(model.calls) == CALLS * 10  # nothing graded twice


def test_the_results_download_as_csv_and_json_naming_the_uploaded_files(services, model):
    run = graded_class(services, model, TEXTS[:2])
    csv_file, json_file = run.files
    assert (csv_file.suffix, json_file.suffix) == (".csv", ".json")
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("student,source,status,total,max_total,claim,claim_by,")
    assert lines[1].startswith("Amara,uploaded/Amara.txt,graded,14,14,3,model,")  # not the upload's temp folder
    payload = json.loads(json_file.read_text(encoding="utf-8"))
    assert [s["student"] for s in payload["submissions"]] == ["Amara", "Ben"]
    assert [c["id"] for c in payload["submissions"][0]["criteria"]] == ["claim", "evidence", "reasoning",
                                                                         "communication"]


def test_a_csv_upload_is_graded_with_its_line_numbers(services, model):
    enqueue_grading(model, CALLS * 10)
    run = grading_panel.grade_uploads(services, TEACHER, RUBRIC_ID, [str(SAMPLES / "submissions.csv")])
    assert run.report.items[0].source == "submissions.csv:2" and run.report.count("graded") == 10


@pytest.mark.parametrize("rubric_id, uploads, message", [
    ("", ["x.csv"], "Choose a rubric"),
    (RUBRIC_ID, [], "Upload the submissions first"),
    (RUBRIC_ID, [str(REPO / "README.md")], "not .md"),
    ("nope", [str(SAMPLES / "submissions.csv")], "unknown rubric 'nope'"),
])
def test_grading_mistakes_are_plain_messages(services, rubric_id, uploads, message):
    with pytest.raises(TutorError, match=message):
        grading_panel.grade_uploads(services, TEACHER, rubric_id, uploads)


# review ------------------------------------------------------------------------------------
def test_a_teacher_overrides_a_score_and_edits_a_comment_kept_apart_from_the_model(services, model):
    graded_class(services, model, TEXTS[:2])
    amara = services.assessment.list_grades(TEACHER, RUBRIC_ID)[0]
    claim = amara.criterion("claim")
    row = review_panel.save_change(services, TEACHER, RUBRIC_ID, str(amara.submission_id), "claim", "1",
                                   claim.comment)
    claim = row.criterion("claim")
    assert (claim.score, claim.by, claim.model_score, claim.teacher_comment) == (1, "teacher", 3, None)
    assert row.total == 12 and row.model_total == 14  # the model's grade is still there as it was

    row = review_panel.save_change(services, TEACHER, RUBRIC_ID, str(amara.submission_id), "evidence", "3",
                                   "  Two pieces of evidence that fit together.  ")
    evidence = row.criterion("evidence")
    assert (evidence.score, evidence.by, evidence.teacher_score) == (3, "model", None)  # the score was not touched
    assert evidence.comment == "Two pieces of evidence that fit together."
    overrides = services.assessment.astore.overrides(submission_id=amara.submission_id)
    assert [(o.criterion_id, o.score, o.comment) for o in overrides] == [
        ("claim", 1, None), ("evidence", None, "Two pieces of evidence that fit together.")]

    with pytest.raises(TutorError, match="Nothing to save"):
        review_panel.save_change(services, TEACHER, RUBRIC_ID, str(amara.submission_id), "claim", "1",
                                 claim.comment)
    with pytest.raises(TutorError, match="Choose a submission"):
        review_panel.save_change(services, TEACHER, RUBRIC_ID, None, "claim", "1", "")


def test_the_review_shows_whose_grade_is_in_force_and_escapes_the_text(services, model):
    enqueue_grading(model, CALLS)
    services.assessment.grade_submission(TEACHER, RUBRIC_ID, "Metal <b>feels</b> colder & it conducts.")
    (row,) = services.assessment.list_grades(TEACHER, RUBRIC_ID)
    text = submission_html(row)
    assert "&lt;b&gt;feels&lt;/b&gt;" in text and "<b>feels" not in text
    card = grade_html(row)
    assert card.count("criterion-grade by-model") == 4 and "14 / 14" in card
    frame = grades_frame(services.assessment.rubric(RUBRIC_ID), [row])
    assert list(frame.columns) == ["Student", "Total", "Claim", "Evidence", "Reasoning", "Communication", "Checked by"]
    assert frame.iloc[0].tolist() == ["(api)", "14 / 14", 3, 3, 3, 2, "model"]


def test_an_open_steps_inline_rubric_is_reviewable_once_answered(services, model):
    assert [rid for rid, _ in services.assessment.review_rubrics(TEACHER)] == [RUBRIC_ID]
    services.assessment.save_open_answer(TEACHER, "energy-explanations", "swinging-pendulum", "explain",
                                         "Energy goes to the air as heat.", student="Noor")
    assert [rid for rid, _ in services.assessment.review_rubrics(TEACHER)] == [RUBRIC_ID,
                                                                              "pendulum-energy-explanation"]
    (row,) = services.assessment.list_grades(TEACHER, "pendulum-energy-explanation")
    assert "Grade the waiting ones" in grade_html(row)


def test_imported_teacher_grades_give_the_agreement_table(services, model):
    graded_class(services, model)
    imported = services.assessment.import_teacher_grades(TEACHER, RUBRIC_ID, SAMPLES / "teacher_grades.csv")
    assert imported.stored == 32 and imported.problems == []
    frame = agreement_frame(services.assessment.agreement(TEACHER, RUBRIC_ID))
    assert frame["Criterion"].tolist() == ["Claim", "Evidence", "Reasoning", "Communication"]
    assert frame["Graded by both"].tolist() == [8, 8, 8, 8]


def test_the_agreement_table_shows_hand_computed_values():
    # Model 0,1,2,2 against teacher 0,1,1,2 on levels 0-2, weights (i - j)^2 / 4: observed
    # disagreement 1/4 (the one pair a level apart); expected from the margins (model 1,1,2,
    # teacher 1,2,1) sum(w * r_i * c_j) / n = (0.5 + 1 + 0.25 + 0.25 + 2 + 1) / 4 = 5/4;
    # QWK = 1 - (1/4) / (5/4) = 0.8; exact 3 of 4, adjacent 4 of 4.
    from tutor_app.assessment.agreement import criterion_agreement

    claim = criterion_agreement("claim", "Claim", [(0, 0), (1, 1), (2, 1), (2, 2)], [0, 1, 2])
    assert claim.kappa == pytest.approx(0.8)
    empty = CriterionAgreement("evidence", "Evidence", 0, None, None, None, (0, 1), ((0, 0), (0, 0)))
    report = AgreementReport(rubric_id="r", criteria=[claim, empty], skipped=1)
    assert agreement_frame(report).values.tolist() == [["Claim", 4, "75%", "100%", "0.80"],
                                                       ["Evidence", 0, "–", "–", "–"]]
    assert "1 of your scores have no model grade" in agreement_note(report)
    assert "No scores of yours" in agreement_note(AgreementReport("r", [empty], 0))


# worksheets and drafts ---------------------------------------------------------------------
def test_a_worksheet_previews_with_its_key_and_downloads_three_files(services):
    saved = practice_panel.make_worksheet(services, TEACHER, "parametric-practice", "rectangle", 4, 3)
    assert practice_panel.worksheet_note(saved).startswith("**4 versions** of")
    assert saved.html.suffix == ".html" and saved.markdown.suffix == ".md"
    key = saved.answer_key.read_text(encoding="utf-8")
    assert key.startswith("# Practice with your own numbers: Area and perimeter of a rectangle: answer key")
    assert key.count("a) ") == 4 and "Answer key" not in key.splitlines()[2]
    again = practice_panel.make_worksheet(services, TEACHER, "parametric-practice", "rectangle", 4, 3)
    assert again.sheet.markdown == saved.sheet.markdown  # the same seed, the same sheet
    with pytest.raises(TutorError, match="Choose a problem with params"):
        practice_panel.make_worksheet(services, TEACHER, "parametric-practice", None, 4, 3)
    assert practice_panel.problem_choices(services, "energy-explanations") == []
    assert practice_panel.default_unit(services) == "parametric-practice"


def test_one_version_per_student_comes_from_the_roster_or_the_names_typed(services):
    add_roster(services, ["Ana", "Ben", "Cy"])
    assert student_sheets_panel.roster_hint(services) == "Empty: everyone on the roster (3 students: Ana, Ben, Cy)."
    from_roster = student_sheets_panel.make_student_sheets(services, TEACHER, "parametric-practice", "rectangle",
                                                           "", 5)
    assert [name for name, _ in from_roster.students] == ["Ana", "Ben", "Cy"]
    note = student_sheets_panel.student_sheets_note(from_roster)
    assert note.startswith("**One version per student** of *Practice with your own numbers: Area and perimeter")
    assert "3 students, 3 distinct versions" in note
    typed = student_sheets_panel.make_student_sheets(services, TEACHER, "parametric-practice", "rectangle",
                                                     "Dev, Eli; Fay", 5)
    assert [name for name, _ in typed.students] == ["Dev", "Eli", "Fay"]
    # The same position with the same seed gets the same version, whoever sits there.
    assert [n for _, n in typed.students] == [n for _, n in from_roster.students]
    assert typed.html.read_text(encoding="utf-8").count('class="student-page"') == 3
    assert student_sheets_panel.parse_names("Ada Lovelace\nAlan Turing, Jr.\n\n") == ["Ada Lovelace",
                                                                                     "Alan Turing, Jr."]
    with pytest.raises(TutorError, match="Choose a problem with params"):
        student_sheets_panel.make_student_sheets(services, TEACHER, "parametric-practice", None, "", 5)


def test_an_empty_roster_asks_for_names(services):
    assert "roster is empty" in student_sheets_panel.roster_hint(services)
    with pytest.raises(TutorError, match="Name at least one student"):
        student_sheets_panel.make_student_sheets(services, TEACHER, "parametric-practice", "rectangle", " ", 0)


def test_drafted_problems_are_listed_with_their_validation_and_kept_out_of_the_curricula(services, model):
    good = {"title": "Cinema tickets", "statement": "Four tickets and a 3 euro fee cost 23 euros: $4x + 3 = 23$.",
            "steps": [{"prompt": "Subtract 3 from both sides.", "answer": "4x = 20", "check": "equation",
                       "skill": "solve-two-step", "hints": ["What undoes + 3?"],
                       "bug_rules": [{"misconception_id": "same-operation-not-inverse", "wrong_answer": "4x = 26",
                                      "feedback": "Did you add 3?"}]}],
            "difficulty": 2}
    bad = {**good, "title": "Broken <b>key</b>", "steps": [{**good["steps"][0], "answer": "four x is twenty"}]}
    model.enqueue_json(good)
    model.enqueue_json(bad)
    report = services.practice.draft_quiz(TEACHER, "parametric-practice", 2)
    assert report.path.parent == services.settings.data_dir.parent / "drafts"
    assert services.settings.curricula not in report.path.parents
    text = drafts_panel.draft_report_markdown(report)
    assert "**1 draft passed the checks, 1 rejected.**" in text and str(report.path) in text
    assert "**Cinema tickets**" in text and "<code>4x = 20</code>" in text
    assert "**Draft 2: Broken &lt;b&gt;key&lt;/b&gt;**" in text and "cannot read 'four x is twenty'" in text


# the teacher check ---------------------------------------------------------------------------
PAGE_MODULES = {"tutor_app.ui.grading_panel", "tutor_app.ui.review_panel", "tutor_app.ui.agreement_panel",
                "tutor_app.ui.practice_panel", "tutor_app.ui.drafts_panel", "tutor_app.ui.student_sheets_panel"}
OPENERS = {"open_grading", "open_review", "open_practice"}


def test_every_grading_and_practice_handler_refuses_a_student(tmp_path, model):
    services = build_services(with_grading_curricula(tmp_path), model, require_login=True)
    try:
        pins = add_roster(services, ["Ana"])
        demo = create_app(services)
        assert demo.tutor_signin.check("Ana", pins["Ana"])
        called = handlers_refuse(demo, "Ana", modules=PAGE_MODULES, names=OPENERS)
        assert len(called) >= 16 and "on_make_students" in called
        assert model.calls == [] and services.assessment.astore.rubric_ids() == []
    finally:
        services.close()
