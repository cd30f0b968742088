"""With sign-in on: a student never sees the teacher's pages; the teacher signs in and goes
through the class overview, a transcript, a conversation's transcript (corrections, level
change, goals), the curricula (with a broken edit and Reload, conversation units listed too),
the model panel and the CSV exports (conversation turns and errors too), then grades a class
set against a rubric (with a progress bar, and resuming), overrides a score, imports their own
grades for the agreement report, and makes a worksheet, one version per student of the roster,
and model drafts. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from tutor_app.curriculum.params import render_variant
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor

from assessment_support import REPO, SAMPLES, grading_reply
from mastery_fit_support import FEW_STUDENTS, FITTED_STUDENTS, STEPS, UNIT_YAML as FIT_UNIT_YAML, store_simulated_class
from ui_harness import (DESKTOP, PHONE, TEACHER_PASSWORD, UNIT_YAML, launch_chromium, open_page, running_app,
                        sign_in, text_field)

pytestmark = pytest.mark.browser

RUBRIC_FILE = REPO / "curricula" / "rubrics" / "explain-your-reasoning.yaml"
FIT_TITLE = "Year group doubling drill"
SPANISH_FILE = REPO / "curricula" / "language" / "spanish-a2-restaurant.yaml"
ROSTER = ["Ana", "Ben", "Cy"]
TEXTS = sorted((SAMPLES / "submissions").glob("*.txt"))
CALLS_PER_TEXT = 5  # the rubric's four criteria and the summary
# A parametric unit for the worksheet page; its title sorts after the test unit's, so the
# student's page and the class overview still open on "Two-step equations".
WORKSHEET_UNIT = r"""
id: worksheet-practice
title: Worksheet practice
subject: math
language: en
level: Grade 7
skills:
  - id: rectangle-area
    name: Area of a rectangle
misconceptions:
  - id: area-perimeter-confusion
    description: Gives the perimeter when asked for the area.
problems:
  - id: rectangle
    title: Area of a rectangle
    params:
      length: {range: [7, 15]}
      width: {range: [3, 6]}
      area: "length * width"
      perimeter: "2 * (length + width)"
    statement: 'A rectangle is {length} cm long and {width} cm wide.'
    steps:
      - id: area
        prompt: 'What is its area, in $\text{cm}^2$?'
        answer: '{area}'
        check: numeric
        skills: [rectangle-area]
        hints: ['Multiply the length by the width.']
        misconceptions:
          - id: area-perimeter-confusion
            answers: ['{perimeter}']
            feedback: That is the perimeter. The area is the space inside.
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-teacher")
    curricula = root / "curricula"
    curricula.mkdir()
    shutil.copy(RUBRIC_FILE, curricula / RUBRIC_FILE.name)
    shutil.copy(SPANISH_FILE, curricula / SPANISH_FILE.name)
    (curricula / "worksheet-practice.yaml").write_text(WORKSHEET_UNIT, encoding="utf-8")
    # a year group's answers, for the mastery page; its title sorts last so the pages open on the others
    (curricula / "fit.yaml").write_text(FIT_UNIT_YAML.replace("title: Fit practice", f"title: {FIT_TITLE}"),
                                        encoding="utf-8")
    with running_app(root, ScriptedBackend(), require_login=True, students=ROSTER) as (running, pins):
        assert running.services.library.errors == []
        store_simulated_class(running.services.db)
        yield running, pins


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def answer(page, text: str) -> None:
    box = text_field(page, "answer-box")
    expect(box).to_be_editable()
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")  # the page took it


@pytest.fixture(scope="module")
def struggling_student(app, browser, artifacts_dir):
    """Ana signs in and gets stuck on the first step: a known misconception twice, a plain wrong
    answer, and every hint down to the worked step."""
    running, pins = app
    page = open_page(browser, running.url, DESKTOP, signed_in=False)
    sign_in(page, "Ana", pins["Ana"])
    expect(page.locator("#start-button")).to_be_visible()
    expect(page.locator("#app-header")).to_contain_text("Signed in as Ana")
    expect(page.locator("#student-name")).to_be_hidden()  # a student is who they signed in as
    expect(page.locator("#teacher-tab-button")).to_have_count(0)
    page.locator("#problem-choice input").click()
    page.get_by_role("option", name="Two-step equation", exact=True).click()
    page.locator("#start-button").click()
    expect(page.locator("#step-prompt .step-card")).to_contain_text("Subtract 3")
    for wrong in ("2x = 14", "2x=14", "2x = 9"):
        answer(page, wrong)
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint")).to_have_count(1)
    page.locator("#hint-button").click()
    expect(page.locator("#scaffold .scaffold")).to_be_visible()
    answer(page, "8")
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint.bottom-out")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "student-signed-in.png"), full_page=True)
    page.close()
    return "Ana"


@pytest.fixture(scope="module")
def teacher_page(app, browser, struggling_student):
    running, _ = app
    page = open_page(browser, running.url, DESKTOP, signed_in=False)
    sign_in(page, "teacher", TEACHER_PASSWORD)
    expect(page.locator("#app-header")).to_contain_text("Signed in as teacher")
    page.locator("#teacher-tab-button").click()
    yield page
    page.close()


def test_the_class_overview_shows_mastery_misconceptions_and_who_is_stuck(teacher_page, artifacts_dir):
    page = teacher_page
    heatmap = page.locator("#mastery-heatmap table.heatmap")
    expect(heatmap).to_contain_text("Ana")
    expect(heatmap).to_contain_text("Use inverse operations")
    expect(page.locator("#misconception-chart svg, #misconception-chart canvas").first).to_be_visible()
    expect(page.locator("#stuck-students")).to_contain_text("Ana")
    expect(page.locator("#stuck-students")).to_contain_text("still on it")
    # places by their titles, not the unit's ids ("two-step-1 · isolate")
    for part in ("#stuck-students", "#misconception-chart"):
        expect(page.locator(part)).to_contain_text("Two-step equation · step 1: Subtract 3 from both sides.")
        expect(page.locator(part)).not_to_contain_text("two-step-1")
        expect(page.locator(part)).not_to_contain_text("isolate")
    bug = page.locator("#misconception-chart .misconception-row").first
    expect(bug).to_contain_text("Applies the same operation instead of the inverse one")
    expect(bug).to_contain_text("2 times, 1 student")
    page.screenshot(path=str(artifacts_dir / "teacher-class.png"), full_page=True)


@pytest.fixture(scope="module")
def perimeter_for_area(app):
    """Ben gives the rectangle's perimeter for its area: a misconception in the worksheet unit."""
    running, _ = app
    tutor, ben = running.services.tutor, Actor(role="student", student="Ben")
    started = tutor.start_session(ben, "Ben", "worksheet-practice", "rectangle")
    problem = running.services.library.units["worksheet-practice"].problems[0]
    seed = tutor.store.get_session(session_id=started.session_id).seed
    (perimeter,) = render_variant(problem, seed).steps[0].misconceptions[0].answers
    assert tutor.submit_answer(ben, started.session_id, perimeter).verdict == "misconception"


def test_another_unit_redraws_the_misconception_chart_and_its_labels(teacher_page, perimeter_for_area,
                                                                    artifacts_dir):
    """Item 10 of the walk-through: after switching unit the chart went blank and kept the old
    unit's legend. Every switch draws the chosen unit's misconceptions, and only those."""
    page = teacher_page
    page.locator("#teacher-class-tab-button").click()
    chart = page.locator("#misconception-chart")
    for title, shown, gone in (("Worksheet practice", "Gives the perimeter when asked for the area.",
                                "Applies the same operation"),
                               ("Two-step equations", "Applies the same operation instead of the inverse one",
                                "Gives the perimeter"),
                               ("Worksheet practice", "Gives the perimeter when asked for the area.",
                                "Applies the same operation")):
        page.locator("#overview-unit input").click()
        page.get_by_role("option", name=title, exact=True).click()
        expect(chart).to_contain_text(shown)
        expect(chart).not_to_contain_text(gone)
        expect(chart.locator("svg.bar").first).to_be_visible()
    expect(chart.locator(".misconception-row")).to_have_count(1)
    expect(chart).to_contain_text("Area of a rectangle · step 1: What is its area, in cm^2?")
    expect(chart).to_contain_text("1 time, 1 student")
    page.screenshot(path=str(artifacts_dir / "teacher-class-other-unit.png"), full_page=True)
    page.locator("#overview-unit input").click()
    page.get_by_role("option", name="Two-step equations", exact=True).click()
    expect(chart).to_contain_text("Applies the same operation")


def test_the_mastery_page_shows_fits_beside_the_values_in_use_and_adopts_them(app, teacher_page, artifacts_dir):
    running, _ = app
    page = teacher_page
    page.locator("#teacher-mastery-tab-button").click()
    page.locator("#fit-unit input").click()
    page.get_by_role("option", name=FIT_TITLE, exact=True).click()
    drill = page.locator("#fit-skill-drill")
    expect(drill).to_contain_text("fit can be adopted")
    expect(drill).to_contain_text("in use (unit file)")
    expect(drill).to_contain_text(f"Rests on {FITTED_STUDENTS} students and {FITTED_STUDENTS * STEPS:,} observations.")
    expect(drill.locator("tbody tr")).to_have_count(4)  # p_init, p_transit, p_guess, p_slip: in use | fitted ± margin
    expect(drill.locator("tbody tr").first).to_contain_text(" ± ")
    review = page.locator("#fit-skill-review")
    expect(review).to_contain_text(f"Rests on {FEW_STUDENTS} students")
    expect(review).to_contain_text("Not offered: too uncertain")
    expect(page.locator("#fit-skill-later")).to_contain_text("too little data")
    expect(page.locator("#fit-intro")).to_contain_text("at least 30 students and 300 observations")
    expect(page.locator("#fit-adopt-skill-review")).to_have_count(0)
    expect(page.locator("#fit-history")).to_contain_text("No parameters adopted yet")
    page.screenshot(path=str(artifacts_dir / "teacher-mastery-fit.png"), full_page=True)

    page.locator("#fit-adopt-skill-drill").click()  # one click for one skill
    expect(page.locator("#fit-status")).to_contain_text("Adopted the fitted values for Doubling drill.")
    expect(drill).to_contain_text("by teacher")
    expect(drill).to_contain_text("fit in use")
    history = page.locator("#fit-history")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history).to_contain_text("adopted the fit")
    expect(history).to_contain_text(f"{FITTED_STUDENTS} students, {FITTED_STUDENTS * STEPS:,} observations")
    assert set(running.services.tutor.params.adopted(curriculum_id="fit-practice")) == {"drill"}
    page.screenshot(path=str(artifacts_dir / "teacher-mastery-adopted.png"), full_page=True)

    page.locator("#fit-file-skill-drill").click()
    expect(drill).to_contain_text("in use (unit file)")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").first).to_contain_text("back to the unit file's values")
    page.locator("#fit-adopt-all").click()  # one click for every usable fit
    expect(history.locator("tbody tr")).to_have_count(3)
    expect(drill).to_contain_text("fit in use")
    assert set(running.services.tutor.params.adopted(curriculum_id="fit-practice")) == {"drill"}


def test_a_transcript_shows_every_attempt_and_hint(teacher_page, artifacts_dir):
    page = teacher_page
    page.locator("#teacher-transcripts-tab-button").click()
    page.locator("#transcript-session input").click()
    page.get_by_role("option").filter(has_text="Ana · Two-step equations / Two-step equation").first.click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("2x = 14")
    expect(transcript).to_contain_text("2x = 9")
    expect(transcript).to_contain_text("worked step")
    expect(transcript.locator(".feedback.verdict-misconception")).to_have_count(2)
    expect(transcript).to_contain_text("Ana — Two-step equations / Two-step equation")
    expect(transcript).to_contain_text("Step 1: Subtract 3 from both sides. What equation do you get?")
    expect(transcript).to_contain_text("misconception: Applies the same operation instead of the inverse one")
    for internal in ("equations-test", "two-step-1", "isolate", "added-instead-of-subtracted"):
        expect(transcript).not_to_contain_text(internal)
    page.screenshot(path=str(artifacts_dir / "teacher-transcript.png"), full_page=True)


HARD_REPLY = ("Evidentemente, la idiosincrasia gastronómica madrileña se manifiesta en la proliferación "
              "de establecimientos que ofrecen raciones abundantes y exquisitas.")
# Ana's messages at the tapas bar: (what she writes, the errors the model finds, the character's replies).
SPANISH_TURNS = [
    ("Hola, para mí un cerveza y el tortilla, por favor.",
     [("un cerveza", "una cerveza", "gender-agreement", "Cerveza is feminine, so it takes una."),
      ("el tortilla", "la tortilla", "gender-agreement", "Tortilla is feminine: la tortilla.")],
     [HARD_REPLY, "¡Muy bien! Una cerveza y una tortilla. ¿Algo más?"]),
    ("¿Qué lleva las croquetas?",
     [("lleva", "llevan", "verb-person", "Las croquetas is plural, so the verb is llevan.")],
     ["Llevan jamón y bechamel. ¿Quieres una ración?"]),
    ("Yo quiere una ración, gracias.",
     [("quiere", "quiero", "verb-person", "With yo, the verb ends in -o: quiero.")],
     ["¡Perfecto! ¿Algo para beber?"]),
    ("Un caña por mí, por favor.",
     [("Un caña", "Una caña", "gender-agreement", "Caña is feminine: una caña."),
      ("por mí", "para mí", "por-para", "Para says who something is for: para mí.")],
     ["Una caña para ti. ¡Ahora mismo!"]),
    ("What does 'ahora mismo' mean?", None, ["Ahora mismo es ya. ¿Algo más?"]),
]


@pytest.fixture(scope="module")
def spanish_conversation(app):
    """Ana practises at the tapas bar (through the service; the student's page has its own
    browser test): four messages that each need corrections, so her level falls from A2 to A1,
    three goals met on the way, a reply asked again for being too hard, a line she had
    translated, and a question in English that is not corrected."""
    running, _ = app
    language, model = running.services.language, running.model
    ana = Actor(role="student", student="Ana")
    started = language.start_conversation(ana, "Ana", "spanish-a2-tapas-bar")
    for text, errors, replies in SPANISH_TURNS:
        if errors is not None:
            model.enqueue_json({"corrected": "", "errors": [
                {"span": span, "correction": fix, "category": category, "explanation": why}
                for span, fix, category, why in errors]})
        for reply in replies:
            model.enqueue_text(reply)
        result = language.say(ana, started.session_id, text)
        if text.startswith("¿Qué lleva"):
            model.enqueue_json({"translation": "They have ham and béchamel sauce. Would you like a full plate?",
                                "explanation": "Llevan (from llevar) says what a dish has in it."})
            language.translate(ana, started.session_id, result.reply_turn_id)
    assert language.state(ana, started.session_id).level == "A1"
    return started.session_id


def test_a_conversation_transcript_shows_corrections_level_changes_and_goals(teacher_page, spanish_conversation,
                                                                             artifacts_dir):
    page = teacher_page
    page.locator("#teacher-transcripts-tab-button").click()
    page.locator("#transcript-refresh").click()
    page.locator("#transcript-session input").click()
    page.get_by_role("option").filter(has_text="Ana · conversation: Spanish A2").first.click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("Ana — Spanish A2: tapas in Madrid")
    expect(transcript).to_contain_text("level now A1 (the unit starts at A2)")
    expect(transcript.locator(".tx-turn.tx-student")).to_have_count(5)
    expect(transcript.locator(".tx-turn.tx-character")).to_have_count(6)  # the opening and five replies
    first = transcript.locator(".tx-turn.tx-student").first
    expect(first.locator("mark.err")).to_have_count(2)
    expect(first.locator("mark.err").first).to_contain_text("un cerveza")
    expect(first.locator(".cat-chip").first).to_have_text("Gender agreement")
    expect(first).to_contain_text("Cerveza is feminine, so it takes una.")
    expect(first).to_contain_text("Ana wrote · 2 corrections")
    expect(transcript.locator(".tx-level")).to_have_count(1)
    expect(transcript.locator(".tx-level")).to_contain_text("Level A2 → A1 (easier)")
    expect(transcript.locator(".tx-level")).to_contain_text("4 of your last 4 messages needed corrections")
    expect(transcript.locator(".tx-goal")).to_have_count(3)
    expect(transcript.locator(".tx-goal").first).to_contain_text("Goal met: Order politely")
    expect(transcript.locator(".tx-character .badge").first).to_have_text("asked again: simpler")
    expect(transcript).to_contain_text("The student asked for a translation: They have ham and béchamel sauce.")
    expect(transcript.locator(".tx-student").last).to_contain_text("Not corrected: written in the student's own")
    expect(transcript.locator(".tx-categories")).to_contain_text("Gender agreement × 3")
    page.screenshot(path=str(artifacts_dir / "teacher-conversation-transcript.png"), full_page=True)


def test_curricula_reload_reports_a_broken_file_and_keeps_the_unit(app, teacher_page, artifacts_dir):
    running, _ = app
    page = teacher_page
    page.locator("#teacher-curricula-tab-button").click()
    expect(page.locator("#curricula-units")).to_contain_text("equations-test")
    expect(page.locator("#curricula-units")).to_contain_text("spanish-a2-tapas-bar")
    expect(page.locator("#curricula-units")).to_contain_text("conversation · A2")
    expect(page.locator("#curricula-report")).to_contain_text("and 1 conversation unit loaded")
    expect(page.locator("#curricula-report")).to_contain_text("all files valid")

    folder = running.services.settings.curricula
    good = folder / "equations.yaml"
    (folder / "typo.yaml").write_text(UNIT_YAML.replace("id: equations-test", "id: typo-unit")
                                      .replace("check: numeric", "check: numberic"), encoding="utf-8")
    good.write_text(UNIT_YAML.replace("title: Two-step equations", "title: [unclosed"), encoding="utf-8")
    try:
        page.locator("#reload-curricula").click()
        report = page.locator("#curricula-report")
        expect(report).to_contain_text("typo.yaml")
        expect(report).to_contain_text("numberic")
        expect(report).to_contain_text("equations.yaml")
        expect(page.locator("#curricula-units")).to_contain_text("equations-test")  # the last good version
        expect(page.locator("#curricula-units")).to_contain_text("last good version in use")
        page.screenshot(path=str(artifacts_dir / "teacher-curricula.png"), full_page=True)
    finally:
        good.write_text(UNIT_YAML, encoding="utf-8")
        (folder / "typo.yaml").unlink()
    page.locator("#reload-curricula").click()
    expect(page.locator("#curricula-report")).to_contain_text("all files valid")


def test_the_model_panel_names_the_model_and_its_queue(app, teacher_page, artifacts_dir):
    from tutor_app.runtime.speed import SpeedMeasurement, SpeedRecords

    running, _ = app
    # what the app's first-minute check stores for a model it runs itself (a script has no speed)
    SpeedRecords(running.services.settings.data_dir).add(SpeedMeasurement(
        model="scripted", path=None, machine="2 CPUs, 24 GiB RAM, no GPU", measured_tokens_per_s=27.5,
        estimated_tokens_per_s=74.3, tokens=64, measured_at="2026-12-05T21:00:00+00:00"))
    page = teacher_page
    page.locator("#teacher-model-tab-button").click()
    summary = page.locator("#model-summary")
    expect(summary).to_contain_text("scripted")
    expect(summary).to_contain_text("Context size")
    expect(summary).to_contain_text("4,096 tokens")
    expect(summary).to_contain_text("waiting")
    expect(summary).to_contain_text("Measured here")
    expect(summary).to_contain_text("27.5 tokens/s on 05 Dec 2026")
    expect(summary).to_contain_text("the planner estimated 74.3")
    page.screenshot(path=str(artifacts_dir / "teacher-model.png"), full_page=True)


def exported(page, button_id: str, name: str) -> str:
    """Press an export button; the link it gives is named ``name``...; return the file's text."""
    page.locator(f"#{button_id}").click()
    link = page.locator("#export-file a").first
    expect(link).to_have_attribute("download", re.compile(rf"^{name}-.*\.csv$"))
    with page.expect_download() as download:
        link.click()
    return open(download.value.path(), encoding="utf-8").read()


def test_exports_download_csv_files(teacher_page, artifacts_dir):
    page = teacher_page
    page.locator("#teacher-exports-tab-button").click()
    text = exported(page, "export-attempts", "attempts-all-units")
    assert text.splitlines()[0].startswith("at,student,")
    assert "Ana" in text and "2x = 14" in text
    page.locator("#export-mastery").click()
    expect(page.locator("#export-file a").first).to_have_attribute("download", re.compile(r"^mastery-"))
    page.screenshot(path=str(artifacts_dir / "teacher-exports.png"), full_page=True)


def test_conversation_turns_and_errors_download_as_csv(teacher_page, spanish_conversation):
    page = teacher_page
    page.locator("#teacher-exports-tab-button").click()
    text = exported(page, "export-conversation-turns", "conversation-turns-all-units")
    assert text.splitlines()[0].startswith("at,student,curriculum_id,session_id,turn_id,role,level,text,")
    assert "Hola, para mí un cerveza y el tortilla, por favor." in text and "Llevan jamón y bechamel" in text
    lines = exported(page, "export-conversation-errors", "conversation-errors-all-units").splitlines()
    assert len(lines) == 1 + 6 and "por-para" in lines[-1]  # a row per error, with its category


def test_the_teacher_pages_fit_a_phone(app, browser, struggling_student, artifacts_dir):
    running, _ = app
    page = open_page(browser, running.url, PHONE, signed_in=False)
    sign_in(page, "teacher", TEACHER_PASSWORD)
    page.locator("#teacher-tab-button").click()
    expect(page.locator("#mastery-heatmap table.heatmap")).to_contain_text("Ana")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    page.screenshot(path=str(artifacts_dir / "teacher-phone.png"), full_page=True)
    page.close()


def test_the_teacher_downloads_a_model_with_a_progress_bar(teacher_page, monkeypatch, tmp_path, artifacts_dir):
    from tqdm import tqdm

    from tutor_app.runtime.registry import KNOWN_MODELS
    from tutor_app.ui import download_panel

    wanted = next(e for e in KNOWN_MODELS.values() if not e.shipped)
    fetched = []

    def fake_download(name, models_dir, *, progress=True):  # the network is not for tests
        for _ in tqdm(range(20), desc=name):
            time.sleep(0.1)
        fetched.append(name)
        path = tmp_path / f"{name}.gguf"
        path.write_bytes(b"GGUF")
        return path

    monkeypatch.setattr(download_panel, "download_model", fake_download)
    page = teacher_page
    page.locator("#teacher-model-tab-button").click()
    page.locator("#model-download").get_by_text("Download a better model").click()
    page.locator("#download-choice input").click()
    page.get_by_role("option").filter(has_text=wanted.name).first.click()
    page.locator("#download-button").click()
    bar = page.locator("#download-status [role=progressbar]")
    expect(bar).to_have_attribute("aria-label", wanted.name)  # the download's own progress, shown on the page
    page.screenshot(path=str(artifacts_dir / "teacher-model-downloading.png"), full_page=True)
    expect(page.locator("#download-status")).to_contain_text("is ready")
    expect(page.locator("#download-status")).to_contain_text(f"python app.py --model {wanted.name}")
    assert fetched == [wanted.name]
    page.screenshot(path=str(artifacts_dir / "teacher-model-download.png"), full_page=True)


# grading, review and worksheets ------------------------------------------------------------
def by_length(_criterion: str, text: str, allowed: list[int]) -> int:
    """Longer texts score higher: varied grades, so the agreement report has something to say."""
    return allowed[min(len(text) // 260, len(allowed) - 1)]


def without_notices(page) -> None:
    """Wait until the pop-up notices (\"Saved ...\") are gone, so a screenshot shows the page."""
    expect(page.locator(".toast-body")).to_have_count(0)


def upload(page, elem_id: str, files) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files([str(f) for f in files])
    box = page.locator(f"#{elem_id}")  # uploaded before anything uses it:
    expect(box).to_contain_text(files[-1].stem)
    expect(box).not_to_contain_text("Uploading")


def test_the_teacher_grades_a_class_set_with_a_progress_bar_and_resumes(app, teacher_page, artifacts_dir):
    running, _ = app
    model = running.model
    page = teacher_page
    page.locator("#teacher-grading-tab-button").click()
    expect(page.locator("#grading-rubric input")).to_have_value("Explain your reasoning: claim, evidence, reasoning")
    expect(page.locator("#grading-rubric-info")).to_contain_text("Reasoning")

    for _ in range(3 * CALLS_PER_TEXT):
        model.enqueue_json(grading_reply(by_length))
    upload(page, "grading-files", TEXTS[:3])
    page.locator("#grading-start").click()
    expect(page.locator("#grading-status")).to_contain_text("3 graded, 0 already graded")

    # The whole class next: the three done are skipped; the model is held on the fifth student,
    # so the page shows where the run is.
    release = threading.Event()
    reply = grading_reply(by_length)

    def held(messages, schema):
        release.wait(60)
        return reply(messages, schema)

    for n in range(7 * CALLS_PER_TEXT):
        model.enqueue_json(held if n == CALLS_PER_TEXT else reply)
    # The first upload was deleted once graded: the box is empty again.
    expect(page.locator("#grading-files button[aria-label='Clear']")).to_have_count(0)
    upload(page, "grading-files", TEXTS)
    page.locator("#grading-start").click()
    try:
        bar = page.locator("#grading-status [role=progressbar]")
        expect(bar).to_have_attribute("aria-label", "Graded Dev")
        page.screenshot(path=str(artifacts_dir / "teacher-grading-progress.png"), full_page=True)
    finally:
        release.set()
    expect(page.locator("#grading-status")).to_contain_text("7 graded, 3 already graded (skipped)")
    results = page.locator("#grading-results")
    expect(results).to_contain_text("Jonah")
    expect(results).to_contain_text("already graded")
    links = page.locator("#grading-downloads a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("download", re.compile(r"^grades-explain-your-reasoning-.*\.csv$"))
    expect(links.nth(1)).to_have_attribute("download", re.compile(r"\.json$"))
    with page.expect_download() as download:
        links.nth(0).click()
    lines = open(download.value.path(), encoding="utf-8-sig").read().splitlines()
    assert lines[0].startswith("student,source,status,total,max_total,claim,")
    assert len(lines) == 11 and lines[-1].startswith("Jonah,uploaded/Jonah.txt,graded,")
    page.screenshot(path=str(artifacts_dir / "teacher-grading.png"), full_page=True)


def test_the_teacher_overrides_a_score_and_reads_the_agreement_report(teacher_page, artifacts_dir):
    page = teacher_page
    page.locator("#teacher-review-tab-button").click()
    expect(page.locator("#review-summary")).to_contain_text("10 submissions")
    expect(page.locator("#review-table")).to_contain_text("Jonah")
    expect(page.locator("#review-submission input")).to_have_value(re.compile(r"^Amara · "))
    expect(page.locator("#review-text")).to_contain_text("the metal spoon is not really colder")
    grade = page.locator("#review-grade")
    expect(grade.locator(".criterion-grade.by-model")).to_have_count(4)

    page.locator("#review-submission input").click()
    page.get_by_role("option").filter(has_text="Ben").first.click()
    expect(page.locator("#review-text")).to_contain_text("Ben")
    expect(grade.locator(".criterion-grade").first).to_contain_text("0 / 3")  # a short text: the model gave 0
    page.locator("#review-score label").filter(has_text=re.compile(r"^\s*2\s*$")).click()
    page.locator("#review-comment textarea").fill("No claim that answers the question yet: say whether it is colder.")
    page.locator("#review-save").click()
    expect(grade.locator(".criterion-grade.by-teacher")).to_have_count(1)
    expect(grade.locator(".criterion-grade.by-teacher")).to_contain_text("model said")
    expect(grade).to_contain_text("No claim that answers the question yet")
    expect(page.locator("#review-table")).to_contain_text("you (1 of 4)")

    upload(page, "teacher-grades-file", [SAMPLES / "teacher_grades.csv"])
    page.locator("#teacher-grades-import").click()
    expect(page.locator("#teacher-grades-report")).to_contain_text("32 scores imported")
    table = page.locator("#agreement-table")
    for name in ("Claim", "Evidence", "Reasoning", "Communication", "QWK"):
        expect(table).to_contain_text(name)
    expect(page.locator("#agreement-note")).to_contain_text("quadratic weighted kappa")
    without_notices(page)
    page.screenshot(path=str(artifacts_dir / "teacher-review.png"), full_page=True)


def make_drafts(page, count: int):
    """Ask the Practice page for ``count`` drafts; returns the report."""
    drafts = page.locator("#drafts-count input[type=number]")
    drafts.fill(str(count))
    drafts.press("Enter")
    page.locator("#drafts-make").click()
    return page.locator("#drafts-report")


def test_the_teacher_makes_a_worksheet_and_drafts_problems(app, teacher_page, artifacts_dir):
    running, _ = app
    page = teacher_page
    page.locator("#teacher-practice-tab-button").click()
    expect(page.locator("#practice-unit input")).to_have_value("Worksheet practice")
    expect(page.locator("#practice-problem input")).to_have_value("Area of a rectangle")
    count = page.locator("#practice-count input[type=number]")
    count.fill("4")
    count.press("Enter")
    page.locator("#practice-make").click()
    expect(page.locator("#practice-note")).to_contain_text("4 versions")
    sheet = page.locator("#practice-sheet")
    expect(sheet).to_contain_text("A rectangle is")
    expect(sheet.locator(".katex").first).to_be_visible()  # the prompt's math is rendered
    expect(page.locator("#practice-key")).to_contain_text("Answer key")
    links = page.locator("#practice-downloads a")
    expect(links).to_have_count(3)
    with page.expect_download() as download:
        links.nth(0).click()
    printable = open(download.value.path(), encoding="utf-8").read()
    assert printable.startswith("<!DOCTYPE html>") and "Answer key" in printable

    # one version per student of the roster: the box left empty
    expect(page.locator("#practice-students")).to_contain_text("everyone on the roster (3 students: Ana, Ben, Cy)")
    page.locator("#practice-make-students").click()
    expect(page.locator("#practice-note")).to_contain_text("3 students, 3 distinct versions")
    for student, number in zip(ROSTER, (1, 2, 3)):
        expect(sheet).to_contain_text(f"{student} · version {number}")
    expect(sheet.locator("h3")).to_have_count(3)
    key = page.locator("#practice-key")
    expect(key.locator("li")).to_have_count(3)
    expect(key.locator("li").first).to_contain_text("Ana (version 1): a)")
    expect(links).to_have_count(3)
    expect(links.nth(0)).to_have_attribute("download",
                                           re.compile(r"^worksheet-practice-rectangle-per-student-seed0\.html$"))
    with page.expect_download() as download:
        links.nth(0).click()
    printable = open(download.value.path(), encoding="utf-8").read()
    assert printable.count('<section class="student-page">') == 3
    assert [f"Name: <b>{s}</b>" in printable for s in ROSTER] == [True] * 3
    without_notices(page)
    page.screenshot(path=str(artifacts_dir / "teacher-worksheet-per-student.png"), full_page=True)

    good = {"title": "Garden bed", "statement": "A garden bed is 9 m long and 4 m wide.",
            "steps": [{"prompt": "What is its area in square metres?", "answer": "36", "check": "numeric",
                       "skill": "rectangle-area", "hints": ["Multiply the length by the width."],
                       "bug_rules": [{"misconception_id": "area-perimeter-confusion", "wrong_answer": "26",
                                      "feedback": "26 m is the distance around it."}]}],
            "difficulty": 1}
    bad = {**good, "title": "A key the checker cannot read",
           "steps": [{**good["steps"][0], "answer": "thirty-six square metres", "check": "numeric"}]}
    running.model.enqueue_json(good)
    running.model.enqueue_json(bad)
    report = make_drafts(page, 2)
    expect(report).to_contain_text("1 draft passed the checks, 1 rejected")
    expect(report).to_contain_text("Garden bed")
    expect(report).to_contain_text("cannot read")
    expect(page.locator("#drafts-file a").first).to_have_attribute("download", re.compile(r"^worksheet-practice-.*\.yaml$"))
    assert not list(running.services.settings.curricula.rglob("*draft*"))  # nothing went live
    without_notices(page)
    page.screenshot(path=str(artifacts_dir / "teacher-practice.png"), full_page=True)


def test_drafted_latex_reaches_the_page_intact_and_a_wrong_key_is_rejected(app, teacher_page, artifacts_dir):
    """Item 13 of the walk-through: a model writes LaTeX with one backslash in its JSON, which
    turned ``\\frac`` into a form feed and ``rac``; and a key that is right only against itself
    passed. The page shows the fraction typeset and says why the other draft was dropped."""
    running, _ = app
    page = teacher_page
    page.locator("#teacher-practice-tab-button").click()
    expect(page.locator("#practice-unit input")).to_have_value("Worksheet practice")
    latex = {"title": "Half a garden bed", "statement": r"A bed is $\frac{1}{2}$ m wide and $\text{8 m}$ long.",
             "steps": [{"prompt": r"What is its area, in $\text{m}^2$?", "answer": "4", "check": "numeric",
                        "skill": "rectangle-area", "hints": [r"$\frac{1}{2} \times 8$"], "bug_rules": []}],
             "difficulty": 1}
    wrong_key = {"title": "A key that does not solve it", "statement": "The width $x$ solves $3x + 4 = 19$.",
                 "steps": [{"prompt": "Find $x$.", "answer": "x = 4", "check": "equation", "skill": "rectangle-area",
                            "hints": ["Subtract 4, then divide by 3."], "bug_rules": []}], "difficulty": 1}
    running.model.enqueue_json(json.dumps(latex).replace("\\\\", "\\"))  # one backslash, as the model writes it
    running.model.enqueue_json(wrong_key)
    report = make_drafts(page, 2)
    expect(report).to_contain_text("1 draft passed the checks, 1 rejected")
    expect(report.locator(".draft-ok .katex .mfrac")).to_have_count(1)  # the fraction, typeset
    expect(report).not_to_contain_text(re.compile(r"(?<!\\f)rac\{"))  # only as part of \frac (KaTeX keeps the source)
    expect(report.locator(".draft-rejected")).to_contain_text(
        "the answer 'x = 4' does not have the solutions of the problem's own equation 3x + 4 = 19")
    with page.expect_download() as download:
        page.locator("#drafts-file a").first.click()
    written = open(download.value.path(), encoding="utf-8").read()
    assert "\\frac{1}{2}" in written and "\\text{8 m}" in written and "\x0c" not in written and "\t" not in written
    without_notices(page)
    page.screenshot(path=str(artifacts_dir / "teacher-drafts-latex.png"), full_page=True)
